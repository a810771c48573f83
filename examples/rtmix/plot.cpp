// The loudness plot, drawn with cairo: one panel per file on an image surface (PNG) or an SVG
// surface, both written through a stream into a temporary file created in the destination's
// folder, then synced and renamed into place.
#include "plot.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <numbers>
#include <string>
#include <system_error>

#include <cairo-svg.h>
#include <cairo.h>
#include <fontconfig/fontconfig.h>
#include <fmt/format.h>

namespace rtmix::cli {

namespace {

// Layout, in pixels (PNG) or points (SVG).
constexpr double page_width = 960;
constexpr double panel_height = 300;
constexpr double margin_left = 64, margin_right = 24;  // around each panel's plot area
constexpr double margin_top = 54, margin_bottom = 46;
constexpr double floor_lufs = LoudnessMeter::curve_floor_lufs;

struct Colour {
    double r, g, b;
};
constexpr Colour ink{0.10, 0.10, 0.10}, muted{0.40, 0.40, 0.40}, grid{0.87, 0.87, 0.87}, frame{0.55, 0.55, 0.55};
constexpr Colour momentary_colour{0.42, 0.64, 0.92}, short_term_colour{0.08, 0.30, 0.62};
constexpr Colour integrated_colour{0.83, 0.16, 0.14};
constexpr double momentary_width = 1.0, short_term_width = 2.6, integrated_width = 1.6;
constexpr double integrated_dash[] = {7.0, 4.0};

void use(cairo_t* cr, Colour c) { cairo_set_source_rgb(cr, c.r, c.g, c.b); }

std::string number(double v) { return std::isfinite(v) ? fmt::format("{:.1f}", v) : (v < 0 ? "-inf" : "inf"); }

/// "0:05", "1:30" (whole seconds) or "0:00.5" (tenths).
std::string clock_label(double seconds, bool tenths) {
    if (tenths) {
        const long t = std::lround(seconds * 10.0);
        return fmt::format("{}:{:04.1f}", t / 600, static_cast<double>(t % 600) / 10.0);
    }
    const long s = std::lround(seconds);
    return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string channels_name(unsigned channels) {
    return channels == 1 ? "mono" : channels == 2 ? "stereo" : fmt::format("{} channels", channels);
}

enum class Align { left, centre, right };

/// Draws `text` with its baseline at y (or its middle at y when `middle`), aligned at x.
void text_at(cairo_t* cr, double x, double y, const std::string& text, Align align, bool middle = false) {
    cairo_text_extents_t te;
    cairo_text_extents(cr, text.c_str(), &te);
    if (align == Align::centre) x -= te.x_advance / 2.0;
    if (align == Align::right) x -= te.x_advance;
    if (middle) y -= te.y_bearing + te.height / 2.0;
    cairo_move_to(cr, x, y);
    cairo_show_text(cr, text.c_str());
}

void font(cairo_t* cr, double size, bool bold = false) {
    cairo_select_font_face(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, bold ? CAIRO_FONT_WEIGHT_BOLD : CAIRO_FONT_WEIGHT_NORMAL);
    cairo_set_font_size(cr, size);
}

/// The loudness axis: from below the quietest reading above the floor to above the loudest, in
/// whole multiples of 5 (top) and 10 (bottom) LUFS, at least 20 LU tall.
struct Axis {
    double low, high, step;
};
Axis loudness_axis(const FileLoudness& f) {
    double low = std::numeric_limits<double>::infinity(), high = -low;
    for (const auto* curve : {&f.momentary, &f.short_term})
        for (const float v : *curve)
            if (v > floor_lufs) {
                low = std::min(low, static_cast<double>(v));
                high = std::max(high, static_cast<double>(v));
            }
    if (std::isfinite(f.loudness.integrated_lufs)) {
        low = std::min(low, f.loudness.integrated_lufs);
        high = std::max(high, f.loudness.integrated_lufs);
    }
    if (!(high >= low)) {  // nothing above the floor: silence
        low = floor_lufs;
        high = floor_lufs + 20.0;
    }
    Axis a;
    a.high = std::ceil((high + 1.0) / 5.0) * 5.0;
    a.low = std::max(std::floor((low - 1.0) / 10.0) * 10.0, static_cast<double>(floor_lufs));
    a.low = std::min(a.low, a.high - 20.0);
    a.step = a.high - a.low <= 30.0 ? 5.0 : 10.0;
    return a;
}

/// Seconds between labelled times: at most 10 labels across `duration`.
double time_step(double duration) {
    static constexpr double steps[] = {0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200};
    for (const double s : steps)
        if (duration / s <= 10.0) return s;
    return std::ceil(duration / 10.0 / 3600.0) * 3600.0;
}

/// A curve as a line through its readings; readings at the floor (silence) leave a gap.
template <class MapX, class MapY>
void draw_curve(cairo_t* cr, const std::vector<float>& curve, MapX map_x, MapY map_y) {
    bool drawing = false;
    for (std::size_t k = 0; k < curve.size(); ++k) {
        if (!(curve[k] > floor_lufs)) {
            drawing = false;
            continue;
        }
        const double x = map_x(static_cast<double>(k + 1) * LoudnessMeter::curve_step_s), y = map_y(curve[k]);
        if (drawing) cairo_line_to(cr, x, y);
        else cairo_move_to(cr, x, y);
        drawing = true;
    }
    cairo_stroke(cr);
}

/// The legend, in one row ending at `right` on the title's baseline `y`: a sample of each line
/// and what it shows. Returns its width.
double draw_legend(cairo_t* cr, const FileLoudness& f, double right, double y) {
    const std::string labels[] = {"momentary (400 ms)", "short-term (3 s)",
                                  "integrated " + number(f.loudness.integrated_lufs) + " LUFS"};
    font(cr, 11);
    constexpr double sample = 24, gap = 6, spacing = 18;
    double width = 0;
    double label_width[3];
    for (int i = 0; i < 3; ++i) {
        cairo_text_extents_t te;
        cairo_text_extents(cr, labels[i].c_str(), &te);
        label_width[i] = te.x_advance;
        width += sample + gap + te.x_advance + (i < 2 ? spacing : 0);
    }
    double x = right - width;
    const double mid = y - 4;
    for (int i = 0; i < 3; ++i) {
        cairo_move_to(cr, x, mid);
        cairo_line_to(cr, x + sample, mid);
        if (i == 0) {
            use(cr, momentary_colour);
            cairo_set_line_width(cr, momentary_width);
        } else if (i == 1) {
            use(cr, short_term_colour);
            cairo_set_line_width(cr, short_term_width);
        } else {
            use(cr, integrated_colour);
            cairo_set_line_width(cr, integrated_width);
            cairo_set_dash(cr, integrated_dash, 2, 0);
        }
        cairo_stroke(cr);
        cairo_set_dash(cr, nullptr, 0, 0);
        use(cr, ink);
        text_at(cr, x + sample + gap, y, labels[i], Align::left);
        x += sample + gap + label_width[i] + spacing;
    }
    return width;
}

/// `text` shortened with an ellipsis in the middle to fit `width` at the current font.
std::string fitted(cairo_t* cr, const std::string& text, double width) {
    auto fits = [&](const std::string& t) {
        cairo_text_extents_t te;
        cairo_text_extents(cr, t.c_str(), &te);
        return te.x_advance <= width;
    };
    if (fits(text)) return text;
    // Cut whole UTF-8 characters only: never leave a continuation byte (10xxxxxx) at either edge.
    auto is_start = [&](std::size_t i) { return i >= text.size() || (static_cast<unsigned char>(text[i]) & 0xC0) != 0x80; };
    for (std::size_t keep = text.size(); keep > 0; --keep) {
        std::size_t head = keep / 2, tail = text.size() - (keep - keep / 2);
        while (head > 0 && !is_start(head)) --head;
        while (tail < text.size() && !is_start(tail)) ++tail;
        const std::string t = text.substr(0, head) + "\u2026" + text.substr(tail);
        if (fits(t)) return t;
    }
    return "\u2026";
}

void draw_panel(cairo_t* cr, const FileLoudness& f, double top) {
    const double x0 = margin_left, x1 = page_width - margin_right;
    const double y0 = top + margin_top, y1 = top + panel_height - margin_bottom;
    const double duration = f.sample_rate > 0 ? static_cast<double>(f.frames) / f.sample_rate : 0.0;
    const double span = std::max(duration, 1.0);
    const Axis axis = loudness_axis(f);
    auto map_x = [&](double t) { return x0 + (x1 - x0) * t / span; };
    auto map_y = [&](double lufs) { return y1 - (y1 - y0) * (lufs - axis.low) / (axis.high - axis.low); };

    // Title: the file's name and the legend, then its format and figures.
    const double legend_width = draw_legend(cr, f, x1, top + 22);
    use(cr, ink);
    font(cr, 15, true);
    text_at(cr, x0, top + 22, fitted(cr, std::filesystem::path(f.path).filename().string(), x1 - legend_width - 24 - x0),
            Align::left);
    use(cr, muted);
    font(cr, 11);
    const Loudness& l = f.loudness;
    text_at(cr, x0, top + 40,
            fmt::format("{:.0f} Hz, {}, {}    integrated {} LUFS, range {} LU, true peak {} dBTP, max momentary {} LUFS, "
                        "max short-term {} LUFS",
                        f.sample_rate, channels_name(f.channels), clock_label(duration, true), number(l.integrated_lufs),
                        number(l.range_lu), number(l.true_peak_dbtp), number(l.max_momentary_lufs),
                        number(l.max_short_term_lufs)),
            Align::left);

    // Grid and the loudness axis.
    cairo_set_line_width(cr, 1);
    font(cr, 11);
    for (double v = axis.low; v <= axis.high + 1e-9; v += axis.step) {
        const double y = std::round(map_y(v)) + 0.5;
        use(cr, grid);
        cairo_move_to(cr, x0, y);
        cairo_line_to(cr, x1, y);
        cairo_stroke(cr);
        use(cr, muted);
        text_at(cr, x0 - 6, y, fmt::format("{:.0f}", v), Align::right, true);
    }
    cairo_save(cr);
    cairo_translate(cr, 18, (y0 + y1) / 2);
    cairo_rotate(cr, -std::numbers::pi / 2);
    text_at(cr, 0, 0, "loudness (LUFS)", Align::centre, true);
    cairo_restore(cr);

    // The time axis.
    const double step = time_step(span);
    for (double t = 0; t <= span + 1e-9; t += step) {
        const double x = std::round(map_x(t)) + 0.5;
        use(cr, grid);
        cairo_move_to(cr, x, y0);
        cairo_line_to(cr, x, y1);
        cairo_stroke(cr);
        use(cr, muted);
        text_at(cr, x, y1 + 16, clock_label(t, step < 1.0), Align::centre);
    }
    text_at(cr, (x0 + x1) / 2, y1 + 36, "time (m:ss)", Align::centre);
    use(cr, frame);
    cairo_rectangle(cr, x0 + 0.5, y0 + 0.5, x1 - x0 - 1, y1 - y0 - 1);
    cairo_stroke(cr);

    // The curves and the integrated loudness, clipped to the plot area.
    cairo_save(cr);
    cairo_rectangle(cr, x0, y0, x1 - x0, y1 - y0);
    cairo_clip(cr);
    cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
    cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
    use(cr, short_term_colour);  // under the momentary curve, which stays visible where they meet
    cairo_set_line_width(cr, short_term_width);
    draw_curve(cr, f.short_term, map_x, map_y);
    use(cr, momentary_colour);
    cairo_set_line_width(cr, momentary_width);
    draw_curve(cr, f.momentary, map_x, map_y);
    if (std::isfinite(l.integrated_lufs)) {
        use(cr, integrated_colour);
        cairo_set_line_width(cr, integrated_width);
        cairo_set_line_cap(cr, CAIRO_LINE_CAP_BUTT);
        cairo_set_dash(cr, integrated_dash, 2, 0);
        cairo_move_to(cr, x0, map_y(l.integrated_lufs));
        cairo_line_to(cr, x1, map_y(l.integrated_lufs));
        cairo_stroke(cr);
        cairo_set_dash(cr, nullptr, 0, 0);
    }
    cairo_restore(cr);
    if (f.momentary.empty()) {
        use(cr, muted);
        font(cr, 13);
        text_at(cr, (x0 + x1) / 2, (y0 + y1) / 2, "shorter than 100 ms: no curve", Align::centre, true);
    }
}

// --- Writing aside ------------------------------------------------------------------------------

/// A temporary file in the destination's folder, removed unless renamed into place.
class AsideFile {
public:
    explicit AsideFile(const std::filesystem::path& destination) : destination_(destination) {
        std::filesystem::path folder = destination.parent_path();
        if (folder.empty()) folder = ".";
        std::error_code ec;
        if (!std::filesystem::is_directory(folder, ec))
            throw PlotError(fmt::format("cannot write plot '{}': the folder '{}' does not exist", destination.string(),
                                        folder.string()));
        if (std::filesystem::is_directory(destination, ec))
            throw PlotError(fmt::format("cannot write plot '{}': it is a folder", destination.string()));
        for (unsigned attempt = 0; fd_ < 0; ++attempt) {
            temp_ = folder / fmt::format(".{}.{}-{}.partial", destination.filename().string(), ::getpid(), attempt);
            fd_ = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0666);
            if (fd_ < 0 && (errno != EEXIST || attempt > 100))
                throw PlotError(fmt::format("cannot write plot '{}': {}", destination.string(), std::strerror(errno)));
        }
    }
    ~AsideFile() {
        if (fd_ >= 0) ::close(fd_);
        if (!committed_) {
            std::error_code ec;
            std::filesystem::remove(temp_, ec);
        }
    }
    AsideFile(const AsideFile&) = delete;
    AsideFile& operator=(const AsideFile&) = delete;

    /// cairo's write function: appends to the file, remembering the first error.
    static cairo_status_t write(void* closure, const unsigned char* data, unsigned int length) {
        auto* self = static_cast<AsideFile*>(closure);
        if (self->error_ != 0) return CAIRO_STATUS_WRITE_ERROR;
        while (length > 0) {
            const ssize_t n = ::write(self->fd_, data, length);
            if (n < 0 && errno == EINTR) continue;
            if (n <= 0) {
                self->error_ = n < 0 ? errno : EIO;
                return CAIRO_STATUS_WRITE_ERROR;
            }
            data += n;
            length -= static_cast<unsigned int>(n);
        }
        return CAIRO_STATUS_SUCCESS;
    }

    /// Why writing failed: the system's reason when there is one, else cairo's.
    std::string failure(cairo_status_t status) const {
        return error_ != 0 ? std::strerror(error_) : cairo_status_to_string(status);
    }

    /// Gets the file onto the disk and renames it over the destination. Throws PlotError.
    void commit() {
        const std::string name = destination_.string();
        const int synced = ::fsync(fd_);
        const int sync_error = errno;
        const int closed = ::close(fd_);
        const int close_error = errno;
        fd_ = -1;
        if (synced != 0) throw PlotError(fmt::format("cannot write plot '{}': {}", name, std::strerror(sync_error)));
        if (closed != 0) throw PlotError(fmt::format("cannot write plot '{}': {}", name, std::strerror(close_error)));
        std::error_code ec;
        std::filesystem::rename(temp_, destination_, ec);
        if (ec) throw PlotError(fmt::format("cannot write plot '{}': {}", name, ec.message()));
        committed_ = true;
        std::filesystem::path folder = destination_.parent_path();
        if (folder.empty()) folder = ".";
        const int dir = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dir >= 0) {
            ::fsync(dir);
            ::close(dir);
        }
    }

private:
    std::filesystem::path destination_, temp_;
    int fd_ = -1;
    int error_ = 0;
    bool committed_ = false;
};

/// Nothing else in the program draws: releases cairo's font caches, then fontconfig's, whose
/// patterns leak checkers would otherwise report at exit.
void release_font_caches() {
    cairo_debug_reset_static_data();
    FcFini();
}

struct SurfaceCloser {
    void operator()(cairo_surface_t* s) const noexcept { cairo_surface_destroy(s); }
};
struct ContextCloser {
    void operator()(cairo_t* cr) const noexcept { cairo_destroy(cr); }
};

}  // namespace

PlotFormat plot_format(std::string_view path) {
    const std::size_t dot = path.rfind('.');
    if (dot == std::string_view::npos || path.find('/', dot) != std::string_view::npos) return PlotFormat::none;
    std::string ext(path.substr(dot + 1));
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (ext == "png") return PlotFormat::png;
    if (ext == "svg") return PlotFormat::svg;
    return PlotFormat::none;
}

void write_loudness_plot(const std::vector<FileLoudness>& files, const std::filesystem::path& out) {
    const std::string name = out.string();
    const PlotFormat format = plot_format(name);
    if (format == PlotFormat::none) throw PlotError(fmt::format("cannot write plot '{}': the name must end in .png or .svg", name));
    if (files.empty()) throw PlotError(fmt::format("cannot write plot '{}': no file was measured", name));
    const double height = panel_height * static_cast<double>(files.size());
    if (format == PlotFormat::png && height > 32767)
        throw PlotError(fmt::format("cannot write plot '{}': {} panels are too tall for a PNG (at most {})", name,
                                    files.size(), static_cast<int>(32767 / panel_height)));

    AsideFile file(out);  // outlives the surface: an SVG surface writes until it is destroyed
    {
        // Destroyed in reverse order: the context, the surface, then the font caches.
        struct FontCaches {
            ~FontCaches() { release_font_caches(); }
        } font_caches;
        std::unique_ptr<cairo_surface_t, SurfaceCloser> surface(
            format == PlotFormat::png
                ? cairo_image_surface_create(CAIRO_FORMAT_RGB24, static_cast<int>(page_width), static_cast<int>(height))
                : cairo_svg_surface_create_for_stream(&AsideFile::write, &file, page_width, height));
        cairo_status_t status = cairo_surface_status(surface.get());
        if (status != CAIRO_STATUS_SUCCESS)
            throw PlotError(fmt::format("cannot write plot '{}': {}", name, file.failure(status)));
        {
            std::unique_ptr<cairo_t, ContextCloser> cr(cairo_create(surface.get()));
            cairo_set_source_rgb(cr.get(), 1, 1, 1);
            cairo_paint(cr.get());
            for (std::size_t i = 0; i < files.size(); ++i)
                draw_panel(cr.get(), files[i], panel_height * static_cast<double>(i));
            status = cairo_status(cr.get());
        }
        if (status == CAIRO_STATUS_SUCCESS) {
            if (format == PlotFormat::png) {
                status = cairo_surface_write_to_png_stream(surface.get(), &AsideFile::write, &file);
            } else {
                cairo_surface_finish(surface.get());
                status = cairo_surface_status(surface.get());
            }
        }
        if (status != CAIRO_STATUS_SUCCESS)
            throw PlotError(fmt::format("cannot write plot '{}': {}", name, file.failure(status)));
    }
    file.commit();
}

}  // namespace rtmix::cli

#include "output_format.hpp"

#include <algorithm>
#include <cctype>
#include <system_error>

#include <fmt/format.h>

#include "usage.hpp"

namespace rtmix::cli {

namespace {

std::string lowercase_extension(const std::string& path) {
    const std::size_t dot = path.rfind('.');
    std::string ext = dot == std::string::npos ? "" : path.substr(dot + 1);
    for (char& c : ext) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return ext;
}

}  // namespace

OutputFormat output_format(const std::filesystem::path& output, std::optional<std::string_view> format,
                           std::optional<std::string_view> bits) {
    using Format = RenderOptions::Format;
    OutputFormat r;
    // The format: --format, else the output's extension; a stream (the standard output, a FIFO,
    // a device) without one is WAV. Any other name must say what it is.
    constexpr const char* formats = "wav, flac, aiff (.aif), ogg (Vorbis), opus, mp3, f32 (raw 32-bit float)";
    const std::string out = output.string();
    const std::string name = output.filename().string();
    const std::string ext = name.find('.', 1) == std::string::npos ? std::string{} : lowercase_extension(out);
    std::error_code ec;
    const auto status = std::filesystem::status(output, ec);
    const bool stream = out == "-" || out.starts_with("/dev/") || out.starts_with("/proc/") ||
                        (std::filesystem::exists(status) && !std::filesystem::is_regular_file(status) &&
                         !std::filesystem::is_directory(status));
    std::string_view f;
    if (format) f = *format;
    else if (ext.empty() && stream) f = "wav";
    else if (ext.empty())
        throw UsageError{fmt::format("cannot tell the format of '{}' without an extension: name it .wav, .flac, .aiff, "
                                     ".ogg, .opus, .mp3 or .f32, or give --format ({})", out, formats)};
    else f = ext == "aif" ? "aiff" : ext == "oga" ? "ogg" : std::string_view(ext);
    constexpr std::string_view known[] = {"wav", "flac", "aiff", "ogg", "opus", "mp3", "f32"};
    if (!format && stream && std::find(std::begin(known), std::end(known), f) == std::end(known)) f = "wav";
    if (f == "wav") r.format = Format::wav;
    else if (f == "flac") r.format = Format::flac;
    else if (f == "aiff") r.format = Format::aiff;
    else if (f == "ogg") r.format = Format::ogg;
    else if (f == "opus") r.format = Format::opus;
    else if (f == "mp3") r.format = Format::mp3;
    else if (f == "f32") r.format = Format::f32;
    else if (format) throw UsageError{fmt::format("--format '{}': expected one of {}", f, formats)};
    else throw UsageError{fmt::format("'{}': rtmix cannot write .{} files; the formats are {} (or give --format)", out, ext, formats)};
    r.format_name = f;
    const bool floats = r.format == Format::ogg || r.format == Format::opus || r.format == Format::mp3 || r.format == Format::f32;
    if (floats && bits && !(r.format == Format::f32 && (*bits == "32f" || *bits == "32")))
        throw UsageError{fmt::format("--bits does not apply to {}: {}", f,
                                     r.format == Format::f32 ? "it is 32-bit float" : "a lossy format encodes floats")};
    if (floats) {
        r.sample = RenderOptions::Sample::float32;
        r.bits_name = r.format == Format::f32 ? "32f" : "";
    } else if (bits) {
        if (*bits == "16") r.sample = RenderOptions::Sample::int16;
        else if (*bits == "24") r.sample = RenderOptions::Sample::int24;
        else if (*bits == "32f" || *bits == "32") r.sample = RenderOptions::Sample::float32;
        else throw UsageError{fmt::format("--bits '{}': expected 16, 24 or 32f", *bits)};
        r.bits_name = *bits == "32" ? "32f" : std::string(*bits);
    }
    if (r.format == Format::flac && r.sample == RenderOptions::Sample::float32)
        throw UsageError{"FLAC stores integer samples: use --bits 16 or 24"};
    return r;
}

std::string format_label(const OutputFormat& f) {
    if (f.format_name == "ogg") return "Ogg Vorbis";
    if (f.format_name == "opus") return "Ogg Opus";
    if (f.format_name == "mp3") return "MP3";
    if (f.format_name == "f32") return "raw 32-bit float";
    std::string label = fmt::format("{} {}", f.format_name, f.bits_name == "32f" ? "32-bit float" : f.bits_name + "-bit");
    for (std::size_t i = 0; i < f.format_name.size(); ++i)
        label[i] = static_cast<char>(std::toupper(static_cast<unsigned char>(label[i])));
    return label;
}

RenderOptions::Dither dither_named(std::string_view d) {
    if (d == "none") return RenderOptions::Dither::none;
    if (d == "tpdf") return RenderOptions::Dither::tpdf;
    if (d == "shaped") return RenderOptions::Dither::shaped;
    throw UsageError{fmt::format("--dither '{}': expected none, tpdf or shaped", d)};
}

bool no_clobber_from(bool no_clobber, bool overwrite) {
    if (no_clobber && overwrite) throw UsageError{"-n (--no-clobber) and -y (--overwrite) contradict each other"};
    return no_clobber;
}

}  // namespace rtmix::cli

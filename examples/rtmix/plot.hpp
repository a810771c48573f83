// The plot of `rtmix analyze --plot`: the loudness of each file over time, drawn with cairo as
// PNG or SVG.
#pragma once

#include <rtmix/loudness.hpp>

#include <filesystem>
#include <stdexcept>
#include <string_view>
#include <vector>

namespace rtmix::cli {

/// A plot that could not be written; the message names the destination, which was left as it was.
class PlotError : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

enum class PlotFormat { none, png, svg };

/// The format a plot file name asks for, by its extension (".png", ".svg", any case).
PlotFormat plot_format(std::string_view path);

/// Draws one panel per file, stacked top to bottom: the momentary loudness (thin) and short-term
/// loudness (thick) over time, the integrated loudness as a dashed line, the y axis in LUFS with
/// a grid, the x axis as m:ss, the file name as title and a legend. Writes PNG or SVG (by the
/// extension of `out`) under a temporary name in the destination's folder and renames it into
/// place only when complete. Throws PlotError.
void write_loudness_plot(const std::vector<FileLoudness>& files, const std::filesystem::path& out);

}  // namespace rtmix::cli

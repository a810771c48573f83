// The master file's format on the command line, as `rtmix render -o` and `rtmix play --record`
// read it: --format, else the file's extension; --bits; --dither; -n / -y.
#pragma once

#include <rtmix/render.hpp>

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace rtmix::cli {

struct OutputFormat {
    RenderOptions::Format format = RenderOptions::Format::wav;
    RenderOptions::Sample sample = RenderOptions::Sample::int24;
    std::string format_name;        ///< "wav", "flac", ..., "f32"
    std::string bits_name = "24";   ///< "16", "24", "32f", or "" (lossy)
};

/// The format of `output` from `--format` (or its extension; a stream without one: WAV) and
/// `--bits`. Throws UsageError naming what is wrong.
OutputFormat output_format(const std::filesystem::path& output, std::optional<std::string_view> format,
                           std::optional<std::string_view> bits);

/// "WAV 24-bit", "FLAC 16-bit", "Ogg Vorbis", "raw 32-bit float", ...
std::string format_label(const OutputFormat& f);

/// --dither none|tpdf|shaped. Throws UsageError.
RenderOptions::Dither dither_named(std::string_view name);

/// -n and -y together are a mistake; returns no_clobber. Throws UsageError.
bool no_clobber_from(bool no_clobber, bool overwrite);

}  // namespace rtmix::cli

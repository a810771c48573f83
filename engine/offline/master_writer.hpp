// Opening the master file of a render or of a live recording: the checks of RenderOptions that
// concern the file (format and sample, the output not an input of the session, no-clobber) and
// the writer that writes it aside. Control side only.
#pragma once

#include <memory>

#include "files/audio_file.hpp"
#include "rtmix/render.hpp"

namespace rtmix::offline {

/// Whether the file stores integer samples (quantized, dithered, clipped at full scale).
bool integer_samples(const RenderOptions& o);

/// The dither of the file: none for float files, else `o.dither`.
files::DitherMode dither_mode(const RenderOptions& o);

/// Refuses an output that is the session file or one of its stems (through links too), and an
/// existing file under no_clobber (RenderOptionsError, RenderError).
void check_output(const Session& session, const RenderOptions& o);

/// The writer of `o.output` in `o`'s format, sample and dither at the session's rate, with the
/// session's metadata. `hold`: see files::AsideWriter. Throws files::FileError.
std::unique_ptr<files::AsideWriter> open_master_writer(const Session& session, const RenderOptions& o, double sample_rate,
                                                       bool hold = false);

}  // namespace rtmix::offline

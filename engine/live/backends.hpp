// The backends behind rtmix::open_backend().
#pragma once

#include <memory>

#include "rtmix/live.hpp"

namespace rtmix::live {

std::unique_ptr<Backend> open_jack(const BackendOptions& options);
std::unique_ptr<Backend> open_portaudio(const BackendOptions& options);

}  // namespace rtmix::live

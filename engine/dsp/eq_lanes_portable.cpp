// The EQ lane kernel for any CPU (x86-64: SSE2), 4 lanes per vector. See eq_lanes.hpp.
#define RTMIX_LANE_WIDTH 4
#define RTMIX_LANE_KERNEL kernel_portable
#include "dsp/eq_lanes_kernel.hpp"

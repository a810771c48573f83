// The EQ lane kernel for x86-64 with AVX2, 8 lanes per vector. See eq_lanes.hpp.
#define RTMIX_LANE_WIDTH 8
#define RTMIX_LANE_KERNEL kernel_avx2
#include "dsp/eq_lanes_kernel.hpp"

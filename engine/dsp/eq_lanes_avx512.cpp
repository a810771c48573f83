// The EQ lane kernel for x86-64 with AVX-512F, 16 lanes per vector. See eq_lanes.hpp.
#define RTMIX_LANE_WIDTH 16
#define RTMIX_LANE_KERNEL kernel_avx512
#include "dsp/eq_lanes_kernel.hpp"

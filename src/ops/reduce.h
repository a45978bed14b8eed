// reduce.h: what reduce.cpp shares with the other reductions (logical.cpp's
// amax, amin and count_nonzero).
#pragma once

#include <vector>

#include "sigma/tensor.h"

namespace sigma::detail {

// Which dimensions of x the dims list reduces (all for an empty list);
// sigma::Error on a repeated dimension.
std::vector<bool> reduce_mask(const char* op, const Tensor& x, IntArrayRef dims);

}  // namespace sigma::detail

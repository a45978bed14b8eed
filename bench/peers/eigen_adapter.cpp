// Eigen's f32 sigmoid: y = x.array().logistic() on Eigen::Map'd buffers (no
// copies). Eigen is single-threaded for coefficient-wise expressions.
#include <string>

#include "peer.h"

namespace sigma::peers {

void eigen_logistic(const float* x, float* y, std::size_t n);  // eigen_kernel.cpp
const char* eigen_simd();

Peer make_eigen_peer() {
  return {"Eigen", &eigen_logistic,
          std::string("Eigen ArrayXf::logistic(), SIMD: ") + eigen_simd()};
}

}  // namespace sigma::peers

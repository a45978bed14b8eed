// Eigen's f32 logistic, the only file that includes Eigen. CMake compiles it
// with -march=native (SIGMA_PEERS_EIGEN_NATIVE) because Eigen chooses its SIMD
// width at compile time; it exports plain functions so those flags reach no
// inline code shared with other files.
#include <Eigen/Core>
#include <cstddef>

namespace sigma::peers {

void eigen_logistic(const float* x, float* y, std::size_t n) {
  const Eigen::Map<const Eigen::ArrayXf> in(x, static_cast<Eigen::Index>(n));
  Eigen::Map<Eigen::ArrayXf> out(y, static_cast<Eigen::Index>(n));
  out = in.logistic();
}

const char* eigen_simd() { return Eigen::SimdInstructionSetsInUse(); }

}  // namespace sigma::peers

// Start-up configuration from the environment: OMP_NUM_THREADS sets the
// default thread count and SIGMA_TARGET forces a SIMD target. CMake runs this
// binary with both variables set (see tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

#include "sigma/kernels.h"

namespace {

TEST(Environment, OmpNumThreadsIsTheDefault) {
  const char* env = std::getenv("OMP_NUM_THREADS");
  ASSERT_NE(env, nullptr) << "run through ctest";
  EXPECT_EQ(sigma::get_num_threads(), std::atoi(env));
  sigma::set_num_threads(5);
  EXPECT_EQ(sigma::get_num_threads(), 5);
  sigma::set_num_threads(0);
  EXPECT_EQ(sigma::get_num_threads(), std::atoi(env));
}

TEST(Environment, SigmaTargetForcesTheTarget) {
  const char* env = std::getenv("SIGMA_TARGET");
  ASSERT_NE(env, nullptr) << "run through ctest";
  EXPECT_EQ(sigma::kernels::target(), std::string(env));
  sigma::kernels::reset_target();
  EXPECT_EQ(sigma::kernels::target(), sigma::kernels::available_targets().front());
}

}  // namespace

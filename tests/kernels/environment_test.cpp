// Start-up configuration from the environment: OMP_NUM_THREADS sets the
// default thread count and SIGMA_TARGET forces a SIMD target. CMake runs this
// binary with both variables set, and the InvalidEnvironment tests alone with
// SIGMA_TARGET=NOSUCH (see tests/CMakeLists.txt).
#include <gtest/gtest.h>

#include <cstdlib>
#include <span>
#include <vector>
#include <string>

#include "sigma/error.h"
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

// An unusable SIGMA_TARGET is reported by every entry point as sigma::Error
// naming the variable, its value and the valid targets, each time (not once).
TEST(InvalidEnvironment, SigmaTargetThatIsNoTargetIsAnError) {
  const char* env = std::getenv("SIGMA_TARGET");
  ASSERT_NE(env, nullptr) << "run through ctest";
  const std::vector<std::string> targets = sigma::kernels::available_targets();
  for (const auto& t : targets) ASSERT_NE(t, env) << "SIGMA_TARGET must name no target here";
  const auto expect_error = [&](const char* what, auto&& call) {
    try {
      call();
      ADD_FAILURE() << what << " did not throw";
    } catch (const sigma::Error& e) {
      const std::string msg = e.what();
      EXPECT_NE(msg.find("SIGMA_TARGET"), std::string::npos) << msg;
      EXPECT_NE(msg.find(std::string("'") + env + "'"), std::string::npos) << msg;
      for (const auto& t : targets) EXPECT_NE(msg.find(t), std::string::npos) << msg;
    }
  };
  std::vector<float> x(8, 1.0f), y(8);
  for (int repeat = 0; repeat < 2; ++repeat) {
    expect_error("target()", [] { sigma::kernels::target(); });
    expect_error("sigmoid", [&] { sigma::sigmoid(std::span<const float>(x), std::span<float>(y)); });
    expect_error("set_target", [&] { sigma::kernels::set_target(targets.back()); });
  }
}

}  // namespace

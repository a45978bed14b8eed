// Start-up configuration from the environment: OMP_NUM_THREADS sets the
// default thread count and SIGMA_TARGET forces a SIMD target. CMake runs this
// binary with both variables set, and the InvalidEnvironment tests alone with
// SIGMA_TARGET=NOSUCH (see tests/CMakeLists.txt). Also sigma's thread pool
// (src/kernels/parallel.h), here with more threads (3) than a small machine
// has cores: every chunk runs exactly once, whatever the thread count,
// nesting, concurrent callers or OpenMP regions around it.
#include <gtest/gtest.h>
#include <omp.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "kernels/parallel.h"
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


// Counts how often each index in [0, n) was visited.
struct Visits {
  explicit Visits(std::int64_t n) : count(static_cast<std::size_t>(n)) {}
  void add(std::int64_t i) { count[static_cast<std::size_t>(i)].fetch_add(1); }
  bool each_once() const {
    for (const auto& c : count)
      if (c.load() != 1) return false;
    return true;
  }
  std::vector<std::atomic<int>> count;
};

TEST(ThreadPool, EveryChunkRunsExactlyOnce) {
  for (int threads : {1, 2, 3, 8, 0}) {
    sigma::set_num_threads(threads);
    for (std::int64_t chunks : {1, 2, 3, 7, 64}) {
      for (int rep = 0; rep < 50; ++rep) {
        Visits v(chunks);
        // Small jobs (on the calling thread unless a worker is awake) and
        // large ones (worth waking a worker for).
        const double grains = rep % 2 == 0 ? 1.0 : sigma::detail::kWakeGrains;
        sigma::detail::run_chunks(
            chunks, [](void* ctx, std::int64_t c) noexcept { static_cast<Visits*>(ctx)->add(c); }, &v,
            grains);
        ASSERT_TRUE(v.each_once()) << threads << " threads, " << chunks << " chunks";
      }
    }
    for (std::int64_t items : {1, 5, 64, 65, 1000}) {
      Visits v(items);
      sigma::detail::parallel_groups(items, static_cast<double>(items), [&](std::int64_t i) { v.add(i); });
      EXPECT_TRUE(v.each_once()) << threads << " threads, " << items << " items";
    }
  }
  sigma::set_num_threads(0);
}

TEST(ThreadPool, ParallelForCoversTheRangeInAlignedPieces) {
  for (std::int64_t n : {1, 63, 64, 1000, 4096, 100003}) {
    for (std::int64_t grain : {1, 64, 1000, 1 << 20}) {
      Visits v(n);
      std::atomic<bool> aligned{true};
      sigma::detail::parallel_for(n, grain, [&](std::int64_t b, std::int64_t e) {
        if (b % 64 != 0 || (e != n && e % 64 != 0) || b >= e) aligned = false;
        for (std::int64_t i = b; i < e; ++i) v.add(i);
      });
      EXPECT_TRUE(v.each_once()) << n << " / " << grain;
      EXPECT_TRUE(aligned.load()) << n << " / " << grain;
    }
  }
}

// Nested jobs run on the thread that asks; callers on other threads, and
// callers inside an OpenMP region, get every chunk run too.
TEST(ThreadPool, NestedConcurrentAndInsideOpenMp) {
  constexpr std::int64_t kOuter = 16, kInner = 200;
  const auto nested = [] {
    Visits v(kOuter * kInner);
    sigma::detail::parallel_groups(kOuter, 1e3, [&](std::int64_t i) {
      sigma::detail::parallel_groups(kInner, 1e3, [&](std::int64_t j) { v.add(i * kInner + j); });
    });
    return v.each_once();
  };
  EXPECT_TRUE(nested());
  std::vector<std::thread> callers;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t)
    callers.emplace_back([&] {
      for (int rep = 0; rep < 20; ++rep)
        if (nested()) ++ok;
    });
  for (auto& t : callers) t.join();
  EXPECT_EQ(ok.load(), 80);
  std::atomic<int> omp_ok{0};
#pragma omp parallel num_threads(2)
  {
    if (nested()) ++omp_ok;
  }
  EXPECT_EQ(omp_ok.load(), 2);
}

}  // namespace

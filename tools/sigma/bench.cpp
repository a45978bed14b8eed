// `sigma bench`: ns/element and GB/s of a kernel per array size, with memcpy of
// the same bytes (the floor for an element-wise kernel) measured beside it in
// the same run.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "commands.h"
#include "sigma/kernels.h"
#include "sigma/op_registry.h"

namespace sigma::cli {
namespace {

struct BenchOptions {
  std::string op = "sigmoid";
  std::string dtype = "f32";
  std::vector<std::size_t> sizes = {4096, 65536, 16777216};
  int threads = 1;
  double seconds = 0.2;  // per measurement
};

// Best time per call over 5 runs of about `seconds` each.
template <class F>
double time_per_call(F&& f, double seconds) {
  f();  // warm up
  using clock = std::chrono::steady_clock;
  std::size_t reps = 1;
  for (;;) {
    const auto t0 = clock::now();
    for (std::size_t r = 0; r < reps; ++r) f();
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    if (dt > seconds / 8 || reps > (std::size_t{1} << 30)) break;
    reps *= 2;
  }
  double best = 1e300;
  for (int run = 0; run < 5; ++run) {
    const auto t0 = clock::now();
    for (std::size_t r = 0; r < reps; ++r) f();
    best = std::min(best, std::chrono::duration<double>(clock::now() - t0).count() / double(reps));
  }
  return best;
}

template <class T>
void bench_type(const BenchOptions& o, const OpKernels& k) {
  std::printf("%s %s, target %s, %d thread%s\n", o.op.c_str(), o.dtype.c_str(),
              kernels::target().c_str(), o.threads, o.threads == 1 ? "" : "s");
  std::printf("%12s %12s %10s %14s %12s %10s\n", "elements", "ns/element", "GB/s",
              "memcpy ns/el", "memcpy GB/s", "ratio");
  for (std::size_t n : o.sizes) {
    std::vector<T> x(n), s(n), y(n);
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> d(-10, 10);
    for (auto& v : x) v = T(d(rng));
    for (auto& v : s) v = T(d(rng) / 20 + 0.5);
    const bool unary = op_arity_of(k.op) == 1;
    const std::size_t arrays = unary ? 2 : 3;
    const double t = time_per_call([&] {
      if constexpr (std::is_same_v<T, float>) {
        if (unary) k.f32(x, y); else k.f32_backward(s, x, y);
      } else {
        if (unary) k.f64(x, y); else k.f64_backward(s, x, y);
      }
    }, o.seconds);
    // memcpy moving the same bytes: one copy for unary, 1.5 for binary.
    const double tm = time_per_call([&] {
      std::memcpy(y.data(), x.data(), n * sizeof(T));
      if (!unary) std::memcpy(s.data(), x.data(), n / 2 * sizeof(T));
    }, o.seconds);
    const double bytes = double(n * sizeof(T) * arrays);
    std::printf("%12zu %12.4f %10.2f %14.4f %12.2f %10.2f\n", n, t * 1e9 / double(n), bytes / t / 1e9,
                tm * 1e9 / double(n), bytes / tm / 1e9, t / tm);
  }
}

void run_bench(const BenchOptions& o) {
  const auto op = op_from_name(o.op);
  if (!op) throw UsageError("bench: unknown op '" + o.op + "'");
  for (std::size_t n : o.sizes)
    if (n == 0) throw UsageError("bench: sizes must be positive");
  set_num_threads(o.threads);
  if (o.dtype == "f32") bench_type<float>(o, op_kernels(*op));
  else bench_type<double>(o, op_kernels(*op));
  set_num_threads(0);
}

}  // namespace

void add_bench(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand("bench", "Time a kernel per array size beside memcpy");
  cmd->add_option("--op", o->op, "Op name from the op list")->capture_default_str();
  cmd->add_option("--dtype", o->dtype)->check(CLI::IsMember({"f32", "f64"}))->capture_default_str();
  cmd->add_option("--sizes", o->sizes, "Array sizes in elements")->delimiter(',')->capture_default_str();
  cmd->add_option("--threads", o->threads, "Threads")->check(CLI::Range(1, 1024))->capture_default_str();
  cmd->add_option("--seconds", o->seconds, "Time per measurement")->check(CLI::Range(0.001, 60.0));
  cmd->callback([o] { run_bench(*o); });
}

}  // namespace sigma::cli

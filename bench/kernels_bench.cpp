// Every kernel in SIGMA_OP_LIST under Google Benchmark, f32 and f64, at L1/L2-
// resident and memory-bound sizes, beside memcpy of the same bytes. One thread
// unless SIGMA_BENCH_THREADS is set. Registered from the op registry, so a new
// op is benchmarked without touching this file.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <vector>

#include "sigma/kernels.h"
#include "sigma/op_registry.h"

namespace {

constexpr std::int64_t kSizes[] = {4096, 65536, 16777216};

template <class T>
std::vector<T> uniform(std::size_t n, double lo, double hi, unsigned seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> d(lo, hi);
  std::vector<T> v(n);
  for (auto& x : v) x = T(d(rng));
  return v;
}

template <class T>
void counters(benchmark::State& state, std::size_t n, std::size_t arrays) {
  state.SetItemsProcessed(state.iterations() * std::int64_t(n));
  state.SetBytesProcessed(state.iterations() * std::int64_t(n * sizeof(T) * arrays));
}

template <class T>
void bm_op(benchmark::State& state, sigma::Op op) {
  const auto n = std::size_t(state.range(0));
  const sigma::OpKernels& k = sigma::op_kernels(op);
  auto x = uniform<T>(n, -10, 10, 1);
  auto s = uniform<T>(n, 0.05, 0.95, 2);  // saved outputs in sigmoid's range
  std::vector<T> y(n);
  const bool unary = sigma::op_arity_of(op) == 1;
  for (auto _ : state) {
    if constexpr (std::is_same_v<T, float>) {
      if (unary) k.f32(x, y); else k.f32_backward(s, k.saved_is_output ? s : x, y);
    } else {
      if (unary) k.f64(x, y); else k.f64_backward(s, k.saved_is_output ? s : x, y);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  counters<T>(state, n, unary ? 2 : 3);
}

template <class T>
void bm_memcpy(benchmark::State& state) {
  const auto n = std::size_t(state.range(0));
  auto x = uniform<T>(n, -10, 10, 1);
  std::vector<T> y(n);
  for (auto _ : state) {
    std::memcpy(y.data(), x.data(), n * sizeof(T));
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  counters<T>(state, n, 2);
}

template <class T>
void register_all(const char* dtype) {
  auto* m = benchmark::RegisterBenchmark((std::string("memcpy/") + dtype).c_str(), bm_memcpy<T>);
  for (auto n : kSizes) m->Arg(n);
  for (int i = 0; i < sigma::op_count; ++i) {
    const auto op = static_cast<sigma::Op>(i);
    const std::string name = std::string(sigma::op_name(op)) + "/" + dtype;
    auto* b = benchmark::RegisterBenchmark(name.c_str(), [op](benchmark::State& st) { bm_op<T>(st, op); });
    for (auto n : kSizes) b->Arg(n);
  }
}

}  // namespace

int main(int argc, char** argv) {
  const char* t = std::getenv("SIGMA_BENCH_THREADS");
  sigma::set_num_threads(t ? std::atoi(t) : 1);
  register_all<float>("f32");
  register_all<double>("f64");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext("sigma_target", sigma::kernels::target());
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

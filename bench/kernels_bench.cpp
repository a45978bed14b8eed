// Every kernel in SIGMA_OP_LIST under Google Benchmark, f32 and f64, at L1/L2-
// resident and memory-bound sizes, beside memcpy of the same bytes. One thread
// unless SIGMA_BENCH_THREADS is set. Registered from the op registry, so a new
// op is benchmarked without touching this file.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <cstring>
#include <new>
#include <random>
#include <span>
#include <string>

#include "sigma/kernels.h"
#include "sigma/op_registry.h"

namespace {

constexpr std::int64_t kSizes[] = {4096, 65536, 16777216};

// The arrays of one case in one page-aligned block, each starting 320 bytes
// further into its page than the one before. Where malloc put them made a
// 65,536-element AVX2 backward 1.0x or 1.7x slower in the same binary (the
// arrays 4 KiB apart alias in the load/store unit), which is noise an A/B
// between two builds must not see; this layout is the same in every build.
template <class T>
class Arrays {
 public:
  Arrays(std::size_t count, std::size_t n) : n_(n) {
    const std::size_t bytes = (n * sizeof(T) + kStagger * count + kPage - 1) / kPage * kPage;
    stride_ = bytes;
    base_ = static_cast<std::byte*>(std::aligned_alloc(kPage, bytes * count));
    if (base_ == nullptr) throw std::bad_alloc();
  }
  ~Arrays() { std::free(base_); }
  Arrays(const Arrays&) = delete;
  Arrays& operator=(const Arrays&) = delete;
  // Array i, n elements uniform in [lo, hi) from the seed.
  std::span<T> uniform(std::size_t i, double lo, double hi, unsigned seed) {
    std::span<T> v = at(i);
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> d(lo, hi);
    for (auto& x : v) x = T(d(rng));
    return v;
  }
  std::span<T> at(std::size_t i) {
    return {reinterpret_cast<T*>(base_ + i * stride_ + i * kStagger), n_};
  }

 private:
  static constexpr std::size_t kPage = 4096, kStagger = 320;
  std::byte* base_ = nullptr;
  std::size_t n_ = 0, stride_ = 0;
};

template <class T>
void counters(benchmark::State& state, std::size_t n, std::size_t arrays) {
  state.SetItemsProcessed(state.iterations() * std::int64_t(n));
  state.SetBytesProcessed(state.iterations() * std::int64_t(n * sizeof(T) * arrays));
}

template <class T>
void bm_op(benchmark::State& state, sigma::Op op) {
  const auto n = std::size_t(state.range(0));
  const sigma::OpKernels& k = sigma::op_kernels(op);
  Arrays<T> a(4, n);
  const std::span<const T> x = a.uniform(0, -10, 10, 1);
  const std::span<const T> s = a.uniform(1, 0.05, 0.95, 2);  // saved outputs in sigmoid's range
  const std::span<const T> dy = a.uniform(2, -1, 1, 3);
  const std::span<T> y = a.at(3);
  const bool unary = sigma::op_arity_of(op) == 1;
  for (auto _ : state) {
    if constexpr (std::is_same_v<T, float>) {
      if (unary) k.f32(x, y); else k.f32_backward(dy, k.saved_is_output ? s : x, y);
    } else {
      if (unary) k.f64(x, y); else k.f64_backward(dy, k.saved_is_output ? s : x, y);
    }
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  counters<T>(state, n, unary ? 2 : 3);
}

template <class T>
void bm_memcpy(benchmark::State& state) {
  const auto n = std::size_t(state.range(0));
  Arrays<T> a(2, n);
  const std::span<const T> x = a.uniform(0, -10, 10, 1);
  const std::span<T> y = a.at(1);
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

// Throughput of the scalar reference kernels beside memcpy of the same bytes,
// the floor any element-wise kernel is measured against.
#include <benchmark/benchmark.h>

#include <cstring>
#include <random>
#include <vector>

#include "sigma/reference.h"

namespace {

template <class T>
std::vector<T> inputs(std::size_t n) {
  std::mt19937 rng(1);
  std::uniform_real_distribution<T> d(T(-10), T(10));
  std::vector<T> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

template <class T>
void set_counters(benchmark::State& state, std::size_t n, std::size_t arrays) {
  state.SetItemsProcessed(int64_t(state.iterations()) * int64_t(n));
  state.SetBytesProcessed(int64_t(state.iterations()) * int64_t(n * sizeof(T) * arrays));
}

template <class T>
void BM_memcpy(benchmark::State& state) {
  const auto n = std::size_t(state.range(0));
  auto x = inputs<T>(n);
  std::vector<T> y(n);
  for (auto _ : state) {
    std::memcpy(y.data(), x.data(), n * sizeof(T));
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_counters<T>(state, n, 2);
}

template <class T>
void BM_sigmoid(benchmark::State& state) {
  const auto n = std::size_t(state.range(0));
  auto x = inputs<T>(n);
  std::vector<T> y(n);
  for (auto _ : state) {
    sigma::reference::sigmoid(x, y);
    benchmark::DoNotOptimize(y.data());
  }
  set_counters<T>(state, n, 2);
}

template <class T>
void BM_sigmoid_backward(benchmark::State& state) {
  const auto n = std::size_t(state.range(0));
  auto dy = inputs<T>(n), y = inputs<T>(n);
  std::vector<T> dx(n);
  for (auto _ : state) {
    sigma::reference::sigmoid_backward(dy, y, dx);
    benchmark::DoNotOptimize(dx.data());
  }
  set_counters<T>(state, n, 3);
}

template <class T>
void BM_log_sigmoid(benchmark::State& state) {
  const auto n = std::size_t(state.range(0));
  auto x = inputs<T>(n);
  std::vector<T> y(n);
  for (auto _ : state) {
    sigma::reference::log_sigmoid(x, y);
    benchmark::DoNotOptimize(y.data());
  }
  set_counters<T>(state, n, 2);
}

template <class T>
void BM_softplus(benchmark::State& state) {
  const auto n = std::size_t(state.range(0));
  auto x = inputs<T>(n);
  std::vector<T> y(n);
  for (auto _ : state) {
    sigma::reference::softplus(x, y);
    benchmark::DoNotOptimize(y.data());
  }
  set_counters<T>(state, n, 2);
}

#define SIGMA_BENCH_BOTH(fn)                             \
  BENCHMARK_TEMPLATE(fn, float)->Arg(4096)->Arg(65536);  \
  BENCHMARK_TEMPLATE(fn, double)->Arg(4096)->Arg(65536);

SIGMA_BENCH_BOTH(BM_memcpy)
SIGMA_BENCH_BOTH(BM_sigmoid)
SIGMA_BENCH_BOTH(BM_sigmoid_backward)
SIGMA_BENCH_BOTH(BM_log_sigmoid)
SIGMA_BENCH_BOTH(BM_softplus)

}  // namespace

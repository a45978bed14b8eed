// Where a second thread starts to pay, per loop kind: each case runs at one
// thread (/threads:1) and at the default (/threads:0) over sizes around its
// grain, with the grain itself both in force and, through the byte-identical
// serial path below it, on either side. docs/PERFORMANCE.md ("Threads") takes
// the grains from these crossovers:
//
//   Map          a + b, contiguous f32 (src/tensor/loops.h, kParallelGrain)
//   Sigmoid      sigma::sigmoid on an f32 span (kernels, kKernelGrain)
//   TanhBackward sigma::tanh_backward on f32 spans, the cheapest kernel
//   Sum          x.sum() over f32 (src/ops/reduce.cpp, kReduceGrain)
//   Adam         one Adam step on one f32 parameter (src/optim/update.h)
//   Mm           a.mm(b), [m, k] x [k, n] (src/ops/linalg.cpp, kGemmGrain):
//                the LSTM's per-step and whole-sequence products and the
//                MLP's at batch 4096
//
// Compare the two thread settings of one size within one run.
#include <benchmark/benchmark.h>

#include <cstdint>
#include <span>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/kernels.h"
#include "sigma/nn.h"
#include "sigma/ops.h"
#include "sigma/optim/adam.h"

namespace {

std::vector<float> ramp(std::int64_t n, float lo, float hi) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    v[static_cast<std::size_t>(i)] = lo + (hi - lo) * static_cast<float>(i % 9973) / 9973.0f;
  return v;
}

sigma::Tensor input(std::vector<std::int64_t> shape, float lo = -4, float hi = 4) {
  std::int64_t n = 1;
  for (auto s : shape) n *= s;
  return sigma::tensor(ramp(n, lo, hi)).reshape(shape).contiguous();
}

void Map(benchmark::State& state) {
  sigma::set_num_threads(static_cast<int>(state.range(1)));
  const std::int64_t n = state.range(0);
  sigma::Tensor a = input({n}), b = input({n}, 1, -1);
  sigma::NoGradGuard no_grad;
  for (auto _ : state) {
    sigma::Tensor c = a + b;
    benchmark::DoNotOptimize(c.unsafeGetTensorImpl());
  }
  state.SetItemsProcessed(state.iterations() * n);
  sigma::set_num_threads(0);
}

void Sigmoid(benchmark::State& state) {
  sigma::set_num_threads(static_cast<int>(state.range(1)));
  const std::int64_t n = state.range(0);
  const std::vector<float> x = ramp(n, -10, 10);
  std::vector<float> y(x.size());
  for (auto _ : state) {
    sigma::sigmoid(std::span<const float>(x), std::span<float>(y));
    benchmark::DoNotOptimize(y.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
  sigma::set_num_threads(0);
}

void TanhBackward(benchmark::State& state) {
  sigma::set_num_threads(static_cast<int>(state.range(1)));
  const std::int64_t n = state.range(0);
  const std::vector<float> g = ramp(n, -1, 1), y = ramp(n, -0.9f, 0.9f);
  std::vector<float> dx(g.size());
  for (auto _ : state) {
    sigma::tanh_backward(std::span<const float>(g), std::span<const float>(y), std::span<float>(dx));
    benchmark::DoNotOptimize(dx.data());
  }
  state.SetItemsProcessed(state.iterations() * n);
  sigma::set_num_threads(0);
}

void Sum(benchmark::State& state) {
  sigma::set_num_threads(static_cast<int>(state.range(1)));
  const std::int64_t n = state.range(0);
  sigma::Tensor a = input({n});
  sigma::NoGradGuard no_grad;
  for (auto _ : state) {
    sigma::Tensor s = a.sum();
    benchmark::DoNotOptimize(s.unsafeGetTensorImpl());
  }
  state.SetItemsProcessed(state.iterations() * n);
  sigma::set_num_threads(0);
}

void Adam(benchmark::State& state) {
  sigma::set_num_threads(static_cast<int>(state.range(1)));
  const std::int64_t n = state.range(0);
  sigma::Tensor p = input({n}, -1, 1).requires_grad_();
  p.mutable_grad() = input({n}, 1, -1);
  sigma::optim::Adam adam(std::vector<sigma::Tensor>{p}, sigma::optim::AdamOptions(1e-3));
  for (auto _ : state) adam.step();
  state.SetItemsProcessed(state.iterations() * n);
  sigma::set_num_threads(0);
}

void Mm(benchmark::State& state) {
  sigma::set_num_threads(static_cast<int>(state.range(3)));
  const std::int64_t m = state.range(0), k = state.range(1), n = state.range(2);
  sigma::Tensor a = input({m, k}, -1, 1), b = input({k, n}, 1, -1);
  sigma::NoGradGuard no_grad;
  for (auto _ : state) {
    sigma::Tensor c = a.mm(b);
    benchmark::DoNotOptimize(c.unsafeGetTensorImpl());
  }
  state.SetItemsProcessed(state.iterations() * m * n * k);
  sigma::set_num_threads(0);
}

void Sizes(benchmark::internal::Benchmark* b) {
  for (std::int64_t n : {1 << 14, 1 << 15, 1 << 16, 1 << 17, 1 << 18, 1 << 20})
    for (std::int64_t t : {1, 0}) b->Args({n, t});
  b->ArgNames({"n", "threads"});
}

void MmShapes(benchmark::internal::Benchmark* b) {
  const std::int64_t shapes[][3] = {{32, 30, 32},   {32, 128, 512},  {32, 512, 128},
                                    {64, 64, 64},   {128, 128, 128}, {4096, 30, 32},
                                    {1600, 64, 512}, {512, 1600, 128}};
  for (const auto& s : shapes)
    for (std::int64_t t : {1, 0}) b->Args({s[0], s[1], s[2], t});
  b->ArgNames({"m", "k", "n", "threads"});
}

}  // namespace

BENCHMARK(Map)->Apply(Sizes);
BENCHMARK(Sigmoid)->Apply(Sizes);
BENCHMARK(TanhBackward)->Apply(Sizes);
BENCHMARK(Sum)->Apply(Sizes);
BENCHMARK(Adam)->Apply(Sizes);
BENCHMARK(Mm)->Apply(MmShapes);

// Per-op overhead of sigma's Tensor + autograd, beside LibTorch in the same
// binary when it is installed (SIGMA_BENCH_HAVE_TORCH). Pairs are named
// BM_<Case>/sigma and BM_<Case>/torch so their times compare line by line:
//
//   SigmoidSmallAutograd, AddSmallAutograd   64-element f32 inputs that require
//       grad: allocation + dispatch + graph node of one forward op
//   SigmoidSumBackwardSmall                 forward + backward of sigmoid(x).sum()
//   SigmoidSmallNoGrad, AddSmallNoGrad      the same forwards under NoGradGuard
//   Matmul256                               256x256 f32 matmul forward, no grad
//   LinearForwardBackward                   x (32, 64), w (64, 64), b (64):
//       sigmoid(x.matmul(w.t()) + b).sum().backward()
//   SoftmaxRows                             softmax(x, 1) of x [256, 1024] in
//       [-8, 8], no grad (issue 13's target: <= 0.8x LibTorch); items are elements
//   LogSoftmaxRows                          the same with log_softmax
//   IndexSelect1M, Gather1M, MaskIndex1M    indexing 1M f32 elements, no grad
//       (issue 14's target: <= 1.0x LibTorch): x.index_select(0, i) of x [1M]
//       with 1M random indices; x.gather(1, i) of x [1000, 1000]; x.index({m})
//       of x [1M] with a random half-true bool mask. Items are elements read.
//
// Threads: everything runs on one thread, for fairness and because per-op
// overhead is what is measured: sigma::set_num_threads(1) (sigma's kernels),
// omp_set_num_threads(1) (sigma's element-wise loops), openblas_set_num_threads(1)
// (the BLAS both libraries call on Debian), at::set_num_threads(1) and
// at::set_num_interop_threads(1) (LibTorch). Gradients are reset to undefined
// before each backward in both libraries, as zero_grad(set_to_none=true).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <exception>
#include <mutex>
#include <vector>

#include "sigma/autograd.h"
#include "sigma/kernels.h"
#include "sigma/ops.h"
#include "single_thread.h"

#ifdef SIGMA_BENCH_HAVE_TORCH
#include <torch/torch.h>
#endif

namespace {

using sigma_bench::single_thread;

constexpr std::int64_t kSmall = 64;

std::vector<float> ramp(std::int64_t n, float lo, float hi) {
  std::vector<float> v(static_cast<std::size_t>(n));
  for (std::int64_t i = 0; i < n; ++i)
    v[static_cast<std::size_t>(i)] = lo + (hi - lo) * static_cast<float>(i) / static_cast<float>(n);
  return v;
}

// Pseudo-random integers in [0, n) and a half-true mask, the same in both libraries.
std::vector<std::int64_t> random_indices(std::int64_t count, std::int64_t n) {
  std::vector<std::int64_t> v(static_cast<std::size_t>(count));
  std::uint64_t s = 0x9E3779B97F4A7C15ull;
  for (auto& x : v) {
    s = s * 6364136223846793005ull + 1442695040888963407ull;
    x = static_cast<std::int64_t>((s >> 33) % static_cast<std::uint64_t>(n));
  }
  return v;
}

constexpr std::int64_t kIndexN = 1 << 20;

sigma::Tensor sigma_input(std::vector<std::int64_t> shape, bool grad, float lo = -4, float hi = 4) {
  std::int64_t n = 1;
  for (auto s : shape) n *= s;
  sigma::Tensor t = sigma::tensor(ramp(n, lo, hi)).reshape(shape).contiguous();
  if (grad) t.requires_grad_();
  return t;
}

// ---- sigma.

void SigmoidSmallAutograd_sigma(benchmark::State& state) {
  single_thread();
  sigma::Tensor x = sigma_input({kSmall}, true);
  for (auto _ : state) {
    sigma::Tensor y = x.sigmoid();
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
}

void AddSmallAutograd_sigma(benchmark::State& state) {
  single_thread();
  sigma::Tensor a = sigma_input({kSmall}, true), b = sigma_input({kSmall}, true, -1, 3);
  for (auto _ : state) {
    sigma::Tensor y = a + b;
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
}

void SigmoidSumBackwardSmall_sigma(benchmark::State& state) {
  single_thread();
  sigma::Tensor x = sigma_input({kSmall}, true);
  for (auto _ : state) {
    x.mutable_grad() = sigma::Tensor();
    x.sigmoid().sum().backward();
    benchmark::DoNotOptimize(x.grad().unsafeGetTensorImpl());
  }
}

void SigmoidSmallNoGrad_sigma(benchmark::State& state) {
  single_thread();
  sigma::Tensor x = sigma_input({kSmall}, true);
  sigma::NoGradGuard no_grad;
  for (auto _ : state) {
    sigma::Tensor y = x.sigmoid();
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
}

void AddSmallNoGrad_sigma(benchmark::State& state) {
  single_thread();
  sigma::Tensor a = sigma_input({kSmall}, true), b = sigma_input({kSmall}, true, -1, 3);
  sigma::NoGradGuard no_grad;
  for (auto _ : state) {
    sigma::Tensor y = a + b;
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
}

void Matmul256_sigma(benchmark::State& state) {
  single_thread();
  sigma::Tensor a = sigma_input({256, 256}, false, -1, 1),
                b = sigma_input({256, 256}, false, 1, -1);
  for (auto _ : state) {
    sigma::Tensor c = a.matmul(b);
    benchmark::DoNotOptimize(c.unsafeGetTensorImpl());
  }
  state.SetItemsProcessed(state.iterations() * 2 * 256 * 256 * 256);  // flops
}

void LinearForwardBackward_sigma(benchmark::State& state) {
  single_thread();
  sigma::Tensor x = sigma_input({32, 64}, false, -1, 1);
  sigma::Tensor w = sigma_input({64, 64}, true, -0.125f, 0.125f);
  sigma::Tensor b = sigma_input({64}, true, -0.5f, 0.5f);
  for (auto _ : state) {
    w.mutable_grad() = sigma::Tensor();
    b.mutable_grad() = sigma::Tensor();
    (x.matmul(w.t()) + b).sigmoid().sum().backward();
    benchmark::DoNotOptimize(w.grad().unsafeGetTensorImpl());
  }
}

void SoftmaxRows_sigma(benchmark::State& state) {
  single_thread();
  sigma::Tensor x = sigma_input({256, 1024}, false, -8, 8);
  for (auto _ : state) {
    sigma::Tensor y = sigma::softmax(x, 1);
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
  state.SetItemsProcessed(state.iterations() * 256 * 1024);
}

void LogSoftmaxRows_sigma(benchmark::State& state) {
  single_thread();
  sigma::Tensor x = sigma_input({256, 1024}, false, -8, 8);
  for (auto _ : state) {
    sigma::Tensor y = sigma::log_softmax(x, 1);
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
  state.SetItemsProcessed(state.iterations() * 256 * 1024);
}

void IndexSelect1M_sigma(benchmark::State& state) {
  single_thread();
  sigma::Tensor x = sigma_input({kIndexN}, false);
  sigma::Tensor i = sigma::tensor(random_indices(kIndexN, kIndexN));
  for (auto _ : state) {
    sigma::Tensor y = x.index_select(0, i);
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
  state.SetItemsProcessed(state.iterations() * kIndexN);
}

void Gather1M_sigma(benchmark::State& state) {
  single_thread();
  sigma::Tensor x = sigma_input({1000, 1000}, false);
  sigma::Tensor i = sigma::tensor(random_indices(1000 * 1000, 1000)).reshape({1000, 1000});
  for (auto _ : state) {
    sigma::Tensor y = x.gather(1, i);
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
  state.SetItemsProcessed(state.iterations() * 1000 * 1000);
}

void MaskIndex1M_sigma(benchmark::State& state) {
  single_thread();
  sigma::Tensor x = sigma_input({kIndexN}, false);
  sigma::Tensor m = sigma::tensor(random_indices(kIndexN, 2)).eq(sigma::tensor({std::int64_t{1}}));
  for (auto _ : state) {
    sigma::Tensor y = x.index({m});
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
  state.SetItemsProcessed(state.iterations() * kIndexN);
}

// ---- LibTorch.
#ifdef SIGMA_BENCH_HAVE_TORCH

torch::Tensor torch_input(std::vector<std::int64_t> shape, bool grad, float lo = -4, float hi = 4) {
  std::int64_t n = 1;
  for (auto s : shape) n *= s;
  torch::Tensor t = torch::tensor(ramp(n, lo, hi)).reshape(shape).contiguous();
  if (grad) t.requires_grad_();
  return t;
}

void SigmoidSmallAutograd_torch(benchmark::State& state) {
  single_thread();
  torch::Tensor x = torch_input({kSmall}, true);
  for (auto _ : state) {
    torch::Tensor y = x.sigmoid();
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
}

void AddSmallAutograd_torch(benchmark::State& state) {
  single_thread();
  torch::Tensor a = torch_input({kSmall}, true), b = torch_input({kSmall}, true, -1, 3);
  for (auto _ : state) {
    torch::Tensor y = a + b;
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
}

void SigmoidSumBackwardSmall_torch(benchmark::State& state) {
  single_thread();
  torch::Tensor x = torch_input({kSmall}, true);
  for (auto _ : state) {
    x.mutable_grad() = torch::Tensor();
    x.sigmoid().sum().backward();
    benchmark::DoNotOptimize(x.grad().unsafeGetTensorImpl());
  }
}

void SigmoidSmallNoGrad_torch(benchmark::State& state) {
  single_thread();
  torch::Tensor x = torch_input({kSmall}, true);
  torch::NoGradGuard no_grad;
  for (auto _ : state) {
    torch::Tensor y = x.sigmoid();
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
}

void AddSmallNoGrad_torch(benchmark::State& state) {
  single_thread();
  torch::Tensor a = torch_input({kSmall}, true), b = torch_input({kSmall}, true, -1, 3);
  torch::NoGradGuard no_grad;
  for (auto _ : state) {
    torch::Tensor y = a + b;
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
}

void Matmul256_torch(benchmark::State& state) {
  single_thread();
  torch::Tensor a = torch_input({256, 256}, false, -1, 1),
                b = torch_input({256, 256}, false, 1, -1);
  for (auto _ : state) {
    torch::Tensor c = a.matmul(b);
    benchmark::DoNotOptimize(c.unsafeGetTensorImpl());
  }
  state.SetItemsProcessed(state.iterations() * 2 * 256 * 256 * 256);
}

void LinearForwardBackward_torch(benchmark::State& state) {
  single_thread();
  torch::Tensor x = torch_input({32, 64}, false, -1, 1);
  torch::Tensor w = torch_input({64, 64}, true, -0.125f, 0.125f);
  torch::Tensor b = torch_input({64}, true, -0.5f, 0.5f);
  for (auto _ : state) {
    w.mutable_grad() = torch::Tensor();
    b.mutable_grad() = torch::Tensor();
    (x.matmul(w.t()) + b).sigmoid().sum().backward();
    benchmark::DoNotOptimize(w.grad().unsafeGetTensorImpl());
  }
}

void SoftmaxRows_torch(benchmark::State& state) {
  single_thread();
  torch::Tensor x = torch_input({256, 1024}, false, -8, 8);
  for (auto _ : state) {
    torch::Tensor y = torch::softmax(x, 1);
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
  state.SetItemsProcessed(state.iterations() * 256 * 1024);
}

void LogSoftmaxRows_torch(benchmark::State& state) {
  single_thread();
  torch::Tensor x = torch_input({256, 1024}, false, -8, 8);
  for (auto _ : state) {
    torch::Tensor y = torch::log_softmax(x, 1);
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
  state.SetItemsProcessed(state.iterations() * 256 * 1024);
}

void IndexSelect1M_torch(benchmark::State& state) {
  single_thread();
  torch::Tensor x = torch_input({kIndexN}, false);
  torch::Tensor i = torch::tensor(random_indices(kIndexN, kIndexN), torch::dtype(torch::kLong));
  for (auto _ : state) {
    torch::Tensor y = x.index_select(0, i);
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
  state.SetItemsProcessed(state.iterations() * kIndexN);
}

void Gather1M_torch(benchmark::State& state) {
  single_thread();
  torch::Tensor x = torch_input({1000, 1000}, false);
  torch::Tensor i =
      torch::tensor(random_indices(1000 * 1000, 1000), torch::dtype(torch::kLong)).reshape({1000, 1000});
  for (auto _ : state) {
    torch::Tensor y = x.gather(1, i);
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
  state.SetItemsProcessed(state.iterations() * 1000 * 1000);
}

void MaskIndex1M_torch(benchmark::State& state) {
  single_thread();
  torch::Tensor x = torch_input({kIndexN}, false);
  torch::Tensor m = torch::tensor(random_indices(kIndexN, 2), torch::dtype(torch::kLong)).eq(1);
  for (auto _ : state) {
    torch::Tensor y = x.index({m});
    benchmark::DoNotOptimize(y.unsafeGetTensorImpl());
  }
  state.SetItemsProcessed(state.iterations() * kIndexN);
}

#endif  // SIGMA_BENCH_HAVE_TORCH

}  // namespace

#ifdef SIGMA_BENCH_HAVE_TORCH
#define SIGMA_BENCH_PAIR(name)                         \
  BENCHMARK(name##_sigma)->Name("BM_" #name "/sigma"); \
  BENCHMARK(name##_torch)->Name("BM_" #name "/torch")
#else
#define SIGMA_BENCH_PAIR(name) BENCHMARK(name##_sigma)->Name("BM_" #name "/sigma")
#endif

SIGMA_BENCH_PAIR(SigmoidSmallAutograd);
SIGMA_BENCH_PAIR(AddSmallAutograd);
SIGMA_BENCH_PAIR(SigmoidSumBackwardSmall);
SIGMA_BENCH_PAIR(SigmoidSmallNoGrad);
SIGMA_BENCH_PAIR(AddSmallNoGrad);
SIGMA_BENCH_PAIR(Matmul256);
SIGMA_BENCH_PAIR(LinearForwardBackward);
SIGMA_BENCH_PAIR(SoftmaxRows);
SIGMA_BENCH_PAIR(LogSoftmaxRows);
SIGMA_BENCH_PAIR(IndexSelect1M);
SIGMA_BENCH_PAIR(Gather1M);
SIGMA_BENCH_PAIR(MaskIndex1M);

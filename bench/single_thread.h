// single_thread.h: pins every thread pool a sigma-vs-LibTorch benchmark
// touches to one thread, once per process: sigma's kernels, its OpenMP loops,
// OpenBLAS (which both libraries call on Debian) and, when built with
// SIGMA_BENCH_HAVE_TORCH, LibTorch's intra- and inter-op pools.
#pragma once

#include <omp.h>

#include <exception>
#include <mutex>

#include "sigma/kernels.h"

#ifdef SIGMA_BENCH_HAVE_TORCH
#include <torch/torch.h>
#endif

extern "C" void openblas_set_num_threads(int num_threads);

namespace sigma_bench {

inline void single_thread() {
  static std::once_flag once;
  std::call_once(once, [] {
    sigma::set_num_threads(1);
    omp_set_num_threads(1);
    openblas_set_num_threads(1);
#ifdef SIGMA_BENCH_HAVE_TORCH
    at::set_num_threads(1);
    try {
      at::set_num_interop_threads(1);
    } catch (const std::exception&) {
      // Already started: LibTorch's inter-op pool is unused by these cases.
    }
#endif
  });
}

}  // namespace sigma_bench

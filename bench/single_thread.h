// single_thread.h: the thread settings of a sigma-vs-LibTorch benchmark.
//
// single_thread() pins every pool the benchmark touches to one thread: sigma's
// (sigma::set_num_threads), OpenMP's default team (which LibTorch and sigma's
// default both read), OpenBLAS (which both libraries call on Debian) and, when
// built with SIGMA_BENCH_HAVE_TORCH, LibTorch's intra- and inter-op pools.
// default_threads() puts back what the process started with, which is what a
// user who sets nothing gets; the two can alternate within one run.
#pragma once

#include <omp.h>

#include <exception>

#include "sigma/kernels.h"

#ifdef SIGMA_BENCH_HAVE_TORCH
#include <torch/torch.h>
#endif

extern "C" void openblas_set_num_threads(int num_threads);
extern "C" int openblas_get_num_threads(void);

namespace sigma_bench {

struct StartupThreads {
  int omp = 0, blas = 0, torch = 0;
};

// The counts before either function below changed anything.
inline const StartupThreads& startup_threads() {
  static const StartupThreads s{omp_get_max_threads(), openblas_get_num_threads(),
#ifdef SIGMA_BENCH_HAVE_TORCH
                                at::get_num_threads()
#else
                                0
#endif
  };
  return s;
}

inline void single_thread() {
  startup_threads();
  sigma::set_num_threads(1);
  omp_set_num_threads(1);
  openblas_set_num_threads(1);
#ifdef SIGMA_BENCH_HAVE_TORCH
  at::set_num_threads(1);
  static const bool interop_once = [] {
    try {
      at::set_num_interop_threads(1);
    } catch (const std::exception&) {
      // Already started: LibTorch's inter-op pool is unused by these cases.
    }
    return true;
  }();
  (void)interop_once;
#endif
}

inline void default_threads() {
  const StartupThreads& s = startup_threads();
#ifdef SIGMA_BENCH_HAVE_TORCH
  at::set_num_threads(s.torch);  // also sets OpenMP's count, so before omp_set_num_threads
#endif
  omp_set_num_threads(s.omp);
  openblas_set_num_threads(s.blas);
  sigma::set_num_threads(0);
}

}  // namespace sigma_bench

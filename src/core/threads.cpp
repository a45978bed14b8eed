// sigma::set_num_threads: one setting for every thread pool sigma uses, the
// OpenMP loops of the kernels and ops and OpenBLAS's matrix products.
#include <cblas.h>
#include <omp.h>

#include <atomic>
#include <mutex>

#include "kernels/parallel.h"
#include "sigma/kernels.h"

namespace sigma {
namespace {

std::atomic<int> g_threads{0};  // 0: OpenMP's default
std::mutex g_blas_mutex;
int g_blas_default = -1;  // OpenBLAS's own count before sigma first changed it

}  // namespace

void set_num_threads(int n) {
  n = n > 0 ? n : 0;
  g_threads.store(n, std::memory_order_relaxed);
  std::lock_guard<std::mutex> lock(g_blas_mutex);
  if (g_blas_default < 0) g_blas_default = openblas_get_num_threads();
  openblas_set_num_threads(n > 0 ? n : g_blas_default);
}

int get_num_threads() {
  const int n = g_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : omp_get_max_threads();
}

namespace detail {

int num_threads() noexcept { return get_num_threads(); }

}  // namespace detail
}  // namespace sigma

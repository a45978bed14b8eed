// blas.h: what the ops share around CBLAS (internal): OpenBLAS kept on one
// thread while sigma calls it, since sigma's own pool splits the work
// (ops/linalg.cpp, ops/conv.cpp).
#pragma once

#include <cblas.h>

#include <mutex>

namespace sigma::detail {

// OpenBLAS single-threaded while any sigma call into it is in flight, then
// back to the count it had (its default, or what the program set).
class BlasOneThread {
 public:
  BlasOneThread() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (depth_++ == 0) {
      saved_ = openblas_get_num_threads();
      if (saved_ != 1) openblas_set_num_threads(1);
    }
  }
  ~BlasOneThread() {
    std::lock_guard<std::mutex> lock(mutex_);
    if (--depth_ == 0 && saved_ != 1) openblas_set_num_threads(saved_);
  }
  BlasOneThread(const BlasOneThread&) = delete;
  BlasOneThread& operator=(const BlasOneThread&) = delete;

 private:
  static inline std::mutex mutex_;
  static inline int depth_ = 0;
  static inline int saved_ = 1;
};

}  // namespace sigma::detail

// parallel.h: sigma's thread pool and the loops that split work across it.
//
// Work is cut into chunks whose bounds depend only on the sizes, never on the
// thread count, and no chunk's result depends on which thread runs it, so
// results are bitwise identical for any thread count.
//
// Each loop kind has a grain, measured so that one grain of work takes about
// 10 us on one core (docs/PERFORMANCE.md, "Threads"): a chunk is at least one
// grain, and work under two grains runs on the calling thread.
//
// The pool (src/core/threads.cpp): the calling thread and up to
// get_num_threads() - 1 workers claim chunks from one shared counter, and the
// caller waits only for chunks a worker has actually claimed, so a worker the
// OS has not scheduled (a busy machine) never holds the caller up: the caller
// runs those chunks itself. After a job a worker spins for the next one for
// 50 us, then sleeps. Handing a job to an awake worker costs about 0.5 us;
// waking a sleeping one costs the caller a system call (17 us here) and the
// worker arrives about 55 us later. So sleeping workers are woken only for a
// job of kWakeGrains or more, or for smaller jobs that follow each other
// within the spin time (so a woken worker would stay awake) and add up to
// kWakeGrains; until then they run on the caller. A worker that was spinning
// yet found nothing left to claim was not on a CPU when the job came (the
// machine is busy) and goes to sleep straight after its next job.
// sigma's loops open no OpenMP regions, and matrix products call OpenBLAS
// single-threaded (ops/linalg.cpp), so the pools in a process do not compete
// for the cores.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace sigma::detail {

int num_threads() noexcept;  // sigma::get_num_threads(), without the public header

// Runs fn(ctx, c) for every c in [0, chunks), each exactly once, on the
// calling thread and the pool's workers, and returns when all have run;
// `grains` estimates the work (see kWakeGrains). Runs them all on the calling
// thread when sigma has one thread, inside an OpenMP parallel region, inside
// a chunk (nested), while another thread is using the pool, or when no worker
// is awake and the job is too small to wake one. fn must not throw.
using ChunkFn = void (*)(void* ctx, std::int64_t chunk) noexcept;
void run_chunks(std::int64_t chunks, ChunkFn fn, void* ctx, double grains) noexcept;

// At most this many chunks per job.
inline constexpr std::int64_t kMaxChunks = 64;
// Sleeping workers are woken for jobs of at least this many grains (~80 us).
inline constexpr double kWakeGrains = 8;

// f(i) for every i in [0, items), where the items together are `grains`
// grains of work, cut into min(items, grains, kMaxChunks) contiguous groups
// spread over the pool; on the calling thread alone below two groups.
template <class F>
void parallel_groups(std::int64_t items, double grains, F&& f) {
  if (items <= 0) return;
  const std::int64_t chunks =
      grains < 2 ? 1 : std::min({items, kMaxChunks, static_cast<std::int64_t>(std::min(grains, 1e9))});
  if (chunks < 2) {
    for (std::int64_t i = 0; i < items; ++i) f(i);
    return;
  }
  struct Job {
    std::remove_reference_t<F>* f;
    std::int64_t items, chunks;
  } job{&f, items, chunks};
  run_chunks(
      chunks,
      [](void* ctx, std::int64_t c) noexcept {
        const Job& j = *static_cast<const Job*>(ctx);
        const std::int64_t begin = c * j.items / j.chunks, end = (c + 1) * j.items / j.chunks;
        for (std::int64_t i = begin; i < end; ++i) (*j.f)(i);
      },
      &job, grains);
}

// f(i) for every i in [0, items), each item `cost` units of work (say
// elements) of a loop kind whose grain is `grain` units.
template <class F>
void parallel_items(std::int64_t items, std::int64_t cost, std::int64_t grain, F&& f) {
  parallel_groups(items,
                  static_cast<double>(items) * static_cast<double>(cost) /
                      static_cast<double>(std::max<std::int64_t>(grain, 1)),
                  std::forward<F>(f));
}

// f(begin, end) over [0, n) in ranges of at least `grain` elements whose
// bounds are multiples of 64 (a kernel's vector width divides them); one
// range, on the calling thread, below 2 * grain.
template <class F>
void parallel_for(std::int64_t n, std::int64_t grain, F&& f) {
  if (n <= 0) return;
  const std::int64_t chunks = std::min(n / std::max<std::int64_t>(grain, 1), kMaxChunks);
  if (chunks < 2) {
    f(std::int64_t{0}, n);
    return;
  }
  const std::int64_t per = ((n + chunks - 1) / chunks + 63) & ~std::int64_t{63};
  const std::int64_t ranges = (n + per - 1) / per;
  const double grains = static_cast<double>(n) / static_cast<double>(grain);
  parallel_groups(ranges, std::max(grains, static_cast<double>(ranges)),
                  [&](std::int64_t c) { f(c * per, std::min(n, (c + 1) * per)); });
}

// The measured grain sizes, in elements (docs/PERFORMANCE.md, "Threads"):
// below them a second thread costs more than it saves.
//
// The span kernels of sigma/kernels.h (0.07 to 0.84 ns per f32 element).
inline constexpr std::int64_t kKernelGrain = std::int64_t{1} << 15;

// The span kernels' loop: f(begin, end) over [0, n) at kKernelGrain.
template <class F>
void parallel_for_kernel(std::size_t n, F&& f) {
  parallel_for(static_cast<std::int64_t>(n), kKernelGrain, [&](std::int64_t b, std::int64_t e) {
    f(static_cast<std::size_t>(b), static_cast<std::size_t>(e));
  });
}

}  // namespace sigma::detail

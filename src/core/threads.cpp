// threads.cpp: sigma::set_num_threads and the thread pool behind
// detail::run_chunks (the policy is described in kernels/parallel.h).
//
// One job at a time. The caller publishes the job's function and context,
// then `state` = (chunks << 32 | next = 0) with a release store, then bumps
// `epoch`, which sleeping workers wait on. Every thread claims a chunk with
// one fetch_add on `state`: the returned word says which chunk it got (next)
// and whether that is one (next < chunks). A successful claim also proves the
// job's fields are still this job's, because the job cannot finish before the
// claimed chunk does; so a worker that wakes late can never run a stale or a
// half-published job, whatever it read before. Workers count each finished
// chunk in `done`; the caller waits for done == the chunks it did not run.
// After fork() the child has no workers, whatever the counts say: its jobs
// run on the caller, which claims every chunk no worker does.
#include <omp.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <thread>

#include "kernels/parallel.h"
#include "sigma/kernels.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif
#if defined(__linux__)
#include <linux/futex.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <climits>
#endif

namespace sigma {
namespace {

std::atomic<int> g_threads{0};  // 0: OpenMP's default (OMP_NUM_THREADS, else the CPUs)

// After a job a worker spins this long for the next one, then sleeps.
constexpr auto kSpin = std::chrono::microseconds(50);

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
  _mm_pause();
#endif
}

// Sleeps while word == seen. Linux: the futex itself (libstdc++'s
// atomic::wait/notify_all cost 25 us per wake here, the system call 11 us).
void wait_while(std::atomic<std::uint32_t>& word, std::uint32_t seen) noexcept {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAIT_PRIVATE, seen, nullptr,
          nullptr, 0);
#else
  word.wait(seen, std::memory_order_acquire);
#endif
}
void wake_all(std::atomic<std::uint32_t>& word) noexcept {
#if defined(__linux__)
  syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(&word), FUTEX_WAKE_PRIVATE, INT_MAX, nullptr,
          nullptr, 0);
#else
  word.notify_all();
#endif
}

struct Pool {
  std::atomic<std::uint64_t> state{0};  // chunks << 32 | next chunk to claim
  std::atomic<std::int64_t> done{0};    // chunks finished by workers in this job
  std::atomic<detail::ChunkFn> fn{nullptr};
  std::atomic<void*> ctx{nullptr};
  std::atomic<int> team{0};             // workers 1 .. team-1 take part
  std::atomic<std::uint32_t> epoch{0};  // bumped per job; sleeping workers wait on it
  std::atomic<int> sleepers{0};         // workers asleep (or about to be) on epoch
  std::atomic<bool> busy{false};        // a thread is running a job
  std::atomic<int> late{0};             // a woken worker found its job done (1) or not (0)
  // Only the busy holder reads or writes these:
  int workers = 0;                      // started so far
  double debt = 0;                      // grains run alone lately (see run_chunks)
  double bar = detail::kWakeGrains;     // the debt that wakes the workers
  std::chrono::steady_clock::time_point alone_end{};  // when the last such job ended
};

// Never destroyed: detached workers may still be waiting on it at exit.
Pool& pool() {
  static Pool* p = new Pool;
  return *p;
}

thread_local bool t_inside = false;  // a worker, or a caller running a job

// Claims and runs chunks until none is left; the number run. A worker
// counts each chunk in `done` as it finishes (the caller may return at once).
std::int64_t run_claimed(Pool& p, bool worker) noexcept {
  std::int64_t ran = 0;
  for (;;) {
    const std::uint64_t s = p.state.fetch_add(1, std::memory_order_acq_rel);
    const std::uint64_t next = s & 0xffffffffu, chunks = s >> 32;
    if (next >= chunks) return ran;
    p.fn.load(std::memory_order_relaxed)(p.ctx.load(std::memory_order_relaxed),
                                         static_cast<std::int64_t>(next));
    if (worker) p.done.fetch_add(1, std::memory_order_release);
    ++ran;
  }
}

void worker_main(Pool& p, int index, std::uint32_t seen) {
  t_inside = true;
  bool spin = false;
  for (;;) {
    bool slept = false;
    if (spin) {
      const auto deadline = std::chrono::steady_clock::now() + kSpin;
      while (p.epoch.load(std::memory_order_acquire) == seen) {
        for (int i = 0; i < 16; ++i) cpu_relax();
        if (std::chrono::steady_clock::now() > deadline) break;
      }
    }
    std::uint32_t now = p.epoch.load(std::memory_order_acquire);
    if (now == seen) {
      // sleepers before epoch here, epoch before sleepers in run_chunks (both
      // seq_cst): either the caller sees this sleeper or this sees the job.
      p.sleepers.fetch_add(1);
      while ((now = p.epoch.load()) == seen) {
        slept = true;
        wait_while(p.epoch, seen);
      }
      p.sleepers.fetch_sub(1);
    }
    seen = now;
    if (index >= p.team.load(std::memory_order_relaxed)) {
      spin = false;
      continue;
    }
    const std::int64_t ran = run_claimed(p, true);
    if (slept) p.late.store(ran > 0 ? 0 : 1, std::memory_order_relaxed);
    // Spin for the next job unless this one came while this worker was
    // spinning and it still found nothing: then it was not on a CPU.
    spin = ran > 0 || slept;
  }
}

}  // namespace

void set_num_threads(int n) { g_threads.store(n > 0 ? n : 0, std::memory_order_relaxed); }

int get_num_threads() {
  const int n = g_threads.load(std::memory_order_relaxed);
  return n > 0 ? n : omp_get_max_threads();
}

namespace detail {

int num_threads() noexcept { return get_num_threads(); }

void run_chunks(std::int64_t chunks, ChunkFn fn, void* ctx, double grains) noexcept {
  const auto serial = [&] {
    for (std::int64_t c = 0; c < chunks; ++c) fn(ctx, c);
  };
  const int threads = static_cast<int>(std::min<std::int64_t>(num_threads(), chunks));
  Pool& p = pool();
  if (threads <= 1 || chunks > std::int64_t{0x7fffffff} || t_inside || omp_in_parallel() ||
      p.busy.exchange(true, std::memory_order_acquire)) {
    serial();
    return;
  }
  // No worker awake and a job too small to wait ~55 us for one to wake (or
  // start): on this thread, unless such jobs keep coming (each within kSpin of
  // the last) and add up to `bar` grains: then the workers are woken once and
  // stay awake while the jobs keep coming. When the woken worker found its
  // job already done, the bar doubles (to 64 kWakeGrains); when it helped,
  // the bar halves back (to kWakeGrains).
  if (grains < kWakeGrains && p.sleepers.load() >= p.workers) {
    if (std::chrono::steady_clock::now() - p.alone_end > kSpin) p.debt = 0;
    p.debt += grains;
    if (p.debt < p.bar) {
      serial();
      p.alone_end = std::chrono::steady_clock::now();
      p.busy.store(false, std::memory_order_release);
      return;
    }
    p.bar = p.late.load(std::memory_order_relaxed) != 0 ? std::min(2 * p.bar, 64 * kWakeGrains)
                                                          : std::max(p.bar / 2, kWakeGrains);
  }
  p.debt = 0;
  const std::uint32_t epoch = p.epoch.load(std::memory_order_relaxed);
  while (p.workers < threads - 1) {
    try {
      std::thread(worker_main, std::ref(p), p.workers + 1, epoch).detach();
    } catch (...) {
      break;  // fewer workers; the caller runs what they do not
    }
    ++p.workers;
  }
  t_inside = true;
  p.team.store(threads, std::memory_order_relaxed);
  p.fn.store(fn, std::memory_order_relaxed);
  p.ctx.store(ctx, std::memory_order_relaxed);
  p.done.store(0, std::memory_order_relaxed);
  p.state.store(static_cast<std::uint64_t>(chunks) << 32, std::memory_order_release);
  p.epoch.fetch_add(1);
  if (p.sleepers.load() > 0) wake_all(p.epoch);
  const std::int64_t others = chunks - run_claimed(p, false);
  // Only chunks a worker claimed are left, and that worker is running them.
  for (int i = 0; p.done.load(std::memory_order_acquire) < others; ++i) {
    if (i < 4096) cpu_relax();
    else std::this_thread::yield();
  }
  t_inside = false;
  p.busy.store(false, std::memory_order_release);
}

}  // namespace detail
}  // namespace sigma

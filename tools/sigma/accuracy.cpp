// `sigma accuracy`: scans inputs through a kernel on one or every SIMD target
// and reports its error against a wider-precision reference (op_references.h).
#include <CLI/CLI.hpp>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <mutex>
#include <random>
#include <string>
#include <vector>

#include "commands.h"
#include "kernel_options.h"
#include "number_format.h"
#include "op_references.h"
#include "sigma/kernels.h"
#include "sigma/op_registry.h"

namespace sigma::cli {
namespace {

constexpr std::int64_t kPatterns = std::int64_t{1} << 32;
constexpr std::int64_t kMaxSamples = 1'000'000'000'000;

struct AccuracyOptions {
  std::string op = "sigmoid";
  std::string dtype = "f32";
  std::string target;  // "all": every available target
  bool target_given = false;  // else the current one (SIGMA_TARGET or the best)
  std::string step = "1";
  std::string samples = "10000000";
  bool step_given = false, samples_given = false;
};

struct Stats {
  double max = 0, sum = 0;
  double worst_x = 0;
  std::uint64_t count = 0, above_half = 0, above_one = 0, nan_out = 0, nan_kept = 0, nan_in = 0;
  // The larger error wins; among equal errors the smaller x, so the report
  // does not depend on which thread saw which input.
  void consider(double err, double x) {
    if (err > max || (err == max && err > 0 && x < worst_x)) max = err, worst_x = x;
  }
  void merge(const Stats& o) {
    consider(o.max, o.worst_x);
    sum += o.sum;
    count += o.count, above_half += o.above_half, above_one += o.above_one;
    nan_out += o.nan_out, nan_kept += o.nan_kept, nan_in += o.nan_in;
  }
};

// The spacing of T's values at the exact value's magnitude (subnormal spacing
// below T's smallest normal).
template <class T>
long double ulp_at(long double exact) {
  using L = std::numeric_limits<T>;
  const long double a = std::fabs(exact);
  int e = L::min_exponent - 1;
  if (a >= (long double)L::min()) {
    std::frexp(a, &e);
    e = std::min(e - 1, L::max_exponent - 1);
  }
  return std::ldexp(1.0L, e - (L::digits - 1));
}

template <class T>
void account(Stats& st, double x, T got, long double exact) {
  if (std::isnan(x)) {
    ++st.nan_in;
    st.nan_kept += std::isnan(got);
    return;
  }
  ++st.count;
  // A value past T's largest finite one by half an ULP or more is inf in T.
  constexpr long double kOverflow =
      (long double)std::numeric_limits<T>::max() * (1.0L + (long double)std::numeric_limits<T>::epsilon() / 4);
  if (std::fabs(exact) >= kOverflow) exact = std::copysign((long double)INFINITY, exact);
  if (std::isnan(got) && !std::isnan(exact)) {  // NaN is right only outside the domain (logit)
    ++st.nan_out;
    return;
  }
  double err;
  if (std::isnan(exact))
    err = std::isnan(got) ? 0.0 : HUGE_VAL;
  else if (std::isinf(exact) || std::isinf(got))
    err = (long double)got == exact ? 0.0 : HUGE_VAL;
  else
    err = double(std::fabs((long double)got - exact) / ulp_at<T>(exact));
  st.sum += std::isfinite(err) ? err : 0;
  st.above_half += err > 0.5;
  st.above_one += err > 1.0;
  st.consider(err, x);
}

// Runs the op on a block of inputs x (dy = 1 for backward ops), writing the
// kernel's result to y and, for ops that take the forward's output, that
// output to saved.
template <class T>
void run_block(const OpKernels& k, const std::vector<T>& x, std::vector<T>& y, std::vector<T>& saved,
               std::vector<T>& ones) {
  if (op_arity_of(k.op) == 1) {
    if constexpr (std::is_same_v<T, float>) k.f32(x, y); else k.f64(x, y);
    return;
  }
  if (k.saved_is_output) {  // feed the forward's output
    const OpKernels& f = op_kernels(k.forward);
    if constexpr (std::is_same_v<T, float>) f.f32(x, saved); else f.f64(x, saved);
  } else {
    saved = x;
  }
  if constexpr (std::is_same_v<T, float>) k.f32_backward(ones, saved, y); else k.f64_backward(ones, saved, y);
}

// Runs and scores one block; R is the reference's type.
template <class T, class R>
void score_block(Stats& st, const OpKernels& k, const std::vector<T>& x, std::vector<T>& y,
                 std::vector<T>& saved, std::vector<T>& ones) {
  saved.resize(x.size()), y.resize(x.size()), ones.resize(x.size(), T(1));
  run_block(k, x, y, saved, ones);
  const bool from_output = op_arity_of(k.op) == 2 && k.saved_is_output;
  for (std::size_t i = 0; i < x.size(); ++i)
    account(st, x[i], y[i], reference_value<R>(k.op, R(from_output ? saved[i] : x[i])));
}

// A one-line percentage, redrawn in place, when stdout is a terminal; nothing
// otherwise. done() may be called from any thread; whichever holds the lock
// draws, so the figure only grows.
class Progress {
 public:
  Progress(std::string label, std::int64_t total)
      : label_(std::move(label)), total_(std::max<std::int64_t>(total, 1)), on_(::isatty(STDOUT_FILENO)) {}
  ~Progress() {
    if (on_ && shown_ >= 0) std::printf("\r%*s\r", int(label_.size()) + 7, ""), std::fflush(stdout);
  }
  void done(std::int64_t n) {
    const std::int64_t d = done_ += n;
    if (!on_) return;
    std::unique_lock lock(draw_, std::try_to_lock);
    const int pct = int(100 * d / total_);
    if (!lock || pct <= shown_) return;
    shown_ = pct;
    std::printf("\r%s: %3d%%", label_.c_str(), pct);
    std::fflush(stdout);
  }

 private:
  std::string label_;
  std::int64_t total_;
  bool on_;
  std::atomic<std::int64_t> done_{0};
  std::mutex draw_;
  int shown_ = -1;  // guarded by draw_
};

constexpr std::size_t kBlock = 1 << 16;

// ±0, ±inf, NaNs, ±max, ±smallest normal and subnormal, ±1: scanned with
// every step, as most of them are not multiples of it.
constexpr std::uint32_t kSpecialsF32[] = {
    0x00000000, 0x80000000, 0x7f800000, 0xff800000, 0x7fc00000, 0xffc00000, 0x7f800001,
    0x7f7fffff, 0xff7fffff, 0x00800000, 0x80800000, 0x00000001, 0x80000001, 0x3f800000, 0xbf800000};

Stats scan_f32(const OpKernels& k, std::int64_t step, Progress& progress) {
  const std::int64_t total = (kPatterns + step - 1) / step;
  const auto blocks = static_cast<std::int64_t>((total + kBlock - 1) / kBlock);
  Stats all;
  set_num_threads(1);  // the kernels run inside this parallel loop
#pragma omp parallel
  {
    std::vector<float> x, y, saved, ones;
    Stats st;
#pragma omp for schedule(dynamic, 16)
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::int64_t first = b * std::int64_t(kBlock);
      const std::int64_t n = std::min<std::int64_t>(kBlock, total - first);
      x.resize(std::size_t(n));
      for (std::int64_t i = 0; i < n; ++i)
        x[std::size_t(i)] = std::bit_cast<float>(std::uint32_t((first + i) * step));
      score_block<float, double>(st, k, x, y, saved, ones);
      progress.done(n);
    }
#pragma omp critical
    all.merge(st);
  }
  std::vector<float> x, y, saved, ones;
  for (std::uint32_t bits : kSpecialsF32)
    if (bits % step != 0) x.push_back(std::bit_cast<float>(bits));
  score_block<float, double>(all, k, x, y, saved, ones);
  set_num_threads(0);
  return all;
}

std::int64_t specials_off_grid(std::int64_t step) {
  return std::count_if(std::begin(kSpecialsF32), std::end(kSpecialsF32),
                       [&](std::uint32_t b) { return b % step != 0; });
}

constexpr double kSpecialsF64[] = {0.0, -0.0, HUGE_VAL, -HUGE_VAL, NAN, -NAN,
                                   std::numeric_limits<double>::max(),
                                   -std::numeric_limits<double>::max(),
                                   std::numeric_limits<double>::min(),
                                   -std::numeric_limits<double>::min(),
                                   std::numeric_limits<double>::denorm_min(),
                                   -std::numeric_limits<double>::denorm_min(), 1.0, -1.0};

// Exactly `samples` inputs: the specials, then in turn uniform on [-40, 40],
// uniform on [-760, 760] (past both ends of the subnormal results) and uniform
// over all 2^64 bit patterns (huge, tiny, subnormal, NaN); for an op on a
// finite domain [lo, hi] (logit), uniform on it and log-uniform towards its
// ends instead of the first two. Each block has its own seed, so the inputs
// do not depend on the thread count.
Stats scan_f64(const OpKernels& k, std::int64_t samples, Progress& progress) {
  const auto blocks = static_cast<std::int64_t>((samples + kBlock - 1) / kBlock);
  constexpr auto kSpecials = std::int64_t(std::size(kSpecialsF64));
  Stats all;
  set_num_threads(1);
#pragma omp parallel
  {
    std::vector<double> x, y, saved, ones;
    Stats st;
#pragma omp for schedule(dynamic, 4)
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::int64_t first = b * std::int64_t(kBlock);
      const std::int64_t n = std::min<std::int64_t>(kBlock, samples - first);
      std::mt19937_64 rng(std::uint64_t(b) * 7919 + 1);
      // An op defined on a finite domain (logit: [0, 1]) is sampled there:
      // uniformly, and log-uniformly towards both ends.
      const OpInfo& info = op_info(k.forward);
      const bool bounded = std::isfinite(info.lo) && std::isfinite(info.hi);
      std::uniform_real_distribution<double> mid(bounded ? info.lo : -40, bounded ? info.hi : 40),
          wide(-760, 760), expo(-1074, 0);
      x.resize(std::size_t(n));
      for (std::int64_t i = 0; i < n; ++i) {
        const std::int64_t j = first + i;
        double& v = x[std::size_t(i)];
        if (j < kSpecials) v = kSpecialsF64[j];
        else if (j % 3 == 0) v = mid(rng);
        else if (j % 3 == 1 && bounded)
          v = (j % 2 ? info.lo : info.hi) + (j % 2 ? 1 : -1) * (info.hi - info.lo) * std::exp2(expo(rng));
        else if (j % 3 == 1) v = wide(rng);
        else v = std::bit_cast<double>(rng());
      }
      score_block<double, long double>(st, k, x, y, saved, ones);
      progress.done(n);
    }
#pragma omp critical
    all.merge(st);
  }
  set_num_threads(0);
  return all;
}

void report(const std::string& head, const Stats& s, bool f64, double secs) {
  std::printf("%s\n", head.c_str());
  std::printf("  max error   %.4f ULP at x = %.*g\n", s.max, f64 ? 17 : 9, s.worst_x);
  std::printf("  mean error  %.4f ULP\n", s.count ? s.sum / double(s.count) : 0.0);
  std::printf("  > 0.5 ULP   %llu\n  > 1 ULP     %llu\n", (unsigned long long)s.above_half,
              (unsigned long long)s.above_one);
  std::printf("  NaN outputs for non-NaN inputs  %llu\n", (unsigned long long)s.nan_out);
  std::printf("  NaN inputs giving NaN  %llu of %llu\n", (unsigned long long)s.nan_kept,
              (unsigned long long)s.nan_in);
  std::printf("  time        %.1f s\n", secs);
}

// The --target value as the list of targets to scan.
std::vector<std::string> targets_to_scan(const std::string& target, bool given) {
  const std::vector<std::string> available = kernels::available_targets();
  if (!given) return {kernels::target()};
  if (target == "all") return available;
  const auto upper = [](std::string s) {
    for (char& c : s) c = char(std::toupper(static_cast<unsigned char>(c)));
    return s;
  };
  const std::string want = upper(target) == "AVX512" ? "AVX3" : upper(target);
  for (const auto& t : available)
    if (t == want) return {t};
  std::string list;
  for (const auto& t : available) list += t + ", ";
  throw UsageError("accuracy: --target must be one of " + list + "AVX512 (= AVX3) or all, got '" +
                   target + "'");
}

void run_accuracy(const AccuracyOptions& o) {
  const auto op = op_from_name(normalize_op_name(o.op));
  if (!op) throw UsageError("accuracy: --op must be one of " + op_name_list() + ", got '" + o.op + "'");
  const std::string dtype = parse_choice_option("accuracy", "--dtype", o.dtype, {"f32", "f64"});
  const bool f64 = dtype == "f64";
  if (f64 && o.step_given)
    throw UsageError("accuracy: --step is for --dtype f32 (bit patterns); f64 takes --samples, got --step " +
                     o.step);
  if (!f64 && o.samples_given)
    throw UsageError("accuracy: --samples is for --dtype f64; f32 scans bit patterns (--step K), "
                     "got --samples " + o.samples);
  const std::int64_t step = parse_int_option("accuracy", "--step", o.step, 1, kPatterns);
  const std::int64_t samples = parse_int_option("accuracy", "--samples", o.samples, 1, kMaxSamples);
  dispatch_target("accuracy");  // SIGMA_TARGET, checked before --target overrides it
  const std::vector<std::string> targets = targets_to_scan(o.target, o.target_given);
  const OpKernels& k = op_kernels(*op);
  const std::string name(op_name(*op));
  for (const auto& t : targets) {
    kernels::set_target(t);
    const std::string label = name + " " + dtype + " on " + kernels::target();
    const auto t0 = std::chrono::steady_clock::now();
    Stats s;
    std::string head;
    if (f64) {
      Progress progress(label, samples);
      s = scan_f64(k, samples, progress);
      const OpInfo& info = op_info(k.forward);
      const bool bounded = std::isfinite(info.lo) && std::isfinite(info.hi);
      head = label + ": " + std::to_string(samples) + " inputs (" + std::to_string(std::size(kSpecialsF64)) +
             (bounded ? " special values, then random on the domain, towards its ends and over all bit patterns)"
                      : " special values, then random on [-40, 40], on [-760, 760] and over all bit patterns)");
    } else {
      Progress progress(label, (kPatterns + step - 1) / step);
      s = scan_f32(k, step, progress);
      head = label + ": " + std::to_string(s.count + s.nan_in) + " inputs" +
             (step == 1 ? " (every bit pattern)"
                        : " (one bit pattern in " + std::to_string(step) + " and " +
                              std::to_string(specials_off_grid(step)) + " special values)");
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    report(head, s, f64, secs);
  }
  kernels::reset_target();
}

}  // namespace

void add_accuracy(CLI::App& app) {
  auto o = std::make_shared<AccuracyOptions>();
  auto* cmd =
      app.add_subcommand("accuracy", "Measure a kernel's error over every f32 input, or random f64 ones");
  cmd->add_option("--op", o->op, "Op: " + op_name_list())->type_name("OP")->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "f32: scan bit patterns; f64: random samples")
      ->type_name("f32|f64")
      ->capture_default_str();
  auto* target = cmd->add_option("--target", o->target,
                                 "SIMD target name, or 'all' (default: SIGMA_TARGET or the best)")
      ->type_name("NAME");
  auto* step = cmd->add_option("--step", o->step,
                               "f32: scan one bit pattern in K (1 to 2^32), plus the specials")
                   ->type_name("K")
                   ->capture_default_str();
  auto* samples = cmd->add_option("--samples", o->samples, "f64: number of inputs (1 to 10^12)")
                      ->type_name("N")
                      ->capture_default_str();
  cmd->footer("Backward ops run with dy = 1; those that take the forward's output get the kernel's own.\n"
              "On a terminal a progress line is redrawn while scanning.");
  cmd->callback([o, target, step, samples] {
    o->target_given = target->count() > 0;
    o->step_given = step->count() > 0;
    o->samples_given = samples->count() > 0;
    run_accuracy(*o);
  });
}

}  // namespace sigma::cli

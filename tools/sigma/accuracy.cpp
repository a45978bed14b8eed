// `sigma accuracy`: scans inputs through a kernel on one or every SIMD target
// and reports its error against a double-precision reference.
#include <CLI/CLI.hpp>
#include <omp.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <limits>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "commands.h"
#include "op_references.h"
#include "sigma/kernels.h"
#include "sigma/op_registry.h"

namespace sigma::cli {
namespace {

struct AccuracyOptions {
  std::string op = "sigmoid";
  std::string dtype = "f32";
  std::string target;  // empty: the default; "all": every available target
  std::uint64_t step = 1;
  std::uint64_t samples = 10000000;  // f64 random inputs
};

struct Stats {
  double max = 0, sum = 0;
  double worst_x = 0;
  std::uint64_t count = 0, above_half = 0, above_one = 0, nan_out = 0, nan_kept = 0, nan_in = 0;
  void merge(const Stats& o) {
    if (o.max > max) max = o.max, worst_x = o.worst_x;
    sum += o.sum;
    count += o.count, above_half += o.above_half, above_one += o.above_one;
    nan_out += o.nan_out, nan_kept += o.nan_kept, nan_in += o.nan_in;
  }
};

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
  if (std::isnan(got)) {
    ++st.nan_out;
    return;
  }
  double err;
  if (std::isnan(exact) || std::isinf(exact) || std::isinf(got))
    err = (long double)got == exact ? 0.0 : HUGE_VAL;
  else
    err = double(std::fabs((long double)got - exact) / ulp_at<T>(exact));
  st.sum += std::isfinite(err) ? err : 0;
  st.above_half += err > 0.5;
  st.above_one += err > 1.0;
  if (err > st.max) st.max = err, st.worst_x = x;
}

// Runs the op on a block of inputs x, writing the kernel result to y and the
// reference to ref.
template <class T>
void run_block(const OpKernels& k, const std::vector<T>& x, std::vector<T>& y,
               std::vector<T>& saved, std::vector<T>& ones) {
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

Stats scan_f32(const OpKernels& k, std::uint64_t step) {
  constexpr std::size_t kBlock = 1 << 16;
  const std::uint64_t total = ((std::uint64_t{1} << 32) + step - 1) / step;
  const auto blocks = static_cast<std::int64_t>((total + kBlock - 1) / kBlock);
  Stats all;
  set_num_threads(1);
#pragma omp parallel
  {
    std::vector<float> x(kBlock), y(kBlock), saved(kBlock), ones(kBlock, 1.0f);
    Stats st;
#pragma omp for schedule(dynamic, 16)
    for (std::int64_t b = 0; b < blocks; ++b) {
      const std::uint64_t first = std::uint64_t(b) * kBlock;
      const std::size_t n = std::size_t(std::min<std::uint64_t>(kBlock, total - first));
      x.resize(n), y.resize(n), saved.resize(n), ones.resize(n, 1.0f);
      for (std::size_t i = 0; i < n; ++i) x[i] = std::bit_cast<float>(std::uint32_t((first + i) * step));
      run_block(k, x, y, saved, ones);
      const bool from_output = op_arity_of(k.op) == 2 && k.saved_is_output;
      for (std::size_t i = 0; i < n; ++i)
        account(st, x[i], y[i], reference_value<double>(k.op, from_output ? saved[i] : x[i]));
    }
#pragma omp critical
    all.merge(st);
  }
  set_num_threads(0);
  return all;
}

Stats scan_f64(const OpKernels& k, std::uint64_t samples) {
  // Random inputs across the interesting range plus the whole double range.
  constexpr std::size_t kBlock = 1 << 16;
  const auto blocks = static_cast<std::int64_t>((samples + kBlock - 1) / kBlock);
  Stats all;
  set_num_threads(1);
#pragma omp parallel
  {
    std::vector<double> x(kBlock), y(kBlock), saved(kBlock), ones(kBlock, 1.0);
    Stats st;
#pragma omp for schedule(dynamic, 4)
    for (std::int64_t b = 0; b < blocks; ++b) {
      std::mt19937_64 rng(std::uint64_t(b) * 7919 + 1);
      std::uniform_real_distribution<double> mid(-40, 40), wide(-760, 760);
      for (std::size_t i = 0; i < kBlock; ++i) x[i] = i % 2 ? mid(rng) : wide(rng);
      run_block(k, x, y, saved, ones);
      for (std::size_t i = 0; i < kBlock; ++i) {
        const long double s = op_arity_of(k.op) == 2 && k.saved_is_output ? saved[i] : x[i];
        account(st, x[i], y[i], reference_value<long double>(k.op, s));
      }
    }
#pragma omp critical
    all.merge(st);
  }
  set_num_threads(0);
  return all;
}

void report(const AccuracyOptions& o, const std::string& target, const Stats& s, double secs) {
  std::printf("%s %s on %s: %llu inputs%s\n", o.op.c_str(), o.dtype.c_str(), target.c_str(),
              (unsigned long long)s.count,
              o.dtype == "f32" ? (o.step == 1 ? " (every non-NaN float)"
                                              : (" (every " + std::to_string(o.step) + "th bit pattern)").c_str())
                               : " (random)");
  std::printf("  max error   %.4f ULP at x = %.9g\n", s.max, s.worst_x);
  std::printf("  mean error  %.4f ULP\n", s.count ? s.sum / double(s.count) : 0.0);
  std::printf("  > 0.5 ULP   %llu\n  > 1 ULP     %llu\n", (unsigned long long)s.above_half,
              (unsigned long long)s.above_one);
  std::printf("  NaN outputs for non-NaN inputs  %llu\n", (unsigned long long)s.nan_out);
  if (s.nan_in) std::printf("  NaN inputs giving NaN  %llu of %llu\n", (unsigned long long)s.nan_kept,
                            (unsigned long long)s.nan_in);
  std::printf("  time        %.1f s\n", secs);
}

void run_accuracy(const AccuracyOptions& o) {
  const auto op = op_from_name(o.op);
  if (!op) {
    std::string names;
    for (auto n : op_names) names += (names.empty() ? "" : ", ") + std::string(n);
    throw UsageError("accuracy: unknown op '" + o.op + "' (ops: " + names + ")");
  }
  if (o.step == 0) throw UsageError("accuracy: --step must be at least 1");
  const OpKernels& k = op_kernels(*op);
  std::vector<std::string> targets;
  if (o.target == "all") targets = kernels::available_targets();
  else if (!o.target.empty()) targets = {o.target};
  else targets = {kernels::target()};
  for (const auto& t : targets) {
    try {
      kernels::set_target(t);
    } catch (const std::invalid_argument& e) {
      throw UsageError(std::string("accuracy: ") + e.what());
    }
    const auto t0 = std::chrono::steady_clock::now();
    const Stats s = o.dtype == "f32" ? scan_f32(k, o.step) : scan_f64(k, o.samples);
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    report(o, kernels::target(), s, secs);
  }
  kernels::reset_target();
}

}  // namespace

void add_accuracy(CLI::App& app) {
  auto o = std::make_shared<AccuracyOptions>();
  auto* cmd = app.add_subcommand("accuracy", "Measure a kernel's error over every float input");
  cmd->add_option("--op", o->op, "Op name from the op list")->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "f32: scan bit patterns; f64: random samples")
      ->check(CLI::IsMember({"f32", "f64"}))
      ->capture_default_str();
  cmd->add_option("--target", o->target, "SIMD target name, or 'all' (default: the best)");
  cmd->add_option("--step", o->step, "f32: scan every K-th bit pattern")->capture_default_str();
  cmd->add_option("--samples", o->samples, "f64: number of random inputs")->capture_default_str();
  cmd->callback([o] { run_accuracy(*o); });
}

}  // namespace sigma::cli

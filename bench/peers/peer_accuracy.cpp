// ULP error of sigma's and every peer's f32 sigmoid over all 2^32 float bit
// patterns (or every K-th with --step K), against a long double reference in
// the stable form (x >= 0: 1/(1+e^-x); x < 0: e^x/(1+e^x)).
//
// The scan goes in chunks of 2^20 inputs. For each chunk the reference (the
// expensive part: long double expl) is computed once, in parallel, and then
// every peer runs on the whole chunk from the main thread, one thread each
// (the adapters are not thread-safe); only the comparison is parallel again.
//
// ULP: |y - exact| over the spacing of floats at the exact value's magnitude
// (2^-149 below FLT_MIN), as in tests/support/ulp.h. Per peer it prints the
// max ULP and its input, mean ULP, counts above 0.5 and 1 ULP, NaN outputs for
// non-NaN inputs, outputs flushed to zero where the exact value rounds to a
// non-zero float, and whether every NaN input gave NaN; the max is also given
// over the inputs whose exact result is a normal float (>= FLT_MIN), since a
// flushed subnormal result alone is millions of ULP. Then a Markdown table.
#include <omp.h>

#include <algorithm>
#include <bit>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "peer.h"
#include "ulp.h"  // tests/support: sigma::test::ulp_at

namespace {

using sigma::peers::Peer;
using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kPatterns = std::uint64_t{1} << 32;
constexpr std::size_t kChunk = std::size_t{1} << 20;
constexpr long double kMinNormal = std::numeric_limits<float>::min();  // 2^-126

// std::exp on long double is expl (libstdc++ 12 has no std::expl).
long double exact_sigmoid(float xf) {
  const long double x = xf;
  if (x >= 0) return 1.0L / (1.0L + std::exp(-x));
  const long double e = std::exp(x);
  return e / (1.0L + e);
}

// The largest error seen and where; ties go to the earliest input in scan
// order, so the result does not depend on the thread count.
struct Worst {
  double err = 0;
  std::uint64_t idx = 0;
  bool have = false;
  float x = 0, y = 0;
  long double exact = 0;

  void consider(double e, std::uint64_t i, float xi, float yi, long double r) {
    if (!have || e > err || (e == err && i < idx)) *this = {e, i, true, xi, yi, r};
  }
  void merge(const Worst& o) {
    if (o.have) consider(o.err, o.idx, o.x, o.y, o.exact);
  }
};

struct Stats {
  Worst worst;                 // max ULP error (inf when a peer returns inf)
  Worst worst_normal;          // the same over inputs whose exact result is >= FLT_MIN
  double sum = 0;              // sum of finite errors, for the mean
  std::uint64_t count = 0;     // non-NaN inputs with non-NaN outputs
  std::uint64_t above_half = 0, above_one = 0;
  std::uint64_t nan_for_number = 0;  // NaN output, non-NaN input
  std::uint64_t flushed = 0;         // 0 output where exact rounds to a non-zero float
  std::uint64_t nan_in = 0, nan_in_nan_out = 0;

  void merge(const Stats& o) {
    worst.merge(o.worst);
    worst_normal.merge(o.worst_normal);
    sum += o.sum;
    count += o.count;
    above_half += o.above_half;
    above_one += o.above_one;
    nan_for_number += o.nan_for_number;
    flushed += o.flushed;
    nan_in += o.nan_in;
    nan_in_nan_out += o.nan_in_nan_out;
  }
  double mean() const { return count ? sum / double(count) : 0; }
};

struct Scanned {
  Peer peer;
  Stats stats;
  double call_s = 0;   // time inside the peer's sigmoid
  std::string error;   // non-empty when the peer threw; it is then dropped
};

void usage(std::FILE* out) {
  std::fprintf(out,
               "usage: peer_accuracy [--step K] [--peers NAME,NAME...] [--threads T]\n"
               "  --step K     scan every K-th f32 bit pattern (default 1: all 2^32)\n"
               "  --peers ...  only these peers (names as listed; sigma included only if named)\n"
               "  --threads T  OpenMP threads for the reference and comparison\n"
               "               (default: OMP_NUM_THREADS or the number of cores)\n");
}

std::string with_commas(std::uint64_t v) {
  // Built forwards (string::insert trips GCC 12's false -Wrestrict positive).
  const std::string digits = std::to_string(v);
  std::string s;
  for (std::size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) s += ',';
    s += digits[i];
  }
  return s;
}

std::string fmt(const char* f, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string fmt_x(float x) {
  char buf[96];
  std::snprintf(buf, sizeof buf, "%.9g (%a)", double(x), double(x));
  return buf;
}

std::string count_pct(std::uint64_t c, std::uint64_t total) {
  if (c == 0) return "0";
  char buf[64];
  std::snprintf(buf, sizeof buf, "%s (%.3g%%)", with_commas(c).c_str(),
                100.0 * double(c) / double(total ? total : 1));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  std::uint64_t step = 1;
  int threads = omp_get_max_threads();  // before the peers set OpenMP to one thread
  std::vector<std::string> only;
  for (int i = 1; i < argc; ++i) {
    const std::string_view a = argv[i];
    auto value = [&](std::string_view name) -> const char* {
      if (a == name) {
        if (i + 1 >= argc) {
          std::fprintf(stderr, "peer_accuracy: %s needs a value\n", argv[i]);
          std::exit(2);
        }
        return argv[++i];
      }
      if (a.size() > name.size() && a.substr(0, name.size()) == name && a[name.size()] == '=')
        return argv[i] + name.size() + 1;
      return nullptr;
    };
    if (a == "-h" || a == "--help") {
      usage(stdout);
      return 0;
    } else if (const char* v = value("--step")) {
      char* end = nullptr;
      const unsigned long long k = std::strtoull(v, &end, 10);
      if (!end || *end || k == 0 || k > kPatterns) {
        std::fprintf(stderr, "peer_accuracy: --step wants an integer in [1, 2^32], got '%s'\n", v);
        return 2;
      }
      step = k;
    } else if (const char* t = value("--threads")) {
      threads = std::atoi(t);
      if (threads < 1) {
        std::fprintf(stderr, "peer_accuracy: --threads wants a positive integer, got '%s'\n", t);
        return 2;
      }
    } else if (const char* p = value("--peers")) {
      std::string_view s = p;
      while (!s.empty()) {
        const auto comma = s.find(',');
        only.emplace_back(s.substr(0, comma));
        s = comma == std::string_view::npos ? std::string_view{} : s.substr(comma + 1);
      }
    } else {
      std::fprintf(stderr, "peer_accuracy: unknown argument '%s'\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }

  std::vector<Scanned> scans;
  try {
    for (auto& p : sigma::peers::available_peers()) {
      if (!only.empty() && std::find(only.begin(), only.end(), p.name) == only.end()) continue;
      scans.push_back({p, {}, 0, {}});
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "peer_accuracy: setting up the peers failed: %s\n", e.what());
    return 1;
  }
  if (scans.empty()) {
    std::fprintf(stderr, "peer_accuracy: no peer selected\n");
    return 2;
  }

  const std::uint64_t n_inputs = (kPatterns + step - 1) / step;
  const std::string coverage =
      step == 1 ? std::string("all 2^32 bit patterns")
                : "bit patterns 0, " + std::to_string(step) + ", " + std::to_string(2 * step) +
                      ", ... (--step " + std::to_string(step) + ")";
  std::printf("f32 sigmoid accuracy scan: %s inputs, %s; %d thread(s) for the reference\n",
              with_commas(n_inputs).c_str(), coverage.c_str(), threads);
  for (const auto& s : scans)
    std::printf("  %-9s %s\n", s.peer.name, s.peer.note.empty() ? "" : s.peer.note.c_str());
  std::fflush(stdout);

  std::vector<float> x(kChunk), y(kChunk);
  std::vector<long double> exact(kChunk);
  std::vector<double> inv_ulp(kChunk);
  double ref_s = 0, cmp_s = 0;
  const auto t_start = Clock::now();
  const std::uint64_t n_chunks = (n_inputs + kChunk - 1) / kChunk;
  std::uint64_t next_report = 1;

  for (std::uint64_t c = 0; c < n_chunks; ++c) {
    const std::uint64_t first = c * kChunk;
    const auto m = static_cast<std::int64_t>(std::min<std::uint64_t>(kChunk, n_inputs - first));

    auto t0 = Clock::now();
#pragma omp parallel for num_threads(threads) schedule(static)
    for (std::int64_t i = 0; i < m; ++i) {
      const auto bits = static_cast<std::uint32_t>((first + std::uint64_t(i)) * step);
      const float xi = std::bit_cast<float>(bits);
      x[std::size_t(i)] = xi;
      if (std::isnan(xi)) {
        exact[std::size_t(i)] = std::numeric_limits<long double>::quiet_NaN();
        inv_ulp[std::size_t(i)] = 0;
      } else {
        const long double r = exact_sigmoid(xi);
        exact[std::size_t(i)] = r;
        inv_ulp[std::size_t(i)] = double(1.0L / sigma::test::ulp_at<float>(r));
      }
    }
    ref_s += std::chrono::duration<double>(Clock::now() - t0).count();

    for (auto& s : scans) {
      if (!s.error.empty()) continue;
      std::fill(y.begin(), y.end(), std::numeric_limits<float>::quiet_NaN());
      t0 = Clock::now();
      try {
        s.peer.sigmoid(x.data(), y.data(), std::size_t(m));
      } catch (const std::exception& e) {
        s.error = e.what();
        continue;
      }
      s.call_s += std::chrono::duration<double>(Clock::now() - t0).count();

      t0 = Clock::now();
#pragma omp parallel num_threads(threads)
      {
        Stats local;
#pragma omp for schedule(static) nowait
        for (std::int64_t i = 0; i < m; ++i) {
          const auto k = std::size_t(i);
          const float xi = x[k], yi = y[k];
          if (std::isnan(xi)) {
            ++local.nan_in;
            local.nan_in_nan_out += std::isnan(yi);
            continue;
          }
          if (std::isnan(yi)) {
            ++local.nan_for_number;
            continue;
          }
          const long double r = exact[k];
          const double err =
              double(std::fabs(static_cast<long double>(yi) - r) * static_cast<long double>(inv_ulp[k]));
          ++local.count;
          if (std::isfinite(err)) local.sum += err;
          local.above_half += err > 0.5;
          local.above_one += err > 1.0;
          local.flushed += yi == 0.0f && static_cast<float>(r) != 0.0f;
          if (err >= local.worst.err) local.worst.consider(err, first + std::uint64_t(i), xi, yi, r);
          if (r >= kMinNormal && err >= local.worst_normal.err)
            local.worst_normal.consider(err, first + std::uint64_t(i), xi, yi, r);
        }
#pragma omp critical
        s.stats.merge(local);
      }
      cmp_s += std::chrono::duration<double>(Clock::now() - t0).count();
    }

    // Progress on stderr, every 10%.
    if ((c + 1) * 10 >= next_report * n_chunks) {
      while ((c + 1) * 10 >= next_report * n_chunks) ++next_report;
      std::fprintf(stderr, "peer_accuracy: %3.0f%% (%.0f s)\n", 100.0 * double(c + 1) / double(n_chunks),
                   std::chrono::duration<double>(Clock::now() - t_start).count());
    }
  }

  std::printf("\ntime: reference %.1f s, comparison %.1f s, total %.1f s\n", ref_s, cmp_s,
              std::chrono::duration<double>(Clock::now() - t_start).count());
  for (const auto& s : scans) {
    const Stats& st = s.stats;
    std::printf("\n%s", s.peer.name);
    if (!s.error.empty()) {
      std::printf(": FAILED: %s\n", s.error.c_str());
      continue;
    }
    std::printf(" (%.2f ns/element in the scan, one thread)\n", s.call_s * 1e9 / double(n_inputs));
    auto print_worst = [](const char* label, const Worst& w) {
      std::printf("  %-16s %.4g at x = %s: got %.9g (%a), exact %.12Lg\n", label, w.err,
                  fmt_x(w.x).c_str(), double(w.y), double(w.y), w.exact);
    };
    print_worst("max ULP", st.worst);
    print_worst("max ULP, normal", st.worst_normal);
    std::printf("  mean ULP       %.4g over %s non-NaN results\n", st.mean(), with_commas(st.count).c_str());
    std::printf("  > 0.5 ULP      %s\n", count_pct(st.above_half, st.count).c_str());
    std::printf("  > 1 ULP        %s\n", count_pct(st.above_one, st.count).c_str());
    std::printf("  NaN for non-NaN input  %s\n", with_commas(st.nan_for_number).c_str());
    std::printf("  flushed to 0 (exact rounds to non-zero)  %s\n", with_commas(st.flushed).c_str());
    std::printf("  NaN in -> NaN out  %s (%s of %s NaN inputs)\n",
                st.nan_in_nan_out == st.nan_in ? "yes" : "NO", with_commas(st.nan_in_nan_out).c_str(),
                with_commas(st.nan_in).c_str());
  }

  std::printf("\nMarkdown (f32 sigmoid; %s inputs, %s; reference: long double, stable form; "
              "ULP at the exact value's magnitude; \"normal results\": exact >= FLT_MIN; "
              "\"flushed to 0\": output 0 where the exact value rounds to a non-zero float):\n\n",
              with_commas(n_inputs).c_str(), coverage.c_str());
  std::printf("| peer | max ULP | worst x | max ULP, normal results | worst x (normal) | mean ULP "
              "| > 0.5 ULP | > 1 ULP | NaN for non-NaN input | flushed to 0 | NaN -> NaN |\n");
  std::printf("|---|---:|---|---:|---|---:|---:|---:|---:|---:|---|\n");
  for (const auto& s : scans) {
    if (!s.error.empty()) {
      std::printf("| %s | failed: %s | | | | | | | | | |\n", s.peer.name, s.error.c_str());
      continue;
    }
    const Stats& st = s.stats;
    std::printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", s.peer.name,
                fmt("%.4g", st.worst.err).c_str(), fmt_x(st.worst.x).c_str(),
                fmt("%.4g", st.worst_normal.err).c_str(), fmt_x(st.worst_normal.x).c_str(),
                fmt("%.4g", st.mean()).c_str(),
                count_pct(st.above_half, st.count).c_str(), count_pct(st.above_one, st.count).c_str(),
                with_commas(st.nan_for_number).c_str(), with_commas(st.flushed).c_str(),
                st.nan_in_nan_out == st.nan_in ? "yes" : "no");
  }
  bool failed = false;
  for (const auto& s : scans) failed = failed || !s.error.empty();
  return failed ? 1 : 0;
}

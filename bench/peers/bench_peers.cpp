// f32 sigmoid forward, one thread: sigma beside every peer found at configure
// time (XNNPACK, oneDNN, Eigen, LibTorch) and memcpy of the same bytes, at
// 4096, 65536 and 16M elements; inputs uniform in [-10, 10] from a fixed seed.
//
// Google Benchmark reports each run (items/s = elements/s, bytes/s counting the
// input read and the output written); the standard --benchmark_* flags work.
// Afterwards a Markdown table gives ns/element per peer and size (wall time;
// the median when --benchmark_repetitions is given) and the ratio sigma / peer
// (below 1: sigma is faster). It goes to stdout with the console
// format and to stderr with --benchmark_format=json|csv, so those stay parseable.
#include <benchmark/benchmark.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "peer.h"

namespace {

using sigma::peers::Peer;

constexpr std::int64_t kSizes[] = {4096, 65536, 16777216};

// Inputs per size, built once: uniform in [-10, 10], seed 1.
const std::vector<float>& inputs(std::size_t n) {
  static std::map<std::size_t, std::vector<float>> cache;
  auto it = cache.find(n);
  if (it != cache.end()) return it->second;
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> d(-10.0f, 10.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return cache.emplace(n, std::move(v)).first->second;
}

void set_counters(benchmark::State& state, std::size_t n) {
  state.SetItemsProcessed(std::int64_t(state.iterations()) * std::int64_t(n));
  // One f32 read and one f32 written per element.
  state.SetBytesProcessed(std::int64_t(state.iterations()) * std::int64_t(n * 2 * sizeof(float)));
}

void bm_sigmoid(benchmark::State& state, const Peer& peer) {
  const auto n = std::size_t(state.range(0));
  const auto& x = inputs(n);
  std::vector<float> y(n);
  try {
    // Untimed first call: builds per-size state (oneDNN primitive, LibTorch
    // tensors) and faults in the output pages.
    peer.sigmoid(x.data(), y.data(), n);
  } catch (const std::exception& e) {
    state.SkipWithError(e.what());
    return;
  }
  for (auto _ : state) {
    peer.sigmoid(x.data(), y.data(), n);
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, n);
}

void bm_memcpy(benchmark::State& state) {
  const auto n = std::size_t(state.range(0));
  const auto& x = inputs(n);
  std::vector<float> y(n);
  std::memcpy(y.data(), x.data(), n * sizeof(float));
  for (auto _ : state) {
    std::memcpy(y.data(), x.data(), n * sizeof(float));
    benchmark::DoNotOptimize(y.data());
    benchmark::ClobberMemory();
  }
  set_counters(state, n);
}

// Google Benchmark 1.8 replaced Run::error_occurred with Run::skipped.
template <class Run>
bool run_failed(const Run& r) {
  if constexpr (requires { r.skipped; })
    return bool(r.skipped);
  else
    return r.error_occurred;
}

// Forwards everything to the reporter the flags ask for and keeps ns/element
// of every plain (non-aggregate) run, keyed by benchmark name and size.
class Collector : public benchmark::BenchmarkReporter {
 public:
  explicit Collector(std::unique_ptr<benchmark::BenchmarkReporter> inner)
      : inner_(std::move(inner)) {}
  bool ReportContext(const Context& context) override { return inner_->ReportContext(context); }
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (run_failed(r) || r.iterations <= 0) continue;
      // The median aggregate (its accumulated time is the median over the
      // repetitions of one run's) stands in when only aggregates are reported.
      const bool median = r.run_type == Run::RT_Aggregate && r.aggregate_name == "median" &&
                          r.aggregate_unit == benchmark::kTime;
      if (r.run_type != Run::RT_Iteration && !median) continue;
      const double n = std::stod(r.run_name.args);
      const double ns = r.real_accumulated_time / double(r.iterations) * 1e9 / n;
      (median ? medians : ns_per_elem)[{r.run_name.function_name, std::int64_t(n)}].push_back(ns);
    }
    inner_->ReportRuns(runs);
  }
  void Finalize() override { inner_->Finalize(); }

  // Median over repetitions of ns/element; 0 when the run is missing.
  double get(const std::string& name, std::int64_t n) const {
    auto it = ns_per_elem.find({name, n});
    if (it == ns_per_elem.end() || it->second.empty()) {
      it = medians.find({name, n});
      if (it == medians.end() || it->second.empty()) return 0;
    }
    auto v = it->second;
    std::sort(v.begin(), v.end());
    return v.size() % 2 ? v[v.size() / 2] : (v[v.size() / 2 - 1] + v[v.size() / 2]) / 2;
  }

  std::map<std::pair<std::string, std::int64_t>, std::vector<double>> ns_per_elem, medians;

 private:
  std::unique_ptr<benchmark::BenchmarkReporter> inner_;
};

// The value of --name=value (or "--name value") in argv; "" when absent.
std::string flag_value(int argc, char** argv, std::string_view name) {
  const std::string key = "--" + std::string(name);
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (a.substr(0, key.size()) != key) continue;
    if (a.size() == key.size()) return i + 1 < argc ? argv[i + 1] : "true";
    if (a[key.size()] == '=') return std::string(a.substr(key.size() + 1));
  }
  return "";
}

bool flag_false(const std::string& v) {
  return v == "false" || v == "no" || v == "0" || v == "off" || v == "f" || v == "n";
}
bool flag_true(const std::string& v) {
  return v == "true" || v == "yes" || v == "1" || v == "on" || v == "t" || v == "y";
}

// The display reporter Google Benchmark would build from the same flags.
std::unique_ptr<benchmark::BenchmarkReporter> make_display_reporter(const std::string& format,
                                                                    const std::string& color,
                                                                    const std::string& tabular) {
  if (format == "json") return std::make_unique<benchmark::JSONReporter>();
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  if (format == "csv") return std::make_unique<benchmark::CSVReporter>();
#pragma GCC diagnostic pop
  int opts = benchmark::ConsoleReporter::OO_None;
  const bool use_color = flag_true(color) || (!flag_false(color) && isatty(STDOUT_FILENO) != 0);
  if (use_color) opts |= benchmark::ConsoleReporter::OO_Color;
  if (flag_true(tabular)) opts |= benchmark::ConsoleReporter::OO_Tabular;
  return std::make_unique<benchmark::ConsoleReporter>(
      static_cast<benchmark::ConsoleReporter::OutputOptions>(opts));
}

void print_summary(std::FILE* out, const Collector& c, const std::vector<Peer>& peers) {
  if (c.ns_per_elem.empty() && c.medians.empty()) return;
  auto key = [](const std::string& col) { return col == "memcpy" ? col : "sigmoid/" + col; };
  // Columns with at least one result (a --benchmark_filter may leave some out);
  // the ratio columns need sigma, which comes first.
  std::vector<std::string> cols;
  for (const auto& p : peers) cols.push_back(p.name);
  cols.push_back("memcpy");
  std::erase_if(cols, [&](const std::string& col) {
    for (std::int64_t n : kSizes)
      if (c.get(key(col), n) > 0) return false;
    return true;
  });
  const bool ratios = !cols.empty() && cols[0] == "sigma";

  std::fprintf(out, "\nf32 sigmoid forward, one thread: ns/element (lower is better); "
                    "sigma/X = sigma's time / X's time (below 1: sigma is faster)\n");
  for (const auto& p : peers)
    if (!p.note.empty()) std::fprintf(out, "  %-9s %s\n", p.name, p.note.c_str());
  std::fprintf(out, "\n| size |");
  for (const auto& col : cols) std::fprintf(out, " %s |", col.c_str());
  const std::size_t n_ratios = ratios ? cols.size() - 1 : 0;
  for (std::size_t i = 1; i <= n_ratios; ++i) std::fprintf(out, " sigma/%s |", cols[i].c_str());
  std::fprintf(out, "\n|---:|");
  for (std::size_t i = 0; i < cols.size() + n_ratios; ++i) std::fprintf(out, "---:|");
  std::fprintf(out, "\n");
  for (std::int64_t n : kSizes) {
    bool any = false;
    for (const auto& col : cols) any = any || c.get(key(col), n) > 0;
    if (!any) continue;
    std::fprintf(out, "| %lld |", static_cast<long long>(n));
    for (const auto& col : cols) {
      const double ns = c.get(key(col), n);
      if (ns > 0)
        std::fprintf(out, " %.4f |", ns);
      else
        std::fprintf(out, " - |");
    }
    const double s = c.get(key(cols[0]), n);
    for (std::size_t i = 1; i <= n_ratios; ++i) {
      const double o = c.get(key(cols[i]), n);
      if (s > 0 && o > 0)
        std::fprintf(out, " %.2f |", s / o);
      else
        std::fprintf(out, " - |");
    }
    std::fprintf(out, "\n");
  }
}

}  // namespace

int main(int argc, char** argv) {
  // Read the output flags before Initialize() consumes them.
  const std::string format = flag_value(argc, argv, "benchmark_format");
  const std::string color = flag_value(argc, argv, "benchmark_color");
  const std::string tabular = flag_value(argc, argv, "benchmark_counters_tabular");
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;

  std::vector<Peer> peers;
  try {
    peers = sigma::peers::available_peers();
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_peers: setting up the peers failed: %s\n", e.what());
    return 1;
  }
  for (const auto& p : peers) {
    auto* b = benchmark::RegisterBenchmark(("sigmoid/" + std::string(p.name)).c_str(),
                                           [p](benchmark::State& s) { bm_sigmoid(s, p); });
    for (auto n : kSizes) b->Arg(n);
    b->UseRealTime();
  }
  auto* m = benchmark::RegisterBenchmark("memcpy", bm_memcpy);
  for (auto n : kSizes) m->Arg(n);
  m->UseRealTime();

  Collector collector(make_display_reporter(format, color, tabular));
  benchmark::RunSpecifiedBenchmarks(&collector);
  benchmark::Shutdown();
  std::fflush(stdout);
  print_summary(format.empty() || format == "console" ? stdout : stderr, collector, peers);
  return 0;
}

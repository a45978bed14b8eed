// `sigma bench`: ns/element and GB/s of a kernel per array size, with memcpy of
// the same bytes (the floor for an element-wise kernel) measured beside it in
// the same run. Every op of SIGMA_OP_LIST, and the BCE-with-logits loss and
// its backward, which take more arrays than the op list's signatures.
#include <CLI/CLI.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "commands.h"
#include "kernel_options.h"
#include "number_format.h"
#include "sigma/kernels.h"
#include "sigma/op_registry.h"

namespace sigma::cli {
namespace {

constexpr std::int64_t kMaxSize = std::int64_t{1} << 30;

struct BenchOptions {
  std::string op = "sigmoid";
  std::string dtype = "f32";
  std::string sizes = "4096,65536,16777216";
  std::string threads = "1";
  std::string seconds = "0.2";  // per measurement
};

// The kernels beyond SIGMA_OP_LIST, by name.
constexpr std::string_view kLossOps[] = {"bce_with_logits", "bce_with_logits_backward"};

std::string bench_op_list() {
  std::string names = op_name_list();
  for (std::string_view n : kLossOps) names += ", " + std::string(n);
  return names;
}

// Best time per call over 5 runs of about `seconds` each.
template <class F>
double time_per_call(F&& f, double seconds) {
  f();  // warm up
  using clock = std::chrono::steady_clock;
  std::size_t reps = 1;
  for (;;) {
    const auto t0 = clock::now();
    for (std::size_t r = 0; r < reps; ++r) f();
    const double dt = std::chrono::duration<double>(clock::now() - t0).count();
    if (dt > seconds / 8 || reps > (std::size_t{1} << 30)) break;
    reps *= 2;
  }
  double best = 1e300;
  for (int run = 0; run < 5; ++run) {
    const auto t0 = clock::now();
    for (std::size_t r = 0; r < reps; ++r) f();
    best = std::min(best, std::chrono::duration<double>(clock::now() - t0).count() / double(reps));
  }
  return best;
}

// The arrays of one call: inputs a (x, or dy), b (the saved x or y, or the
// target t) and c (x for the loss backward), output out.
template <class T>
struct Arrays {
  std::vector<T> a, b, c, out;
  Arrays(std::size_t n, bool with_c) : a(n), b(n), c(with_c ? n : 0), out(n) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<double> d(-10, 10);
    for (auto& v : a) v = T(d(rng));
    for (auto& v : b) v = T(d(rng) / 20 + 0.5);  // a probability: y, or a target
    for (auto& v : c) v = T(d(rng));
  }
};

// The call to time and how many arrays of n elements it reads and writes.
template <class T>
struct Case {
  std::function<void(Arrays<T>&)> call;
  int arrays;
};

template <class T>
Case<T> make_case(const std::string& name) {
  using S = std::span<const T>;
  if (name == "bce_with_logits")
    return {[](Arrays<T>& m) { bce_with_logits(S(m.a), S(m.b), std::span<T>(m.out)); }, 3};
  if (name == "bce_with_logits_backward")
    return {[](Arrays<T>& m) { bce_with_logits_backward(S(m.a), S(m.c), S(m.b), std::span<T>(m.out)); },
            4};
  const OpKernels& k = op_kernels(*op_from_name(name));
  if (op_arity_of(k.op) == 1) {
    const auto f = [&] {
      if constexpr (std::is_same_v<T, float>) return k.f32; else return k.f64;
    }();
    return {[f](Arrays<T>& m) { f(m.a, m.out); }, 2};
  }
  const auto f = [&] {
    if constexpr (std::is_same_v<T, float>) return k.f32_backward; else return k.f64_backward;
  }();
  return {[f](Arrays<T>& m) { f(m.b, m.a, m.out); }, 3};
}

template <class T>
void bench_type(const std::string& op, const std::string& dtype, const std::vector<std::size_t>& sizes,
                int threads, double seconds) {
  std::printf("%s %s, target %s, %d thread%s\n", op.c_str(), dtype.c_str(), kernels::target().c_str(),
              threads, threads == 1 ? "" : "s");
  std::printf("%12s %12s %10s %14s %12s %10s\n", "elements", "ns/element", "GB/s", "memcpy ns/el",
              "memcpy GB/s", "ratio");
  const Case<T> c = make_case<T>(op);
  for (std::size_t n : sizes) {
    Arrays<T> m(n, c.arrays == 4);
    const double t = time_per_call([&] { c.call(m); }, seconds);
    // memcpy moving the same bytes: arrays/2 copies of n elements.
    std::vector<T> from(n * std::size_t(c.arrays) / 2), to(from.size());
    const double tm = time_per_call([&] { std::memcpy(to.data(), from.data(), from.size() * sizeof(T)); },
                                    seconds);
    const double bytes = double(n * sizeof(T) * std::size_t(c.arrays));
    std::printf("%12zu %12.4f %10.2f %14.4f %12.2f %10.2f\n", n, t * 1e9 / double(n), bytes / t / 1e9,
                tm * 1e9 / double(n), bytes / tm / 1e9, t / tm);
  }
}

std::vector<std::size_t> parse_sizes(const std::string& text) {
  std::vector<std::size_t> sizes;
  std::size_t begin = 0;
  for (;;) {
    const std::size_t comma = std::min(text.find(',', begin), text.size());
    const std::string item = text.substr(begin, comma - begin);
    try {
      sizes.push_back(std::size_t(parse_int_option("bench", "--sizes", item, 1, kMaxSize)));
    } catch (const UsageError&) {
      throw UsageError("bench: --sizes must be a comma-separated list of element counts from 1 to " +
                       std::to_string(kMaxSize) + ", got '" + text + "'");
    }
    if (comma == text.size()) return sizes;
    begin = comma + 1;
  }
}

void run_bench(const BenchOptions& o) {
  const std::string op = normalize_op_name(o.op);
  if (!op_from_name(op) && std::find(std::begin(kLossOps), std::end(kLossOps), op) == std::end(kLossOps))
    throw UsageError("bench: --op must be one of " + bench_op_list() + ", got '" + o.op + "'");
  const std::string dtype = parse_choice_option("bench", "--dtype", o.dtype, {"f32", "f64"});
  const std::vector<std::size_t> sizes = parse_sizes(o.sizes);
  const int threads = int(parse_int_option("bench", "--threads", o.threads, 1, 1024));
  const double seconds = parse_real_option("bench", "--seconds", o.seconds, 0.001, 60);
  dispatch_target("bench");
  set_num_threads(threads);
  if (dtype == "f32") bench_type<float>(op, dtype, sizes, threads, seconds);
  else bench_type<double>(op, dtype, sizes, threads, seconds);
  set_num_threads(0);
}

}  // namespace

void add_bench(CLI::App& app) {
  auto o = std::make_shared<BenchOptions>();
  auto* cmd = app.add_subcommand("bench", "Time a kernel per array size beside memcpy");
  cmd->add_option("--op", o->op, "Op: " + bench_op_list() + " (BCE-with-logits is accepted)")
      ->type_name("OP")
      ->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "Element type: f32 or f64")
      ->type_name("f32|f64")
      ->capture_default_str();
  cmd->add_option("--sizes", o->sizes, "Array sizes in elements, comma-separated (1 to 2^30 each)")
      ->type_name("N,N,...")
      ->capture_default_str();
  cmd->add_option("--threads", o->threads, "Threads, 1 to 1024")->type_name("N")->capture_default_str();
  cmd->add_option("--seconds", o->seconds, "Time per measurement, 0.001 to 60")
      ->type_name("S")
      ->capture_default_str();
  cmd->callback([o] { run_bench(*o); });
}

}  // namespace sigma::cli

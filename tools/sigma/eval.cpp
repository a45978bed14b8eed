// `sigma eval X...`: a table of x, sigmoid(x) and sigmoid'(x) in f32 or f64,
// computed by the library's SIMD kernels (sigma::sigmoid and
// sigma::sigmoid_backward_from_input) on the target they dispatch to, which
// SIGMA_TARGET forces; the first line names it.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "commands.h"
#include "kernel_options.h"
#include "number_format.h"
#include "sigma/kernels.h"

namespace sigma::cli {
namespace {

struct EvalOptions {
  std::vector<std::string> args;  // values and unknown options, in order
  std::vector<std::string> never;  // X itself stays empty (see add_eval)
  std::string precision = "4";
  std::string dtype = "f32";
};

template <class T>
void print_rows(int precision, const std::vector<double>& xs) {
  std::vector<T> x(xs.begin(), xs.end()), y(x.size()), dy(x.size()), ones(x.size(), T(1));
  sigmoid(std::span<const T>(x), std::span<T>(y));
  sigmoid_backward_from_input(std::span<const T>(ones), std::span<const T>(x), std::span<T>(dy));
  const int w = precision + 10;
  std::printf("%14s  %*s  %*s\n", "x", w, "sigma(x)", w, "sigma'(x)");
  for (std::size_t i = 0; i < x.size(); ++i)
    std::printf("%14s  %*s  %*s\n", format_shortest(x[i]).c_str(), w,
                format_value(y[i], precision).c_str(), w, format_value(dy[i], precision).c_str());
}

// CLI11 leaves the values, "--" and anything that looks like an unknown option
// in order in args. Before "--", an argument starting with '-' that is not a
// number (-3, -inf) is an unknown option; after it, everything is a value.
std::vector<double> parse_values(const std::vector<std::string>& args) {
  std::vector<double> xs;
  bool only_values = false;
  for (const auto& a : args) {
    if (!only_values && a == "--") {
      only_values = true;
      continue;
    }
    if (!only_values && a.size() > 1 && a[0] == '-') {
      try {
        xs.push_back(parse_number(a, "eval"));
      } catch (const UsageError&) {
        throw UsageError("eval: unknown option '" + a +
                         "' (options: --precision, --dtype; values may follow --)");
      }
      continue;
    }
    xs.push_back(parse_number(a, "eval"));
  }
  if (xs.empty()) throw UsageError("eval: give at least one value X, e.g. sigma eval -3 0 3");
  return xs;
}

void run_eval(const EvalOptions& o) {
  const std::vector<double> xs = parse_values(o.args);
  const int precision = int(parse_int_option("eval", "--precision", o.precision, 0, 17));
  const std::string dtype = parse_choice_option("eval", "--dtype", o.dtype, {"f32", "f64"});
  const char* env = std::getenv("SIGMA_TARGET");
  std::printf("%s, SIMD target %s%s\n", dtype.c_str(), dispatch_target("eval").c_str(),
              env && *env ? " (SIGMA_TARGET)" : "");
  if (dtype == "f64")
    print_rows<double>(precision, xs);
  else
    print_rows<float>(precision, xs);
}

}  // namespace

void add_eval(CLI::App& app) {
  auto o = std::make_shared<EvalOptions>();
  auto* cmd = app.add_subcommand("eval", "Print x, sigmoid(x) and sigmoid'(x) for each X");
  // CLI11 reads -inf and -nan as short options and would take "--" to end the
  // subcommand. So X is a positional that refuses every value (it only makes
  // "--" mean "values follow" and shows X... in the usage line), and every
  // value, "--" and unknown option lands in remaining(), in order.
  cmd->allow_extras();
  cmd->validate_positionals();
  cmd->add_option("X", o->never, "Values, e.g. -3 -1 0 1 3 inf -inf nan 1e-40; after --, any (-- -0)")
      ->check(CLI::Validator([](std::string&) { return std::string("read from remaining()"); }, "", ""))
      ->type_name("");
  cmd->add_option("-p,--precision", o->precision, "Decimals to print, 0 to 17")
      ->type_name("N")
      ->capture_default_str();
  cmd->add_option("--dtype", o->dtype, "Compute type: f32 or f64")
      ->type_name("DTYPE")
      ->capture_default_str();
  cmd->callback([o, cmd] {
    o->args = cmd->remaining();
    run_eval(*o);
  });
}

}  // namespace sigma::cli

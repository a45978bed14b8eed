// `sigma eval X...`: a table of x, sigmoid(x) and sigmoid'(x) from the
// reference kernels, in f32 or f64.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "commands.h"
#include "number_format.h"
#include "sigma/reference.h"

namespace sigma::cli {
namespace {

struct EvalOptions {
  std::vector<std::string> inputs;
  int precision = 4;
  std::string dtype = "f32";
};

template <class T>
void print_rows(const EvalOptions& o, const std::vector<double>& xs) {
  const int w = o.precision + 10;
  std::printf("%14s  %*s  %*s\n", "x", w, "sigma(x)", w, "sigma'(x)");
  for (double xd : xs) {
    const T x = static_cast<T>(xd);
    const T y = reference::sigmoid(x);
    const T dy = reference::sigmoid_backward_from_input(T(1), x);
    std::printf("%14s  %*s  %*s\n", format_shortest(x).c_str(), w,
                format_value(y, o.precision).c_str(), w, format_value(dy, o.precision).c_str());
  }
}

void run_eval(const EvalOptions& o) {
  std::vector<double> xs;
  for (const auto& s : o.inputs) xs.push_back(parse_number(s, "eval"));
  if (o.dtype == "f64")
    print_rows<double>(o, xs);
  else
    print_rows<float>(o, xs);
}

}  // namespace

void add_eval(CLI::App& app) {
  auto opts = std::make_shared<EvalOptions>();
  auto* cmd = app.add_subcommand("eval", "Print x, sigmoid(x) and sigmoid'(x) for each X");
  // The values are taken as "extras" rather than a positional option so that
  // -inf and -nan, which CLI11 would read as short options, stay in order.
  cmd->allow_extras();
  cmd->footer("X...: input values, e.g. -3 -1 0 1 3 inf -inf nan 1e-40");
  cmd->add_option("-p,--precision", opts->precision, "Decimals to print")
      ->check(CLI::Range(0, 17))
      ->capture_default_str();
  cmd->add_option("--dtype", opts->dtype, "Compute type")
      ->check(CLI::IsMember({"f32", "f64"}))
      ->capture_default_str();
  cmd->callback([opts, cmd] {
    opts->inputs = cmd->remaining();
    if (opts->inputs.empty()) throw UsageError("eval: give at least one value X");
    run_eval(*opts);
  });
}

}  // namespace sigma::cli

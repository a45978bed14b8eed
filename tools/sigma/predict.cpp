// `sigma predict --model M --csv FILE [--out FILE]`: applies a classifier
// saved by `sigma train --save M` to the rows of a CSV and writes one
// probability per row, in row order, as CSV (header `probability`).
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>
#include <memory>
#include <string>

#include "commands.h"
#include "sigma/io.h"
#include "tour/classifier.h"
#include "tour/data.h"

namespace sigma::cli {
namespace {

struct PredictOptions {
  std::string model, csv, out;
};

void run_predict(const PredictOptions& o) {
  namespace fs = std::filesystem;
  if (!o.out.empty()) {
    std::error_code ec;
    const fs::path out(o.out);
    if (fs::is_directory(out, ec))
      throw UsageError("predict: --out " + o.out + " is a directory, expected a file name");
    const fs::path dir = out.has_parent_path() ? out.parent_path() : fs::path(".");
    if (!fs::is_directory(dir, ec))
      throw UsageError("predict: --out " + o.out + ": the directory " + dir.string() + " does not exist");
  }
  tour::SavedClassifier c;
  Tensor x;
  try {
    c = tour::load_classifier(o.model);
    x = tour::data::read_csv_features(o.csv, c.feature_names, c.target_name);
  } catch (const std::runtime_error& e) {
    throw UsageError(std::string("predict: ") + e.what());
  }
  const std::vector<float> p = tour::predict_proba(c, x);
  std::string text = "probability\n";
  text.reserve(text.size() + p.size() * 14);
  char buf[32];
  for (float v : p) {
    const int n = std::snprintf(buf, sizeof buf, "%.9g\n", static_cast<double>(v));
    text.append(buf, static_cast<std::size_t>(n));
  }
  if (o.out.empty()) {
    std::fwrite(text.data(), 1, text.size(), stdout);
    std::fflush(stdout);
  } else {
    io::write_file_atomic(o.out, text);
    std::fprintf(stderr, "wrote %zu probabilities to %s\n", p.size(), o.out.c_str());
  }
}

}  // namespace

void add_predict(CLI::App& app) {
  auto opts = std::make_shared<PredictOptions>();
  auto* cmd = app.add_subcommand(
      "predict", "Probabilities from a model saved by `sigma train --save`, one per CSV row");
  cmd->add_option("--model", opts->model, "The .safetensors file `sigma train --save` wrote")->required();
  cmd->add_option("--csv", opts->csv,
                  "Rows to score: a header row naming the model's feature columns (the target "
                  "column may be present and is ignored)")
      ->required();
  cmd->add_option("--out", opts->out, "Write the probabilities to this file instead of stdout");
  cmd->callback([opts] { run_predict(*opts); });
}

}  // namespace sigma::cli

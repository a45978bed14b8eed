// `sigma tour`: runs the sections, prints a summary and writes report.md.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <memory>
#include <stdexcept>
#include <string>

#include "../commands.h"
#include "sigma/io.h"
#include "sigma/kernels.h"
#include "sigma/version.h"
#include "tour.h"

namespace sigma::tour {

const std::vector<Section>& sections() {
  static const std::vector<Section> all = {
      {"values", "The seed's printed values", &seed_values},
  };
  return all;
}

namespace {

void run_tour(const Options& o) {
  const Section* only = nullptr;
  if (!o.only.empty()) {
    for (const auto& s : sections())
      if (o.only == s.name) only = &s;
    if (!only) {
      std::string names;
      for (const auto& s : sections()) names += std::string(names.empty() ? "" : ", ") + s.name;
      throw cli::UsageError("tour: unknown section '" + o.only + "' (sections: " + names + ")");
    }
  }

  std::string md = "# sigma tour\n\n";
  md += "sigma " + std::string(version()) + ", SIMD target " + kernels::target() + ", seed " +
        std::to_string(o.seed) + (o.quick ? ", quick run" : "") + ".\n\n";
  int failed = 0, total = 0;
  for (const auto& s : sections()) {
    if (only && only != &s) continue;
    std::printf("== %s\n", s.title);
    const SectionResult r = s.run(o);
    md += std::string("## ") + s.title + "\n\n" + r.markdown + "\n";
    md += "| check | measured | expected | |\n|---|---|---|---|\n";
    for (const auto& c : r.checks) {
      ++total;
      failed += !c.pass;
      std::printf("  %-4s %s: %s (expected %s)\n", c.pass ? "PASS" : "FAIL", c.what.c_str(),
                  c.measured.c_str(), c.expected.c_str());
      md += "| " + c.what + " | " + c.measured + " | " + c.expected + " | " +
            (c.pass ? "PASS" : "FAIL") + " |\n";
    }
    md += "\n";
  }
  const auto report = o.out / "report.md";
  io::write_file_atomic(report, md);
  std::printf("%d of %d checks passed; report: %s\n", total - failed, total,
              report.string().c_str());
  if (failed) throw std::runtime_error("tour: " + std::to_string(failed) + " check(s) failed");
}

}  // namespace
}  // namespace sigma::tour

namespace sigma::cli {

void add_tour(CLI::App& app) {
  auto opts = std::make_shared<tour::Options>();
  auto* cmd = app.add_subcommand("tour", "Demonstrate every claim of the seed and write a report");
  cmd->add_option("--out", opts->out, "Report directory")->capture_default_str();
  cmd->add_option("--seed", opts->seed, "Random seed")->capture_default_str();
  cmd->add_flag("--quick", opts->quick, "CI-sized runs");
  cmd->add_option("--only", opts->only, "Run one section");
  cmd->callback([opts] { tour::run_tour(*opts); });
}

}  // namespace sigma::cli

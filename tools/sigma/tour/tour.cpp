// `sigma tour` and the per-section subcommands: runs sections, prints the
// summary, writes report.md, report.html and summary.json.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "../commands.h"
#include "render.h"
#include "sigma/io.h"
#include "sigma/kernels.h"
#include "sigma/ops.h"
#include "sigma/version.h"
#include "tour.h"

namespace sigma::tour {

const std::vector<Section>& sections() {
  static const std::vector<Section> all = {
      values_section(),   forms_section(),      properties_section(), derivative_section(),
      vanish_section(),   zigzag_section(),     train_section(),      multilabel_section(),
      gating_section(),   stability_section(),
  };
  return all;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Progress::State {
  std::string label, unit;
  int total;
  double start, last_draw = -1;
  std::size_t width = 0;
};

Progress::Progress(const Context& ctx, std::string label, int total, std::string unit) {
  if (ctx.interactive)
    s_ = std::make_unique<State>(State{std::move(label), std::move(unit), total, now_seconds()});
}

Progress::~Progress() {
  if (s_ && s_->width) {
    std::printf("\r%*s\r", static_cast<int>(s_->width), "");
    std::fflush(stdout);
  }
}

void Progress::update(int done, double loss) {
  if (!s_) return;
  const double t = now_seconds();
  if (done < s_->total && s_->last_draw >= 0 && t - s_->last_draw < 0.1) return;
  s_->last_draw = t;
  char line[160];
  const int n = std::snprintf(line, sizeof line, "  %s: %s %d/%d  loss %.4f  %.1f s",
                              s_->label.c_str(), s_->unit.c_str(), done, s_->total, loss,
                              t - s_->start);
  const std::size_t len = n > 0 ? static_cast<std::size_t>(n) : 0;
  std::printf("\r%s%*s", line, static_cast<int>(s_->width > len ? s_->width - len : 0), "");
  std::fflush(stdout);
  s_->width = std::max(s_->width, len);
}

namespace {

struct RunOptions {
  std::filesystem::path out;
  std::uint64_t seed = 0;
  bool quick = false;
};

std::uint64_t section_seed(std::uint64_t seed, const std::string& name) {
  std::uint64_t h = 1469598103934665603ull;  // FNV-1a of the name
  for (unsigned char c : name) h = (h ^ c) * 1099511628211ull;
  std::uint64_t z = seed ^ h;  // one splitmix64 step
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}

std::string today() {
  const std::time_t t = std::time(nullptr);
  char buf[64];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&t));
  return buf;
}

void run_sections(const std::vector<const Section*>& chosen, const RunOptions& o) {
  std::filesystem::create_directories(o.out);
  const double start = now_seconds();
  std::vector<SectionOutput> done;
  std::size_t failed = 0, total = 0;
  for (const Section* s : chosen) {
    Context ctx;
    ctx.out = o.out;
    ctx.seed = o.seed;
    ctx.section_seed = section_seed(o.seed, s->name);
    ctx.quick = o.quick;
    ctx.interactive = ::isatty(STDOUT_FILENO) == 1;
    sigma::manual_seed(ctx.section_seed);
    // On a terminal the heading comes first, above the progress line; in a
    // log it comes with the results, so a section that fails on bad input
    // leaves just the one error line.
    if (ctx.interactive) {
      std::printf("== %s\n", s->title.c_str());
      std::fflush(stdout);
    }
    const double t0 = now_seconds();
    Report report(ctx);
    try {
      s->run(report);
    } catch (const cli::UsageError&) {
      throw;  // already names the section and the flag
    } catch (const std::exception& e) {
      const std::string what = e.what();
      if (what.rfind(s->name + ":", 0) == 0) throw;
      throw std::runtime_error(s->name + ": " + what);
    }
    const double secs = now_seconds() - t0;
    if (!ctx.interactive) std::printf("== %s\n", s->title.c_str());
    for (const auto& b : report.blocks())
      if (b.kind == Report::Block::Timing) std::printf("  %s: %.3f s\n", b.text.c_str(), b.seconds);
    for (const auto& c : report.checks()) {
      ++total;
      failed += !c.pass;
      std::printf("  %s  %s: %s (expected %s)\n", c.pass ? "PASS" : "FAIL", c.what.c_str(),
                  c.measured.c_str(), c.expected.c_str());
    }
    for (const auto& f : report.figures())
      std::printf("  figure %s\n", (o.out / (f.name + ".png")).string().c_str());
    std::printf("  (%.1f s)\n", secs);
    done.push_back({s, std::move(report), secs});
  }
  RunInfo info;
  info.version = version();
  info.target = kernels::target();
  info.seed = o.seed;
  info.quick = o.quick;
  info.date = today();
  info.seconds = now_seconds() - start;
  io::write_file_atomic(o.out / "report.md", render_markdown(info, done));
  io::write_file_atomic(o.out / "report.html", render_html(info, done, o.out));
  io::write_file_atomic(o.out / "summary.json", render_summary(info, done));
  std::printf("%zu of %zu checks passed in %.1f s; report: %s\n", total - failed, total,
              info.seconds, (o.out / "report.md").string().c_str());
  if (failed) throw std::runtime_error("tour: " + std::to_string(failed) + " check(s) failed");
}

std::vector<const Section*> select(const std::string& only) {
  std::vector<const Section*> chosen;
  if (only.empty()) {
    for (const auto& s : sections()) chosen.push_back(&s);
    return chosen;
  }
  std::stringstream names(only);
  for (std::string name; std::getline(names, name, ',');) {
    const Section* found = nullptr;
    for (const auto& s : sections())
      if (s.name == name) found = &s;
    if (!found) {
      std::string all;
      for (const auto& s : sections()) all += (all.empty() ? "" : ", ") + s.name;
      throw cli::UsageError("tour: unknown section '" + name + "' (sections: " + all + ")");
    }
    if (std::find(chosen.begin(), chosen.end(), found) == chosen.end()) chosen.push_back(found);
  }
  return chosen;
}

void add_common(CLI::App& cmd, RunOptions& o) {
  cmd.add_option("--out", o.out, "Report directory")->capture_default_str();
  cmd.add_option("--seed", o.seed, "Random seed: the same seed gives the same report.md")
      ->capture_default_str();
  cmd.add_flag("--quick", o.quick, "CI-sized runs (seconds)");
}

}  // namespace
}  // namespace sigma::tour

namespace sigma::cli {

void add_tour(CLI::App& app) {
  using namespace sigma::tour;
  auto opts = std::make_shared<RunOptions>();
  opts->out = "out/tour";
  auto only = std::make_shared<std::string>();
  auto* cmd = app.add_subcommand("tour", "Demonstrate every claim of the seed and write a report");
  add_common(*cmd, *opts);
  std::string names;
  for (const auto& s : sections()) names += (names.empty() ? "" : ", ") + s.name;
  cmd->add_option("--only", *only, "Run these sections (comma-separated): " + names);
  cmd->callback([opts, only] { run_sections(select(*only), *opts); });

  // Each section as a subcommand of its own, with its knobs.
  for (const auto& s : sections()) {
    auto o = std::make_shared<RunOptions>();
    o->out = "out/" + s.name;
    auto* sub = app.add_subcommand(s.name, s.about);
    add_common(*sub, *o);
    if (s.add_flags) s.add_flags(*sub);
    const Section* sp = &s;
    sub->callback([o, sp] { run_sections({sp}, *o); });
  }
}

}  // namespace sigma::cli

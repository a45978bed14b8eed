// `sigma tour` and the per-section subcommands: runs sections, prints the
// summary, writes report.md, report.html and summary.json.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <optional>
#include <sstream>
#include <stdexcept>
#include <string>

#include "../commands.h"
#include "../kernel_options.h"
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
      multiclass_section(), gating_section(),   attention_section(), stability_section(),
  };
  return all;
}

double now_seconds() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

struct Progress::State {
  std::string label, unit;
  int total;
  bool interactive, log_units;
  double start, last_draw = -1;
  std::size_t width = 0;
};

Progress::Progress(const Context& ctx, std::string label, int total, std::string unit, bool log_units) {
  if (ctx.interactive || log_units)
    s_ = std::make_unique<State>(
        State{std::move(label), std::move(unit), total, ctx.interactive, log_units, now_seconds()});
}

Progress::~Progress() {
  if (s_ && s_->width) {
    std::printf("\r%*s\r", static_cast<int>(s_->width), "");
    std::fflush(stdout);
  }
}

namespace {

// Redraws the terminal line with `text`, padding over what was there.
void draw_line(std::size_t& width, const char* text, int n) {
  const std::size_t len = n > 0 ? static_cast<std::size_t>(n) : 0;
  std::printf("\r%s%*s", text, static_cast<int>(width > len ? width - len : 0), "");
  std::fflush(stdout);
  width = std::max(width, len);
}

}  // namespace

void Progress::update(int done, double loss) {
  if (!s_) return;
  const double t = now_seconds();
  char line[200];
  if (!s_->interactive) {  // log_units: one line per finished unit
    std::printf("  %s: %s %d/%d  loss %.4f  %.1f s\n", s_->label.c_str(), s_->unit.c_str(), done,
                s_->total, loss, t - s_->start);
    std::fflush(stdout);
    return;
  }
  if (done < s_->total && s_->last_draw >= 0 && t - s_->last_draw < 0.1) return;
  s_->last_draw = t;
  const int n = std::snprintf(line, sizeof line, "  %s: %s %d/%d  loss %.4f  %.1f s",
                              s_->label.c_str(), s_->unit.c_str(), done, s_->total, loss,
                              t - s_->start);
  draw_line(s_->width, line, n);
}

bool Progress::wants_step() const {
  return s_ && s_->interactive && (s_->last_draw < 0 || now_seconds() - s_->last_draw >= 0.1);
}

void Progress::step(int units_done, std::int64_t done, std::int64_t total, double loss) {
  if (!wants_step()) return;
  const double t = now_seconds();
  s_->last_draw = t;
  char line[200];
  const int n = std::snprintf(line, sizeof line, "  %s: %s %d/%d  %3.0f%%  loss %.4f  %.1f s",
                              s_->label.c_str(), s_->unit.c_str(), units_done + 1, s_->total,
                              total > 0 ? 100.0 * static_cast<double>(done) / static_cast<double>(total) : 0.0,
                              loss, t - s_->start);
  draw_line(s_->width, line, n);
}

namespace {

struct RunOptions {
  std::filesystem::path out;
  std::uint64_t seed = 0;
  bool quick = false;
};

// The flags every section shares, as typed; checked by options().
struct CommonFlags {
  std::string out;
  std::string seed = "0";
  bool quick = false;
};

// --out must name a directory (created if missing), --seed a whole number
// that fits 64 bits: CLI11 would wrap -1 to 2^64 - 1 without a word.
RunOptions options(const std::string& name, const CommonFlags& f) {
  namespace fs = std::filesystem;
  RunOptions o;
  const char* first = f.seed.data();
  const char* last = first + f.seed.size();
  const auto [end, err] = std::from_chars(first, last, o.seed);
  if (f.seed.empty() || err != std::errc() || end != last)
    throw cli::UsageError(name + ": --seed must be a whole number from 0 to 18446744073709551615, got '" +
                          f.seed + "'");
  if (f.out.empty()) throw cli::UsageError(name + ": --out needs a directory name, got an empty string");
  o.out = f.out;
  std::error_code ec;
  if (fs::exists(o.out, ec) && !fs::is_directory(o.out, ec))
    throw cli::UsageError(name + ": --out " + f.out + " is a file, expected a directory (created if missing)");
  fs::create_directories(o.out, ec);
  if (ec) throw cli::UsageError(name + ": cannot create the --out directory " + f.out + ": " + ec.message());
  o.quick = f.quick;
  cli::dispatch_target(name);  // an unusable SIGMA_TARGET is bad input, before anything runs
  return o;
}

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
  const double start = now_seconds();
  std::vector<SectionOutput> done;
  std::size_t failed = 0, total = 0;
  std::vector<std::string> failed_sections;
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
    std::string error;
    try {
      s->run(report);
    } catch (const cli::UsageError&) {
      throw;  // bad input: one line and exit 2; it already names the section and the flag
    } catch (const std::exception& e) {
      // Anything else stops this section only: the others still run and the
      // report keeps what this one produced, marked failed with the reason.
      error = e.what();
    }
    const double secs = now_seconds() - t0;
    if (!ctx.interactive) std::printf("== %s\n", s->title.c_str());
    for (const auto& b : report.blocks())
      if (b.kind == Report::Block::Timing) std::printf("  %s: %.3f s\n", b.text.c_str(), b.seconds);
    for (const auto& n : report.notes()) std::printf("  %s\n", n.c_str());
    for (const auto& c : report.checks()) {
      ++total;
      failed += !c.pass;
      std::printf("  %s  %s: %s (expected %s)\n", c.pass ? "PASS" : "FAIL", c.what.c_str(),
                  c.measured.c_str(), c.expected.c_str());
    }
    for (const auto& f : report.figures())
      std::printf("  figure %s\n", (o.out / (f.name + ".png")).string().c_str());
    if (!error.empty()) {
      std::printf("  FAILED: %s\n", error.c_str());
      failed_sections.push_back(s->name);
    }
    std::printf("  (%.1f s)\n", secs);
    std::fflush(stdout);
    done.push_back({s, std::move(report), secs, std::move(error)});
  }
  RunInfo info;
  info.version = version();
  info.target = kernels::target();
  info.seed = o.seed;
  info.quick = o.quick;
  info.date = today();
  info.seconds = now_seconds() - start;
  std::vector<SectionOutput> shown = done;
  if (done.size() > 1) shown.push_back(summary_output(done));
  io::write_file_atomic(o.out / "report.md", render_markdown(info, shown));
  io::write_file_atomic(o.out / "report.html", render_html(info, shown, o.out));
  io::write_file_atomic(o.out / "summary.json", render_summary(info, done));
  const bool skipped = std::any_of(done.begin(), done.end(), [](const SectionOutput& d) {
    return std::any_of(d.report.blocks().begin(), d.report.blocks().end(), [](const Report::Block& b) {
      return b.kind == Report::Block::Figure && !b.skipped.empty();
    });
  });
  if (skipped) std::printf("figures were not drawn: %s\n", plot::unavailable().value_or("").c_str());
  std::printf("%zu of %zu checks passed in %.1f s; report: %s\n", total - failed, total,
              info.seconds, (o.out / "report.md").string().c_str());
  std::string problems;
  if (!failed_sections.empty()) {
    problems = std::to_string(failed_sections.size()) + " section(s) failed (";
    for (std::size_t i = 0; i < failed_sections.size(); ++i) problems += (i ? ", " : "") + failed_sections[i];
    problems += ")";
  }
  if (failed) problems += (problems.empty() ? "" : " and ") + std::to_string(failed) + " check(s) failed";
  std::fflush(stdout);  // before main's error line on stderr
  if (!problems.empty()) {
    const std::string name = chosen.size() == 1 ? chosen[0]->name : "tour";
    throw std::runtime_error(name + ": " + problems + "; see " + (o.out / "report.md").string());
  }
}

std::string section_names() {
  std::string all;
  for (const auto& s : sections()) all += (all.empty() ? "" : ", ") + s.name;
  return all;
}

// --only's sections in the given order; nullopt (the option absent): all.
std::vector<const Section*> select(const std::optional<std::string>& only) {
  std::vector<const Section*> chosen;
  if (!only) {
    for (const auto& s : sections()) chosen.push_back(&s);
    return chosen;
  }
  if (only->empty())
    throw cli::UsageError("tour: --only needs a comma-separated list of sections (" + section_names() + ")");
  std::stringstream names(*only + ",");
  for (std::string name; std::getline(names, name, ',');) {
    if (name.empty())
      throw cli::UsageError("tour: --only '" + *only + "' has an empty section name (sections: " +
                            section_names() + ")");
    const Section* found = nullptr;
    for (const auto& s : sections())
      if (s.name == name) found = &s;
    if (!found) throw cli::UsageError("tour: unknown section '" + name + "' (sections: " + section_names() + ")");
    if (std::find(chosen.begin(), chosen.end(), found) == chosen.end()) chosen.push_back(found);
  }
  return chosen;
}

void add_common(CLI::App& cmd, CommonFlags& f) {
  cmd.add_option("--out", f.out, "Report directory (created if missing)")->capture_default_str();
  cmd.add_option("--seed", f.seed,
                 "Random seed, 0 to 2^64-1: the same seed gives the same report.md (not to be "
                 "confused with \"the seed\", the document the tour demonstrates)")
      ->capture_default_str();
  cmd.add_flag("--quick", f.quick, "CI-sized runs (seconds)");
}

}  // namespace
}  // namespace sigma::tour

namespace sigma::cli {

void add_tour(CLI::App& app) {
  using namespace sigma::tour;
  auto flags = std::make_shared<CommonFlags>();
  flags->out = "out/tour";
  auto only = std::make_shared<std::optional<std::string>>();
  auto* cmd = app.add_subcommand(
      "tour",
      "Demonstrate every claim of the seed (the document sigma is built from: a PyTorch-centred "
      "text on the sigmoid, its properties, gradients and uses) on real data, checked and plotted");
  add_common(*cmd, *flags);
  cmd->add_option("--only", *only, "Run these sections (comma-separated): " + section_names());
  cmd->callback([flags, only] {
    const auto chosen = select(*only);
    run_sections(chosen, options("tour", *flags));
  });

  // Each section as a subcommand of its own, with its knobs.
  for (const auto& s : sections()) {
    auto f = std::make_shared<CommonFlags>();
    f->out = "out/" + s.name;
    auto* sub = app.add_subcommand(s.name, s.about);
    add_common(*sub, *f);
    if (s.add_flags) s.add_flags(*sub);
    const Section* sp = &s;
    sub->callback([f, sp] { run_sections({sp}, options(sp->name, *f)); });
  }
}

}  // namespace sigma::cli

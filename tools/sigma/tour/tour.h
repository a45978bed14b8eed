// The tour: one section per claim of the seed. A section computes its numbers
// and fills a Report (paragraphs, tables, figures, PASS/FAIL checks and
// headline metrics); tour.cpp runs the sections, prints the summary and writes
// report.md, report.html and summary.json. Every section is also a subcommand
// of its own (`sigma vanish`, `sigma train`, ...) with flags for its knobs.
#pragma once

#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "plot.h"

namespace CLI {
class App;
}

namespace sigma::tour {

// What every section is given.
struct Context {
  std::filesystem::path out;  // report directory; figures are drawn into it
  std::uint64_t seed = 0;     // the user's --seed
  // Seed for this section, derived from `seed` and the section's name, so a
  // section gives the same numbers alone (--only, subcommand) and in the tour.
  // sigma's global generator is seeded with it before the section runs.
  std::uint64_t section_seed = 0;
  bool quick = false;        // CI-sized runs
  bool interactive = false;  // stdout is a terminal: show training progress
};

struct Check {
  std::string what;
  std::string measured;
  std::string expected;
  bool pass = false;
};

// A section's output. Text is Markdown with inline `code`, **bold** and
// *emphasis* only; tables and figures are structured so both report.md and
// report.html render them. Nothing that varies between runs with the same
// seed (timings, dates, paths) may go into text, tables or checks: report.md
// must be byte-identical across runs. Timings go through timing().
class Report {
 public:
  struct Block {
    enum Kind { Text, Table, Code, Figure, Timing } kind;
    std::string text;                               // Text, Code, Timing label; Figure caption
    std::vector<std::string> header;                // Table
    std::vector<std::vector<std::string>> rows;     // Table
    std::string figure;                             // Figure: file stem
    double seconds = 0;                             // Timing
    std::string skipped;                            // Figure not drawn: why
  };

  explicit Report(Context ctx) : ctx_(std::move(ctx)) {}

  const Context& context() const { return ctx_; }

  // One paragraph.
  void text(std::string markdown);
  void table(std::vector<std::string> header, std::vector<std::vector<std::string>> rows);
  // A preformatted block (program output, formulas).
  void code(std::string text);
  // Draws the figure as <name>.png and <name>.svg into the report directory
  // (through gnuplot) and shows it at this point of the report. Without a
  // usable gnuplot the figure is skipped and the report says why; any other
  // drawing failure throws.
  void figure(const plot::Figure& fig);
  // A claim checked numerically: measured value, what was expected, verdict.
  // Also printed on the terminal.
  void check(std::string what, std::string measured, std::string expected, bool pass);
  // A headline number, written to summary.json under the section's name
  // (tests read it). Keys are snake_case.
  void metric(const std::string& key, double value);
  // A wall-clock measurement: terminal and report.html only.
  void timing(std::string label, double seconds);
  // A line for the terminal only (headline numbers, where a file went).
  void note(std::string line);

  const std::vector<Block>& blocks() const { return blocks_; }
  const std::vector<Check>& checks() const { return checks_; }
  const std::map<std::string, double>& metrics() const { return metrics_; }
  const std::vector<plot::Figure>& figures() const { return figures_; }  // drawn ones
  const std::vector<std::string>& notes() const { return notes_; }

 private:
  Context ctx_;
  std::vector<Block> blocks_;
  std::vector<std::string> notes_;
  std::vector<Check> checks_;
  std::map<std::string, double> metrics_;
  std::vector<plot::Figure> figures_;
};

struct Section {
  std::string name;   // --only value and subcommand name
  std::string title;  // heading in the report
  std::string about;  // one line: the subcommand's help
  // Registers the section's knobs on its subcommand. The values live in the
  // closure (a shared_ptr to the section's parameters) that run() also holds.
  std::function<void(CLI::App&)> add_flags;
  std::function<void(Report&)> run;
};

// All sections in report order (built once).
const std::vector<Section>& sections();

// Section factories, one file each.
Section values_section();
Section forms_section();
Section properties_section();
Section derivative_section();
Section vanish_section();
Section zigzag_section();
Section train_section();
Section multilabel_section();
Section multiclass_section();
Section attention_section();
Section gating_section();
Section stability_section();

// Shows training progress (epoch or step, loss, elapsed). On a terminal
// (ctx.interactive): one line, redrawn at most ten times a second, with the
// position inside the current unit when step() is called. Otherwise nothing,
// or with `log_units` one line per finished unit (for long runs on users'
// data, where silence would look like a hang). `unit` names what `total`
// counts.
class Progress {
 public:
  Progress(const Context& ctx, std::string label, int total, std::string unit = "epoch",
           bool log_units = false);
  ~Progress();
  Progress(const Progress&) = delete;
  Progress& operator=(const Progress&) = delete;
  // `done` units are finished; `loss` is the latest.
  void update(int done, double loss);
  // Whether step() would draw now, so callers can skip computing what it shows.
  bool wants_step() const;
  // Inside unit `units_done + 1`: `done` of its `total` steps.
  void step(int units_done, std::int64_t done, std::int64_t total, double loss);

 private:
  struct State;
  std::unique_ptr<State> s_;
};

// Seconds since an arbitrary point (steady clock), for timing().
double now_seconds();

// `value` through a printf format with one double ("%.4g"); NaN prints as
// "NaN" and infinities as "inf" / "-inf" whatever the format.
std::string fmt(const char* printf_format, double value);

}  // namespace sigma::tour

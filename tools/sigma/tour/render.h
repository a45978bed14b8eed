// Turns the sections' reports into the tour's three files: report.md
// (reproducible: no dates or timings), report.html (self-contained, figures
// embedded, with date and timings) and summary.json (checks and headline
// metrics, for tests and scripts).
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "tour.h"

namespace sigma::tour {

struct SectionOutput {
  const Section* section;
  Report report;  // what the section wrote before it finished or failed
  double seconds;
  std::string error;  // why the section stopped early; empty if it ran to the end
};

struct RunInfo {
  std::string version;  // sigma's
  std::string target;   // SIMD target the kernels dispatched to
  std::uint64_t seed = 0;
  bool quick = false;
  std::string date;      // report.html only
  double seconds = 0;    // report.html only
};

std::string render_markdown(const RunInfo& info, const std::vector<SectionOutput>& sections);
// Reads each figure's PNG from `dir` and embeds it as a data: URI.
std::string render_html(const RunInfo& info, const std::vector<SectionOutput>& sections,
                        const std::filesystem::path& dir);
std::string render_summary(const RunInfo& info, const std::vector<SectionOutput>& sections);
// The closing table (summary.cpp): the seed's summary beside this run's
// metrics, as a section for report.md and report.html.
SectionOutput summary_output(const std::vector<SectionOutput>& done);

// Markdown inline spans (`code`, **bold**, *em*) as HTML, text escaped.
std::string inline_html(const std::string& markdown);
std::string base64(const std::string& bytes);

}  // namespace sigma::tour

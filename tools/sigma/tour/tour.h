// The tour: one section per claim of the seed. Each section computes its
// numbers, returns Markdown plus a list of checks (measured vs expected,
// PASS/FAIL); tour.cpp runs them, prints the summary and writes the report.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace sigma::tour {

struct Options {
  std::filesystem::path out = "out/tour";  // report directory
  std::uint64_t seed = 0;                  // every random draw derives from it
  bool quick = false;                      // CI-sized runs
  std::string only;                        // run just this section
};

struct Check {
  std::string what;
  std::string measured;
  std::string expected;
  bool pass = false;
};

struct SectionResult {
  std::string markdown;  // the section body (reproducible: no timings or dates)
  std::vector<Check> checks;
};

struct Section {
  const char* name;   // used by --only and as the subcommand name
  const char* title;  // heading in the report
  SectionResult (*run)(const Options&);
};

// All sections in report order.
const std::vector<Section>& sections();

// Section implementations, one file each.
SectionResult seed_values(const Options& o);

}  // namespace sigma::tour

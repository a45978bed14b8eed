// The sigma CLI as a user runs it: output, exit codes and error lines.
// SIGMA_CLI is the path of the built binary and SIGMA_ACCURACY_DOC that of
// docs/ACCURACY.md (both set by CMake).
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "cli_run.h"
#include "sigma/kernels.h"
#include "sigma/op_list.h"

namespace {

using sigma::test::BadInput;
using sigma::test::CliRun;
CliRun run(const std::string& args) { return sigma::test::run_cli(args); }

// The rows of eval's table: the cells of every line after the header line
// (the one whose first cell is "x").
std::vector<std::vector<std::string>> table_rows(const std::string& out) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(out);
  std::string line;
  bool header_seen = false;
  while (std::getline(lines, line)) {
    std::istringstream cells(line);
    std::vector<std::string> row;
    for (std::string c; cells >> c;) row.push_back(c);
    if (header_seen) rows.push_back(row);
    else header_seen = !row.empty() && row[0] == "x";
  }
  return rows;
}

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

// Small literal-text parsers for the CLI's reports (no std::regex: GCC 12's
// <regex> trips -Wmaybe-uninitialized in sanitizer builds).

// What follows the first `key` in `s`, leading spaces skipped.
std::optional<std::string> after(const std::string& s, std::string_view key) {
  const auto at = s.find(key);
  if (at == std::string::npos) return std::nullopt;
  std::string rest = s.substr(at + key.size());
  rest.erase(0, rest.find_first_not_of(' '));
  return rest;
}

// The unsigned integer `s` starts with, if it starts with a digit.
std::optional<std::uint64_t> leading_uint(const std::string& s) {
  std::size_t n = 0;
  while (n < s.size() && std::isdigit(static_cast<unsigned char>(s[n]))) ++n;
  if (n == 0) return std::nullopt;
  return std::stoull(s.substr(0, n));
}

// The integer written just before the first `suffix` that follows digits
// ("12 inputs" for suffix " inputs").
std::optional<std::uint64_t> uint_before(const std::string& s, std::string_view suffix) {
  for (auto at = s.find(suffix); at != std::string::npos; at = s.find(suffix, at + 1)) {
    std::size_t begin = at;
    while (begin > 0 && std::isdigit(static_cast<unsigned char>(s[begin - 1]))) --begin;
    if (begin < at) return std::stoull(s.substr(begin, at - begin));
  }
  return std::nullopt;
}

TEST(SigmaCli, EvalPrintsTheSeedsValues) {
  const CliRun r = run("eval -3 -1 0 1 3");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto rows = table_rows(r.out);
  ASSERT_EQ(rows.size(), 5u) << r.out;
  const char* want[] = {"0.0474", "0.2689", "0.5000", "0.7311", "0.9526"};
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(rows[i].size(), 3u) << r.out;
    EXPECT_EQ(rows[i][1], want[i]);
    // sigma'(x) = sigma(x)(1 - sigma(x)) from the printed-precision-independent value.
    const double x = std::stod(rows[i][0]);
    const double s = 1 / (1 + std::exp(-x));
    EXPECT_NEAR(std::stod(rows[i][2]), s * (1 - s), 0.5e-4);
  }
  EXPECT_EQ(rows[2][2], "0.2500");
}

TEST(SigmaCli, EvalPrecisionDtypeAndExtremes) {
  CliRun r = run("eval --precision 8 --dtype f64 0.5");
  ASSERT_EQ(r.code, 0) << r.out;
  auto rows = table_rows(r.out);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0][1], "0.62245933");  // 1/(1+e^-0.5) = 0.6224593312...
  r = run("eval -100 inf -inf nan 20");
  ASSERT_EQ(r.code, 0) << r.out;
  rows = table_rows(r.out);
  ASSERT_EQ(rows.size(), 5u);
  // e^-100 = 3.720076e-44 is subnormal in f32 (spacing 1.4013e-45); the
  // kernel's contract is 1 ULP there, plus the printed rounding, and not 0.
  EXPECT_NEAR(std::stod(rows[0][1]), 3.720076e-44, 1.4013e-45 + 1e-48);
  EXPECT_EQ(rows[1][1], "1.0000");
  EXPECT_EQ(rows[2][1], "0.0000");
  EXPECT_EQ(rows[3][1], "nan");
  // Not 0 where y rounds to 1: e^-20/(1+e^-20)^2 = 2.0611536e-9, printed to 4 decimals.
  EXPECT_NEAR(std::stod(rows[4][2]), 2.0611536e-9, 0.5e-13);
}

TEST(SigmaCli, EvalTakesAnyValueAfterDoubleDash) {
  const CliRun r = run("eval 2 -- -0 -1e-40 -inf");
  ASSERT_EQ(r.code, 0) << r.out;
  const auto rows = table_rows(r.out);
  ASSERT_EQ(rows.size(), 4u) << r.out;
  EXPECT_EQ(rows[0][0], "2");  // in the order given
  EXPECT_EQ(rows[1][0], "-0");
  EXPECT_EQ(rows[1][1], "0.5000");
  EXPECT_EQ(rows[1][2], "0.2500");
  EXPECT_EQ(rows[2][1], "0.5000");  // sigma(-1e-40) = 0.5 - 2.5e-41
  EXPECT_EQ(rows[3][0], "-inf");
  EXPECT_EQ(rows[3][1], "0.0000");
}

// eval computes through the dispatched kernels and names the target; with
// SIGMA_TARGET it is that target, with the same values (every target gives
// the same bits).
TEST(SigmaCli, EvalHonoursSigmaTarget) {
  const std::vector<std::string> targets = sigma::kernels::available_targets();
  ASSERT_FALSE(targets.empty());
  const CliRun plain = sigma::test::run_cli_split("eval -3 0 20 1e-30", "SIGMA_TARGET=");
  ASSERT_EQ(plain.code, 0) << plain.err;
  EXPECT_NE(first_line(plain.out).find("SIMD target " + targets.front()), std::string::npos) << plain.out;
  for (const auto& t : targets) {
    const CliRun r = sigma::test::run_cli_split("eval -3 0 20 1e-30", "SIGMA_TARGET=" + t);
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(first_line(r.out).find("SIMD target " + t + " (SIGMA_TARGET)"), std::string::npos) << r.out;
    EXPECT_EQ(table_rows(r.out), table_rows(plain.out)) << t;
  }
}

// The CLI contract for bad input, one row per case: exactly one line on
// stderr starting with "sigma:" that names the option, the value and what is
// expected, nothing on stdout, exit status 2. The tour's and its sections'
// rows live with the tour's tests (tests/tools/tour/), checked by the same
// sigma::test::expect_bad_input.
std::vector<BadInput> kernel_command_rows() {
  const std::string targets = sigma::kernels::available_targets().front();
  return {
      {"bogus", "", 2, {"unknown command", "'bogus'", "eval"}},
      {"eval", "", 2, {"eval", "at least one value"}},
      {"eval abc", "", 2, {"eval", "'abc'", "not a number"}},
      {"eval 1 2x", "", 2, {"'2x'", "not a number"}},
      {"eval --bogus 3", "", 2, {"eval", "unknown option", "'--bogus'"}},
      {"eval -x 3", "", 2, {"unknown option", "'-x'"}},
      {"eval -- --bogus", "", 2, {"'--bogus'", "not a number"}},
      {"eval --dtype f16 1", "", 2, {"--dtype", "'f16'", "f32 or f64"}},
      {"eval --dtype '' 1", "", 2, {"--dtype", "''", "f32 or f64"}},
      {"eval --precision -1 1", "", 2, {"--precision", "'-1'", "from 0 to 17"}},
      {"eval --precision 99 1", "", 2, {"--precision", "'99'", "from 0 to 17"}},
      {"eval --precision 2.5 1", "", 2, {"--precision", "'2.5'", "integer"}},
      {"eval --precision '' 1", "", 2, {"--precision", "''"}},
      {"eval --precision", "", 2, {"--precision"}},
      {"eval 1", "SIGMA_TARGET=NOSUCH", 2, {"eval", "SIGMA_TARGET", "'NOSUCH'", targets}},
      {"accuracy --op nope", "", 2, {"accuracy", "--op", "'nope'", "sigmoid, ", "tanh_backward"}},
      {"accuracy --op ''", "", 2, {"--op", "''"}},
      {"accuracy --op bce_with_logits", "", 2, {"--op", "'bce_with_logits'"}},
      {"accuracy --dtype f16", "", 2, {"--dtype", "'f16'", "f32 or f64"}},
      {"accuracy --target nope", "", 2, {"--target", "'nope'", targets, "all"}},
      {"accuracy --target ''", "", 2, {"--target", "''"}},
      {"accuracy --step 0", "", 2, {"--step", "'0'", "from 1 to 4294967296"}},
      {"accuracy --step -3", "", 2, {"--step", "'-3'"}},
      {"accuracy --step 4294967297", "", 2, {"--step", "'4294967297'"}},
      {"accuracy --step 1e30", "", 2, {"--step", "'1e30'"}},
      {"accuracy --step abc", "", 2, {"--step", "'abc'", "integer"}},
      {"accuracy --step ''", "", 2, {"--step", "''"}},
      {"accuracy --dtype f64 --samples 0", "", 2, {"--samples", "'0'", "from 1 to"}},
      {"accuracy --dtype f64 --samples -5", "", 2, {"--samples", "'-5'"}},
      {"accuracy --dtype f64 --samples 1e13", "", 2, {"--samples", "'1e13'"}},
      {"accuracy --dtype f64 --samples 1.5", "", 2, {"--samples", "'1.5'", "integer"}},
      {"accuracy --dtype f64 --samples inf", "", 2, {"--samples", "'inf'"}},
      {"accuracy --dtype f64 --step 7", "", 2, {"--step", "f32", "--samples"}},
      {"accuracy --samples 100", "", 2, {"--samples", "f64", "--step"}},
      {"accuracy --bogus 1", "", 2, {"--bogus"}},
      {"accuracy --step 65537", "SIGMA_TARGET=NOSUCH", 2, {"accuracy", "SIGMA_TARGET", "'NOSUCH'", targets}},
      {"bench --op bce", "", 2, {"bench", "--op", "'bce'", "bce_with_logits"}},
      {"bench --op nope", "", 2, {"--op", "'nope'", "sigmoid, "}},
      {"bench --dtype f16", "", 2, {"--dtype", "'f16'", "f32 or f64"}},
      {"bench --sizes ''", "", 2, {"--sizes", "''", "comma-separated"}},
      {"bench --sizes -5", "", 2, {"--sizes", "'-5'"}},
      {"bench --sizes 0", "", 2, {"--sizes", "'0'", "from 1 to"}},
      {"bench --sizes 1,,2", "", 2, {"--sizes", "'1,,2'"}},
      {"bench --sizes 4096,abc", "", 2, {"--sizes", "'4096,abc'"}},
      {"bench --sizes 1e12", "", 2, {"--sizes", "'1e12'"}},
      {"bench --threads 0", "", 2, {"--threads", "'0'", "from 1 to 1024"}},
      {"bench --threads -1", "", 2, {"--threads", "'-1'"}},
      {"bench --threads 5000", "", 2, {"--threads", "'5000'"}},
      {"bench --threads two", "", 2, {"--threads", "'two'"}},
      {"bench --seconds 0", "", 2, {"--seconds", "'0'", "from 0.001 to 60"}},
      {"bench --seconds -1", "", 2, {"--seconds", "'-1'"}},
      {"bench --seconds 1e9", "", 2, {"--seconds", "'1e9'"}},
      {"bench --seconds nan", "", 2, {"--seconds", "'nan'"}},
      {"bench --sizes 64", "SIGMA_TARGET=NOSUCH", 2, {"bench", "SIGMA_TARGET", "'NOSUCH'", targets}},
  };
}

TEST(SigmaCli, BadInputIsOneLineAndExitTwo) {
  for (const BadInput& row : kernel_command_rows()) sigma::test::expect_bad_input(row);
}

TEST(SigmaCli, HelpAndVersion) {
  CliRun r = run("--version");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("sigma ", 0), 0u) << r.out;
  r = run("--help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("eval"), std::string::npos);
  EXPECT_NE(r.out.find("tour"), std::string::npos);
  // "the seed", which the tour and the help lines mention, is explained on one line.
  std::istringstream lines(r.out);
  int explained = 0;
  for (std::string line; std::getline(lines, line);)
    explained += line.rfind("The seed: ", 0) == 0 && line.find("sigmoid") != std::string::npos;
  EXPECT_EQ(explained, 1) << r.out;
}

TEST(SigmaCli, SubcommandHelpNamesWhatTheOptionsTake) {
  CliRun r = run("eval --help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("Usage: sigma eval [OPTIONS] [X...]"), std::string::npos) << r.out;
  r = run("accuracy --help");
  EXPECT_EQ(r.code, 0);
  // The --op line ends "Op: name, name, ...".
  std::optional<std::string> op_list;
  std::istringstream help_lines(r.out);
  for (std::string line; std::getline(help_lines, line) && !op_list;)
    if (const auto op = line.find("--op"); op != std::string::npos)
      if (const auto at = line.rfind("Op: "); at != std::string::npos && at > op) op_list = line.substr(at + 4);
  ASSERT_TRUE(op_list) << r.out;
  std::vector<std::string> listed, all(sigma::op_names.begin(), sigma::op_names.end());
  std::istringstream names(*op_list);
  for (std::string n; std::getline(names >> std::ws, n, ',');) listed.push_back(n);
  EXPECT_EQ(listed, all) << r.out;
  r = run("bench --help");
  EXPECT_EQ(r.code, 0);
  for (std::string_view op : sigma::op_names) EXPECT_NE(r.out.find(std::string(op)), std::string::npos) << op;
  EXPECT_NE(r.out.find("bce_with_logits"), std::string::npos) << r.out;
  std::istringstream lines(r.out);
  for (std::string line; std::getline(lines, line);)
    if (line.find("--dtype") != std::string::npos) {
      EXPECT_NE(line.find("f32 or f64"), std::string::npos) << line;
    }
}

// The README's spelling and the kernel's name both run the BCE-with-logits kernels.
TEST(SigmaCli, BenchRunsBceWithLogits) {
  for (const char* op : {"BCE-with-logits", "bce_with_logits", "bce_with_logits_backward"}) {
    const CliRun r = sigma::test::run_cli_split(std::string("bench --op ") + op +
                                                " --dtype f64 --sizes 64,1000 --seconds 0.001");
    ASSERT_EQ(r.code, 0) << op << ": " << r.err;
    EXPECT_EQ(r.err, "");
    EXPECT_NE(first_line(r.out).find("bce_with_logits"), std::string::npos) << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 4) << r.out;  // title, header, 2 sizes
  }
}

// --samples N runs exactly N inputs, whatever the block size.
TEST(SigmaCli, AccuracyRunsExactlyTheSamplesAsked) {
  for (int n : {1, 100000, 65537}) {
    const CliRun r =
        sigma::test::run_cli_split("accuracy --op tanh --dtype f64 --samples " + std::to_string(n));
    ASSERT_EQ(r.code, 0) << r.err;
    EXPECT_NE(first_line(r.out).find(": " + std::to_string(n) + " inputs"), std::string::npos) << r.out;
  }
}

// What one run of `sigma accuracy` reports.
struct AccuracyReport {
  std::uint64_t inputs = 0, nan_out = 0, nan_kept = 0, nan_in = 0;
  double max_ulp = NAN;
  std::string text;
};

AccuracyReport accuracy(const std::string& args) {
  const CliRun r = sigma::test::run_cli_split("accuracy " + args);
  AccuracyReport a;
  a.text = r.out + r.err;
  EXPECT_EQ(r.code, 0) << args << "\n" << a.text;
  if (const auto n = uint_before(r.out, " inputs")) a.inputs = *n;
  if (const auto e = after(r.out, "max error ")) a.max_ulp = std::stod(e->substr(0, e->find_first_of(" \n")));
  if (const auto n = after(r.out, "NaN outputs for non-NaN inputs "); n && leading_uint(*n))
    a.nan_out = *leading_uint(*n);
  else
    ADD_FAILURE() << "no NaN-output line\n" << a.text;
  if (const auto kept = after(r.out, "NaN inputs giving NaN "); kept && leading_uint(*kept)) {
    a.nan_kept = *leading_uint(*kept);
    if (const auto of = after(*kept, " of "); of && leading_uint(*of)) a.nan_in = *leading_uint(*of);
  }
  return a;
}

// A figure as docs/ACCURACY.md prints it: the value and half a unit of its
// last digit (0.780 stands for [0.7795, 0.7805)).
struct DocFigure {
  double value = NAN, half_unit = 0;
};

DocFigure parse_figure(const std::string& cell) {
  DocFigure f;
  const auto begin = std::find_if(cell.begin(), cell.end(), [](unsigned char c) { return std::isdigit(c); });
  if (begin == cell.end()) return f;
  auto end = std::find_if_not(begin, cell.end(), [](unsigned char c) { return std::isdigit(c); });
  int decimals = 0;
  if (end != cell.end() && *end == '.' && end + 1 != cell.end() && std::isdigit(static_cast<unsigned char>(end[1])))
    for (++end; end != cell.end() && std::isdigit(static_cast<unsigned char>(*end)); ++end) ++decimals;
  f.value = std::stod(std::string(begin, end));
  f.half_unit = 0.5 * std::pow(10.0, -double(decimals));
  return f;
}

struct DocRow {
  DocFigure f32;
  std::int64_t f32_step = 0;  // the f32 figure is over one bit pattern in f32_step (1: all)
  DocFigure f64, contract;
};

// The rows of the table under "## `sigma accuracy`, op by op", by op name:
// | op | f32 max | f32 inputs ("all 2^32" or "one in N") | f64 max | contract |.
std::vector<std::pair<std::string, DocRow>> accuracy_doc_table() {
  std::ifstream in(SIGMA_ACCURACY_DOC);
  EXPECT_TRUE(in) << "cannot read " << SIGMA_ACCURACY_DOC;
  std::vector<std::pair<std::string, DocRow>> rows;
  bool in_section = false;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("## ", 0) == 0) in_section = line == "## `sigma accuracy`, op by op";
    if (!in_section || line.rfind("| ", 0) != 0) continue;
    std::vector<std::string> cells;
    std::istringstream s(line.substr(1));
    for (std::string c; std::getline(s, c, '|');) cells.push_back(c);
    if (cells.size() < 5) continue;
    DocRow r{parse_figure(cells[1]), 0, parse_figure(cells[3]), parse_figure(cells[4])};
    if (cells[2].find("all 2^32") != std::string::npos) r.f32_step = 1;
    else if (const auto n = after(cells[2], "one in "); n && leading_uint(*n)) r.f32_step = std::int64_t(*leading_uint(*n));
    std::string op = cells[0];
    std::erase_if(op, [](unsigned char c) { return std::isspace(c) || c == '`'; });
    if (!std::isnan(r.f32.value)) rows.emplace_back(op, r);
  }
  return rows;
}

class SigmaAccuracyDocs : public testing::TestWithParam<std::string_view> {};

// `sigma accuracy` on one f32 bit pattern in 4097 = 17 * 241 (an odd step, so
// every exponent range is hit) plus the specials, and on the first 10^6 of the
// f64 inputs the default run uses: the maxima are finite and within what
// docs/ACCURACY.md gives for a superset (all 2^32 f32 inputs or one in 17, and
// all 10^7 default f64 ones), no non-NaN input gives NaN and every NaN input
// does.
TEST_P(SigmaAccuracyDocs, WithinTheDocumentedMaximum) {
  const std::string op(GetParam());
  const auto table = accuracy_doc_table();
  const auto row = std::find_if(table.begin(), table.end(), [&](const auto& r) { return r.first == op; });
  ASSERT_NE(row, table.end()) << op << " has no row in " << SIGMA_ACCURACY_DOC;
  const DocRow& doc = row->second;
  ASSERT_FALSE(std::isnan(doc.f64.value) || std::isnan(doc.contract.value)) << op;
  // The documented contract is the op list's (f32 and f64 state the same).
  const sigma::OpInfo& info = sigma::op_info(*sigma::op_from_name(op));
  EXPECT_EQ(doc.contract.value, info.ulp_f32) << op;
  EXPECT_EQ(doc.contract.value, info.ulp_f64) << op;
  constexpr std::int64_t kStep = 4097;
  ASSERT_TRUE(doc.f32_step > 0 && kStep % doc.f32_step == 0)
      << op << ": the documented f32 scan must include the test's inputs";

  const AccuracyReport f32 = accuracy("--op " + op + " --step " + std::to_string(kStep));
  EXPECT_GE(f32.inputs, (std::uint64_t{1} << 32) / kStep) << f32.text;
  const AccuracyReport f64 = accuracy("--op " + op + " --dtype f64 --samples 1000000");
  EXPECT_EQ(f64.inputs, 1000000u) << f64.text;
  for (const auto& [a, d] : {std::pair{f32, doc.f32}, std::pair{f64, doc.f64}}) {
    EXPECT_TRUE(std::isfinite(a.max_ulp)) << a.text;
    EXPECT_LE(a.max_ulp, d.value + d.half_unit) << a.text;
    EXPECT_LE(d.value, doc.contract.value) << op << ": the documented maximum breaks the contract";
    EXPECT_EQ(a.nan_out, 0u) << a.text;
    EXPECT_GT(a.nan_in, 0u) << a.text;
    EXPECT_EQ(a.nan_kept, a.nan_in) << a.text;
  }
  std::printf("%s: f32 %.4f (docs %g), f64 %.4f (docs %g)\n", op.c_str(), f32.max_ulp, doc.f32.value,
              f64.max_ulp, doc.f64.value);
}

INSTANTIATE_TEST_SUITE_P(EveryOp, SigmaAccuracyDocs, testing::ValuesIn(sigma::op_names),
                         [](const auto& param_info) { return std::string(param_info.param); });

// On a terminal the scan redraws one progress line with a percentage, and
// clears it before the report; into a pipe or file it prints only the report.
TEST(SigmaCli, AccuracyShowsProgressOnATerminalOnly) {
  const auto on_tty = sigma::test::run_on_terminal({"accuracy", "--op", "sigmoid", "--step", "4097"});
  if (!on_tty) GTEST_SKIP() << "no pseudo-terminal on this machine (forkpty failed)";
  const std::string& tty = *on_tty;
  EXPECT_NE(tty.find("\rsigmoid f32 on "), std::string::npos) << tty;
  EXPECT_NE(tty.find("%"), std::string::npos) << tty;
  EXPECT_NE(tty.find("max error"), std::string::npos) << tty;
  const CliRun piped = sigma::test::run_cli_split("accuracy --op sigmoid --step 4097");
  ASSERT_EQ(piped.code, 0);
  EXPECT_EQ(piped.out.find('\r'), std::string::npos) << piped.out;
  EXPECT_EQ(piped.out.find('%'), std::string::npos) << piped.out;
  EXPECT_EQ(piped.err, "");
}

}  // namespace

// The sigma CLI as a user runs it: output, exit codes and error lines.
// SIGMA_CLI is the path of the built binary (set by CMake).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "cli_run.h"

namespace {

using sigma::test::CliRun;
CliRun run(const std::string& args) { return sigma::test::run_cli(args); }

std::vector<std::vector<std::string>> table_rows(const std::string& out) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream lines(out);
  std::string line;
  std::getline(lines, line);  // header
  while (std::getline(lines, line)) {
    std::istringstream cells(line);
    std::vector<std::string> row;
    for (std::string c; cells >> c;) row.push_back(c);
    rows.push_back(row);
  }
  return rows;
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
  // e^-100 = 3.720076e-44 is subnormal in f32: within half the subnormal spacing
  // (1.4013e-45) plus the printed rounding, and not 0.
  EXPECT_NEAR(std::stod(rows[0][1]), 3.720076e-44, 0.5 * 1.4013e-45 + 1e-48);
  EXPECT_EQ(rows[1][1], "1.0000");
  EXPECT_EQ(rows[2][1], "0.0000");
  EXPECT_EQ(rows[3][1], "nan");
  // Not 0 where y rounds to 1: e^-20/(1+e^-20)^2 = 2.0611536e-9, printed to 4 decimals.
  EXPECT_NEAR(std::stod(rows[4][2]), 2.0611536e-9, 0.5e-13);
}

TEST(SigmaCli, BadInputIsOneLineAndExitTwo) {
  for (const char* args : {"eval abc", "eval 1 2x", "eval --dtype f16 1", "eval", "bogus",
                           "eval --precision -1 1"}) {
    const CliRun r = run(args);
    EXPECT_EQ(r.code, 2) << args << ": " << r.out;
    EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 1) << args << ": " << r.out;
    EXPECT_EQ(r.out.rfind("sigma: ", 0), 0u) << r.out;
  }
  EXPECT_NE(run("eval abc").out.find("'abc'"), std::string::npos);
}

TEST(SigmaCli, HelpAndVersion) {
  CliRun r = run("--version");
  EXPECT_EQ(r.code, 0);
  EXPECT_EQ(r.out.rfind("sigma ", 0), 0u) << r.out;
  r = run("--help");
  EXPECT_EQ(r.code, 0);
  EXPECT_NE(r.out.find("eval"), std::string::npos);
  EXPECT_NE(r.out.find("tour"), std::string::npos);
}

}  // namespace

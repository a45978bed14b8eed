// Runs the sigma CLI as a user would, for the tests of tools/: the binary's
// path is SIGMA_CLI (set by CMake). run_cli gives stdout and stderr together;
// run_cli_split keeps them apart and can set environment variables.
// expect_bad_input checks one row of a bad-input table (the CLI contract: one
// line on stderr starting with "sigma:", nothing on stdout, exit status 2 for
// bad input), so every subcommand's test can keep its own rows.
#pragma once

#include <gtest/gtest.h>
#include <pty.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <optional>
#include <string>
#include <vector>

namespace sigma::test {

struct CliRun {
  int code;         // exit status, -1 if the command did not exit normally
  std::string out;  // stdout and stderr together (run_cli) or stdout alone (run_cli_split)
  std::string err;  // stderr (run_cli_split only)
};

// `args` is shell text: quote as in a terminal (an empty argument is '').
inline CliRun run_shell(const std::string& cmd) {
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {-1, "", ""};
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out, ""};
}

inline CliRun run_cli(const std::string& args) {
  return run_shell(std::string(SIGMA_CLI) + " " + args + " 2>&1");
}

// env: "NAME=value ..." set for this run only, or empty.
inline CliRun run_cli_split(const std::string& args, const std::string& env = "") {
  char path[] = "/tmp/sigma_cli_stderr_XXXXXX";
  const int fd = ::mkstemp(path);
  if (fd < 0) return {-1, "", "mkstemp failed"};
  ::close(fd);
  CliRun r = run_shell((env.empty() ? "" : "env " + env + " ") + std::string(SIGMA_CLI) + " " + args +
                       " 2>" + path);
  std::ifstream f(path);
  r.err.assign(std::istreambuf_iterator<char>(f), std::istreambuf_iterator<char>());
  ::unlink(path);
  return r;
}

// Runs the CLI on a pseudo-terminal (link with util for forkpty) and returns
// everything it wrote; nothing when the machine cannot make one (a chroot
// without /dev/pts), so a test can skip instead of failing.
inline std::optional<std::string> run_on_terminal(std::vector<std::string> args) {
  int fd = -1;
  const pid_t pid = ::forkpty(&fd, nullptr, nullptr, nullptr);
  if (pid < 0) return std::nullopt;
  if (pid == 0) {
    std::vector<char*> argv{const_cast<char*>(SIGMA_CLI)};
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    ::execv(SIGMA_CLI, argv.data());
    ::_exit(127);
  }
  std::string out;
  char buf[4096];
  for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) > 0;) out.append(buf, std::size_t(n));
  ::close(fd);
  int status = 0;
  ::waitpid(pid, &status, 0);
  return out;
}

// One row of a bad-input table.
struct BadInput {
  std::string args;               // shell text after `sigma`
  std::string env;                // "NAME=value" for this run, or empty
  int code;                       // expected exit status: 2 bad input, 1 runtime failure
  std::vector<std::string> says;  // substrings the one stderr line must contain
};

inline void expect_bad_input(const BadInput& row) {
  const CliRun r = run_cli_split(row.args, row.env);
  const std::string what = (row.env.empty() ? "" : row.env + " ") + "sigma " + row.args + "\nstdout: " +
                           r.out + "\nstderr: " + r.err;
  EXPECT_EQ(r.code, row.code) << what;
  EXPECT_EQ(r.out, "") << what;
  EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << what;
  EXPECT_TRUE(!r.err.empty() && r.err.back() == '\n') << what;
  EXPECT_EQ(r.err.rfind("sigma: ", 0), 0u) << what;
  for (const auto& s : row.says)
    EXPECT_NE(r.err.find(s), std::string::npos) << "missing '" << s << "'\n" << what;
}

}  // namespace sigma::test

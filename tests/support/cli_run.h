// Runs the sigma CLI as a user would, for the tests of tools/: the binary's
// path is SIGMA_CLI (set by CMake), stdout and stderr come back together.
#pragma once

#include <sys/wait.h>

#include <array>
#include <cstdio>
#include <string>

namespace sigma::test {

struct CliRun {
  int code;         // exit status, -1 if the command did not exit normally
  std::string out;  // stdout and stderr together
};

inline CliRun run_cli(const std::string& args) {
  const std::string cmd = std::string(SIGMA_CLI) + " " + args + " 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  if (!p) return {-1, ""};
  std::string out;
  std::array<char, 4096> buf;
  while (std::size_t n = std::fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
  const int status = ::pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
}

}  // namespace sigma::test

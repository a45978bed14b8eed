// write_file_atomic: replaces whole files, creates parents, leaves no
// temporaries, and fails with the path in the message.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>

#include "sigma/io.h"

namespace fs = std::filesystem;

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

fs::path fresh_dir(const char* name) {
  const fs::path d = fs::temp_directory_path() / (std::string("sigma_io_") + name + "_" +
                                                  std::to_string(::getpid()));
  fs::remove_all(d);
  return d;
}

TEST(AtomicWrite, CreatesParentsAndReplacesContent) {
  const fs::path d = fresh_dir("replace");
  const fs::path f = d / "a" / "b" / "file.txt";
  sigma::io::write_file_atomic(f, "first version, longer than the second");
  EXPECT_EQ(slurp(f), "first version, longer than the second");
  sigma::io::write_file_atomic(f, std::string("second\0bytes", 12));
  EXPECT_EQ(slurp(f), std::string("second\0bytes", 12));
  int entries = 0;
  for (const auto& e : fs::directory_iterator(f.parent_path())) entries += 1 + 0 * e.is_regular_file();
  EXPECT_EQ(entries, 1) << "a temporary file was left behind";
  fs::remove_all(d);
}

TEST(AtomicWrite, FailureNamesPathAndKeepsOldFile) {
  const fs::path d = fresh_dir("fail");
  fs::create_directories(d);
  const fs::path blocker = d / "not_a_dir";
  sigma::io::write_file_atomic(blocker, "keep me");
  try {
    sigma::io::write_file_atomic(blocker / "child.txt", "x");
    FAIL() << "writing under a regular file succeeded";
  } catch (const std::runtime_error& e) {
    EXPECT_NE(std::string(e.what()).find("not_a_dir"), std::string::npos) << e.what();
  }
  EXPECT_EQ(slurp(blocker), "keep me");
  fs::remove_all(d);
}

}  // namespace

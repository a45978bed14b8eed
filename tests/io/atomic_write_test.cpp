// write_file_atomic (src/io/atomic_write.cpp), with both temporary-file
// schemes (unnamed O_TMPFILE and named O_EXCL): whole-file replacement,
// symbolic links followed and kept, permission bits and owners kept, the
// umask honoured for new files, a missing directory refused, non-regular
// targets refused, and no temporary file left after success, after a failed
// write (RLIMIT_FSIZE, which works for root too) or after a writer killed by
// SIGKILL in the middle of its write.
#include <gtest/gtest.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "io/atomic_write.h"
#include "sigma/error.h"
#include "sigma/io.h"
#include "tensor_checks.h"

namespace fs = std::filesystem;
using sigma::io::detail::TempFile;
using sigma::test::expect_error;

namespace sigma::io::detail {
void PrintTo(TempFile t, std::ostream* os) { *os << (t == TempFile::Unnamed ? "Unnamed" : "Named"); }
}  // namespace sigma::io::detail

namespace {

std::string slurp(const fs::path& p) {
  std::ifstream f(p, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

void write_plain(const fs::path& p, const std::string& bytes) {
  std::ofstream f(p, std::ios::binary | std::ios::trunc);
  f.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// The names in d, sorted (dot files included).
std::vector<std::string> entries(const fs::path& d) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(d)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

mode_t mode_of(const fs::path& p) {
  struct stat st;
  EXPECT_EQ(::stat(p.c_str(), &st), 0) << p;
  return st.st_mode & 07777;
}

// A string of n bytes that is not all one value.
std::string pattern(std::size_t n) {
  std::string s(n, '\0');
  for (std::size_t i = 0; i < n; ++i) s[i] = static_cast<char>((i * 131 + 7) % 251);
  return s;
}

// Limits the size of files this process writes to `bytes`, with SIGXFSZ
// ignored so write(2) fails with EFBIG instead; restored on destruction.
class FileSizeLimit {
 public:
  explicit FileSizeLimit(rlim_t bytes) {
    ::getrlimit(RLIMIT_FSIZE, &old_);
    old_handler_ = ::signal(SIGXFSZ, SIG_IGN);
    rlimit r = old_;
    r.rlim_cur = bytes;
    ok_ = ::setrlimit(RLIMIT_FSIZE, &r) == 0;
  }
  ~FileSizeLimit() {
    ::setrlimit(RLIMIT_FSIZE, &old_);
    ::signal(SIGXFSZ, old_handler_);
  }
  bool ok() const { return ok_; }

 private:
  rlimit old_{};
  void (*old_handler_)(int) = SIG_DFL;
  bool ok_ = false;
};

// Whether the file system under d makes unnamed files.
bool supports_o_tmpfile(const fs::path& d) {
  const int fd = ::open(d.c_str(), O_TMPFILE | O_WRONLY, 0600);
  if (fd < 0) return false;
  ::close(fd);
  return true;
}

class AtomicWrite : public ::testing::TestWithParam<TempFile> {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    std::string name = std::string(info->test_suite_name()) + "_" + info->name();
    std::replace(name.begin(), name.end(), '/', '_');
    dir_ = fs::temp_directory_path() / ("sigma_io_" + name + "_" + std::to_string(::getpid()));
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(dir_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(dir_);
  }
  void write(const fs::path& p, std::string_view bytes) const {
    sigma::io::detail::write_file_atomic("write_file_atomic", p, bytes, GetParam());
  }
  fs::path dir_;
};

TEST_P(AtomicWrite, ReplacesContentAndLeavesOnlyTheFile) {
  const fs::path f = dir_ / "file.txt";
  write(f, "first version, longer than the second");
  EXPECT_EQ(slurp(f), "first version, longer than the second");
  write(f, std::string("second\0bytes", 12));
  EXPECT_EQ(slurp(f), std::string("second\0bytes", 12));
  write(f, "");
  EXPECT_EQ(fs::file_size(f), 0u);
  const std::string big = pattern(3 << 20);
  write(f, big);
  EXPECT_EQ(slurp(f), big);
  EXPECT_EQ(entries(dir_), std::vector<std::string>{"file.txt"});
}

TEST_P(AtomicWrite, FollowsSymbolicLinksAndKeepsThem) {
  fs::create_directories(dir_ / "real");
  fs::create_directories(dir_ / "links");
  write_plain(dir_ / "real" / "data.bin", "old");
  // links/rel -> ../real/data.bin (relative to the link's directory), and
  // top -> links/rel (absolute): a chain of two.
  fs::create_symlink(fs::path("..") / "real" / "data.bin", dir_ / "links" / "rel");
  fs::create_symlink(dir_ / "links" / "rel", dir_ / "top");
  write(dir_ / "top", "through two links");
  EXPECT_TRUE(fs::is_symlink(dir_ / "top"));
  EXPECT_TRUE(fs::is_symlink(dir_ / "links" / "rel"));
  EXPECT_EQ(fs::read_symlink(dir_ / "top"), dir_ / "links" / "rel");
  EXPECT_EQ(fs::read_symlink(dir_ / "links" / "rel"), fs::path("..") / "real" / "data.bin");
  EXPECT_EQ(slurp(dir_ / "real" / "data.bin"), "through two links");
  write(dir_ / "links" / "rel", "through one");
  EXPECT_EQ(slurp(dir_ / "real" / "data.bin"), "through one");
  EXPECT_TRUE(fs::is_symlink(dir_ / "links" / "rel"));
  EXPECT_EQ(entries(dir_ / "real"), std::vector<std::string>{"data.bin"});
  EXPECT_EQ(entries(dir_ / "links"), std::vector<std::string>{"rel"});
  EXPECT_EQ(entries(dir_), (std::vector<std::string>{"links", "real", "top"}));
}

TEST_P(AtomicWrite, DanglingLinkCreatesItsTarget) {
  fs::create_symlink("target.bin", dir_ / "link");
  write(dir_ / "link", "created");
  EXPECT_TRUE(fs::is_symlink(dir_ / "link"));
  EXPECT_EQ(slurp(dir_ / "target.bin"), "created");
  EXPECT_EQ(entries(dir_), (std::vector<std::string>{"link", "target.bin"}));
  // The target's directory must exist like any other.
  fs::create_symlink(dir_ / "nowhere" / "t.bin", dir_ / "far");
  expect_error([&] { write(dir_ / "far", "x"); },
               {"write_file_atomic: cannot write '" + (dir_ / "far").string() +
                    "' (a symbolic link to '" + (dir_ / "nowhere" / "t.bin").string() + "')",
                "directory '" + (dir_ / "nowhere").string() + "' does not exist"});
  EXPECT_FALSE(fs::exists(dir_ / "nowhere"));
}

TEST_P(AtomicWrite, LinkLoopIsAnError) {
  fs::create_symlink("b", dir_ / "a");
  fs::create_symlink("a", dir_ / "b");
  expect_error([&] { write(dir_ / "a", "x"); },
               {"cannot write '" + (dir_ / "a").string() + "'", "symbolic links"});
  EXPECT_EQ(entries(dir_), (std::vector<std::string>{"a", "b"}));
}

TEST_P(AtomicWrite, KeepsPermissionBits) {
  const fs::path f = dir_ / "secret.bin";
  for (mode_t mode : {0600, 0640, 0755, 0444}) {
    write_plain(f, "old");
    ASSERT_EQ(::chmod(f.c_str(), mode), 0);
    write(f, "new");
    EXPECT_EQ(mode_of(f), mode) << std::oct << mode;
    EXPECT_EQ(slurp(f), "new");
  }
  EXPECT_EQ(entries(dir_), std::vector<std::string>{"secret.bin"});
}

TEST_P(AtomicWrite, NewFileGetsTheUmaskedMode) {
  const mode_t saved = ::umask(022);
  for (mode_t mask : {022, 077, 0, 027}) {
    ::umask(mask);
    const fs::path f = dir_ / ("new_" + std::to_string(mask));
    write(f, "x");
    EXPECT_EQ(mode_of(f), 0666 & ~mask) << "umask " << std::oct << mask;
  }
  ::umask(saved);
}

TEST_P(AtomicWrite, KeepsOwnerAndGroupWhenPermitted) {
  if (::geteuid() != 0) GTEST_SKIP() << "only root may give a file to another user";
  const fs::path f = dir_ / "owned.bin";
  write_plain(f, "old");
  ASSERT_EQ(::chown(f.c_str(), 12345, 23456), 0);
  ASSERT_EQ(::chmod(f.c_str(), 0640), 0);
  write(f, "new");
  struct stat st;
  ASSERT_EQ(::stat(f.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 12345u);
  EXPECT_EQ(st.st_gid, 23456u);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(slurp(f), "new");
}

TEST_P(AtomicWrite, MissingDirectoryIsRefused) {
  const fs::path f = dir_ / "a" / "b" / "file.txt";
  expect_error([&] { write(f, "x"); },
               {"write_file_atomic: cannot write '" + f.string() + "': directory '" +
                (dir_ / "a" / "b").string() + "' does not exist"});
  EXPECT_EQ(entries(dir_), std::vector<std::string>{});
  write_plain(dir_ / "plain", "keep me");
  expect_error([&] { write(dir_ / "plain" / "child.txt", "x"); },
               {"cannot write '" + (dir_ / "plain" / "child.txt").string() + "': '" +
                (dir_ / "plain").string() + "' is not a directory"});
  EXPECT_EQ(slurp(dir_ / "plain"), "keep me");
}

TEST_P(AtomicWrite, DirectoryTargetIsRefused) {
  fs::create_directories(dir_ / "d");
  write_plain(dir_ / "d" / "inside", "kept");
  expect_error([&] { write(dir_ / "d", "x"); },
               {"cannot write '" + (dir_ / "d").string() + "': it is a directory"});
  expect_error([&] { write(dir_ / "d" / "", "x"); }, {"the path names a directory"});
  EXPECT_EQ(slurp(dir_ / "d" / "inside"), "kept");
  EXPECT_EQ(entries(dir_), std::vector<std::string>{"d"});
  EXPECT_EQ(entries(dir_ / "d"), std::vector<std::string>{"inside"});
}

TEST_P(AtomicWrite, NonRegularTargetIsRefused) {
  ASSERT_EQ(::mkfifo((dir_ / "fifo").c_str(), 0600), 0);
  expect_error([&] { write(dir_ / "fifo", "x"); },
               {"cannot write '" + (dir_ / "fifo").string() + "': it exists and is not a regular"});
  EXPECT_TRUE(fs::is_fifo(dir_ / "fifo"));
  EXPECT_EQ(entries(dir_), std::vector<std::string>{"fifo"});
}

// A replacement of an existing file that fails half way (the file-size limit
// stops the write at 64 KiB; this works for root too).
TEST_P(AtomicWrite, FailedReplacementKeepsTheOldFileAndLeavesNoTemporary) {
  const fs::path f = dir_ / "model.bin";
  const std::string old_bytes = pattern(1000);
  write(f, old_bytes);
  ASSERT_EQ(::chmod(f.c_str(), 0600), 0);
  std::string message;
  {
    FileSizeLimit limit(64 << 10);
    ASSERT_TRUE(limit.ok());
    try {
      write(f, pattern(1 << 20));
    } catch (const std::runtime_error& e) {
      message = e.what();
    }
  }
  EXPECT_NE(message.find("write_file_atomic: cannot write '" + f.string() + "'"),
            std::string::npos)
      << message;
  EXPECT_NE(message.find(std::system_category().message(EFBIG)), std::string::npos) << message;
  EXPECT_EQ(slurp(f), old_bytes);
  EXPECT_EQ(mode_of(f), 0600u);
  EXPECT_EQ(entries(dir_), std::vector<std::string>{"model.bin"});
}

TEST_P(AtomicWrite, UnwritableDirectoryLeavesNothing) {
  if (::geteuid() == 0) GTEST_SKIP() << "root ignores directory permissions";
  const fs::path f = dir_ / "ro" / "file.txt";
  fs::create_directories(f.parent_path());
  write_plain(f, "old");
  fs::permissions(f.parent_path(), fs::perms::owner_read | fs::perms::owner_exec);
  expect_error([&] { write(f, "new"); },
               {"cannot write '" + f.string() + "'", "cannot create a temporary file"});
  fs::permissions(f.parent_path(), fs::perms::owner_all);
  EXPECT_EQ(slurp(f), "old");
  EXPECT_EQ(entries(f.parent_path()), std::vector<std::string>{"file.txt"});
}

// A writer killed by SIGKILL in the middle of its write(2): the child limits
// its file size, and the SIGXFSZ the kernel sends when the write reaches the
// limit makes it SIGKILL itself, so the kill lands at a known point without
// any timing. The unnamed temporary file vanishes with the process; a named
// one (the fallback where O_TMPFILE is unsupported) stays behind.
TEST_P(AtomicWrite, WriterKilledMidWriteLeavesTheOldFile) {
  const fs::path f = dir_ / "model.bin";
  const std::string old_bytes = pattern(5000);
  write(f, old_bytes);
  const std::string new_bytes = pattern(4 << 20);
  const pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, [](int) { ::kill(::getpid(), SIGKILL); });
    rlimit r;
    ::getrlimit(RLIMIT_FSIZE, &r);
    r.rlim_cur = 1 << 20;
    if (::setrlimit(RLIMIT_FSIZE, &r) != 0) ::_exit(2);
    try {
      sigma::io::detail::write_file_atomic("write_file_atomic", f, new_bytes, GetParam());
    } catch (...) {
      ::_exit(3);
    }
    ::_exit(4);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status)) << "child exited with " << WEXITSTATUS(status);
  EXPECT_EQ(WTERMSIG(status), SIGKILL);
  EXPECT_EQ(slurp(f), old_bytes);
  const std::vector<std::string> names = entries(dir_);
  if (GetParam() == TempFile::Unnamed && supports_o_tmpfile(dir_)) {
    EXPECT_EQ(names, std::vector<std::string>{"model.bin"});
  } else {
    ASSERT_EQ(names.size(), 2u);
    EXPECT_EQ(names[0].rfind(".model.bin.tmp.", 0), 0u) << names[0];
    EXPECT_EQ(names[1], "model.bin");
  }
}

INSTANTIATE_TEST_SUITE_P(TempFiles, AtomicWrite,
                         ::testing::Values(TempFile::Unnamed, TempFile::Named),
                         [](const auto& p) {
                           return p.param == TempFile::Unnamed ? "Unnamed" : "Named";
                         });

// The public entry point: its messages name it, and its error is a
// sigma::Error, which callers catching std::runtime_error still catch.
TEST(AtomicWritePublic, ErrorsAreSigmaErrorsAndRuntimeErrors) {
  const fs::path missing = fs::temp_directory_path() /
                           ("sigma_io_missing_" + std::to_string(::getpid())) / "f.txt";
  EXPECT_THROW(sigma::io::write_file_atomic(missing, "x"), std::runtime_error);
  expect_error([&] { sigma::io::write_file_atomic(missing, "x"); },
               {"write_file_atomic: cannot write '" + missing.string() + "'", "does not exist"});
  expect_error([&] { sigma::io::write_file_atomic("", "x"); }, {"write_file_atomic: the path is empty"});
}

TEST(AtomicWritePublic, RelativePathInTheWorkingDirectory) {
  const fs::path d = fs::temp_directory_path() / ("sigma_io_cwd_" + std::to_string(::getpid()));
  fs::remove_all(d);
  fs::create_directories(d);
  const fs::path saved = fs::current_path();
  fs::current_path(d);
  sigma::io::write_file_atomic("plain.txt", "here");
  fs::current_path(saved);
  EXPECT_EQ(slurp(d / "plain.txt"), "here");
  EXPECT_EQ(entries(d), std::vector<std::string>{"plain.txt"});
  fs::remove_all(d);
}

}  // namespace

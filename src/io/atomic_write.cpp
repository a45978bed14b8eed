// atomic_write.cpp: whole-file replacement that a crash cannot tear.
//
// The bytes go to an unnamed file in the target's directory (O_TMPFILE), are
// fsynced, then the file is linked in under a temporary name and renamed over
// the target, and the directory is fsynced. A process killed while writing
// leaves nothing behind: the unnamed file vanishes with its descriptor. Only
// a kill between linkat and rename (two system calls, no I/O between them)
// can leave a ".<name>.tmp.<random>" file. Where O_TMPFILE or linking it is
// unsupported, a named temporary file created with O_EXCL takes its place
// (and a kill while writing leaves it behind).
//
// Symbolic links are followed to their final target, which is replaced and
// the links kept; a dangling link's target is created. An existing file's
// permission bits (and, where the process may set them, owner and group) are
// kept; a new file gets 0666 & ~umask, as open(2) gives it. The directory must
// exist. Every failure removes the temporary file it made.
#include "io/atomic_write.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>
#include <system_error>

#include "sigma/error.h"
#include "sigma/io.h"

namespace sigma::io {
namespace detail {
namespace {

namespace fs = std::filesystem;

// Linux's limit on the symbolic links followed in one lookup.
constexpr int kMaxLinks = 40;

// Built by appending: g++ 12 misreports -Wrestrict on "'" + s.
std::string quote(const fs::path& p) {
  std::string s(1, '\'');
  s += p.string();
  s += '\'';
  return s;
}

std::string error_text(int err) { return std::system_category().message(err); }

class Fd {
 public:
  explicit Fd(int fd = -1) noexcept : fd_(fd) {}
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() {
    if (fd_ >= 0) ::close(fd_);
  }
  int get() const noexcept { return fd_; }
  // Closes now; 0 or the errno of close(2).
  int close() noexcept {
    const int fd = fd_;
    fd_ = -1;
    return ::close(fd) == 0 ? 0 : errno;
  }

 private:
  int fd_;
};

// What the messages say about the destination: the path, and the link's
// target when the path is a symbolic link.
struct Destination {
  const char* op;
  fs::path path;    // as given
  fs::path target;  // the file actually replaced
  fs::path dir;
  std::string name;

  [[noreturn]] void fail(const std::string& problem) const {
    std::string where = quote(path);
    if (target != path) where += " (a symbolic link to " + quote(target) + ")";
    throw Error(std::string(op) + ": cannot write " + where + ": " + problem);
  }
  [[noreturn]] void fail(const std::string& problem, int err) const {
    fail(problem + ": " + error_text(err));
  }
};

// Follows a chain of symbolic links to the path that is not one (or does not
// exist: a dangling link's target).
fs::path resolve_links(const char* op, const fs::path& path) {
  fs::path p = path;
  for (int hops = 0;; ++hops) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0 || !S_ISLNK(st.st_mode)) return p;
    if (hops == kMaxLinks)
      throw Error(std::string(op) + ": cannot write " + quote(path) + ": " + error_text(ELOOP));
    std::error_code ec;
    const fs::path next = fs::read_symlink(p, ec);
    if (ec)
      throw Error(std::string(op) + ": cannot write " + quote(path) + ": cannot read link " +
                  quote(p) + ": " + ec.message());
    p = next.is_absolute() ? next : p.parent_path() / next;
  }
}

// ".<name>.tmp.<8 random characters>", the name cut to stay below NAME_MAX.
std::string temp_name(const std::string& name) {
  static std::atomic<std::uint64_t> counter{0};
  std::uint64_t z = static_cast<std::uint64_t>(::getpid()) * 0x9E3779B97F4A7C15ull +
                    static_cast<std::uint64_t>(
                        std::chrono::steady_clock::now().time_since_epoch().count()) +
                    counter.fetch_add(1) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  z ^= z >> 31;
  static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(1, '.');
  out.append(name, 0, 200);
  out += ".tmp.";
  for (int i = 0; i < 8; ++i, z /= 36) out += kAlphabet[z % 36];
  return out;
}

// Writes every byte, gives the file the old file's owner and mode, and
// flushes it; 0 or an errno.
int fill(int fd, std::string_view bytes, const struct stat* old) {
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (old) {
    // Only root, or an owner moving the file between its groups, may do this;
    // otherwise the file belongs to the writer, as with any new file.
    if (old->st_uid != ::geteuid() || old->st_gid != ::getegid())
      (void)::fchown(fd, old->st_uid, old->st_gid);
    if (::fchmod(fd, old->st_mode & 07777) != 0) return errno;
  }
  return ::fsync(fd) == 0 ? 0 : errno;
}

// Renames the temporary file over the target and flushes the directory; the
// temporary file is removed if the rename fails.
void commit(const Destination& d, int dirfd, const std::string& tmp) {
  if (::renameat(dirfd, tmp.c_str(), dirfd, d.name.c_str()) != 0) {
    const int err = errno;
    ::unlinkat(dirfd, tmp.c_str(), 0);
    d.fail("cannot rename the temporary file over it", err);
  }
  // EINVAL: the file system cannot sync directories.
  if (::fsync(dirfd) != 0) {
    const int err = errno;
    if (err != EINVAL)
      d.fail("the file was replaced, but flushing directory " + quote(d.dir) + " failed", err);
  }
}

void write_named(const Destination& d, int dirfd, std::string_view bytes,
                 const struct stat* old) {
  std::string tmp;
  int fd = -1;
  for (int attempt = 0; fd < 0; ++attempt) {
    tmp = temp_name(d.name);
    fd = ::openat(dirfd, tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC,
                  old ? 0600 : 0666);
    const int err = fd < 0 ? errno : 0;
    if (fd < 0 && (err != EEXIST || attempt == 100))
      d.fail("cannot create a temporary file in " + quote(d.dir), err);
  }
  Fd file(fd);
  auto fail_and_remove = [&](const char* what, int err) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    d.fail(what, err);
  };
  if (const int err = fill(file.get(), bytes, old)) {
    file.close();
    fail_and_remove("cannot write the temporary file", err);
  }
  if (const int err = file.close()) fail_and_remove("cannot close the temporary file", err);
  commit(d, dirfd, tmp);
}

// Gives the unnamed file fd the name tmp in dirfd: through /proc (any user),
// else AT_EMPTY_PATH (needs CAP_DAC_READ_SEARCH). 0 or an errno.
int link_unnamed(int fd, int dirfd, const std::string& tmp) {
  char proc[64];
  std::snprintf(proc, sizeof proc, "/proc/self/fd/%d", fd);
  if (::linkat(AT_FDCWD, proc, dirfd, tmp.c_str(), AT_SYMLINK_FOLLOW) == 0) return 0;
  if (errno == EEXIST) return EEXIST;
  if (::linkat(fd, "", dirfd, tmp.c_str(), AT_EMPTY_PATH) == 0) return 0;
  return errno;
}

// false when the file system cannot make or link unnamed files (nothing was
// written then); throws on any other failure.
bool write_unnamed(const Destination& d, int dirfd, std::string_view bytes,
                   const struct stat* old) {
  Fd file(::openat(dirfd, ".", O_TMPFILE | O_WRONLY | O_CLOEXEC, old ? 0600 : 0666));
  if (file.get() < 0) {
    const int err = errno;
    if (err == EOPNOTSUPP || err == EISDIR || err == EINVAL) return false;
    d.fail("cannot create a temporary file in " + quote(d.dir), err);
  }
  if (const int err = fill(file.get(), bytes, old)) d.fail("cannot write the temporary file", err);
  std::string tmp;
  for (int attempt = 0;; ++attempt) {
    tmp = temp_name(d.name);
    const int err = link_unnamed(file.get(), dirfd, tmp);
    if (err == 0) break;
    if (err == EEXIST && attempt < 100) continue;
    if (err == ENOENT || err == EPERM || err == EOPNOTSUPP) return false;
    d.fail("cannot link the temporary file into " + quote(d.dir), err);
  }
  if (const int err = file.close()) {
    ::unlinkat(dirfd, tmp.c_str(), 0);
    d.fail("cannot close the temporary file", err);
  }
  commit(d, dirfd, tmp);
  return true;
}

}  // namespace

void write_file_atomic(const char* op, const fs::path& path, std::string_view bytes,
                       TempFile temp) {
  if (path.empty()) throw Error(std::string(op) + ": the path is empty");
  Destination d{op, path, resolve_links(op, path), {}, {}};
  d.dir = d.target.has_parent_path() ? d.target.parent_path() : fs::path(".");
  d.name = d.target.filename().string();
  if (d.name.empty() || d.name == "." || d.name == "..") d.fail("the path names a directory");

  Fd dir(::open(d.dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (dir.get() < 0) {
    const int err = errno;
    if (err == ENOENT) d.fail("directory " + quote(d.dir) + " does not exist");
    if (err == ENOTDIR) d.fail(quote(d.dir) + " is not a directory");
    d.fail("cannot open directory " + quote(d.dir), err);
  }
  struct stat old;
  const bool exists = ::fstatat(dir.get(), d.name.c_str(), &old, AT_SYMLINK_NOFOLLOW) == 0;
  const int stat_err = exists ? 0 : errno;
  if (!exists && stat_err != ENOENT) d.fail("cannot inspect the existing file", stat_err);
  if (exists && S_ISDIR(old.st_mode)) d.fail("it is a directory");
  if (exists && !S_ISREG(old.st_mode)) d.fail("it exists and is not a regular file");

  const struct stat* keep = exists ? &old : nullptr;
  if (temp == TempFile::Unnamed && write_unnamed(d, dir.get(), bytes, keep)) return;
  write_named(d, dir.get(), bytes, keep);
}

}  // namespace detail

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  detail::write_file_atomic("write_file_atomic", path, bytes);
}

}  // namespace sigma::io

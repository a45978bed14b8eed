// Atomic file replacement: temp file in the target directory + fsync + rename.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

#include "sigma/io.h"

namespace sigma::io {
namespace {

[[noreturn]] void fail(const std::string& what, const std::filesystem::path& p, int err) {
  throw std::runtime_error(what + " '" + p.string() + "': " + std::strerror(err));
}

}  // namespace

void write_file_atomic(const std::filesystem::path& path, std::string_view bytes) {
  const auto dir = path.has_parent_path() ? path.parent_path() : std::filesystem::path(".");
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) fail("cannot create directory", dir, ec.value());

  std::string name = path.filename().string();
  name.insert(name.begin(), '.');
  name.append(".tmp.XXXXXX");
  std::string tmpl = (dir / name).string();
  const int fd = ::mkstemp(tmpl.data());
  if (fd < 0) fail("cannot create a temporary file for", path, errno);
  const std::filesystem::path tmp = tmpl;
  auto cleanup_and_fail = [&](const std::string& what) {
    const int err = errno;
    ::close(fd);
    ::unlink(tmp.c_str());
    fail(what, path, err);
  };
  const char* p = bytes.data();
  std::size_t left = bytes.size();
  while (left > 0) {
    const ssize_t n = ::write(fd, p, left);
    if (n < 0) {
      if (errno == EINTR) continue;
      cleanup_and_fail("cannot write");
    }
    p += n;
    left -= static_cast<std::size_t>(n);
  }
  if (::fchmod(fd, 0644) != 0 || ::fsync(fd) != 0) cleanup_and_fail("cannot flush");
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot close", path, err);
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    const int err = errno;
    ::unlink(tmp.c_str());
    fail("cannot rename temporary file onto", path, err);
  }
}

}  // namespace sigma::io

// atomic_write.h: write_file_atomic with the caller's operation name in its
// messages, and a choice of temporary file for the tests (internal).
#pragma once

#include <filesystem>
#include <string_view>

namespace sigma::io::detail {

enum class TempFile {
  Unnamed,  // O_TMPFILE, falling back to Named where the file system lacks it
  Named,    // a ".<name>.tmp.<random>" file created with O_EXCL
};

// sigma::io::write_file_atomic; errors start with `op` ("save: ...").
void write_file_atomic(const char* op, const std::filesystem::path& path, std::string_view bytes,
                       TempFile temp = TempFile::Unnamed);

}  // namespace sigma::io::detail

// sigma/io.h: file helpers shared by checkpoints, reports and the CLI.
#pragma once

#include <filesystem>
#include <string_view>

namespace sigma::io {

// Writes `bytes` to `path` atomically: the data goes to a temporary file in the
// same directory, is flushed to disk, then renamed over `path`. A reader never
// sees a half-written file and a failure leaves any old file untouched.
// Creates missing parent directories. Throws std::runtime_error naming the path
// and the system error on failure.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

}  // namespace sigma::io

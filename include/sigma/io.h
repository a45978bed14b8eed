// sigma/io.h: file helpers shared by checkpoints, reports and the CLI.
#pragma once

#include <filesystem>
#include <string_view>

namespace sigma::io {

// Writes `bytes` to `path` atomically: the data goes to a temporary file in
// the same directory (unnamed where the file system allows, so a killed
// process leaves nothing), is flushed to disk, then renamed over `path`, and
// the directory is flushed. A reader never sees a half-written file and a
// failure leaves any old file untouched and no temporary file behind.
//   - A symbolic link is followed: its final target is replaced and the link
//     stays a link; a dangling link's target is created.
//   - An existing file keeps its permission bits (and its owner and group
//     where the process may set them); a new file gets 0666 & ~umask.
//   - The parent directory must exist: it is not created.
//   - The target must be a regular file if it exists.
// Throws sigma::Error (a std::runtime_error) naming the path, the problem and
// the system error.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

}  // namespace sigma::io

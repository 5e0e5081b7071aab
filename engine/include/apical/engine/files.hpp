#pragma once
// Files that must never be seen half-written (checkpoints, training files,
// summaries): each is written to a temporary file in the same directory,
// flushed to disk and renamed over the target (a rename within a directory
// is atomic on POSIX), so a crash leaves the old file or the new one, never
// a mixture.
#include <filesystem>
#include <initializer_list>
#include <string_view>

namespace apical {

// Replaces `file` with `bytes` atomically (see above); a failure leaves any
// previous file as it was. Throws file_error naming the file.
void write_file_atomically(const std::filesystem::path& file, std::string_view bytes);
// The same with the file's bytes in pieces, written one after the other.
void write_file_atomically(const std::filesystem::path& file,
                           std::initializer_list<std::string_view> pieces);

}  // namespace apical

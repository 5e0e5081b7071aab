#include "apical/engine/files.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <string>
#include <system_error>

#include <fmt/format.h>

#include "apical/engine/error.hpp"

namespace apical {

namespace {
std::string os_error() { return std::error_code(errno, std::generic_category()).message(); }
}  // namespace

void write_file_atomically(const std::filesystem::path& file, std::string_view bytes) {
  write_file_atomically(file, {bytes});
}

void write_file_atomically(const std::filesystem::path& file,
                           std::initializer_list<std::string_view> pieces) {
  const auto tmp = file.string() + fmt::format(".tmp{}", ::getpid());
  const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) throw file_error(fmt::format("{}: cannot create: {}", tmp, os_error()));
  std::size_t total = 0;
  for (const auto bytes : pieces) {
    std::size_t done = 0;
    while (done < bytes.size()) {
      const ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        const auto why = os_error();
        ::close(fd);
        ::unlink(tmp.c_str());
        throw file_error(fmt::format("{}: write failed after {} bytes: {}", tmp, total + done, why));
      }
      done += static_cast<std::size_t>(n);
    }
    total += done;
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    const auto why = os_error();
    ::unlink(tmp.c_str());
    throw file_error(fmt::format("{}: flush to disk failed: {}", tmp, why));
  }
  if (::rename(tmp.c_str(), file.c_str()) != 0) {
    const auto why = os_error();
    ::unlink(tmp.c_str());
    throw file_error(fmt::format("{}: cannot rename to {}: {}", tmp, file.string(), why));
  }
  // The rename itself reaches the disk with the directory.
  auto dir = file.parent_path();
  if (dir.empty()) dir = ".";
  if (const int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC); dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

}  // namespace apical

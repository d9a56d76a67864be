#include "io/output_place.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <filesystem>

namespace slimformer::io {
namespace {

namespace fs = std::filesystem;

bool starts_with(const std::string& s, const std::string& prefix) { return s.compare(0, prefix.size(), prefix) == 0; }

// "12" -> 12; -1 unless the whole text is a non-negative integer.
int whole_number(const std::string& text) {
  int v = -1;
  const auto res = std::from_chars(text.data(), text.data() + text.size(), v);
  return res.ec == std::errc() && res.ptr == text.data() + text.size() && !text.empty() ? v : -1;
}

// The descriptor of this process that an absolute, normalized path names, or -1.
int own_descriptor(const std::string& p) {
  if (p == "/dev/stdin") return 0;
  if (p == "/dev/stdout") return 1;
  if (p == "/dev/stderr") return 2;
  for (const std::string& prefix : {std::string("/dev/fd/"), std::string("/proc/self/fd/"),
                                   std::string("/proc/thread-self/fd/"),
                                   "/proc/" + std::to_string(::getpid()) + "/fd/"}) {
    if (starts_with(p, prefix)) return whole_number(p.substr(prefix.size()));
  }
  return -1;
}

// `p` with its folder resolved (symlinks, "..") and its last component kept as written, so a
// last component that is a link can be looked at on its own.
fs::path resolve_folder(const fs::path& p) {
  std::error_code ec;
  const fs::path abs = fs::absolute(p, ec).lexically_normal();
  if (abs.filename().empty()) return abs;
  const fs::path folder = fs::weakly_canonical(abs.parent_path(), ec);
  return ec ? abs : folder / abs.filename();
}

}  // namespace

OutputPlace output_place(const std::string& target) {
  OutputPlace place;
  place.path = target;
  fs::path p = target;
  for (int hop = 0; hop < 40; ++hop) {   // the kernel's own limit on a symlink chain
    const fs::path resolved = resolve_folder(p);
    const int fd = own_descriptor(resolved.string());
    if (fd >= 0 || starts_with(resolved.string(), "/proc/")) {
      place.in_place = true;
      place.path = resolved.string();
      place.own_fd = fd;
      return place;
    }
    struct stat st {};
    if (::lstat(resolved.c_str(), &st) != 0) {   // a new file (or one a dangling link names)
      place.path = hop == 0 ? target : resolved.string();
      return place;
    }
    if (S_ISLNK(st.st_mode)) {
      std::error_code ec;
      const fs::path link = fs::read_symlink(resolved, ec);
      if (ec) return place;
      p = link.is_absolute() ? link : resolved.parent_path() / link;
      continue;
    }
    if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode)) {   // device, FIFO, socket
      place.in_place = true;
      place.path = resolved.string();
      return place;
    }
    place.path = hop == 0 ? target : resolved.string();   // as written, for messages, when no link
    return place;
  }
  return place;   // a link loop: opening it fails with the system's own message
}

int open_in_place(const OutputPlace& place) {
  if (place.own_fd >= 0) return ::fcntl(place.own_fd, F_DUPFD_CLOEXEC, 3);
  return ::open(place.path.c_str(), O_WRONLY | O_NOCTTY | O_CLOEXEC);
}

}  // namespace slimformer::io

#include "io/atomic_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "io/output_place.h"
#include "slimformer/checkpoint.h"
#include "slimformer/error.h"

namespace slimformer {
namespace io {

AtomicFile::AtomicFile(const std::string& target) : target_(target) {
  const std::filesystem::path p(target);
  if (p.filename().empty()) throw IoError("cannot write '" + target + "': not a file name");
  const OutputPlace place = output_place(target);
  if (place.in_place) {
    fd_ = open_in_place(place);
    if (fd_ < 0) fail("cannot open it for writing");
    return;
  }
  final_ = place.path;
  const std::filesystem::path final_path(final_);
  const std::filesystem::path dir = final_path.parent_path().empty() ? "." : final_path.parent_path();
  // Same folder as the target, so rename() is atomic (never a cross-device copy).
  temp_ = (dir / ("." + final_path.filename().string() + ".tmp-XXXXXX")).string();
  fd_ = ::mkstemp(temp_.data());
  if (fd_ < 0) {
    const std::string err = std::strerror(errno);
    temp_.clear();
    throw IoError("cannot write '" + target + "': cannot create a temporary file in '" + dir.string() +
                  "': " + err);
  }
  temp_guard_ = CleanupGuard(temp_, CleanupKind::File);
  ::fchmod(fd_, 0644);  // mkstemp makes 0600; outputs are ordinary readable files
}

AtomicFile::~AtomicFile() {
  if (fd_ >= 0) ::close(fd_);
  if (!committed_ && !temp_.empty()) ::unlink(temp_.c_str());
}

void AtomicFile::fail(const std::string& what) {
  const std::string err = std::strerror(errno);
  throw IoError("cannot write '" + target_ + "': " + what + ": " + err);
}

void AtomicFile::write(const void* data, size_t n) {
  const auto* p = static_cast<const char*>(data);
  while (n > 0) {
    const ssize_t w = ::write(fd_, p, n);
    if (w < 0 && errno == EINTR) continue;
    if (w == 0) errno = ENOSPC;   // a zero-length write of a non-empty buffer: no room
    if (w <= 0) fail("write failed");
    p += w;
    n -= static_cast<size_t>(w);
  }
}

void AtomicFile::commit() {
  // A device or a pipe has nothing to sync (fsync says EINVAL); only a replaced file is synced.
  if (!in_place() && ::fsync(fd_) != 0) fail("fsync failed");
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("close failed");
  if (!in_place() && ::rename(temp_.c_str(), final_.c_str()) != 0) fail("rename into place failed");
  committed_ = true;
  temp_guard_.release();
}

}  // namespace io

void write_file_atomic(const std::string& path, const std::string& contents) {
  io::AtomicFile f(path);
  f.write(contents.data(), contents.size());
  f.commit();
}

std::string read_text_file(const std::string& path) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) throw IoError("cannot read '" + path + "': it is a folder");
  std::ifstream in(path, std::ios::binary);
  if (!in) throw IoError("cannot open '" + path + "': " + std::strerror(errno));
  std::ostringstream ss;
  ss << in.rdbuf();
  if (in.bad()) throw IoError("cannot read '" + path + "'");
  return ss.str();
}

}  // namespace slimformer

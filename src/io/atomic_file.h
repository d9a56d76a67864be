// A file written beside its target and renamed into place on commit(), so readers see either the
// old file or the complete new one. Destroyed without commit(), or when the process is killed by
// a signal (io/signal_cleanup.h), it removes its temporary file. A target that is not a regular
// file (a device, a FIFO, /dev/stdout, a descriptor; io/output_place.h) is written in place
// instead: it cannot be renamed over, and is never replaced by a regular file.
#pragma once
#include <cstddef>
#include <string>

#include "io/signal_cleanup.h"

namespace slimformer::io {

class AtomicFile {
 public:
  explicit AtomicFile(const std::string& target);   // IoError if the folder is not writable
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);            // IoError on a short write (disk full)
  void commit();                                     // fsync, close, rename over the target
  const std::string& temp_path() const { return temp_; }   // "" when written in place
  bool in_place() const { return temp_.empty(); }

 private:
  void fail(const std::string& what);
  std::string target_, temp_, final_;   // final_: the file renamed over (symlinks followed)
  int fd_ = -1;
  bool committed_ = false;
  CleanupGuard temp_guard_;
};

}  // namespace slimformer::io

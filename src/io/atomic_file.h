// A file written beside its target and renamed into place on commit(), so readers see either the
// old file or the complete new one. Destroyed without commit(), it removes its temporary file.
#pragma once
#include <cstddef>
#include <string>

namespace slimformer::io {

class AtomicFile {
 public:
  explicit AtomicFile(const std::string& target);   // IoError if the folder is not writable
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  void write(const void* data, size_t n);            // IoError on a short write (disk full)
  void commit();                                     // fsync, close, rename over the target
  const std::string& temp_path() const { return temp_; }

 private:
  void fail(const std::string& what);
  std::string target_, temp_;
  int fd_ = -1;
  bool committed_ = false;
};

}  // namespace slimformer::io

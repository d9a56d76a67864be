// Where writing an output path really lands. A regular file or a new path is replaced atomically
// (a temporary file renamed into place, beside the file a symlink chain ends at, so the link
// stays a link). Anything else is written in place, never renamed over: character devices
// (/dev/null), FIFOs, sockets, and descriptors named by path (/dev/stdout, /dev/fd/N,
// /proc/self/fd/N), whose own descriptor is used so that `>>` still appends.
#pragma once
#include <string>

namespace slimformer::io {

struct OutputPlace {
  bool in_place = false;
  std::string path;   // replaced: the file to replace; in place: the path to open
  int own_fd = -1;    // in place on one of this process's descriptors: that descriptor
};

OutputPlace output_place(const std::string& target);

// Opens an in-place output for writing (a duplicate of own_fd, or path opened without
// truncation). -1 with errno set when it cannot.
int open_in_place(const OutputPlace& place);

}  // namespace slimformer::io

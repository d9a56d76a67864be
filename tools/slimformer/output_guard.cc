#include "output_guard.h"

#include <sys/stat.h>

#include <filesystem>
#include <optional>

#include "slimformer/error.h"

namespace slimcli {
namespace {

namespace fs = std::filesystem;

struct FileId {
  dev_t dev;
  ino_t ino;
  bool operator==(const FileId& o) const { return dev == o.dev && ino == o.ino; }
};

// Device and inode of what `path` names, symlinks followed; none when it does not exist.
std::optional<FileId> id_of(const fs::path& path) {
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) return std::nullopt;
  return FileId{st.st_dev, st.st_ino};
}

// `path` resolved as far as it exists (symlinks, "..", "."), the rest appended as written.
fs::path resolved(const std::string& path) {
  std::error_code ec;
  const fs::path p = fs::weakly_canonical(fs::absolute(path, ec), ec);
  return ec ? fs::absolute(path).lexically_normal() : p;
}

// Whether `path` (existing or not) is `folder` or lies anywhere inside it: each existing folder
// from `path` up to the root is compared with it by device and inode.
bool within(const std::string& path, const FileId& folder) {
  for (fs::path p = resolved(path);; p = p.parent_path()) {
    const auto id = id_of(p);
    if (id && *id == folder) return true;
    if (p == p.root_path() || p.empty()) return false;
  }
}

// Whether an existing `file` is one of the files inside `folder` (a hard link to a model file, or
// /dev/stdout redirected onto one).
bool links_into(const FileId& file, const std::string& folder) {
  std::error_code ec;
  for (auto it = fs::recursive_directory_iterator(folder, ec); !ec && it != fs::recursive_directory_iterator();
       it.increment(ec)) {
    const auto id = id_of(it->path());
    if (id && *id == file) return true;
  }
  return false;
}

[[noreturn]] void refuse(const PathArg& out, const PathArg& in, const std::string& how) {
  throw slimformer::InputError(out.flag + ": '" + out.path + "' " + how + " " + in.flag + " '" + in.path +
                               "' (inputs are only read: choose an output outside every input)");
}

void check_one(const PathArg& out, const PathArg& in) {
  const auto in_id = id_of(in.path);
  if (!in_id) return;   // a missing input fails on its own, with its own message
  auto out_id = id_of(out.path);   // stat() itself follows /dev/stdout to whatever fd 1 is
  if (!out_id) out_id = id_of(resolved(out.path));   // "dir/./sub/../file" is dir/file
  if (in.kind == PathArg::File && out_id && *out_id == *in_id) refuse(out, in, "is the input file");
  if (in.kind != PathArg::File) {
    if (within(out.path, *in_id)) refuse(out, in, "is inside the input model folder");
    if (out.kind == PathArg::File && out_id && links_into(*out_id, in.path)) {
      refuse(out, in, "is a file of the input model folder");
    }
  }
  if (out.kind == PathArg::ReplacedFolder && out_id && within(in.path, *out_id)) {
    refuse(out, in, "would replace the folder holding the input");
  }
}

}  // namespace

void refuse_outputs_onto_inputs(const std::vector<PathArg>& inputs, const std::vector<PathArg>& outputs) {
  for (const PathArg& out : outputs) {
    if (out.path.empty()) continue;
    for (const PathArg& in : inputs) {
      if (!in.path.empty()) check_one(out, in);
    }
  }
}

}  // namespace slimcli

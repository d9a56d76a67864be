// write_safetensors: header JSON (names sorted), padded with spaces so the data section starts at a
// multiple of 64, then each tensor at a 64-byte aligned offset; written through AtomicFile.
#include <string>
#include <vector>

#include "io/atomic_file.h"
#include "io/json_file.h"
#include "slimformer/checkpoint.h"
#include "slimformer/error.h"

namespace slimformer {
namespace {

constexpr size_t kAlign = 64;
size_t align_up(size_t n) { return (n + kAlign - 1) / kAlign * kAlign; }

void check_tensor(const std::string& path, const std::string& name, const Tensor& t) {
  if (name.empty() || name == "__metadata__") {
    throw InputError("cannot write '" + path + "': invalid tensor name '" + name + "'");
  }
  for (int64_t d : t.shape()) {
    if (d < 0) throw InputError("cannot write '" + path + "': tensor '" + name + "' has shape " + shape_str(t.shape()));
  }
  if (t.raw() == nullptr && t.numel() != 0) {
    throw InputError("cannot write '" + path + "': tensor '" + name + "' has no data");
  }
}

}  // namespace

void write_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                       const std::map<std::string, std::string>& metadata) {
  io::Json header = io::Json::object();   // std::map-backed: keys come out sorted
  if (!metadata.empty()) header["__metadata__"] = metadata;
  size_t offset = 0;
  for (const auto& [name, t] : tensors) {
    check_tensor(path, name, t);
    offset = align_up(offset);
    header[name] = {{"dtype", dtype_name(t.dtype())}, {"shape", t.shape()}, {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string text;
  try {
    text = header.dump();
  } catch (const io::Json::exception& e) {   // a name or metadata string that is not UTF-8
    throw InputError("cannot write '" + path + "': tensor names and metadata must be UTF-8 (" + e.what() + ")");
  }
  text.append(align_up(8 + text.size()) - 8 - text.size(), ' ');

  unsigned char len[8];
  for (int i = 0; i < 8; ++i) len[i] = static_cast<unsigned char>(static_cast<uint64_t>(text.size()) >> (8 * i));
  io::AtomicFile f(path);
  f.write(len, 8);
  f.write(text.data(), text.size());
  static const char zeros[kAlign] = {};
  size_t written = 0;
  for (const auto& [name, t] : tensors) {
    f.write(zeros, align_up(written) - written);
    written = align_up(written);
    f.write(t.raw(), t.nbytes());
    written += t.nbytes();
  }
  f.commit();
}

}  // namespace slimformer

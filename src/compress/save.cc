// Saving a compressed model as a folder: built whole in a temporary folder beside the target and
// renamed into place, so the target is either absent or complete; the source is only read.
#include <unistd.h>

#include <filesystem>
#include <system_error>

#include "io/signal_cleanup.h"
#include "io/sparse_tensors.h"
#include "slimformer/compress.h"
#include "slimformer/error.h"

namespace slimformer::compress {
namespace fs = std::filesystem;
namespace {

// Weight files of the source are not copied: the saved tensors replace them all.
bool is_weight_file(const fs::path& p) {
  const std::string name = p.filename().string();
  for (const char* ext : {".safetensors", ".bin", ".h5", ".msgpack", ".onnx", ".ot", ".pt", ".pth", ".ckpt"}) {
    const std::string e = ext;
    if (name.size() >= e.size() && name.compare(name.size() - e.size(), e.size(), e) == 0) return true;
  }
  return name == "model.safetensors.index.json" || name == "pytorch_model.bin.index.json";
}

bool inside(const fs::path& path, const fs::path& folder) {
  auto p = path.begin(), f = folder.begin();
  for (; f != folder.end(); ++f, ++p) {
    if (p == path.end() || *p != *f) return false;
  }
  return true;
}

// Removes the temporary folder unless released (the save reached its rename), also when a signal
// kills the process.
struct TempFolder {
  fs::path path;
  bool keep = false;
  io::CleanupGuard guard;
  ~TempFolder() {
    std::error_code ec;
    if (!keep && !path.empty()) fs::remove_all(path, ec);
  }
};

// The tensors as written: under Storage::Sparse a 2-D tensor with enough zeros becomes its
// mask and values, its shape recorded in the metadata.
std::map<std::string, Tensor> stored_tensors(const ModelState& m, Storage storage,
                                             std::map<std::string, std::string>& meta) {
  if (storage == Storage::Dense) return m.tensors;
  std::map<std::string, Tensor> out;
  for (const auto& [name, t] : m.tensors) {
    const bool candidate = t.shape().size() == 2 && t.numel() > 0 &&
                           (t.dtype() == DType::F32 || t.dtype() == DType::F16 || t.dtype() == DType::BF16 ||
                            t.dtype() == DType::I8);
    if (!candidate || static_cast<double>(io::count_zeros(t)) < kSparseStorageMinZeros * static_cast<double>(t.numel())) {
      out.emplace(name, t);
      continue;
    }
    io::SparseParts parts = io::sparse_encode(t);
    out.emplace(name + io::kSparseMaskSuffix, parts.mask);
    out.emplace(name + io::kSparseValuesSuffix, parts.values);
    meta[name] = io::sparse_marker(t.dim(0), t.dim(1));
  }
  return out;
}

}  // namespace

void check_not_inside(const std::string& source_dir, const std::string& out_dir) {
  if (source_dir.empty()) return;
  std::error_code ec;
  const fs::path src = fs::weakly_canonical(source_dir, ec);
  const fs::path out = fs::weakly_canonical(out_dir, ec);
  if (inside(out, src) || inside(src, out)) {
    throw InputError("output folder '" + out_dir + "' is or contains the input model folder '" + source_dir +
                     "' (the input is never written to; choose a new folder)");
  }
}

void check_output_folder(const std::string& source_dir, const std::string& out_dir) {
  std::error_code ec;
  if (out_dir.empty()) throw InputError("an output folder is required");
  check_not_inside(source_dir, out_dir);
  const fs::path out = fs::weakly_canonical(out_dir, ec);
  if (fs::exists(out, ec)) {
    if (!fs::is_directory(out, ec)) throw InputError("output folder '" + out_dir + "' exists and is not a folder");
    if (!fs::is_empty(out, ec)) {
      throw InputError("output folder '" + out_dir + "' exists and is not empty (choose a new or empty folder)");
    }
  }
  const fs::path parent = out.parent_path().empty() ? fs::path(".") : out.parent_path();
  if (!fs::is_directory(parent, ec)) throw InputError("output folder: the folder '" + parent.string() + "' does not exist");
}

SavedModel save_model(const ModelState& m, const std::string& source_dir, const std::string& out_dir,
                      const std::map<std::string, std::string>& metadata, Storage storage) {
  check_output_folder(source_dir, out_dir);
  std::error_code ec;
  const fs::path out = fs::weakly_canonical(out_dir, ec);
  TempFolder temp;
  temp.path = out.parent_path() / (".slimformer-tmp-" + out.filename().string() + "-" + std::to_string(::getpid()));
  fs::remove_all(temp.path, ec);
  if (!fs::create_directory(temp.path, ec)) {
    throw IoError("cannot create the folder '" + temp.path.string() + "': " + ec.message());
  }
  temp.guard = io::CleanupGuard(temp.path.string(), io::CleanupKind::Folder);
  std::string base_config;
  if (!source_dir.empty()) {
    // Tokenizer, sentence-transformers modules (a Dense module's own weights included), README...:
    // everything but the encoder's old weights, which are the folder's top-level weight files.
    for (auto it = fs::recursive_directory_iterator(source_dir); it != fs::recursive_directory_iterator(); ++it) {
      const fs::path rel = fs::relative(it->path(), source_dir);
      if (it->is_directory()) {
        fs::create_directories(temp.path / rel);
      } else if (it->is_regular_file() && !(rel.parent_path().empty() && is_weight_file(rel)) && rel != "config.json") {
        fs::copy_file(it->path(), temp.path / rel, ec);
        if (ec) throw IoError("cannot copy '" + it->path().string() + "' to '" + (temp.path / rel).string() + "': " + ec.message());
      }
    }
    if (fs::exists(fs::path(source_dir) / "config.json")) base_config = read_text_file((fs::path(source_dir) / "config.json").string());
  }
  std::map<std::string, std::string> meta = metadata;
  meta.emplace("format", "pt");   // what transformers asks of a safetensors file it loads
  const std::map<std::string, Tensor> tensors = stored_tensors(m, storage, meta);
  write_safetensors((temp.path / "model.safetensors").string(), tensors, meta);
  write_file_atomic((temp.path / "config.json").string(), encoder_config_json(m.config, base_config));
  if (fs::exists(out, ec)) fs::remove(out, ec);   // an empty folder (checked above)
  fs::rename(temp.path, out, ec);
  if (ec) throw IoError("cannot rename '" + temp.path.string() + "' to '" + out.string() + "': " + ec.message());
  temp.keep = true;
  temp.guard.release();
  SavedModel saved;
  saved.dir = out.string();
  saved.weights_bytes = fs::file_size(out / "model.safetensors");
  return saved;
}

}  // namespace slimformer::compress

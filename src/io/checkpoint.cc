// Checkpoint: a model folder's config.json and its safetensors files (one file, the shards of an
// index, or every *.safetensors), all mmapped; or an in-memory set of tensors.
#include "slimformer/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <set>

#include "io/json_file.h"
#include "slimformer/error.h"

namespace slimformer {
namespace {

namespace fs = std::filesystem;

// The shard file names listed in model.safetensors.index.json's weight_map, in first-seen order.
std::vector<std::string> shards_from_index(const fs::path& index) {
  const std::string path = index.string();
  const io::Json j = io::read_json_file(path);
  const io::Json& map = io::require_key(j, "weight_map", path);
  if (!map.is_object()) throw FormatError("key 'weight_map' in '" + path + "' must be an object");
  std::vector<std::string> files;
  for (const auto& [name, file] : map.items()) {
    if (!file.is_string()) throw FormatError("'" + path + "': weight_map entry '" + name + "' must be a file name");
    const std::string f = file.get<std::string>();
    if (fs::path(f).filename() != fs::path(f)) {
      throw FormatError("'" + path + "': shard '" + f + "' must be a file in the model folder");
    }
    if (std::find(files.begin(), files.end(), f) == files.end()) files.push_back(f);
  }
  if (files.empty()) throw FormatError("'" + path + "': weight_map lists no tensors");
  return files;
}

std::vector<std::string> weight_files(const fs::path& dir) {
  if (fs::exists(dir / "model.safetensors")) return {(dir / "model.safetensors").string()};
  if (fs::exists(dir / "model.safetensors.index.json")) {
    std::vector<std::string> out;
    for (const auto& f : shards_from_index(dir / "model.safetensors.index.json")) out.push_back((dir / f).string());
    return out;
  }
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().extension() == ".safetensors" && e.is_regular_file()) out.push_back(e.path().string());
  }
  if (out.empty()) throw IoError("model folder '" + dir.string() + "' has no *.safetensors weights");
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace

Checkpoint::Checkpoint(const std::string& model_dir) : dir_(model_dir) {
  std::error_code ec;
  if (!fs::is_directory(model_dir, ec)) throw IoError("model folder '" + model_dir + "' does not exist or is not a folder");
  const fs::path dir(model_dir);
  config_ = read_encoder_config((dir / "config.json").string());
  std::map<std::string, const SafetensorsFile*> owner;
  for (const auto& path : weight_files(dir)) {
    files_.push_back(std::make_unique<SafetensorsFile>(path));
    const SafetensorsFile& f = *files_.back();
    for (const auto& name : f.names()) {
      auto [it, fresh] = owner.emplace(name, &f);
      if (!fresh) {
        throw FormatError("model folder '" + model_dir + "': tensor '" + name + "' is in both '" +
                          it->second->path() + "' and '" + f.path() + "'");
      }
    }
  }
}

Checkpoint::Checkpoint(EncoderConfig config, std::map<std::string, Tensor> tensors)
    : config_(std::move(config)), in_memory_(std::move(tensors)) {}

bool Checkpoint::contains(const std::string& name) const {
  if (in_memory_.count(name)) return true;
  for (const auto& f : files_) {
    if (f->contains(name)) return true;
  }
  return false;
}

Tensor Checkpoint::get(const std::string& name) const {
  auto it = in_memory_.find(name);
  if (it != in_memory_.end()) return it->second;
  for (const auto& f : files_) {
    if (f->contains(name)) return f->get(name);
  }
  throw ModelError("tensor '" + name + "' not found in " +
                   (dir_.empty() ? std::string("the in-memory checkpoint") : "model folder '" + dir_ + "'"));
}

std::vector<std::string> Checkpoint::names() const {
  std::set<std::string> all;
  for (const auto& [name, t] : in_memory_) all.insert(name);
  for (const auto& f : files_) {
    for (const auto& n : f->names()) all.insert(n);
  }
  return {all.begin(), all.end()};
}

size_t Checkpoint::file_bytes() const {
  size_t total = 0;
  for (const auto& f : files_) total += f->file_size();
  return total;
}

}  // namespace slimformer

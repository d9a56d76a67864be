// Checkpoint: a model folder's config.json and its safetensors files (one file, the shards of an
// index, or every *.safetensors), all mmapped; or an in-memory set of tensors.
#include "slimformer/checkpoint.h"

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "io/json_file.h"
#include "slimformer/error.h"

namespace slimformer {
namespace {

namespace fs = std::filesystem;

// model.safetensors.index.json: which shard holds each tensor, and the shards in first-seen order.
struct ShardIndex {
  std::vector<std::string> files;
  std::map<std::string, std::string> where;
};

ShardIndex read_shard_index(const fs::path& index) {
  const std::string path = index.string();
  const io::Json j = io::read_json_file(path);
  const io::Json& map = io::require_key(j, "weight_map", path);
  if (!map.is_object()) throw FormatError("key 'weight_map' in '" + path + "' must be an object");
  ShardIndex out;
  for (const auto& [name, file] : map.items()) {
    if (!file.is_string()) throw FormatError("'" + path + "': weight_map entry '" + name + "' must be a file name");
    const std::string f = file.get<std::string>();
    if (fs::path(f).filename() != fs::path(f)) {
      throw FormatError("'" + path + "': shard '" + f + "' must be a file in the model folder");
    }
    out.where[name] = f;
    if (std::find(out.files.begin(), out.files.end(), f) == out.files.end()) out.files.push_back(f);
  }
  if (out.files.empty()) throw FormatError("'" + path + "': weight_map lists no tensors");
  return out;
}

// Every *.safetensors file in the folder, sorted; IoError when there is none.
std::vector<std::string> loose_weight_files(const fs::path& dir) {
  std::vector<std::string> out;
  std::error_code ec;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
    if (it->path().extension() == ".safetensors" && it->is_regular_file(ec)) out.push_back(it->path().string());
  }
  if (ec) throw IoError("cannot list model folder '" + dir.string() + "': " + ec.message());
  if (out.empty()) throw IoError("model folder '" + dir.string() + "' has no *.safetensors weights");
  std::sort(out.begin(), out.end());
  return out;
}

// model.safetensors; else the shards of the index (filling `index`); else every *.safetensors.
std::vector<std::string> weight_paths(const fs::path& dir, ShardIndex* index) {
  std::error_code ec;
  if (fs::exists(dir / "model.safetensors", ec)) return {(dir / "model.safetensors").string()};
  if (fs::exists(dir / "model.safetensors.index.json", ec)) {
    *index = read_shard_index(dir / "model.safetensors.index.json");
    std::vector<std::string> out;
    for (const auto& f : index->files) out.push_back((dir / f).string());
    return out;
  }
  return loose_weight_files(dir);
}

}  // namespace

Checkpoint::Checkpoint(const std::string& model_dir) : dir_(model_dir) {
  std::error_code ec;
  if (!fs::is_directory(model_dir, ec)) throw IoError("model folder '" + model_dir + "' does not exist or is not a folder");
  const fs::path dir(model_dir);
  config_ = read_encoder_config((dir / "config.json").string());
  ShardIndex index;
  std::map<std::string, const SafetensorsFile*> owner;
  for (const auto& path : weight_paths(dir, &index)) {
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
  // An index that promises a tensor its shard lacks would fail only at get(); say so now.
  for (const auto& [name, file] : index.where) {
    auto it = owner.find(name);
    if (it == owner.end() || fs::path(it->second->path()).filename() != file) {
      throw FormatError("'" + (dir / "model.safetensors.index.json").string() + "' maps tensor '" + name + "' to '" + file +
                        "', which does not hold it");
    }
  }
}

Checkpoint::Checkpoint(EncoderConfig config, std::map<std::string, Tensor> tensors)
    : config_(std::move(config)), in_memory_(std::move(tensors)) {}

Checkpoint::Checkpoint(const std::string& model_dir, EncoderConfig config) : Checkpoint(model_dir) {
  config_ = std::move(config);
}

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

bool Checkpoint::is_decoded(const std::string& name) const {
  if (in_memory_.count(name)) return false;
  for (const auto& f : files_) {
    if (f->contains(name)) return f->is_sparse(name);
  }
  return false;
}

size_t Checkpoint::stored_bytes(const std::string& name) const {
  if (auto it = in_memory_.find(name); it != in_memory_.end()) return it->second.nbytes();
  for (const auto& f : files_) {
    if (f->contains(name)) return f->stored_bytes(name);
  }
  return get(name).nbytes();   // absent: get() says so
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

std::vector<std::pair<std::string, size_t>> Checkpoint::bytes_by_dtype() const {
  std::map<std::string, size_t> bytes;
  for (const std::string& name : names()) {
    bytes[dtype_name(get(name).dtype())] += stored_bytes(name);
  }
  std::vector<std::pair<std::string, size_t>> out(bytes.begin(), bytes.end());
  std::stable_sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.second > b.second; });
  return out;
}

}  // namespace slimformer

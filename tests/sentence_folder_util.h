// sentence-transformers folders built for a test: st-bert-uncased's encoder and tokenizer (width
// 16), a chosen pooling, Dense modules with the weights the test gives, Normalize or not; and a
// scalar reference of the Dense module to check them against.
#pragma once
#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "slimformer/checkpoint.h"
#include "slimformer/tensor.h"
#include "test_util.h"

namespace slimtest {

inline std::string st_base_dir() { return fixtures_dir() + "/models/st-bert-uncased"; }

// One Dense module: its config.json text and the tensors of its model.safetensors (none: the
// file is not written).
struct DenseModuleFiles {
  std::string config_json;
  std::map<std::string, slimformer::Tensor> tensors;
};

inline std::string dense_config_json(int64_t in, int64_t out, bool bias = true,
                                     const std::string& activation = "torch.nn.modules.activation.Tanh") {
  return "{\"in_features\": " + std::to_string(in) + ", \"out_features\": " + std::to_string(out) +
         ", \"bias\": " + (bias ? "true" : "false") + ", \"activation_function\": \"" + activation + "\"}";
}

// A (rows, cols) or (rows) F32 tensor of normal values (std `scale`), the same for the same seed.
inline slimformer::Tensor random_tensor(const slimformer::Shape& shape, unsigned seed, float scale = 0.5f) {
  slimformer::Tensor t = slimformer::Tensor::empty(shape);
  const std::vector<float> v = random_vec(t.numel(), seed, scale);
  std::copy(v.begin(), v.end(), t.data<float>());
  return t;
}

// A Dense module of random weights (linear.weight (out, in), linear.bias (out) when bias).
inline DenseModuleFiles random_dense(int64_t in, int64_t out, unsigned seed, bool bias = true,
                                     const std::string& activation = "torch.nn.modules.activation.Tanh") {
  DenseModuleFiles d{dense_config_json(in, out, bias, activation), {}};
  d.tensors["linear.weight"] = random_tensor({out, in}, seed);
  if (bias) d.tensors["linear.bias"] = random_tensor({out}, seed + 1000);
  return d;
}

// Writes the folder `dir` (created, or reused: its files are rewritten): the encoder's files, then
// modules.json with Transformer, Pooling (pooling_mode, in 1_Pooling), a Dense per entry of
// `dense` (in 2_Dense, 3_Dense, ...), and Normalize when asked. Returns `dir`.
inline std::string write_sentence_folder(const std::string& dir, const std::string& pooling_mode,
                                         const std::vector<DenseModuleFiles>& dense = {}, bool normalize = false) {
  namespace fs = std::filesystem;
  fs::create_directories(dir);
  for (const char* f : {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"}) {
    fs::copy_file(fs::path(st_base_dir()) / f, fs::path(dir) / f, fs::copy_options::skip_existing);
  }
  std::string modules = R"([{"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
    {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"})";
  fs::create_directories(fs::path(dir) / "1_Pooling");
  slimformer::write_file_atomic(dir + "/1_Pooling/config.json",
                                "{\"word_embedding_dimension\": 16, \"pooling_mode\": \"" + pooling_mode + "\"}");
  int idx = 2;
  for (const DenseModuleFiles& d : dense) {
    const std::string sub = std::to_string(idx) + "_Dense";
    fs::remove_all(fs::path(dir) / sub);
    fs::create_directories(fs::path(dir) / sub);
    slimformer::write_file_atomic(dir + "/" + sub + "/config.json", d.config_json);
    if (!d.tensors.empty()) slimformer::write_safetensors(dir + "/" + sub + "/model.safetensors", d.tensors);
    modules += ",\n    {\"idx\": " + std::to_string(idx) + ", \"name\": \"" + std::to_string(idx) + "\", \"path\": \"" + sub +
               "\", \"type\": \"sentence_transformers.models.Dense\"}";
    ++idx;
  }
  if (normalize) {
    modules += ",\n    {\"idx\": " + std::to_string(idx) + ", \"name\": \"" + std::to_string(idx) + "\", \"path\": \"" +
               std::to_string(idx) + "_Normalize\", \"type\": \"sentence_transformers.models.Normalize\"}";
  }
  slimformer::write_file_atomic(dir + "/modules.json", modules + "]");
  return dir;
}

// y = activation(W x + b) in double, one row: the scalar reference of a Dense module.
inline std::vector<double> reference_dense(const std::vector<double>& x, const slimformer::Tensor& w,
                                           const slimformer::Tensor& b, const std::string& activation) {
  const slimformer::Tensor wf = w.to_f32();
  const int64_t out = wf.dim(0), in = wf.dim(1);
  std::vector<double> y(static_cast<size_t>(out));
  for (int64_t o = 0; o < out; ++o) {
    double s = b.defined() ? double(b.to_f32().data<float>()[o]) : 0.0;
    for (int64_t k = 0; k < in; ++k) s += double(wf.data<float>()[o * in + k]) * x[static_cast<size_t>(k)];
    if (activation == "Tanh") s = std::tanh(s);
    else if (activation == "ReLU") s = std::max(s, 0.0);
    else if (activation == "Sigmoid") s = 1.0 / (1.0 + std::exp(-s));
    else if (activation == "GELU") s = s * 0.5 * std::erfc(-s / std::sqrt(2.0));   // x Phi(x)
    else if (activation != "Identity") ADD_FAILURE() << "reference_dense: no activation " << activation;
    y[static_cast<size_t>(o)] = s;
  }
  return y;
}

}  // namespace slimtest

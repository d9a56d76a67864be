// Building *ForSequenceClassification model folders from the Hugging Face fixtures (the encoder's
// tensors under "bert." / "roberta.", seeded random head tensors, an edited config.json, a
// tokenizer), and the head computed in double as the reference the classifier is checked against.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slimformer/checkpoint.h"
#include "slimformer/error.h"
#include "slimformer/tensor.h"
#include "test_util.h"

namespace slimtest {

inline std::string fixture_model(const std::string& name) { return fixtures_dir() + "/models/" + name; }

// The tensors of a fixture model folder, renamed prefix + name (views of the mapped file).
inline std::map<std::string, slimformer::Tensor> prefixed_tensors(const std::string& model, const std::string& prefix) {
  const slimformer::SafetensorsFile f(fixture_model(model) + "/model.safetensors");
  std::map<std::string, slimformer::Tensor> out;
  for (const std::string& name : f.names()) out[prefix + name] = f.get(name);
  return out;
}

// Seeded normal values (std `scale`) stored as `dtype` (F32, F16 or BF16).
inline slimformer::Tensor random_tensor(const slimformer::Shape& shape, unsigned seed, float scale = 0.5f,
                                        slimformer::DType dtype = slimformer::DType::F32) {
  const std::vector<float> v = random_vec(slimformer::shape_numel(shape), seed, scale);
  slimformer::Tensor t = slimformer::Tensor::empty(shape, dtype);
  for (size_t i = 0; i < v.size(); ++i) {
    if (dtype == slimformer::DType::F32) t.data<float>()[i] = v[i];
    else if (dtype == slimformer::DType::F16) t.data<uint16_t>()[i] = slimformer::f32_to_f16(v[i]);
    else t.data<uint16_t>()[i] = slimformer::f32_to_bf16(v[i]);
  }
  return t;
}

// The fixture's config.json with `edits` merged in (a null value removes the key).
inline nlohmann::json fixture_config(const std::string& model, const nlohmann::json& edits) {
  nlohmann::json c = nlohmann::json::parse(slimformer::read_text_file(fixture_model(model) + "/config.json"));
  c.merge_patch(edits);
  return c;
}

// A fresh model folder: config.json, model.safetensors and a tokenizer. `tokenizer_from` names
// a fixture folder whose tokenizer.json is copied; empty: the first `vocab_lines` lines of
// bert-base-uncased's vocab.txt (its special tokens included), for models with a small vocab.
inline std::string write_model_folder(const nlohmann::json& config, const std::map<std::string, slimformer::Tensor>& tensors,
                                      const std::string& tokenizer_from, int64_t vocab_lines = 1000) {
  namespace fs = std::filesystem;
  const std::string dir = make_temp_dir();
  slimformer::write_file_atomic(dir + "/config.json", config.dump(2));
  slimformer::write_safetensors(dir + "/model.safetensors", tensors);
  if (!tokenizer_from.empty()) {
    fs::copy_file(fixture_model(tokenizer_from) + "/tokenizer.json", dir + "/tokenizer.json");
  } else {
    const std::string vocab = slimformer::read_text_file(shared_dir() + "/data/tokenizers/bert-base-uncased/vocab.txt");
    size_t end = 0;
    for (int64_t i = 0; i < vocab_lines; ++i) end = vocab.find('\n', end) + 1;
    slimformer::write_file_atomic(dir + "/vocab.txt", vocab.substr(0, end));
  }
  return dir;
}

// out (B, O) = x (B, K) W^T + b in double, then tanh if asked; W and b as stored (any float dtype).
inline std::vector<double> reference_linear(const std::vector<double>& x, int64_t B, const slimformer::Tensor& w_stored,
                                            const slimformer::Tensor& b_stored, bool tanh_after = false) {
  const slimformer::Tensor w = w_stored.to_f32(), b = b_stored.to_f32();
  const int64_t O = w.dim(0), K = w.dim(1);
  std::vector<double> out(static_cast<size_t>(B * O));
  for (int64_t r = 0; r < B; ++r) {
    for (int64_t o = 0; o < O; ++o) {
      double s = b.data<float>()[o];
      for (int64_t k = 0; k < K; ++k) s += x[r * K + k] * double(w.data<float>()[o * K + k]);
      out[r * O + o] = tanh_after ? std::tanh(s) : s;
    }
  }
  return out;
}

// Row `row` of a (B, W) F32 tensor (or every row when row < 0), as doubles.
inline std::vector<double> rows_of(const slimformer::Tensor& t, int64_t row = -1) {
  const int64_t W = t.dim(-1);
  const float* p = t.data<float>() + (row < 0 ? 0 : row * W);
  return std::vector<double>(p, p + (row < 0 ? t.numel() : W));
}

}  // namespace slimtest

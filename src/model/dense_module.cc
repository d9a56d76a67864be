// sentence-transformers' Dense module: the weights of one projection after pooling, and its forward.
#include <cmath>
#include <filesystem>
#include <string>

#include "slimformer/checkpoint.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"

namespace slimformer {
namespace {

namespace fs = std::filesystem;

// The named tensor of `file` as F32, checked: shape, a floating dtype, every value finite.
Tensor checked_tensor(const SafetensorsFile& file, const std::string& name, const Shape& shape) {
  if (!file.contains(name)) {
    throw ModelError("'" + file.path() + "': tensor '" + name + "' is missing (expected " + shape_str(shape) + ")");
  }
  const Tensor t = file.get(name);
  if (t.dtype() != DType::F32 && t.dtype() != DType::F16 && t.dtype() != DType::BF16) {
    throw ModelError("'" + file.path() + "': tensor '" + name + "' is " + dtype_name(t.dtype()) +
                     ", expected F32, F16 or BF16");
  }
  if (t.shape() != shape) {
    throw ModelError("'" + file.path() + "': tensor '" + name + "' has shape " + shape_str(t.shape()) + ", expected " +
                     shape_str(shape) + " (out_features, in_features from config.json)");
  }
  Tensor f = t.to_f32();
  const float* v = f.data<float>();
  for (int64_t i = 0; i < f.numel(); ++i) {
    if (!std::isfinite(v[i])) {
      throw ModelError("'" + file.path() + "': tensor '" + name + "' holds a non-finite value at index " +
                       std::to_string(i));
    }
  }
  return f;
}

double activate(DenseActivation a, double x) {
  switch (a) {
    case DenseActivation::Identity: return x;
    case DenseActivation::Tanh: return std::tanh(x);
    case DenseActivation::Relu: return x > 0 ? x : 0.0;
    case DenseActivation::Sigmoid: return 1.0 / (1.0 + std::exp(-x));
    case DenseActivation::Gelu: return 0.5 * x * (1.0 + std::erf(x / std::sqrt(2.0)));
  }
  return x;
}

}  // namespace

DenseLayer load_dense_layer(const DenseModuleConfig& config, int64_t in_features) {
  const fs::path dir(config.dir);
  if (config.in_features != in_features) {
    throw ModelError("'" + (dir / "config.json").string() + "': in_features " + std::to_string(config.in_features) +
                     " differs from the width of the vector it receives, " + std::to_string(in_features));
  }
  const fs::path weights = dir / "model.safetensors";
  std::error_code ec;
  if (!fs::exists(weights, ec)) {
    const fs::path pickle = dir / "pytorch_model.bin";
    if (fs::exists(pickle, ec)) {
      throw ModelError("'" + pickle.string() + "': Dense weights stored as a PyTorch pickle are not read "
                       "(save the module with safetensors: model.safetensors)");
    }
    throw ModelError("'" + weights.string() + "': the Dense module's weights are missing (expected linear.weight" +
                     std::string(config.bias ? " and linear.bias" : "") + ")");
  }
  const SafetensorsFile file(weights.string());
  DenseLayer layer;
  layer.config = config;
  layer.weight = checked_tensor(file, "linear.weight", {config.out_features, config.in_features});
  if (config.bias) {
    layer.bias = checked_tensor(file, "linear.bias", {config.out_features});
  } else if (file.contains("linear.bias")) {
    throw ModelError("'" + file.path() + "': tensor 'linear.bias' is present but config.json says bias false");
  }
  return layer;
}

Tensor dense_forward(const Tensor& x, const DenseLayer& layer) {
  const int64_t O = layer.config.out_features, K = layer.config.in_features;
  if (x.rank() != 2 || x.dtype() != DType::F32 || x.dim(1) != K) {
    throw InputError("dense_forward: expected an F32 (B, " + std::to_string(K) + ") tensor, got " + shape_str(x.shape()));
  }
  const int64_t B = x.dim(0);
  Tensor out = Tensor::empty({B, O});
  const float* w = layer.weight.data<float>();
  const float* b = layer.bias.defined() ? layer.bias.data<float>() : nullptr;
  for (int64_t r = 0; r < B; ++r) {
    const float* in = x.data<float>() + r * K;
    for (int64_t o = 0; o < O; ++o) {
      double s = b ? b[o] : 0.0;
      for (int64_t k = 0; k < K; ++k) s += double(in[k]) * w[o * K + k];
      out.data<float>()[r * O + o] = static_cast<float>(activate(layer.config.activation, s));
    }
  }
  return out;
}

}  // namespace slimformer

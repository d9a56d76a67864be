// Building a Linear from stored weights: the kernel is chosen by the parts' dtype and, for f32,
// by how many of the weights are zero.
#include "model/linear.h"

#include <algorithm>
#include <cstring>

#include "slimformer/error.h"

namespace slimformer::model {
namespace {

// codes (out, in) * scales (out) -> f32 (out, in).
Tensor dequantized(const StoredWeight& p) {
  Tensor f = Tensor::empty({p.out, p.in});
  const int8_t* q = p.values.data<int8_t>();
  const float* s = p.scales.data<float>();
  float* o = f.data<float>();
  for (int64_t r = 0; r < p.out; ++r)
    for (int64_t c = 0; c < p.in; ++c) o[r * p.in + c] = static_cast<float>(q[r * p.in + c]) * s[r];
  return f;
}

bool all_of_dtype(const std::vector<StoredWeight>& parts, DType d) {
  return std::all_of(parts.begin(), parts.end(), [d](const StoredWeight& p) { return p.values.dtype() == d; });
}

// The parts' raw elements of type T stacked row after row into one (sum out, in) buffer.
template <class T>
std::vector<T> stacked(const std::vector<StoredWeight>& parts) {
  std::vector<T> all;
  for (const StoredWeight& p : parts) {
    const size_t n = static_cast<size_t>(p.out * p.in);
    const size_t at = all.size();
    all.resize(at + n);
    if (n) std::memcpy(all.data() + at, p.values.raw(), n * sizeof(T));   // raw(): may be unaligned
  }
  return all;
}

// The biases stacked (empty: none), as f32.
std::vector<float> stacked_biases(const std::vector<StoredWeight>& parts, const std::vector<Tensor>& biases) {
  const bool with_bias = std::any_of(biases.begin(), biases.end(), [](const Tensor& t) { return t.defined(); });
  std::vector<float> all;
  if (!with_bias) return all;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (!biases[i].defined()) throw ModelError("tensor '" + parts[i].name + "' has no bias beside others that do");
    const Tensor b = biases[i].to_f32();
    all.insert(all.end(), b.data<float>(), b.data<float>() + b.numel());
  }
  return all;
}

}  // namespace

Linear Linear::build(const std::vector<StoredWeight>& parts, const std::vector<Tensor>& biases,
                     kernels::Epilogue epilogue) {
  if (parts.empty()) throw ModelError("Linear::build: no weights");
  Linear l;
  l.in_ = parts[0].in;
  for (const StoredWeight& p : parts) {
    if (p.in != l.in_) {
      throw ModelError("tensor '" + p.name + "' has " + std::to_string(p.in) + " inputs, expected " +
                       std::to_string(l.in_) + " as '" + parts[0].name + "'");
    }
    l.out_ += p.out;
  }
  const std::vector<float> bias = stacked_biases(parts, biases);
  const float* b = bias.empty() ? nullptr : bias.data();

  if (all_of_dtype(parts, DType::I8) && l.in_ <= kernels::kInt8MaxK) {
    const std::vector<int8_t> codes = stacked<int8_t>(parts);
    std::vector<float> scales;
    for (const StoredWeight& p : parts) {
      const Tensor s = p.scales.to_f32();
      scales.insert(scales.end(), s.data<float>(), s.data<float>() + s.numel());
    }
    l.kind_ = Kind::Int8;
    l.int8_ = kernels::Int8Linear(codes.data(), scales.data(), b, l.out_, l.in_, epilogue);
    return l;
  }
  if (all_of_dtype(parts, DType::BF16)) {
    const std::vector<uint16_t> bits = stacked<uint16_t>(parts);
    l.kind_ = Kind::Bf16;
    l.bf16_ = kernels::Bf16Linear(bits.data(), b, l.out_, l.in_, epilogue);
    return l;
  }
  // f32: every part as f32 values, stacked.
  std::vector<float> w;
  w.reserve(static_cast<size_t>(l.out_ * l.in_));
  for (const StoredWeight& p : parts) {
    const Tensor f = p.values.dtype() == DType::I8 ? dequantized(p) : p.values.to_f32();
    w.insert(w.end(), f.data<float>(), f.data<float>() + f.numel());
  }
  const int64_t zeros = std::count(w.begin(), w.end(), 0.0f);
  if (!w.empty() && static_cast<double>(zeros) >= kSparseMinZeroFraction * static_cast<double>(w.size())) {
    l.kind_ = Kind::Sparse;
    l.sparse_ = kernels::SparseLinear(w.data(), b, l.out_, l.in_, epilogue);
    return l;
  }
  l.kind_ = Kind::DenseF32;
  l.dense_ = kernels::PackedLinear(w.data(), b, l.out_, l.in_, epilogue);
  return l;
}

void Linear::forward(float* out, const float* in, int64_t M, bool accumulate) const {
  switch (kind_) {
    case Kind::DenseF32: return dense_.forward(out, in, M, accumulate);
    case Kind::Int8: return int8_.forward(out, in, M, accumulate);
    case Kind::Bf16: return bf16_.forward(out, in, M, accumulate);
    case Kind::Sparse: return sparse_.forward(out, in, M, accumulate);
  }
}

size_t Linear::bytes() const {
  switch (kind_) {
    case Kind::DenseF32: return dense_.packed_bytes();
    case Kind::Int8: return int8_.bytes();
    case Kind::Bf16: return bf16_.bytes();
    case Kind::Sparse: return sparse_.bytes();
  }
  return 0;
}

const char* Linear::kind_name() const {
  switch (kind_) {
    case Kind::DenseF32: return "dense f32";
    case Kind::Int8: return "int8";
    case Kind::Bf16: return bf16_.native_bf16() ? "bf16" : "bf16 (f32 compute)";
    case Kind::Sparse: return "sparse f32";
  }
  return "";
}

}  // namespace slimformer::model

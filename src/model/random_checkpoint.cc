// Seeded random checkpoints for built-in configurations: Hugging Face's init under the tensor
// names the architecture's checkpoints use. The names come from the same mappings the Encoder
// loads with (model/weights.h), so they cannot drift apart.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "core/splitmix.h"
#include "model/architecture.h"
#include "slimformer/builtin.h"
#include "slimformer/error.h"
#include "slimformer/memory.h"

namespace slimformer {
namespace {

using rng::splitmix64;
using rng::uniform_open0;

// Marsaglia and Tsang's ziggurat (128 layers) for standard normals: one 64-bit draw, a table
// look-up and a compare almost every time, so bert-base's 110M weights take well under a second.
// The layer index comes from the low bits and the value from the high 32, so they are independent.
struct Ziggurat {
  static constexpr double kR = 3.442619855899;   // where the tail starts
  static constexpr double kV = 9.91256303526217e-3;   // area of each layer
  static constexpr double kM = 2147483648.0;     // 2^31
  uint32_t k[128];
  double w[128], f[128];

  Ziggurat() {
    double dn = kR, tn = kR;
    const double q = kV / std::exp(-0.5 * dn * dn);
    k[0] = static_cast<uint32_t>((dn / q) * kM);
    k[1] = 0;
    w[0] = q / kM;
    w[127] = dn / kM;
    f[0] = 1.0;
    f[127] = std::exp(-0.5 * dn * dn);
    for (int i = 126; i >= 1; --i) {
      dn = std::sqrt(-2.0 * std::log(kV / dn + std::exp(-0.5 * dn * dn)));
      k[i + 1] = static_cast<uint32_t>((dn / tn) * kM);
      tn = dn;
      f[i] = std::exp(-0.5 * dn * dn);
      w[i] = dn / kM;
    }
  }
};

const Ziggurat& ziggurat() {
  static const Ziggurat z;
  return z;
}

double standard_normal(uint64_t& state) {
  const Ziggurat& z = ziggurat();
  while (true) {
    const uint64_t bits = splitmix64(state);
    const int32_t hz = static_cast<int32_t>(bits >> 32);
    const int i = static_cast<int>(bits & 127);
    const uint32_t mag = hz < 0 ? 0u - static_cast<uint32_t>(hz) : static_cast<uint32_t>(hz);
    const double x = hz * z.w[i];
    if (mag < z.k[i]) return x;                  // inside the layer's rectangle
    if (i == 0) {                                // the tail beyond kR
      double t, y;
      do {
        t = -std::log(uniform_open0(state)) / Ziggurat::kR;
        y = -std::log(uniform_open0(state));
      } while (y + y < t * t);
      return hz > 0 ? Ziggurat::kR + t : -Ziggurat::kR - t;
    }
    if (z.f[i] + uniform_open0(state) * (z.f[i - 1] - z.f[i]) < std::exp(-0.5 * x * x)) return x;
  }
}

uint64_t fnv1a(const std::string& s) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char ch : s) h = (h ^ ch) * 1099511628211ull;
  return h;
}

// Normal(0, stddev). Each 64 Ki-element chunk has its own stream keyed by the seed, the tensor
// name and the chunk index, so chunks fill in parallel and the result never depends on the
// thread count.
void fill_normal(float* out, int64_t n, float stddev, uint64_t seed, const std::string& name) {
  constexpr int64_t kChunk = 1 << 16;
  const int64_t chunks = (n + kChunk - 1) / kChunk;
  const uint64_t key = seed ^ fnv1a(name);
  ziggurat();   // built once, before the threads start
#pragma omp parallel for schedule(static)
  for (int64_t c = 0; c < chunks; ++c) {
    uint64_t state = key + static_cast<uint64_t>(c) * 0xD1B54A32D192ED03ull;
    splitmix64(state);
    const int64_t end = std::min(n, (c + 1) * kChunk);
    for (int64_t i = c * kChunk; i < end; ++i) out[i] = static_cast<float>(standard_normal(state) * stddev);
  }
}

Tensor constant(const Shape& shape, float value) {
  Tensor t = Tensor::empty(shape);
  float* p = t.data<float>();
  for (int64_t i = 0; i < t.numel(); ++i) p[i] = value;
  return t;
}

Tensor normal(const Shape& shape, uint64_t seed, const std::string& name) {
  Tensor t = Tensor::empty(shape);
  fill_normal(t.data<float>(), t.numel(), 0.02f, seed, name);
  return t;
}

void zero_row(Tensor& t, int64_t row) {
  if (row >= 0 && row < t.dim(0)) std::memset(t.data<float>() + row * t.dim(1), 0, t.dim(1) * sizeof(float));
}

// Hugging Face's init: Linear and Embedding weights normal(0, 0.02) (the padding row zero),
// biases 0, LayerNorm weight 1 and bias 0.
class Builder {
 public:
  explicit Builder(uint64_t seed) : seed_(seed) {}
  void linear(const std::string& w, const std::string& b, int64_t out, int64_t in) {
    tensors[w] = normal({out, in}, seed_, w);
    tensors[b] = constant({out}, 0.0f);
  }
  void norm(const std::string& g, const std::string& b, int64_t n) {
    tensors[g] = constant({n}, 1.0f);
    tensors[b] = constant({n}, 0.0f);
  }
  Tensor& embedding(const std::string& name, int64_t rows, int64_t dim) {
    return tensors[name] = normal({rows, dim}, seed_, name);
  }
  std::map<std::string, Tensor> tensors;

 private:
  uint64_t seed_;
};

// Parameters of `c`'s random checkpoint, counted in 128 bits (sizes below 2^31 and layers below
// 10^4 keep every sum far inside), and how many tensors hold them.
struct Footprint {
  unsigned __int128 parameters = 0;
  uint64_t tensors = 0;
};

Footprint footprint(const EncoderConfig& c, bool global_projections, bool pooler) {
  using U = unsigned __int128;
  const U H = static_cast<U>(c.hidden_size);
  Footprint f;
  auto add = [&f](U params, uint64_t tensors) { f.parameters += params; f.tensors += tensors; };
  add((static_cast<U>(c.vocab_size) + static_cast<U>(c.max_position_embeddings) + static_cast<U>(c.type_vocab_size)) * H,
      3);
  add(2 * H, 2);
  const int64_t head_dim = c.hidden_size / c.num_heads;
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const LayerShape shape = layer_shape(c, i);
    const U A = static_cast<U>(shape.heads * head_dim), I = static_cast<U>(shape.intermediate);
    const U qkv = 3 * (A * H + A);
    add(qkv + (H * A + H) + (I * H + I) + (H * I + H) + 4 * H, 16);
    if (global_projections) add(qkv, 6);
  }
  if (pooler) add(H * H + H, 2);
  return f;
}

// Random weights fill memory at once (and are packed again when an Encoder loads them): sizes that
// cannot fit are refused before anything is allocated, naming what was asked and the limit.
void check_fits_in_memory(const EncoderConfig& c, bool global_projections, bool pooler) {
  constexpr uint64_t kBytesPerTensor = 512;   // name, map node and tensor record, roughly
  const Footprint f = footprint(c, global_projections, pooler);
  // f32 values twice (the checkpoint and the Encoder's packed copy).
  const unsigned __int128 needed = f.parameters * 2 * sizeof(float) + static_cast<unsigned __int128>(f.tensors) * kBytesPerTensor;
  const uint64_t limit = available_memory_bytes();
  if (limit > 0 && needed > limit) {
    const unsigned __int128 params = f.parameters;
    auto text = [](unsigned __int128 v) {
      if (v > UINT64_MAX) return std::string("more than 2^64");
      return std::to_string(static_cast<uint64_t>(v));
    };
    throw ModelError("random weights for model_type " + c.model_type + " (vocab_size " + std::to_string(c.vocab_size) +
                     ", hidden_size " + std::to_string(c.hidden_size) + ", " + std::to_string(c.num_layers) +
                     " layers, intermediate_size " + std::to_string(c.intermediate_size) + ", max_position_embeddings " +
                     std::to_string(c.max_position_embeddings) + ") need " + text(params) + " parameters, about " +
                     text(needed) + " bytes, more than the " + std::to_string(limit) + " bytes of memory available");
  }
}

}  // namespace

std::shared_ptr<const Checkpoint> random_checkpoint(const EncoderConfig& c, uint64_t seed) {
  // The names an empty checkpoint maps to are the plain (prefix-free) architecture names.
  const Checkpoint names_only(c, {});
  const model::Architecture& arch = model::architecture_of(c);
  const model::TensorNames n = model::tensor_names_for(names_only);
  check_fits_in_memory(c, !n.layers.empty() && !n.layers[0].q_global_w.empty(), *arch.pooler_weight != '\0');
  const int64_t H = c.hidden_size, head_dim = c.hidden_size / c.num_heads;
  Builder b(seed);
  zero_row(b.embedding(n.word, c.vocab_size, H), c.pad_token_id);
  Tensor& pos = b.embedding(n.position, c.max_position_embeddings, H);
  if (c.position_offset > 0) zero_row(pos, c.pad_token_id);   // RoBERTa's position padding_idx
  if (!n.token_type.empty()) b.embedding(n.token_type, c.type_vocab_size, H);
  b.norm(n.emb_ln_g, n.emb_ln_b, H);
  for (size_t i = 0; i < n.layers.size(); ++i) {
    const model::LayerNames& l = n.layers[i];
    const LayerShape shape = layer_shape(c, static_cast<int64_t>(i));
    const int64_t A = shape.heads * head_dim, I = shape.intermediate;
    b.linear(l.q_w, l.q_b, A, H);
    b.linear(l.k_w, l.k_b, A, H);
    b.linear(l.v_w, l.v_b, A, H);
    b.linear(l.attn_out_w, l.attn_out_b, H, A);
    b.norm(l.attn_ln_g, l.attn_ln_b, H);
    b.linear(l.ffn_in_w, l.ffn_in_b, I, H);
    b.linear(l.ffn_out_w, l.ffn_out_b, H, I);
    b.norm(l.ffn_ln_g, l.ffn_ln_b, H);
    if (!l.q_global_w.empty()) {   // Longformer's projections for global tokens
      b.linear(l.q_global_w, l.q_global_b, A, H);
      b.linear(l.k_global_w, l.k_global_b, A, H);
      b.linear(l.v_global_w, l.v_global_b, A, H);
    }
  }
  // The family's pooler, as a freshly initialised bare model has it (DistilBERT: none).
  if (*arch.pooler_weight) b.linear(arch.pooler_weight, arch.pooler_bias, H, H);
  return std::make_shared<const Checkpoint>(c, std::move(b.tensors));
}

}  // namespace slimformer

// Bf16Linear over the oneDNN matmul primitive (bf16 x bf16 -> f32, weights pre-packed in format
// "any"). oneDNN 2.x has no f32 x bf16 matmul, so the input is rounded to bf16 first: the one
// loss of precision beside the weight's own (docs/bf16.md states the resulting tolerance).
#include "kernels/cpu/bf16_linear.h"

#include <dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "kernels/cpu/bounded_cache.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/onednn.h"
#include "slimformer/error.h"
#include "slimformer/tensor.h"

namespace slimformer::kernels {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

// The shared engine: oneDNN is capped to SLIMFORMER_ISA before it is made (onednn.h).
dnnl::engine& cpu_engine() { return onednn_engine(); }

dnnl::stream& thread_stream() { return onednn_thread_stream(); }

dnnl::algorithm eltwise_of(Epilogue e) {
  switch (e) {
    case Epilogue::Gelu: return dnnl::algorithm::eltwise_gelu_erf;
    case Epilogue::GeluTanh: return dnnl::algorithm::eltwise_gelu_tanh;
    case Epilogue::Relu: return dnnl::algorithm::eltwise_relu;
    case Epilogue::None: break;
  }
  return dnnl::algorithm::undef;
}

}  // namespace

void widen_bf16(float* out, const uint16_t* in, int64_t n) {
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    const uint32_t bits = static_cast<uint32_t>(in[i]) << 16;
    std::memcpy(out + i, &bits, 4);
  }
}

void widen_f16(float* out, const uint16_t* in, int64_t n) {
  for (int64_t i = 0; i < n; ++i) out[i] = f16_to_f32(in[i]);
}

void narrow_bf16(uint16_t* out, const float* in, int64_t n) {
  // Branch-free round to nearest even, so the loop vectorizes; a NaN keeps its top bits, made quiet.
#pragma omp simd
  for (int64_t i = 0; i < n; ++i) {
    uint32_t b;
    std::memcpy(&b, in + i, 4);
    const bool nan = (b & 0x7fffffffu) > 0x7f800000u;
    const uint32_t rounded = (b + 0x7fffu + ((b >> 16) & 1u)) >> 16;
    out[i] = static_cast<uint16_t>(nan ? (b >> 16) | 0x40u : rounded);
  }
}

struct Bf16Linear::Impl {
  int64_t N = 0, K = 0;
  Epilogue epilogue = Epilogue::None;
  PackedLinear fallback;   // the f32 path (no AVX512-BF16, or an empty product)
  memory weights, bias;    // the bf16 path: packed (K,N) bf16 weights, (1,N) f32 bias or empty
  // (M, accumulate, threads) -> primitive
  mutable BoundedCache<std::tuple<int64_t, bool, int>, Matmul> prims{kPrimitivesPerLayer};

  dnnl::matmul::primitive_desc make_pd(int64_t M, bool accumulate, const memory::desc& w_md) const {
    const memory::desc src_md({M, K}, dt::bf16, tag::ab), dst_md({M, N}, dt::f32, tag::ab);
    dnnl::post_ops ops;
    if (epilogue != Epilogue::None) ops.append_eltwise(1.0f, eltwise_of(epilogue), 0.0f, 0.0f);
    if (accumulate) ops.append_sum(1.0f);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    const auto desc = bias ? dnnl::matmul::desc(src_md, w_md, bias.get_desc(), dst_md)
                           : dnnl::matmul::desc(src_md, w_md, dst_md);
    return matmul_pd(desc, attr);
  }

  Matmul prim_for(int64_t M, bool accumulate) const {
    // The bf16 kernels' packed layout depends on (K, N) only, as for f32 (docs/gemm.md).
    return prims.get_or_make(std::make_tuple(M, accumulate, omp_get_max_threads()),
                             [&] { return make_matmul(make_pd(M, accumulate, weights.get_desc())); });
  }
};

Bf16Linear::Bf16Linear() = default;
Bf16Linear::~Bf16Linear() = default;
Bf16Linear::Bf16Linear(const Bf16Linear&) = default;
Bf16Linear& Bf16Linear::operator=(const Bf16Linear&) = default;
Bf16Linear::Bf16Linear(Bf16Linear&&) noexcept = default;
Bf16Linear& Bf16Linear::operator=(Bf16Linear&&) noexcept = default;

Bf16Linear::Bf16Linear(const uint16_t* weight, const float* bias, int64_t N, int64_t K, Epilogue epilogue)
    : impl_(std::make_shared<Impl>()) {
  if (N < 0 || K < 0)
    throw InputError("Bf16Linear: N and K must be >= 0, got N=" + std::to_string(N) + " K=" + std::to_string(K));
  if (weight == nullptr && N > 0 && K > 0)
    throw InputError("Bf16Linear: weight is null for a " + std::to_string(N) + "x" + std::to_string(K) + " layer");
  Impl& im = *impl_;
  im.N = N;
  im.K = K;
  im.epilogue = epilogue;
  if (N == 0 || K == 0 || !isa_at_least(Isa::Avx512Bf16)) {
    std::vector<float> w(static_cast<size_t>(N * K));
    widen_bf16(w.data(), weight, N * K);
    im.fallback = PackedLinear(w.data(), bias, N, K, epilogue);
    return;
  }
  if (bias) {
    im.bias = memory(memory::desc({1, N}, dt::f32, tag::ab), cpu_engine());
    std::memcpy(im.bias.get_data_handle(), bias, N * sizeof(float));
  }
  const auto pd = im.make_pd(128, false, memory::desc({K, N}, dt::bf16, tag::any));
  memory user(memory::desc({K, N}, dt::bf16, tag::ba), cpu_engine(), const_cast<uint16_t*>(weight));
  im.weights = memory(pd.weights_desc(), cpu_engine());
  dnnl::reorder(user, im.weights).execute(thread_stream(), user, im.weights);
  thread_stream().wait();
}

void Bf16Linear::forward(float* out, const float* in, int64_t M, bool accumulate) const {
  if (!impl_) throw InputError("Bf16Linear::forward on an empty Bf16Linear");
  if (M < 0) throw InputError("Bf16Linear::forward: M must be >= 0, got " + std::to_string(M));
  const Impl& im = *impl_;
  if (!im.fallback.empty()) return im.fallback.forward(out, in, M, accumulate);
  if (M == 0) return;
  std::vector<uint16_t> in16(static_cast<size_t>(M * im.K));
  const int64_t n = M * im.K;
  const int64_t per = 1 << 14;
#pragma omp parallel for schedule(static) if (n > 4 * per)
  for (int64_t i = 0; i < n; i += per) narrow_bf16(in16.data() + i, in + i, std::min(per, n - i));
  const Matmul p = im.prim_for(M, accumulate);
  const memory src(memory::desc({M, im.K}, dt::bf16, tag::ab), cpu_engine(), in16.data());
  const memory dst(memory::desc({M, im.N}, dt::f32, tag::ab), cpu_engine(), out);
  std::unordered_map<int, memory> args = {{DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, im.weights}, {DNNL_ARG_DST, dst}};
  if (im.bias) args.emplace(DNNL_ARG_BIAS, im.bias);
  execute(p, args);
}

bool Bf16Linear::native_bf16() const { return impl_ && impl_->fallback.empty(); }
int64_t Bf16Linear::out_features() const { return impl_ ? impl_->N : 0; }
int64_t Bf16Linear::in_features() const { return impl_ ? impl_->K : 0; }
size_t Bf16Linear::bytes() const {
  if (!impl_) return 0;
  if (!impl_->fallback.empty()) return impl_->fallback.packed_bytes();
  return impl_->weights.get_desc().get_size() + (impl_->bias ? impl_->bias.get_desc().get_size() : 0);
}

}  // namespace slimformer::kernels

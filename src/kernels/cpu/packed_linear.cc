// PackedLinear over the oneDNN matmul primitive. docs/gemm.md has the measurements: with its
// weights pre-packed (format "any", blocked 16x64 on AVX-512), the matmul primitive beats
// dnnl_sgemm and OpenBLAS on every BERT shape, because sgemm re-packs B on every call.
#include <dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <unordered_map>
#include <utility>
#include <vector>

#include "kernels/cpu/bounded_cache.h"
#include "kernels/cpu/onednn.h"
#include "kernels/cpu/gemm.h"
#include "slimformer/error.h"

namespace slimformer::kernels {
namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

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

// One primitive per (M, accumulate, thread count), created on first use (a primitive keeps the
// thread count it was created with). The packed layout depends only on
// (K, N) for the AVX-512 kernels, so every M reads the one packed copy; if a kernel ever wants
// another layout for some M, that M gets its own re-packed copy (weights_for_m).
struct PackedLinear::Impl {
  int64_t N = 0, K = 0;
  Epilogue epilogue = Epilogue::None;
  memory weights, bias;               // packed weights (K,N); bias (1,N) or empty
  std::vector<float> bias_copy;       // the bias, for the K == 0 path only
  struct Prim { Matmul matmul; memory weights; };
  mutable BoundedCache<std::tuple<int64_t, bool, int>, Prim> prims{kPrimitivesPerLayer};

  dnnl::matmul::primitive_desc make_pd(int64_t M, bool accumulate, const memory::desc& w_md) const {
    const memory::desc src_md({M, K}, dt::f32, tag::ab), dst_md({M, N}, dt::f32, tag::ab);
    dnnl::post_ops ops;
    if (epilogue != Epilogue::None) ops.append_eltwise(1.0f, eltwise_of(epilogue), 0.0f, 0.0f);
    if (accumulate) ops.append_sum(1.0f);
    dnnl::primitive_attr attr;
    attr.set_post_ops(ops);
    const auto desc = bias ? dnnl::matmul::desc(src_md, w_md, bias.get_desc(), dst_md)
                           : dnnl::matmul::desc(src_md, w_md, dst_md);
    return matmul_pd(desc, attr);
  }

  Prim prim_for(int64_t M, bool accumulate) const {
    return prims.get_or_make(std::make_tuple(M, accumulate, omp_get_max_threads()), [&] {
      try {
        return Prim{make_matmul(make_pd(M, accumulate, weights.get_desc())), weights};
      } catch (const dnnl::error&) {   // this M wants another layout: re-pack once for it
        const memory::desc any_md({K, N}, dt::f32, tag::any);
        const auto pd = make_pd(M, accumulate, any_md);
        memory src = weights, w(pd.weights_desc(), cpu_engine());   // handles: copies share data
        dnnl::reorder(src, w).execute(thread_stream(), src, w);
        thread_stream().wait();
        return Prim{make_matmul(pd), w};
      }
    });
  }
};

PackedLinear::PackedLinear() = default;
PackedLinear::~PackedLinear() = default;
PackedLinear::PackedLinear(const PackedLinear&) = default;
PackedLinear& PackedLinear::operator=(const PackedLinear&) = default;
PackedLinear::PackedLinear(PackedLinear&&) noexcept = default;
PackedLinear& PackedLinear::operator=(PackedLinear&&) noexcept = default;

PackedLinear::PackedLinear(const float* weight, const float* bias, int64_t N, int64_t K,
                           Epilogue epilogue)
    : impl_(std::make_shared<Impl>()) {
  if (N < 0 || K < 0)
    throw InputError("PackedLinear: N and K must be >= 0, got N=" + std::to_string(N) +
                     " K=" + std::to_string(K));
  if (weight == nullptr && N > 0 && K > 0)
    throw InputError("PackedLinear: weight is null for a " + std::to_string(N) + "x" +
                     std::to_string(K) + " layer");
  Impl& im = *impl_;
  im.N = N;
  im.K = K;
  im.epilogue = epilogue;
  if (N == 0 || K == 0) {   // forward handles these without the library
    if (bias) im.bias_copy.assign(bias, bias + N);
    return;
  }
  if (bias) {
    im.bias = memory(memory::desc({1, N}, dt::f32, tag::ab), cpu_engine());
    std::memcpy(im.bias.get_data_handle(), bias, N * sizeof(float));
  }
  // Pack for M = 128 (a typical token count); the layout chosen does not depend on M.
  const memory::desc any_md({K, N}, dt::f32, tag::any);
  const auto pd = im.make_pd(128, false, any_md);
  memory user(memory::desc({K, N}, dt::f32, tag::ba), cpu_engine(), const_cast<float*>(weight));
  im.weights = memory(pd.weights_desc(), cpu_engine());
  dnnl::reorder(user, im.weights).execute(thread_stream(), user, im.weights);
  thread_stream().wait();
}

PackedLinear PackedLinear::stacked(const std::vector<const float*>& weights,
                                   const std::vector<const float*>& biases,
                                   const std::vector<int64_t>& Ns, int64_t K, Epilogue epilogue) {
  if (weights.size() != Ns.size() || (!biases.empty() && biases.size() != Ns.size()))
    throw InputError("PackedLinear::stacked: " + std::to_string(weights.size()) + " weights, " +
                     std::to_string(biases.size()) + " biases and " + std::to_string(Ns.size()) +
                     " sizes; expected as many of each (or no biases)");
  const bool with_bias =
      std::any_of(biases.begin(), biases.end(), [](const float* b) { return b != nullptr; });
  int64_t N = 0;
  for (size_t i = 0; i < Ns.size(); ++i) {
    if (Ns[i] < 0 || K < 0 || (weights[i] == nullptr && Ns[i] * K > 0) ||
        (with_bias && biases[i] == nullptr && Ns[i] > 0))
      throw InputError("PackedLinear::stacked: part " + std::to_string(i) + " (N=" +
                       std::to_string(Ns[i]) + ", K=" + std::to_string(K) +
                       ") has a negative size or a null weight/bias");
    N += Ns[i];
  }
  std::vector<float> w(static_cast<size_t>(N * K)), b(with_bias ? N : 0);
  int64_t row = 0;
  for (size_t i = 0; i < Ns.size(); ++i) {
    if (Ns[i] * K > 0) std::memcpy(w.data() + row * K, weights[i], Ns[i] * K * sizeof(float));
    if (with_bias && Ns[i] > 0) std::memcpy(b.data() + row, biases[i], Ns[i] * sizeof(float));
    row += Ns[i];
  }
  return PackedLinear(w.data(), with_bias ? b.data() : nullptr, N, K, epilogue);
}

void PackedLinear::forward(float* out, const float* in, int64_t M, bool accumulate) const {
  if (!impl_) throw InputError("PackedLinear::forward on an empty PackedLinear");
  if (M < 0) throw InputError("PackedLinear::forward: M must be >= 0, got " + std::to_string(M));
  const Impl& im = *impl_;
  if (M == 0 || im.N == 0) return;
  if (im.K == 0) {   // the product is empty: out = epilogue(bias) [+ out]
    for (int64_t i = 0; i < M; ++i)
      for (int64_t j = 0; j < im.N; ++j) {
        const float v = apply_epilogue(im.epilogue, im.bias_copy.empty() ? 0.0f : im.bias_copy[j]);
        out[i * im.N + j] = accumulate ? out[i * im.N + j] + v : v;
      }
    return;
  }
  const Impl::Prim p = im.prim_for(M, accumulate);
  const memory src(memory::desc({M, im.K}, dt::f32, tag::ab), cpu_engine(), const_cast<float*>(in));
  const memory dst(memory::desc({M, im.N}, dt::f32, tag::ab), cpu_engine(), out);
  std::unordered_map<int, memory> args = {
      {DNNL_ARG_SRC, src}, {DNNL_ARG_WEIGHTS, p.weights}, {DNNL_ARG_DST, dst}};
  if (im.bias) args.emplace(DNNL_ARG_BIAS, im.bias);
  execute(p.matmul, args);
}

int64_t PackedLinear::out_features() const { return impl_ ? impl_->N : 0; }
int64_t PackedLinear::in_features() const { return impl_ ? impl_->K : 0; }
size_t PackedLinear::packed_bytes() const {
  if (!impl_) return 0;
  size_t b = impl_->weights ? impl_->weights.get_desc().get_size() : 0;
  if (impl_->bias) b += impl_->bias.get_desc().get_size();
  return b + impl_->bias_copy.size() * sizeof(float);
}

float apply_epilogue(Epilogue e, float x) {
  switch (e) {
    case Epilogue::Gelu: return 0.5f * x * (1.0f + std::erf(x / std::sqrt(2.0f)));
    case Epilogue::GeluTanh:
      return 0.5f * x * (1.0f + std::tanh(0.7978845608f * (x + 0.044715f * x * x * x)));
    case Epilogue::Relu: return x > 0.0f ? x : 0.0f;
    case Epilogue::None: break;
  }
  return x;
}

}  // namespace slimformer::kernels

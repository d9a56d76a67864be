// Int8Linear (dynamic quantization, own kernels) against PackedLinear f32 (oneDNN matmul, packed
// weights) and oneDNN's own int8 matmul (u8 x s8 -> f32, weights packed once, activations
// quantized per tensor on every call as PyTorch's dynamic Linear does, that pass timed too), on
// the BERT-base Linear shapes (docs/int8.md). Usage:
//   slim_int8_bench [--threads 1,2] [--quick] [--mini]
// --mini: bert-mini's shapes (hidden 256, FFN 1024) instead of BERT-base's.
// Prints one markdown row per (threads, M, N, K): ms per call, the best of 15 samples of >= 10 ms
// each taken in turns (on a machine shared with other work the best is the figure least moved
// by it), and the int8 speedups over f32.
#include <dnnl.hpp>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <functional>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/cpu/gemm.h"
#include "kernels/cpu/int8_linear.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/onednn.h"
#include "slimformer/threads.h"

namespace {

namespace k = slimformer::kernels;

// Best ms per call of each fn: after a warm-up, 15 rounds in which every fn runs one sample of
// >= 10 ms in turn, so all see the same load from whatever else shares the machine.
std::vector<double> best_ms(const std::vector<std::function<void()>>& fns) {
  using clk = std::chrono::steady_clock;
  std::vector<int> calls(fns.size(), 1);
  for (size_t f = 0; f < fns.size(); ++f) {
    fns[f]();
    for (;;) {
      const auto t0 = clk::now();
      for (int i = 0; i < calls[f]; ++i) fns[f]();
      if (std::chrono::duration<double>(clk::now() - t0).count() >= 0.01) break;
      calls[f] *= 2;
    }
  }
  std::vector<double> best(fns.size(), 1e300);
  for (int s = 0; s < 15; ++s)
    for (size_t f = 0; f < fns.size(); ++f) {
      const auto t0 = clk::now();
      for (int i = 0; i < calls[f]; ++i) fns[f]();
      best[f] = std::min(best[f], std::chrono::duration<double>(clk::now() - t0).count() / calls[f] * 1e3);
    }
  return best;
}

// oneDNN int8 matmul: out (M,N) = s_x s_w[n] (x_q - zp) . q^T + bias, scales and zero point
// given at run time so one primitive serves every call.
class DnnlInt8 {
 public:
  DnnlInt8(const int8_t* q, const float* scales, const float* bias, int64_t M, int64_t N, int64_t K)
      : eng_(slimformer::kernels::onednn_engine()), strm_(eng_), M_(M), N_(N), K_(K), w_scales_(scales, scales + N),
        xq_(M * K), out_scales_(N) {
    using dt = dnnl::memory::data_type;
    using tag = dnnl::memory::format_tag;
    const dnnl::memory::desc src({M, K}, dt::u8, tag::ab), wany({K, N}, dt::s8, tag::any),
        b({1, N}, dt::f32, tag::ab), dst({M, N}, dt::f32, tag::ab);
    dnnl::primitive_attr attr;
    attr.set_output_scales(1 << 1, {DNNL_RUNTIME_F32_VAL});
    attr.set_zero_points(DNNL_ARG_SRC, 0, {DNNL_RUNTIME_S32_VAL});
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(src, wany, b, dst), attr, eng_);
    impl_ = pd.impl_info_str();
    prim_ = dnnl::matmul(pd);
    dnnl::memory user({{K, N}, dt::s8, tag::ba}, eng_, const_cast<int8_t*>(q));
    w_ = dnnl::memory(pd.weights_desc(), eng_);
    dnnl::reorder(user, w_).execute(strm_, user, w_);
    bias_ = dnnl::memory(b, eng_);
    std::memcpy(bias_.get_data_handle(), bias, N * sizeof(float));
    src_ = dnnl::memory(src, eng_, xq_.data());
    scales_mem_ = dnnl::memory({{N}, dt::f32, tag::a}, eng_, out_scales_.data());
    zp_mem_ = dnnl::memory({{1}, dt::s32, tag::a}, eng_, &zp_);
    strm_.wait();
  }

  void forward(float* out, const float* in) {
    float lo = 0.0f, hi = 0.0f;
    const int64_t n = M_ * K_;
#pragma omp parallel for reduction(min : lo) reduction(max : hi)
    for (int64_t i = 0; i < n; ++i) {
      lo = std::min(lo, in[i]);
      hi = std::max(hi, in[i]);
    }
    const float lo_hi[2] = {lo, hi};
    const k::RowQuant rq = k::row_quant_params(lo_hi, 2);   // the same parameters as from all of in
    zp_ = rq.zero_point;
    const float inv = 1.0f / rq.scale;
#pragma omp parallel for
    for (int64_t i = 0; i < n; ++i)
      xq_[i] = static_cast<uint8_t>(std::nearbyint(std::clamp(std::fma(in[i], inv, float(zp_)), 0.0f, 255.0f)));
    for (int64_t j = 0; j < N_; ++j) out_scales_[j] = rq.scale * w_scales_[j];
    const dnnl::memory dst({{M_, N_}, dnnl::memory::data_type::f32, dnnl::memory::format_tag::ab}, eng_, out);
    prim_.execute(strm_, {{DNNL_ARG_SRC, src_}, {DNNL_ARG_WEIGHTS, w_}, {DNNL_ARG_BIAS, bias_},
                          {DNNL_ARG_DST, dst}, {DNNL_ARG_ATTR_OUTPUT_SCALES, scales_mem_},
                          {DNNL_ARG_ATTR_ZERO_POINTS | DNNL_ARG_SRC, zp_mem_}});
    strm_.wait();
  }
  const std::string& impl() const { return impl_; }

 private:
  dnnl::engine eng_;
  dnnl::stream strm_;
  int64_t M_, N_, K_;
  std::vector<float> w_scales_;
  std::vector<uint8_t> xq_;
  std::vector<float> out_scales_;
  int32_t zp_ = 0;
  dnnl::matmul prim_;
  dnnl::memory w_, bias_, src_, scales_mem_, zp_mem_;
  std::string impl_;
};

std::vector<int> parse_ints(const std::string& s) {
  std::vector<int> v;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) v.push_back(std::stoi(item));
  return v;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<int> threads = {1, 2};
  bool quick = false, mini = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--threads" && i + 1 < argc) threads = parse_ints(argv[++i]);
    else if (a == "--quick") quick = true;
    else if (a == "--mini") mini = true;
    else {
      std::fprintf(stderr, "usage: slim_int8_bench [--threads 1,2] [--quick] [--mini]\n");
      return 2;
    }
  }
  std::printf("isa: %s\n\n", k::isa_name(k::active_isa()));
  std::printf("| threads | M | N | K | f32 packed ms | int8 ms | dnnl int8 ms | int8 / f32 | dnnl int8 / f32 | int8 GOP/s |\n");
  std::printf("|---|---|---|---|---|---|---|---|---|---|\n");
  const std::vector<int64_t> ms = quick ? std::vector<int64_t>{128} : std::vector<int64_t>{128, 1024};
  const std::vector<std::pair<int64_t, int64_t>> nks =
      mini ? std::vector<std::pair<int64_t, int64_t>>{{768, 256}, {256, 256}, {1024, 256}, {256, 1024}}
           : std::vector<std::pair<int64_t, int64_t>>{{2304, 768}, {768, 768}, {3072, 768}, {768, 3072}};
  std::string dnnl_impl;
  for (int t : threads) {
    slimformer::set_num_threads(t);
    for (int64_t M : ms)
      for (auto [N, K] : nks) {
        const auto w = [&] {
          std::mt19937 g(1);
          std::normal_distribution<float> d(0.0f, 0.05f);
          std::vector<float> v(N * K);
          for (auto& x : v) x = d(g);
          return v;
        }();
        std::vector<float> in(M * K), bias(N, 0.1f), out(M * N);
        std::mt19937 g(2);
        std::normal_distribution<float> d(0.0f, 1.0f);
        for (auto& x : in) x = d(g);
        std::vector<int8_t> q(N * K);
        std::vector<float> scales(N);
        k::quantize_per_channel(q.data(), scales.data(), w.data(), N, K);
        const k::PackedLinear f32(w.data(), bias.data(), N, K);
        const k::Int8Linear i8(q.data(), scales.data(), bias.data(), N, K);
        std::vector<std::function<void()>> fns = {[&] { f32.forward(out.data(), in.data(), M); },
                                                  [&] { i8.forward(out.data(), in.data(), M); }};
        std::unique_ptr<DnnlInt8> dn;
        try {
          dn = std::make_unique<DnnlInt8>(q.data(), scales.data(), bias.data(), M, N, K);
          dnnl_impl = dn->impl();
          fns.push_back([&] { dn->forward(out.data(), in.data()); });
        } catch (const dnnl::error& e) {
          dnnl_impl = std::string("unavailable: ") + e.what();
        }
        const auto best = best_ms(fns);
        const double t_f32 = best[0], t_i8 = best[1], t_dnnl = dn ? best[2] : NAN;
        std::printf("| %d | %lld | %lld | %lld | %.3f | %.3f | %.3f | %.2fx | %.2fx | %.0f |\n", t,
                    static_cast<long long>(M), static_cast<long long>(N), static_cast<long long>(K),
                    t_f32, t_i8, t_dnnl, t_f32 / t_i8, t_f32 / t_dnnl, 2.0 * M * N * K / t_i8 * 1e-6);
        std::fflush(stdout);
      }
  }
  std::printf("\noneDNN int8 matmul implementation: %s\n", dnnl_impl.c_str());
  return 0;
}

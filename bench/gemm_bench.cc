// f32 GEMM throughput of the candidate libraries on the shapes BERT runs, against the machine's
// ceiling. out (M,N) = in (M,K) . W^T with W (N,K) as nn.Linear stores it. Usage:
//   slim_gemm_bench [--backends dnnl_sgemm,dnnl_matmul,dnnl_packed,openblas,slim_linear,slim_packed]
//                   [--threads 1,2] [--ceiling] [--quick]
//   slim_gemm_bench --bert   (the 48 linears of a BERT-base forward, PackedLinear, 2 threads)
//   slim_gemm_bench --attention   (one layer's attention products, batched vs looped, 2 threads)
// Prints one markdown row per (backend, threads, shape): best and median GFLOP/s over samples of
// >= 30 ms each. Run each library in its own process (the OpenBLAS pthread pool and the OpenMP
// pool would otherwise spin against each other).
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "ceiling.h"
#include "dnnl_candidates.h"
#include "kernels/cpu/gemm.h"
#include "slimformer/threads.h"

namespace {

struct Shape { int64_t M, K, N; };

std::vector<Shape> bert_shapes(bool quick) {
  std::vector<Shape> s;
  const std::vector<int64_t> ms = quick ? std::vector<int64_t>{128} : std::vector<int64_t>{128, 512, 1024};
  for (int64_t m : ms)
    for (auto [k, n] : std::vector<std::pair<int64_t, int64_t>>{{768, 768}, {768, 2304}, {768, 3072}, {3072, 768}})
      s.push_back({m, k, n});
  s.push_back({2048, 2048, 2048});
  return s;
}

std::vector<std::string> split(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(item);
  return out;
}

struct Result { double best_gflops, median_gflops; };

// Times fn: 1 warm-up call, then 7 samples of enough calls to last >= 30 ms.
Result time_gflops(const std::function<void()>& fn, double flops) {
  using clk = std::chrono::steady_clock;
  fn();
  int calls = 1;
  for (;;) {
    const auto t0 = clk::now();
    for (int i = 0; i < calls; ++i) fn();
    if (std::chrono::duration<double>(clk::now() - t0).count() >= 0.03) break;
    calls *= 2;
  }
  std::vector<double> per_call;
  for (int s = 0; s < 7; ++s) {
    const auto t0 = clk::now();
    for (int i = 0; i < calls; ++i) fn();
    per_call.push_back(std::chrono::duration<double>(clk::now() - t0).count() / calls);
  }
  std::sort(per_call.begin(), per_call.end());
  return {flops / per_call.front() * 1e-9, flops / per_call[per_call.size() / 2] * 1e-9};
}

// A callable computing out = in . W^T for one backend and shape (setup such as packing is done
// here, outside the timed region).
std::function<void()> make_backend(const std::string& name, const Shape& s, const float* in,
                                   const float* w, float* out) {
  using namespace slimformer::kernels;
  if (name == "dnnl_sgemm")
    return [=] { gemm_f32(false, true, s.M, s.N, s.K, 1.0f, in, s.K, w, s.K, 0.0f, out, s.N); };
  if (name == "slim_linear") return [=] { linear_f32(out, in, w, nullptr, s.M, s.N, s.K); };
  if (name == "openblas")
    return [=] {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, s.M, s.N, s.K, 1.0f, in, s.K, w, s.K,
                  0.0f, out, s.N);
    };
  if (name == "dnnl_matmul") return slimbench::dnnl_matmul_runner(s.M, s.N, s.K, in, w, out, false);
  if (name == "dnnl_packed") return slimbench::dnnl_matmul_runner(s.M, s.N, s.K, in, w, out, true);
  if (name == "slim_packed") {
    auto lin = std::make_shared<PackedLinear>(w, nullptr, s.N, s.K);
    return [=] { lin->forward(out, in, s.M); };
  }
  std::fprintf(stderr, "unknown backend %s\n", name.c_str());
  std::exit(2);
}

// The dense part of a BERT-base forward: 12 layers x (fused QKV, attention output + residual,
// FFN up + GELU, FFN down + residual) through PackedLinear, on M tokens. Attention scores,
// softmax and LayerNorm are not included: this is the floor the GEMMs set for a forward.
void bert_linears(int64_t M, int threads) {
  using slimformer::kernels::Epilogue;
  using slimformer::kernels::PackedLinear;
  slimformer::set_num_threads(threads);
  const int64_t H = 768, F = 3072;
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> d(-0.05f, 0.05f);
  auto rnd = [&](int64_t n) { std::vector<float> v(n); for (auto& x : v) x = d(rng); return v; };
  const auto wqkv = rnd(3 * H * H), wo = rnd(H * H), wu = rnd(F * H), wd = rnd(H * F), b = rnd(F * 3);
  // one layer's weights reused 12 times would stay in cache; pack 12 distinct copies
  std::vector<PackedLinear> qkv, o, up, down;
  for (int l = 0; l < 12; ++l) {
    qkv.emplace_back(wqkv.data(), b.data(), 3 * H, H);
    o.emplace_back(wo.data(), b.data(), H, H);
    up.emplace_back(wu.data(), b.data(), F, H, Epilogue::Gelu);
    down.emplace_back(wd.data(), b.data(), H, F);
  }
  auto x = rnd(M * H), t3 = rnd(M * 3 * H), f = rnd(M * F);
  auto forward = [&] {
    for (int l = 0; l < 12; ++l) {
      qkv[l].forward(t3.data(), x.data(), M);
      o[l].forward(x.data(), t3.data(), M, true);   // stands in for the attention context
      up[l].forward(f.data(), x.data(), M);
      down[l].forward(x.data(), f.data(), M, true);
    }
  };
  const double flops = 12.0 * 2 * M * (3 * H * H + H * H + 2 * H * F);
  const Result r = time_gflops(forward, flops);
  std::printf("| BERT-base linears, M=%ld | %d | %.1f ms | %.1f ms | %.0f GFLOP/s |\n", M, threads,
              flops / r.best_gflops * 1e-6, flops / r.median_gflops * 1e-6, r.median_gflops);
}

// Attention's two batched products for BERT-base (12 heads of 64) at B x 128 tokens, 2 threads:
// one gemm_batched_f32 call each (with and without the additive mask) against a loop of
// gemm_f32 (dnnl_sgemm) calls per (batch, head).
void attention_products(int64_t Bn) {
  using namespace slimformer::kernels;
  slimformer::set_num_threads(2);
  const int64_t H = 12, D = 64, T = 128, HD = H * D;
  std::vector<float> qkv(Bn * T * 3 * HD, 0.01f), S(Bn * H * T * T), ctx(Bn * T * HD), mask(Bn * T, 0.0f);
  const BatchStride s_qkv{T * 3 * HD, D}, s_sc{H * T * T, T * T}, s_ctx{T * HD, D};
  const float* q = qkv.data();
  const float* k = q + HD;
  const float* v = q + 2 * HD;
  const double flops = 2.0 * 2 * Bn * H * T * T * D;
  auto batched = [&](const float* add) {
    gemm_batched_f32(true, Bn, H, T, T, D, 0.125f, q, 3 * HD, s_qkv, k, 3 * HD, s_qkv, S.data(), T, s_sc, add);
    gemm_batched_f32(false, Bn, H, T, D, T, 1.0f, S.data(), T, s_sc, v, 3 * HD, s_qkv, ctx.data(), HD, s_ctx);
  };
  auto looped = [&] {
    for (int64_t b = 0; b < Bn; ++b)
      for (int64_t h = 0; h < H; ++h) {
        const int64_t o = b * T * 3 * HD + h * D;
        float* sc = S.data() + (b * H + h) * T * T;
        gemm_f32(false, true, T, T, D, 0.125f, q + o, 3 * HD, k + o, 3 * HD, 0.0f, sc, T);
        gemm_f32(false, false, T, D, T, 1.0f, sc, T, v + o, 3 * HD, 0.0f, ctx.data() + b * T * HD + h * D, HD);
      }
  };
  const Result a = time_gflops([&] { batched(nullptr); }, flops);
  const Result m = time_gflops([&] { batched(mask.data()); }, flops);
  const Result l = time_gflops(looped, flops);
  auto ms = [&](const Result& r) { return flops / r.best_gflops * 1e-6; };   // best: least disturbed by load
  std::printf("| %ld | %.3f ms | %.3f ms | %.3f ms |\n", Bn, ms(a), ms(m), ms(l));
}

void set_threads(const std::string& backend, int t) {
  slimformer::set_num_threads(t);
  if (backend == "openblas") openblas_set_num_threads(t);
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> backends = {"dnnl_sgemm", "dnnl_matmul", "dnnl_packed"};
  std::vector<int> threads = {1, 2};
  bool ceiling = false, quick = false;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--backends" && i + 1 < argc) backends = split(argv[++i]);
    else if (a == "--threads" && i + 1 < argc) {
      threads.clear();
      for (auto& t : split(argv[++i])) threads.push_back(std::stoi(t));
    } else if (a == "--ceiling") ceiling = true;
    else if (a == "--quick") quick = true;
    else if (a == "--attention") {
      std::printf("| batch | batched | batched + mask | loop of gemm_f32 |\n|---|---|---|---|\n");
      for (int64_t b : {1, 8}) attention_products(b);
      return 0;
    } else if (a == "--bert") {
      std::printf("| what | threads | best | median | median rate |\n|---|---|---|---|---|\n");
      for (int64_t m : {128, 1024}) bert_linears(m, 2);
      return 0;
    }
    else { std::fprintf(stderr, "unknown argument %s\n", a.c_str()); return 2; }
  }
  if (ceiling) {
    const auto c = slimbench::measure_ceiling();
    std::printf("clock %.2f GHz (dependent add chain)\n", c.clock_ghz);
    std::printf("register-only FMA, AVX-512: %.1f GFLOP/s 1t, %.1f GFLOP/s 2t (%.1f flop/cycle/core)\n",
                c.fma512_gflops[0], c.fma512_gflops[1], c.fma512_gflops[0] / c.clock_ghz);
    std::printf("register-only FMA, AVX2:    %.1f GFLOP/s 1t, %.1f GFLOP/s 2t (%.1f flop/cycle/core)\n",
                c.fma256_gflops[0], c.fma256_gflops[1], c.fma256_gflops[0] / c.clock_ghz);
  }
  for (auto& b : backends)
    if (b == "openblas") std::printf("OpenBLAS: %s, core %s\n", openblas_get_config(), openblas_get_corename());
  std::printf("| backend | threads | M | K | N | best GFLOP/s | median GFLOP/s |\n|---|---|---|---|---|---|---|\n");
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> dist(-1.0f, 1.0f);
  for (const auto& s : bert_shapes(quick)) {
    std::vector<float> in(s.M * s.K), w(s.N * s.K), out(s.M * s.N);
    for (auto& x : in) x = dist(rng);
    for (auto& x : w) x = dist(rng);
    for (const auto& b : backends) {
      for (int t : threads) {
        set_threads(b, t);
        auto fn = make_backend(b, s, in.data(), w.data(), out.data());
        const Result r = time_gflops(fn, 2.0 * s.M * s.N * s.K);
        std::printf("| %s | %d | %ld | %ld | %ld | %.1f | %.1f |\n", b.c_str(), t, s.M, s.K, s.N,
                    r.best_gflops, r.median_gflops);
        std::fflush(stdout);
      }
    }
  }
  return 0;
}

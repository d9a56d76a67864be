// SparseLinear and Bf16Linear beside PackedLinear (dense f32) on BERT-base's linear shapes, timed
// side by side in one run (docs/sparse.md, docs/bf16.md). Usage:
//   slim_sparse_bf16_bench [--sparse] [--bf16] [--threads 1,2] [--quick]
// (neither --sparse nor --bf16: both). Prints markdown rows: median ms per call over 7 samples
// of >= 20 ms each, and the speed-up over dense f32 (> 1: faster than dense).
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "kernels/cpu/bf16_linear.h"
#include "kernels/cpu/gemm.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/sparse_linear.h"
#include "slimformer/tensor.h"

namespace sk = slimformer::kernels;

namespace {

struct Dims { int64_t N, K; };
const Dims kShapes[] = {{768, 768}, {3072, 768}, {768, 3072}};

std::vector<float> random_vec(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> d(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

// Zeroes the smallest-magnitude `sparsity` of w, as magnitude pruning does.
void prune(std::vector<float>& w, double sparsity) {
  std::vector<float> mag(w.size());
  for (size_t i = 0; i < w.size(); ++i) mag[i] = std::fabs(w[i]);
  const size_t cut = static_cast<size_t>(sparsity * w.size());
  if (cut == 0) return;
  std::nth_element(mag.begin(), mag.begin() + (cut - 1), mag.end());
  const float thr = mag[cut - 1];
  for (auto& x : w)
    if (std::fabs(x) <= thr) x = 0.0f;
}

// Median ms per call over 7 samples, each of enough calls to last >= 20 ms.
double time_ms(const std::function<void()>& fn) {
  using clock = std::chrono::steady_clock;
  fn();
  int reps = 1;
  for (;;) {
    const auto t0 = clock::now();
    for (int i = 0; i < reps; ++i) fn();
    const double ms = std::chrono::duration<double, std::milli>(clock::now() - t0).count();
    if (ms >= 20.0) break;
    reps = std::max(reps * 2, static_cast<int>(reps * 25.0 / std::max(ms, 0.01)));
  }
  std::vector<double> samples;
  for (int s = 0; s < 7; ++s) {
    const auto t0 = clock::now();
    for (int i = 0; i < reps; ++i) fn();
    samples.push_back(std::chrono::duration<double, std::milli>(clock::now() - t0).count() / reps);
  }
  std::sort(samples.begin(), samples.end());
  return samples[3];
}

std::vector<int> split_ints(const std::string& s) {
  std::vector<int> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, ',');) out.push_back(std::stoi(item));
  return out;
}

void bench_sparse(const std::vector<int>& threads, bool quick) {
  std::printf("\n| threads | N x K | M | sparsity | dense f32 ms | sparse ms | speed-up | sparse MB / dense MB |\n");
  std::printf("|---|---|---|---|---|---|---|---|\n");
  const std::vector<int64_t> ms = quick ? std::vector<int64_t>{128} : std::vector<int64_t>{1, 128, 1024};
  const std::vector<int> sparsities = quick ? std::vector<int>{90} : std::vector<int>{50, 70, 80, 90, 95};
  for (int t : threads) {
    omp_set_num_threads(t);
    for (const Dims& d : kShapes) {
      const auto w = random_vec(d.N * d.K, 1), bias = random_vec(d.N, 2);
      for (int64_t M : ms) {
        const auto in = random_vec(M * d.K, 3);
        std::vector<float> out(M * d.N);
        for (int sp : sparsities) {
          auto wp = w;
          prune(wp, sp / 100.0);
          const sk::PackedLinear dense(wp.data(), bias.data(), d.N, d.K);
          const sk::SparseLinear sparse(wp.data(), bias.data(), d.N, d.K);
          const double td = time_ms([&] { dense.forward(out.data(), in.data(), M); });
          const double ts = time_ms([&] { sparse.forward(out.data(), in.data(), M); });
          std::printf("| %d | %lld x %lld | %lld | %d%% | %.4f | %.4f | %.2f | %.1f / %.1f |\n", t,
                      (long long)d.N, (long long)d.K, (long long)M, sp, td, ts, td / ts,
                      sparse.bytes() / 1e6, dense.packed_bytes() / 1e6);
          std::fflush(stdout);
        }
      }
    }
  }
}

void bench_bf16(const std::vector<int>& threads, bool quick) {
  std::printf("\n| threads | N x K | M | f32 ms | bf16 ms | speed-up | bf16 path |\n");
  std::printf("|---|---|---|---|---|---|---|\n");
  const std::vector<int64_t> ms = quick ? std::vector<int64_t>{128} : std::vector<int64_t>{1, 32, 128, 1024};
  for (int t : threads) {
    omp_set_num_threads(t);
    for (const Dims& d : kShapes) {
      const auto w = random_vec(d.N * d.K, 1), bias = random_vec(d.N, 2);
      std::vector<uint16_t> w16(w.size());
      sk::narrow_bf16(w16.data(), w.data(), static_cast<int64_t>(w.size()));
      std::vector<float> wide(w.size());
      sk::widen_bf16(wide.data(), w16.data(), static_cast<int64_t>(w.size()));
      const sk::PackedLinear dense(wide.data(), bias.data(), d.N, d.K);
      const sk::Bf16Linear half(w16.data(), bias.data(), d.N, d.K);
      for (int64_t M : ms) {
        const auto in = random_vec(M * d.K, 3);
        std::vector<float> out(M * d.N);
        const double td = time_ms([&] { dense.forward(out.data(), in.data(), M); });
        const double th = time_ms([&] { half.forward(out.data(), in.data(), M); });
        std::printf("| %d | %lld x %lld | %lld | %.4f | %.4f | %.2f | %s |\n", t, (long long)d.N,
                    (long long)d.K, (long long)M, td, th, td / th,
                    half.native_bf16() ? "bf16 matmul" : "widened f32");
        std::fflush(stdout);
      }
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  bool sparse = false, bf16 = false, quick = false;
  std::vector<int> threads = {1, 2};
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--sparse") sparse = true;
    else if (a == "--bf16") bf16 = true;
    else if (a == "--quick") quick = true;
    else if (a == "--threads" && i + 1 < argc) threads = split_ints(argv[++i]);
    else {
      std::fprintf(stderr, "usage: %s [--sparse] [--bf16] [--threads 1,2] [--quick]\n", argv[0]);
      return 2;
    }
  }
  if (!sparse && !bf16) sparse = bf16 = true;
  std::printf("isa: %s\n", sk::isa_name(sk::active_isa()));
  if (sparse) bench_sparse(threads, quick);
  if (bf16) bench_bf16(threads, quick);
  return 0;
}

// Each own kernel with SIMD tiers timed at every instruction-set target this CPU has (isa.h),
// side by side in one run (docs/isa.md). Usage:
//   slim_isa_bench [--threads 1] [--rounds 7] [--min-ms 30]
// Each (kernel, target) pair runs one untimed call, then `rounds` rounds in which every target
// takes one sample in turn (interleaved, so a burst of load on a shared machine hits all alike);
// a sample is the mean of as many calls as fill --min-ms. Prints one markdown row per kernel:
// the median ms per target and each target's speedup over portable. oneDNN is not involved
// (ScopedIsa does not re-cap it), so the rows measure the own kernels alone.
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "attention_bench_util.h"
#include "kernels/cpu/flash_attention.h"
#include "kernels/cpu/isa.h"
#include "kernels/cpu/online_softmax.h"
#include "kernels/cpu/ops.h"
#include "slimformer/attention.h"
#include "slimformer/threads.h"

namespace {

namespace k = slimformer::kernels;

struct Case {
  std::string name, shape;
  std::function<void()> call;
};

std::vector<float> filled(size_t n, float scale) {
  std::vector<float> v(n);
  uint32_t x = 777;
  for (float& f : v) {
    x = x * 1664525u + 1013904223u;
    f = scale * (static_cast<float>(x >> 8) / 8388608.0f - 1.0f);
  }
  return v;
}

// An attention mechanism over one BERT-base layer (12 heads x 64) of n tokens.
struct Mechanism {
  std::unique_ptr<slimbench::LayerBuffers> layer;
  std::unique_ptr<slimformer::Attention> attention;
  std::unique_ptr<slimformer::AttentionScratch> scratch = std::make_unique<slimformer::AttentionScratch>();
  Mechanism(const std::string& spec, int64_t batch, int64_t n)
      : layer(std::make_unique<slimbench::LayerBuffers>(batch, n, 12, 64)),
        attention(slimformer::make_attention(slimformer::AttentionSpec::parse(spec), slimbench::one_layer(12, 64, n))) {}
  void operator()() const { attention->forward(layer->io, *scratch); }
};

}  // namespace

int main(int argc, char** argv) {
  int threads = 1, rounds = 7;
  double min_ms = 30.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--threads") threads = std::stoi(value);
    else if (flag == "--rounds") rounds = std::stoi(value);
    else if (flag == "--min-ms") min_ms = std::stod(value);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  slimformer::set_num_threads(threads);

  // Rows as a BERT-base layer sees them: 4 x 128 tokens x 768 for layernorm, 12 heads' score
  // rows for softmax; odd widths keep the vector tails in the measurement.
  const int64_t rows = 512, cols = 768, srows = 12 * 128, scols = 128;
  auto x = filled(rows * cols, 3.0f), res = filled(rows * cols, 1.0f), g = filled(cols, 1.0f), b = filled(cols, 0.1f);
  std::vector<float> out(x.size());
  const auto scores0 = filled(srows * 517, 6.0f);
  std::vector<float> scores(scores0.size()), mask(517, 0.0f);
  auto online = filled(srows * 256, 6.0f);
  std::vector<float> online_work(online.size());

  // exact attention's kernel called directly (1 x 512 tokens, 12 x 64), its own scratch
  slimbench::LayerBuffers flash_layer(1, 512, 12, 64);
  k::StridedAttention sa;
  sa.batch = 1, sa.seq = 512, sa.heads = 12, sa.head_dim = 64;
  sa.q = flash_layer.io.q, sa.k = flash_layer.io.k, sa.v = flash_layer.io.v, sa.in_stride = flash_layer.io.in_row_stride;
  sa.out = flash_layer.io.out, sa.out_stride = flash_layer.io.out_row_stride;
  std::vector<float> flash_scratch(static_cast<size_t>(threads * k::flash_attention_thread_floats(512, 64, k::kFlashDefaultTile)));

  const Mechanism linear("linear", 4, 512), performer("performer:features=128", 4, 512),
      linformer("linformer:k=128", 4, 512), lsh("lsh", 1, 1024);

  std::vector<Case> cases = {
      {"layernorm", "512 x 768", [&] { k::layernorm(out.data(), x.data(), g.data(), b.data(), rows, cols, 1e-12f); }},
      {"add_layernorm", "512 x 768",
       [&] { k::add_layernorm(out.data(), x.data(), res.data(), g.data(), b.data(), rows, cols, 1e-12f); }},
      {"softmax_masked", "1536 x 128",
       [&] {
         std::copy_n(scores0.begin(), srows * scols, scores.begin());
         k::softmax_masked(scores.data(), mask.data(), srows, scols);
       }},
      {"softmax_masked", "1536 x 517",
       [&] {
         std::copy(scores0.begin(), scores0.end(), scores.begin());
         k::softmax_masked(scores.data(), mask.data(), srows, 517);
       }},
      {"online_softmax_step", "1536 x 256",
       [&] {
         std::copy(online.begin(), online.end(), online_work.begin());
         for (int64_t r = 0; r < srows; ++r) {
           float m = -1e30f, l = 0.0f;
           k::online_softmax_step(online_work.data() + r * 256, 256, m, l);
         }
       }},
      {"flash_attention (exact)", "1 x 512, 12 x 64",
       [&] { k::flash_attention(sa, k::kFlashDefaultTile, flash_scratch.data(), threads); }},
      {"linear attention", "4 x 512, 12 x 64", [&] { linear(); }},
      {"performer (m=128)", "4 x 512, 12 x 64", [&] { performer(); }},
      {"linformer (k=128)", "4 x 512, 12 x 64", [&] { linformer(); }},
      {"lsh", "1 x 1024, 12 x 64", [&] { lsh(); }},
  };

  const std::vector<k::Isa> isas = k::available_isas();
  std::printf("%d thread(s), %d interleaved rounds, median ms per call; CPU's best target: %s\n\n| kernel | shape |",
              threads, rounds, k::isa_name(k::cpu_isa()));
  for (k::Isa isa : isas) std::printf(" %s |", k::isa_name(isa));
  for (size_t i = 1; i < isas.size(); ++i) std::printf(" %s speedup |", k::isa_name(isas[i]));
  std::printf("\n|---|---|");
  for (size_t i = 0; i < 2 * isas.size() - 1; ++i) std::printf("---:|");
  std::printf("\n");
  for (const Case& c : cases) {
    std::vector<int> calls(isas.size(), 1);
    std::vector<std::vector<double>> samples(isas.size());
    for (size_t i = 0; i < isas.size(); ++i) {   // untimed first call; sets the calls per sample
      const k::ScopedIsa scope(isas[i]);
      const double t0 = slimbench::wall_ms();
      c.call();
      calls[i] = std::max(1, static_cast<int>(min_ms / std::max(0.01, slimbench::wall_ms() - t0)));
    }
    for (int round = 0; round < rounds; ++round) {
      for (size_t i = 0; i < isas.size(); ++i) {
        const k::ScopedIsa scope(isas[i]);
        const double t0 = slimbench::wall_ms();
        for (int n = 0; n < calls[i]; ++n) c.call();
        samples[i].push_back((slimbench::wall_ms() - t0) / calls[i]);
      }
    }
    std::vector<double> med;
    std::printf("| %s | %s |", c.name.c_str(), c.shape.c_str());
    for (auto& s : samples) {
      med.push_back(slimbench::median(s));
      std::printf(" %.3f |", med.back());
    }
    for (size_t i = 1; i < med.size(); ++i) std::printf(" %.2fx |", med[0] / med[i]);
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
}

// The tiled exact attention (kernels/cpu/flash_attention.h, mechanism "exact") against the scalar
// reference and against `full`: odd lengths, padding of different lengths per sequence, tiles
// larger than the sequence and not dividing it, several head sizes, all-padding sequences, the
// portable loops as well as AVX-512, and scratch that grows linearly with the length.
#include <gtest/gtest.h>
#include <omp.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "kernels/cpu/flash_attention.h"
#include "kernels/cpu/isa.h"
#include "slimformer/attention.h"
#include "slimformer/checkpoint.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"
#include "test_util.h"

namespace k = slimformer::kernels;
using slimformer::AttentionScratch;
using slimformer::AttentionSpec;

namespace {

// q, k, v of one layer as the encoder holds them: rows (B*T) of [q heads | k heads | v heads],
// plus a 0/1 key mask built from each sequence's length.
struct Layer {
  int64_t batch, seq, heads, head_dim;
  std::vector<float> qkv;
  std::vector<int64_t> mask;
  int64_t stride() const { return 3 * heads * head_dim; }
  int64_t width() const { return heads * head_dim; }

  // lengths: unpadded tokens per sequence (empty: none padded). `spread` widens the scores so
  // the running maximum moves between key tiles.
  Layer(int64_t b, int64_t t, int64_t h, int64_t d, std::vector<int64_t> lengths, unsigned seed,
        float spread = 1.0f)
      : batch(b), seq(t), heads(h), head_dim(d), qkv(slimtest::random_vec(b * t * 3 * h * d, seed)) {
    for (int64_t i = 0; i < b * t; ++i)
      for (int64_t c = 0; c < h * d; ++c) qkv[i * stride() + c] *= spread;   // q only
    if (!lengths.empty()) {
      mask.assign(b * t, 0);
      for (int64_t s = 0; s < b; ++s) std::fill_n(mask.begin() + s * t, std::min(t, lengths[s]), 1);
    }
  }

  k::StridedAttention view(std::vector<float>& out) const {
    out.assign(batch * seq * width(), std::numeric_limits<float>::quiet_NaN());
    k::StridedAttention a;
    a.batch = batch, a.seq = seq, a.heads = heads, a.head_dim = head_dim;
    a.q = qkv.data(), a.k = qkv.data() + width(), a.v = qkv.data() + 2 * width();
    a.in_stride = stride();
    a.out = out.data(), a.out_stride = width();
    a.mask = mask.empty() ? nullptr : mask.data();
    return a;
  }
  bool unpadded(int64_t b, int64_t t) const { return mask.empty() || mask[b * seq + t] != 0; }
  // Rows the kernel computes: up to the sequence's last unpadded token (holes included).
  bool before_end(int64_t b, int64_t t) const {
    for (int64_t u = t; u < seq; ++u)
      if (unpadded(b, u)) return true;
    return false;
  }
};

std::vector<float> reference(const Layer& L) {
  std::vector<float> out;
  k::ref::attention_strided(L.view(out));
  return out;
}

// The kernel's output; rows after a sequence's last token must be exactly zero.
std::vector<float> flash(const Layer& L, int64_t tile, int threads = 2) {
  std::vector<float> out;
  std::vector<float> scratch(threads * k::flash_attention_thread_floats(L.seq, L.head_dim, tile));
  k::flash_attention(L.view(out), tile, scratch.data(), threads);
  for (int64_t b = 0; b < L.batch; ++b)
    for (int64_t t = 0; t < L.seq; ++t)
      for (int64_t c = 0; !L.before_end(b, t) && c < L.width(); ++c)
        EXPECT_EQ(out[(b * L.seq + t) * L.width() + c], 0.0f) << "padding row b=" << b << " t=" << t;
  return out;
}

// Largest |got - want| over the unpadded query rows (with `holes`, also padded rows before a
// sequence's last token); infinity on a NaN anywhere in them.
float max_diff(const Layer& L, const std::vector<float>& got, const std::vector<float>& want, bool holes = false) {
  float m = 0.0f;
  for (int64_t b = 0; b < L.batch; ++b)
    for (int64_t t = 0; t < L.seq; ++t) {
      if (!(L.unpadded(b, t) || (holes && L.before_end(b, t)))) continue;
      for (int64_t c = 0; c < L.width(); ++c) {
        const size_t i = (b * L.seq + t) * L.width() + c;
        if (std::isnan(got[i])) return std::numeric_limits<float>::infinity();
        m = std::max(m, std::fabs(got[i] - want[i]));
      }
    }
  return m;
}

// Three sequences of different lengths in a batch padded to n (the first unpadded).
std::vector<int64_t> ragged(int64_t n) { return {n, std::max<int64_t>(1, n / 2), std::max<int64_t>(1, n - 2)}; }

// Runs the tests once per instruction-set target (isa.h) the CPU has.
class ExactKernel : public ::testing::TestWithParam<k::Isa> {
 protected:
  void SetUp() override {
    if (static_cast<int>(GetParam()) > static_cast<int>(k::cpu_isa())) GTEST_SKIP() << "this CPU lacks it";
    isa_.emplace(GetParam());
  }
  void TearDown() override { isa_.reset(); }

 private:
  std::optional<k::ScopedIsa> isa_;
};

INSTANTIATE_TEST_SUITE_P(Kernels, ExactKernel,
                         ::testing::Values(k::Isa::Portable, k::Isa::Avx2, k::Isa::Avx512, k::Isa::Avx512Vnni,
                                           k::Isa::Avx512Bf16),
                         [](const auto& info) {
                           std::string name = k::isa_name(info.param);
                           name.erase(std::remove(name.begin(), name.end(), '-'), name.end());
                           return name;
                         });

TEST_P(ExactKernel, MatchesReferenceOnOddLengthsWithPadding) {
  for (int64_t d : {16, 64}) {
    for (int64_t n : {1, 3, 17, 513}) {
      const Layer L(3, n, 2, d, ragged(n), static_cast<unsigned>(n * 7 + d));
      const auto want = reference(L);
      for (int64_t tile : {1, 16, 17, 64, 100, 128, 1000}) {
        if (tile < 16 && n > 17) continue;   // tile 1 on long inputs only costs time
        EXPECT_LT(max_diff(L, flash(L, tile), want, true), 1e-5f) << "n=" << n << " d=" << d << " tile=" << tile;
      }
    }
  }
}

TEST_P(ExactKernel, OtherHeadSizes) {
  for (int64_t d : {1, 8, 24, 32, 80, 96, 130}) {
    const Layer L(2, 45, 3, d, {45, 30}, static_cast<unsigned>(d));
    const auto want = reference(L);
    for (int64_t tile : {7, 16, 32, 50})
      EXPECT_LT(max_diff(L, flash(L, tile), want, true), 1e-5f) << "d=" << d << " tile=" << tile;
  }
}

// Peaked scores that rise along the keys: the running maximum changes at every key tile, so
// every accumulator is rescaled many times.
TEST_P(ExactKernel, RescalesWhenTheMaximumMoves) {
  Layer L(1, 300, 2, 64, {}, 11, 2.0f);
  for (int64_t t = 0; t < L.seq; ++t)
    for (int64_t c = 0; c < L.width(); ++c) L.qkv[t * L.stride() + L.width() + c] *= 0.2f + t / 200.0f;   // k
  const auto want = reference(L);
  for (int64_t tile : {16, 33, 128}) EXPECT_LT(max_diff(L, flash(L, tile), want, true), 1e-5f) << "tile=" << tile;
}

// Padding anywhere (first token, holes, last), and a sequence with no token: its rows are zeros.
TEST_P(ExactKernel, MaskWithHolesAndAllPaddingSequence) {
  Layer L(3, 70, 2, 32, {70, 70, 0}, 5);
  for (int64_t t : {0, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32, 33, 34, 69})
    L.mask[L.seq + t] = 0;   // sequence 1: holes, incl. a whole 16-key tile
  const auto want = reference(L);
  for (int64_t tile : {1, 16, 20, 64, 128}) {
    const auto got = flash(L, tile);
    EXPECT_LT(max_diff(L, got, want, true), 1e-5f) << "tile=" << tile;
    for (int64_t i = 2 * L.seq * L.width(); i < 3 * L.seq * L.width(); ++i) ASSERT_EQ(got[i], 0.0f) << i;
  }
}

TEST_P(ExactKernel, OneThreadAndMoreThreadsThanTasks) {
  const Layer L(1, 40, 1, 16, {}, 3);
  const auto want = reference(L);
  EXPECT_LT(max_diff(L, flash(L, 64, 1), want, true), 1e-5f);
  EXPECT_LT(max_diff(L, flash(L, 16, 8), want, true), 1e-5f);
  // one sequence, one head, 16 threads: query tiles shrink so every thread gets work
  const Layer one(1, 300, 1, 64, {290}, 8);
  const auto want_one = reference(one);
  for (int threads : {1, 3, 16}) EXPECT_LT(max_diff(one, flash(one, 256, threads), want_one, true), 1e-5f) << threads;
  // each row's arithmetic does not depend on how rows are grouped: the same bits on any thread count
  EXPECT_EQ(flash(one, 256, 1), flash(one, 256, 16));
}

TEST_P(ExactKernel, LongSequenceSlow) {
  static const Layer L(2, 4097, 1, 64, {4097, 3000}, 17);
  static const auto want = reference(L);   // shared by both kernel sets: the reference is the slow part
  for (int64_t tile : {128, 500}) EXPECT_LT(max_diff(L, flash(L, tile), want, true), 1e-5f) << "tile=" << tile;
}

TEST(ExactKernelScratch, GrowsLinearlyWithLength) {
  for (int64_t tile : {16, 64, 128, 256}) {
    const int64_t at1k = k::flash_attention_thread_floats(1024, 64, tile);
    for (int64_t n : {2048, 4096, 16384, 65536}) {
      const int64_t floats = k::flash_attention_thread_floats(n, 64, tile);
      // linear: n/1024 times the 1k scratch at most; far below one head's (n, n) scores
      EXPECT_LE(floats, at1k * (n / 1024)) << "n=" << n << " tile=" << tile;
      EXPECT_LT(floats, n * n / 8) << "n=" << n << " tile=" << tile;
      EXPECT_GT(floats, k::flash_attention_thread_floats(n / 2, 64, tile)) << "n=" << n;
    }
  }
}

// ---- the mechanism, through make_attention, against `full` ----

std::unique_ptr<slimformer::Attention> mechanism(const std::string& spec, const Layer& L) {
  slimformer::AttentionContext ctx;
  ctx.heads = L.heads, ctx.head_dim = L.head_dim, ctx.max_seq = L.seq;
  return slimformer::make_attention(AttentionSpec::parse(spec), ctx);
}

slimformer::AttentionIO io_of(const Layer& L, std::vector<float>& out) {
  const k::StridedAttention a = L.view(out);
  slimformer::AttentionIO io;
  io.batch = a.batch, io.seq = a.seq, io.heads = a.heads, io.head_dim = a.head_dim;
  io.q = a.q, io.k = a.k, io.v = a.v, io.in_row_stride = a.in_stride;
  io.out = a.out, io.out_row_stride = a.out_stride;
  io.mask = a.mask;
  return io;
}

std::vector<float> run(const std::string& spec, const Layer& L, AttentionScratch* keep = nullptr) {
  std::vector<float> out;
  AttentionScratch scratch;
  mechanism(spec, L)->forward(io_of(L, out), keep ? *keep : scratch);
  return out;
}

TEST(ExactAttention, EqualsFullWithPadding) {
  for (int64_t d : {16, 64}) {
    for (int64_t n : {1, 3, 17, 513}) {
      const Layer L(3, n, 2, d, ragged(n), static_cast<unsigned>(n + d));
      const auto full = run("full", L);
      for (const char* spec : {"exact", "exact:tile=16", "exact:tile=17", "exact:tile=100", "exact:tile=1000"})
        EXPECT_LT(max_diff(L, run(spec, L), full), 1e-5f) << spec << " n=" << n << " d=" << d;
    }
  }
}

TEST(ExactAttention, EqualsFullOnBertBaseShape) {
  const Layer L(2, 200, 12, 64, {200, 77}, 9);
  EXPECT_LT(max_diff(L, run("exact", L), run("full", L)), 1e-5f);
}

TEST(ExactAttention, EqualsFullLongSlow) {
  const Layer L(2, 4097, 2, 64, {4097, 2500}, 21);
  const auto full = run("full", L);
  for (const char* spec : {"exact", "exact:tile=64", "exact:tile=300"})
    EXPECT_LT(max_diff(L, run(spec, L), full), 1e-5f) << spec;
}

TEST(ExactAttention, AllPaddingSequenceGivesZeros) {
  const Layer L(2, 19, 2, 16, {19, 0}, 4);
  const auto got = run("exact:tile=8", L);
  EXPECT_LT(max_diff(L, got, run("full", L)), 1e-5f);
  for (size_t i = L.seq * L.width(); i < got.size(); ++i) ASSERT_EQ(got[i], 0.0f) << i;
}

TEST(ExactAttention, DescribeAndBadTile) {
  const Layer L(1, 4, 1, 16, {}, 1);
  EXPECT_EQ(mechanism("exact", L)->describe(), "exact:tile=" + std::to_string(k::kFlashDefaultTile));
  EXPECT_EQ(mechanism("exact:tile=17", L)->describe(), "exact:tile=17");
  for (const char* bad : {"exact:tile=0", "exact:tile=-3", "exact:tile=x", "exact:tiles=8"})
    EXPECT_THROW(mechanism(bad, L), slimformer::InputError) << bad;
}

// What the mechanism asks of AttentionScratch is deterministic: linear in n, and far below the
// (heads, n, n) scores `full` asks for.
TEST(ExactAttention, ScratchGrowsLinearly) {
  std::vector<size_t> bytes;
  for (int64_t n : {256, 512, 1024, 2048}) {
    const Layer L(1, n, 2, 16, {}, 2);
    AttentionScratch scratch;
    run("exact", L, &scratch);
    bytes.push_back(scratch.bytes());
    const size_t threads = static_cast<size_t>(omp_get_max_threads());
    EXPECT_EQ(scratch.bytes(), threads * k::flash_attention_thread_floats(n, 16, k::kFlashDefaultTile) * sizeof(float));
    EXPECT_LT(scratch.bytes(), threads * (n * 300 + 200000) * sizeof(float)) << n;   // ~ (2 d + 1) n + tiles
    if (n == 2048) {
      AttentionScratch full_scratch;
      run("full", L, &full_scratch);
      EXPECT_LT(scratch.bytes() * 20, full_scratch.bytes());
    }
  }
  for (size_t i = 1; i < bytes.size(); ++i) EXPECT_LE(bytes[i], 2 * bytes[i - 1]) << i;
}

// The encoder runs exact as it runs full: same hidden states on a padded fixture batch.
TEST(ExactAttention, EncoderOutputsMatchFull) {
  using namespace slimformer;
  auto ckpt = std::make_shared<Checkpoint>(slimtest::fixtures_dir() + "/models/bert-tiny");
  Batch batch;   // two sequences of 40 and 23 tokens (ids inside the tiny vocabulary)
  batch.batch = 2, batch.seq = 40;
  for (int64_t i = 0; i < batch.batch * batch.seq; ++i) {
    const bool token = i % batch.seq < (i < batch.seq ? 40 : 23);
    batch.ids.push_back(token ? (i * 37 + 11) % 1000 : 0);
    batch.mask.push_back(token ? 1 : 0);
  }
  const Tensor exact = Encoder(ckpt, AttentionSpec::parse("exact:tile=16")).forward(batch, {}).last_hidden_state;
  const Tensor full = Encoder(ckpt, AttentionSpec::parse("full")).forward(batch, {}).last_hidden_state;
  const int64_t H = full.dim(2);
  float worst = 0.0f;
  for (int64_t r = 0; r < batch.batch * batch.seq; ++r)
    for (int64_t c = 0; batch.mask[r] && c < H; ++c)
      worst = std::max(worst, std::fabs(exact.data<float>()[r * H + c] - full.data<float>()[r * H + c]));
  EXPECT_LT(worst, 1e-5f);
}

}  // namespace

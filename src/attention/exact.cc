// `exact`: softmax attention as `full` computes it, tiled with an online softmax so the (n, n)
// scores never exist: scratch is linear in n per thread (kernels/cpu/flash_attention.h;
// docs/attention/exact.md has the tile measurement and the speed against `full`).
#include <omp.h>

#include <string>

#include "attention/registry.h"
#include "kernels/cpu/flash_attention.h"
#include "slimformer/error.h"

namespace slimformer::attention {

namespace {

class ExactAttention final : public Attention {
 public:
  explicit ExactAttention(int64_t tile) : tile_(tile) {}

  void forward(const AttentionIO& io, AttentionScratch& scratch) const override {
    if (io.batch == 0 || io.seq == 0) return;
    const int threads = omp_get_max_threads();
    const int64_t per_thread = kernels::flash_attention_thread_floats(io.seq, io.head_dim, tile_);
    float* buf = scratch.floats(static_cast<size_t>(threads * per_thread));
    kernels::StridedAttention a;
    a.batch = io.batch;
    a.seq = io.seq;
    a.heads = io.heads;
    a.head_dim = io.head_dim;
    a.q = io.q;
    a.k = io.k;
    a.v = io.v;
    a.in_stride = io.in_row_stride;
    a.out = io.out;
    a.out_stride = io.out_row_stride;
    a.mask = io.mask;
    a.scale = io.scale;
    kernels::flash_attention(a, tile_, buf, threads);
  }

  std::string describe() const override { return "exact:tile=" + std::to_string(tile_); }

 private:
  int64_t tile_;
};

const bool registered = register_attention(
    {"exact", {"tile"}, "exact softmax attention, tiled (online softmax): linear memory",
     [](const AttentionSpec&, const AttentionPart& part, const AttentionContext&) -> std::unique_ptr<Attention> {
       const int64_t tile = part.integer("tile", kernels::kFlashDefaultTile);
       if (tile <= 0)
         throw InputError("attention exact: tile=" + std::to_string(tile) +
                          " is out of range (expected a positive integer: query and key rows per tile)");
       return std::make_unique<ExactAttention>(tile);
     }});

}  // namespace

}  // namespace slimformer::attention

// The dense approximations built directly, for tests and benchmarks: linformer (low-rank
// projection of keys and values along the sequence), performer (FAVOR+ positive orthogonal
// random features) and linear (elu + 1 feature map). make_attention() builds the same objects
// from a spec; docs/attention/{linformer,performer,linear}.md give the semantics and defaults.
#pragma once
#include <cstdint>
#include <memory>
#include <vector>

#include "slimformer/attention.h"

namespace slimformer::attention {

// Which projections a layer holds (names follow the spec key `sharing`):
//   Layer: one matrix E per layer, used as both E and F by every head
//          (the paper's key-value sharing on top of headwise sharing)
//   Head:  E and F distinct, each shared by every head of the layer (headwise sharing)
//   None:  distinct E and F for every head
enum class LinformerSharing { Layer, Head, None };

struct LinformerOptions {
  int64_t k = 256;
  LinformerSharing sharing = LinformerSharing::Layer;
  uint64_t seed = 0;
};

// InputError when k < 1.
std::unique_ptr<Attention> make_linformer(const LinformerOptions& options);

// The seeded projection of matrix `matrix` of `layer`, transposed: (n, k) row-major, entry
// (j, r) = E[r][j], drawn N(0, 1/k). Row j depends only on (seed, layer, matrix, j, k), so the
// projection for n is the first n rows of the projection for any longer sequence.
// Matrix numbering: Layer sharing uses 0; Head uses 0 (E) and 1 (F); None uses 2h (E) and
// 2h + 1 (F) for head h.
std::vector<float> linformer_projection(uint64_t seed, int layer, int64_t matrix, int64_t k, int64_t n);

// Linformer with given projections, the same for every layer: e and f hold one (k, length)
// row-major matrix each (shared by all heads) or one per head. Sequences up to `length` tokens.
// InputError when the sizes disagree. describe() says "projections=given", which no spec builds.
std::unique_ptr<Attention> make_linformer_with(int64_t k, int64_t length, std::vector<std::vector<float>> e,
                                               std::vector<std::vector<float>> f);

struct PerformerOptions {
  int64_t features = 256;   // m
  bool redraw = false;      // new features on every forward
  uint64_t seed = 0;
};

// InputError when features < 1.
std::unique_ptr<Attention> make_performer(const PerformerOptions& options);

// The m random features of `layer` for draw number `draw` (0 when redraw is off; the n-th
// forward draws n when it is on), before scaling: (m, d) row-major. Rows come in blocks of d
// mutually orthogonal rows (Gram-Schmidt on a Gaussian matrix), each row then rescaled to the
// norm of an independent d-dimensional Gaussian vector (chi-distributed with d degrees).
std::vector<float> performer_features(uint64_t seed, int layer, uint64_t draw, int64_t m, int64_t d);

std::unique_ptr<Attention> make_linear_attention();

}  // namespace slimformer::attention

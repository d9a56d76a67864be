// sentence-transformers' CosineSimilarityLoss: the loss of scored sentence pairs (STS-B) on their
// embeddings, with its input gradients (written, as every loss in train/losses.h).
#pragma once
#include <cstdint>

namespace slimformer::train {

// mean over rows of (F.cosine_similarity(a, b, eps=1e-8) - target)^2, a and b (rows, dim), target
// (rows) the pair's similarity in [0, 1] (STS-B's score / 5). Norms are clamped to eps as torch
// does (no gradient through the clamp). da, db (rows, dim) written, either may be null. The sums
// are taken in double and the loss returned in double: finite differences of it are meaningful.
double cosine_similarity_loss(float* da, float* db, const float* a, const float* b, const double* target,
                              int64_t rows, int64_t dim);

}  // namespace slimformer::train

// How `embed` writes a matrix of embeddings (N, H) of f32: JSON lines, a NumPy .npy file, or raw
// little-endian f32 rows.
#pragma once
#include <functional>
#include <string>

#include "slimformer/tensor.h"

namespace slimcli {

enum class EmbeddingFormat { Jsonl, Npy, F32 };

// "jsonl", "npy" or "f32"; InputError naming --format otherwise.
EmbeddingFormat parse_embedding_format(const std::string& text);

// Writes the output for embeddings e (N, H) through `write`, a row or a header at a time (so
// the text of a large run is never held whole):
//   Jsonl: one line {"embedding": [...]} per row, floats that read back exactly (null if not finite);
//   Npy:   NumPy format 1.0 ('<f4', C order, shape (N, H)), which numpy.load reads;
//   F32:   the N x H floats, row after row, little-endian, nothing else.
void write_embeddings(const slimformer::Tensor& e, EmbeddingFormat format,
                      const std::function<void(const std::string&)>& write);

}  // namespace slimcli

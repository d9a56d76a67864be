#include "embedding_formats.h"

#include <cstdint>
#include <cstring>

#include "cli_common.h"
#include "slimformer/error.h"

namespace slimcli {
namespace {

bool little_endian() {
  const uint32_t one = 1;
  unsigned char first = 0;
  std::memcpy(&first, &one, 1);
  return first == 1;
}

void write_raw_rows(const slimformer::Tensor& e, const std::function<void(const std::string&)>& write) {
  if (!little_endian()) throw slimformer::InputError("--format npy and f32 are written on little-endian machines only");
  const size_t row = static_cast<size_t>(e.dim(1)) * sizeof(float);
  for (int64_t i = 0; i < e.dim(0); ++i) write(std::string(static_cast<const char*>(e.raw()) + i * row, row));
}

// NumPy's format 1.0: magic, version, a little-endian u16 header length, then a Python dict
// literal padded with spaces and ended by a newline so that the data starts 64-byte aligned.
std::string npy_header(int64_t rows, int64_t cols) {
  std::string dict = "{'descr': '<f4', 'fortran_order': False, 'shape': (" + std::to_string(rows) + ", " +
                     std::to_string(cols) + "), }";
  const size_t fixed = 10;   // magic (6) + version (2) + header length (2)
  const size_t total = (fixed + dict.size() + 1 + 63) / 64 * 64;
  dict.append(total - fixed - dict.size() - 1, ' ');
  dict += '\n';
  std::string out = "\x93NUMPY";
  out += '\x01';
  out += '\x00';
  out += static_cast<char>(dict.size() & 0xff);
  out += static_cast<char>(dict.size() >> 8);
  return out + dict;
}

}  // namespace

EmbeddingFormat parse_embedding_format(const std::string& text) {
  if (text == "jsonl") return EmbeddingFormat::Jsonl;
  if (text == "npy") return EmbeddingFormat::Npy;
  if (text == "f32") return EmbeddingFormat::F32;
  throw slimformer::InputError("--format: '" + text + "' is not a format (expected jsonl, npy or f32)");
}

void write_embeddings(const slimformer::Tensor& e, EmbeddingFormat format,
                      const std::function<void(const std::string&)>& write) {
  const int64_t N = e.dim(0), H = e.dim(1);
  if (format == EmbeddingFormat::Npy) write(npy_header(N, H));
  if (format != EmbeddingFormat::Jsonl) return write_raw_rows(e, write);
  std::string line;
  for (int64_t i = 0; i < N; ++i) {
    line = "{\"embedding\": [";
    const float* row = e.data<float>() + i * H;
    for (int64_t j = 0; j < H; ++j) {
      if (j) line += ", ";
      append_json_float(line, row[j]);
    }
    line += "]}\n";
    write(line);
  }
}

}  // namespace slimcli

// SafetensorsFile: the whole file is mmapped read-only and tensors are views into it, so loading
// a model copies nothing. Every header field is checked before any view can be handed out.
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <tuple>

#include "io/json_file.h"
#include "io/sparse_tensors.h"
#include "slimformer/checkpoint.h"
#include "slimformer/error.h"

namespace slimformer {
namespace {

// Closes the descriptor on every path out of the constructor.
struct Fd {
  int fd = -1;
  ~Fd() { if (fd >= 0) ::close(fd); }
};

std::string quoted(const std::string& s) { return "'" + s + "'"; }
// A tensor name or other string from the header, bounded and on one line (real names are < 100 chars).
std::string name_q(const std::string& s) { return "'" + io::text_excerpt(s, 160) + "'"; }

uint64_t read_le64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

[[noreturn]] void bad(const std::string& path, const std::string& what) {
  throw FormatError("safetensors file " + quoted(path) + ": " + what);
}

// numel x element size, or false when it does not fit in 64 bits.
bool span_bytes(const Shape& shape, size_t elem, uint64_t* out) {
  uint64_t n = elem;
  for (int64_t d : shape) {
    if (__builtin_mul_overflow(n, static_cast<uint64_t>(d), &n)) return false;
  }
  *out = n;
  return true;
}

std::string supported_dtypes() {
  std::string s;
  for (DType t : {DType::F32, DType::F16, DType::BF16, DType::I8, DType::I32, DType::I64, DType::U8}) {
    if (!s.empty()) s += ' ';
    s += dtype_name(t);
  }
  return s;
}

Shape parse_shape(const io::Json& v, const std::string& path, const std::string& name) {
  if (!v.is_array()) bad(path, "tensor " + name_q(name) + ": 'shape' must be an array of integers, got " + io::describe_json(v));
  Shape shape;
  for (const auto& d : v) {
    if (d.is_number_unsigned() && d.get<uint64_t>() <= static_cast<uint64_t>(INT64_MAX)) {
      shape.push_back(d.get<int64_t>());
    } else if (d.is_number_integer() && !d.is_number_unsigned()) {
      bad(path, "tensor " + name_q(name) + ": dimension " + io::json_excerpt(d) + " in 'shape' is negative");
    } else {
      bad(path, "tensor " + name_q(name) + ": 'shape' must hold non-negative integers below 2^63, got " + io::describe_json(d));
    }
  }
  return shape;
}

// [begin, end) relative to the data section.
std::pair<uint64_t, uint64_t> parse_offsets(const io::Json& v, const std::string& path,
                                            const std::string& name) {
  const bool ok = v.is_array() && v.size() == 2 && v[0].is_number_unsigned() && v[1].is_number_unsigned();
  if (!ok) {
    bad(path, "tensor " + name_q(name) + ": 'data_offsets' must be [begin, end] with non-negative integers, got " +
                  io::describe_json(v));
  }
  return {v[0].get<uint64_t>(), v[1].get<uint64_t>()};
}

std::map<std::string, std::string> parse_metadata(const io::Json& v, const std::string& path) {
  if (!v.is_object()) bad(path, "'__metadata__' must be an object of string values, got " + io::json_type_name(v));
  std::map<std::string, std::string> out;
  for (const auto& [k, val] : v.items()) {
    if (!val.is_string()) {
      bad(path, "'__metadata__' value of " + name_q(k) + " must be a string, got " + io::json_type_name(val));
    }
    out[k] = val.get<std::string>();
  }
  return out;
}

struct ParsedEntry {
  DType dtype;
  Shape shape;
  uint64_t begin, end;
};

// One header entry, checked against the data section's size.
ParsedEntry parse_entry(const std::string& name, const io::Json& v, const std::string& path, uint64_t data_size) {
  const std::string t = "tensor " + name_q(name);
  if (!v.is_object()) bad(path, t + ": entry must be an object, got " + io::json_type_name(v));
  for (const char* key : {"dtype", "shape", "data_offsets"}) {
    if (!v.contains(key)) bad(path, t + ": entry lacks '" + key + "'");
  }
  if (!v["dtype"].is_string()) bad(path, t + ": 'dtype' must be a string, got " + io::describe_json(v["dtype"]));
  ParsedEntry e{};
  const std::string dtype = v["dtype"].get<std::string>();
  if (!dtype_from_name(dtype, &e.dtype)) {
    bad(path, t + ": unsupported dtype " + name_q(dtype) + " (supported: " + supported_dtypes() + ")");
  }
  e.shape = parse_shape(v["shape"], path, name);
  std::tie(e.begin, e.end) = parse_offsets(v["data_offsets"], path, name);
  if (e.begin > e.end) {
    bad(path, t + ": data_offsets begin " + std::to_string(e.begin) + " > end " + std::to_string(e.end));
  }
  if (e.end > data_size) {
    bad(path, t + ": data_offsets end " + std::to_string(e.end) + " is past the " + std::to_string(data_size) +
                  "-byte data section");
  }
  uint64_t expected = 0;
  if (!span_bytes(e.shape, dtype_size(e.dtype), &expected)) {
    bad(path, t + ": shape " + shape_str(e.shape) + " overflows 64-bit byte counts");
  }
  if (expected != e.end - e.begin) {
    bad(path, t + ": shape " + shape_str(e.shape) + " x " + dtype + " needs " + std::to_string(expected) +
                  " bytes but data_offsets span " + std::to_string(e.end - e.begin));
  }
  return e;
}

// Two tensors must never share bytes: sort the non-empty spans and compare neighbours.
template <class EntryMap>
void check_no_overlap(const EntryMap& entries, const std::string& path) {
  std::vector<std::pair<const std::string*, std::pair<size_t, size_t>>> spans;
  for (const auto& [name, e] : entries) {
    if (e.end > e.begin) spans.push_back({&name, {e.begin, e.end}});
  }
  std::sort(spans.begin(), spans.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  for (size_t i = 1; i < spans.size(); ++i) {
    if (spans[i].second.first < spans[i - 1].second.second) {
      bad(path, "tensors " + name_q(*spans[i - 1].first) + " and " + name_q(*spans[i].first) +
                    " overlap in the data section");
    }
  }
}

}  // namespace

SafetensorsFile::SafetensorsFile(const std::string& path) : path_(path) {
  Fd f;
  // O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused below as not a regular file.
  f.fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (f.fd < 0) throw IoError("cannot open safetensors file " + quoted(path) + ": " + std::strerror(errno));
  struct stat st{};
  if (::fstat(f.fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    throw IoError("safetensors path " + quoted(path) + " is not a readable regular file");
  }
  size_ = static_cast<size_t>(st.st_size);
  if (size_ < 8) bad(path, "is " + std::to_string(size_) + " bytes, shorter than the 8-byte header length");

  unsigned char len_bytes[8];
  if (::pread(f.fd, len_bytes, 8, 0) != 8) throw IoError("cannot read " + quoted(path) + ": " + std::strerror(errno));
  const uint64_t header_len = read_le64(len_bytes);
  // Both limits are checked before anything is allocated, so a hostile length cannot exhaust memory.
  if (header_len > kMaxHeaderBytes) {
    bad(path, "header length " + std::to_string(header_len) + " exceeds the limit of " +
                  std::to_string(kMaxHeaderBytes) + " bytes");
  }
  if (header_len > size_ - 8) {
    bad(path, "header length " + std::to_string(header_len) + " runs past the end of the " +
                  std::to_string(size_) + "-byte file");
  }

  void* addr = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, f.fd, 0);
  if (addr == MAP_FAILED) throw IoError("cannot mmap " + quoted(path) + ": " + std::strerror(errno));
  const size_t mapped = size_;
  mapping_ = std::shared_ptr<const void>(addr, [mapped](const void* p) { ::munmap(const_cast<void*>(p), mapped); });
  const auto* bytes = static_cast<const unsigned char*>(addr);
  base_ = bytes + 8 + header_len;
  const uint64_t data_size = size_ - 8 - header_len;

  const char* header_text = reinterpret_cast<const char*>(bytes + 8);
  io::Json header;
  try {
    header = io::parse_json_checked(header_text, header_text + header_len, "safetensors file " + quoted(path) + ": header");
  } catch (const io::Json::exception& e) {
    bad(path, "header is not valid JSON: " + io::text_excerpt(e.what(), 240));
  }
  if (!header.is_object()) bad(path, "header must be a JSON object, got " + io::json_type_name(header));

  for (const auto& [name, v] : header.items()) {
    if (name == "__metadata__") {
      metadata_ = parse_metadata(v, path);
      continue;
    }
    const ParsedEntry e = parse_entry(name, v, path, data_size);
    entries_.emplace(name, Entry{e.dtype, e.shape, e.begin, e.end});
  }
  check_no_overlap(entries_, path);
  read_sparse_entries();
}

// Metadata "sparse N,K" under a name: that tensor is stored as name.mask + name.values, both
// checked now so that get() cannot fail on them later.
void SafetensorsFile::read_sparse_entries() {
  for (const auto& [name, value] : metadata_) {
    if (!io::is_sparse_marker(value)) continue;
    int64_t N = 0, K = 0;
    std::string error;
    if (!io::parse_sparse_marker(value, &N, &K, &error)) bad(path_, "metadata of tensor " + name_q(name) + ": " + error);
    const std::string mask = name + io::kSparseMaskSuffix, values = name + io::kSparseValuesSuffix;
    if (entries_.count(name)) bad(path_, "tensor " + name_q(name) + " is stored both dense and sparse");
    if (!entries_.count(mask) || !entries_.count(values)) {
      bad(path_, "sparse tensor " + name_q(name) + " lacks " + name_q(entries_.count(mask) ? values : mask));
    }
    const std::string problem = io::sparse_parts_problem(view(entries_.at(mask)), view(entries_.at(values)), N, K);
    if (!problem.empty()) bad(path_, "sparse tensor " + name_q(name) + ": " + problem);
    sparse_.emplace(name, SparseEntry{N, K});
  }
  // The parts are reached through their tensor only.
  for (const auto& [name, sp] : sparse_) {
    for (const std::string& part : {name + io::kSparseMaskSuffix, name + io::kSparseValuesSuffix}) {
      sparse_parts_.insert(entries_.extract(part));
    }
  }
}

SafetensorsFile::~SafetensorsFile() = default;

std::vector<std::string> SafetensorsFile::names() const {
  std::vector<std::string> out;
  out.reserve(entries_.size() + sparse_.size());
  for (const auto& [name, e] : entries_) out.push_back(name);
  for (const auto& [name, sp] : sparse_) out.push_back(name);
  std::sort(out.begin(), out.end());
  return out;
}

bool SafetensorsFile::contains(const std::string& name) const {
  return entries_.count(name) != 0 || sparse_.count(name) != 0;
}

Tensor SafetensorsFile::view(const Entry& e) const {
  // The mapping is read-only: a caller that writes through raw() faults rather than changing the file.
  void* data = const_cast<unsigned char*>(base_ + e.begin);
  return Tensor::view(data, e.shape, e.dtype, mapping_);
}

Tensor SafetensorsFile::get(const std::string& name) const {
  if (auto it = entries_.find(name); it != entries_.end()) return view(it->second);
  if (auto it = sparse_.find(name); it != sparse_.end()) {
    return io::sparse_decode(view(sparse_parts_.at(name + io::kSparseMaskSuffix)),
                             view(sparse_parts_.at(name + io::kSparseValuesSuffix)), it->second.N, it->second.K);
  }
  throw ModelError("tensor " + quoted(name) + " not found in safetensors file " + quoted(path_));
}

size_t SafetensorsFile::stored_bytes(const std::string& name) const {
  if (auto it = entries_.find(name); it != entries_.end()) return it->second.end - it->second.begin;
  if (sparse_.count(name)) {
    size_t b = 0;
    for (const std::string& part : {name + io::kSparseMaskSuffix, name + io::kSparseValuesSuffix}) {
      const Entry& e = sparse_parts_.at(part);
      b += e.end - e.begin;
    }
    return b;
  }
  throw ModelError("tensor " + quoted(name) + " not found in safetensors file " + quoted(path_));
}

}  // namespace slimformer

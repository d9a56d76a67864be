// The mechanism table, make_attention() and what every mechanism shares (scratch, default
// pattern, the model's default spec).
#include "attention/registry.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <map>

#include "slimformer/error.h"

namespace slimformer {

namespace attention {

namespace {
// Function-local so that registrations from other files' static initializers find it built.
std::map<std::string, Mechanism>& table() {
  static std::map<std::string, Mechanism> t;
  return t;
}
}  // namespace

bool register_attention(Mechanism m) {
  if (!table().emplace(m.name, m).second) {
    std::fprintf(stderr, "slimformer: attention mechanism '%s' registered twice\n", m.name.c_str());
    std::abort();
  }
  return true;
}

const Mechanism* find_mechanism(const std::string& name) {
  const auto it = table().find(name);
  return it == table().end() ? nullptr : &it->second;
}

std::vector<const Mechanism*> mechanisms() {
  std::vector<const Mechanism*> out;
  for (const auto& [name, m] : table()) {
    if (name != "+") out.push_back(&m);
  }
  return out;
}

}  // namespace attention

const std::vector<std::string>& attention_names() {
  // The order of the docs: reference, exact, patterns, then approximations.
  static const std::vector<std::string> order = {"full",   "exact", "sliding",   "global",    "random",
                                                 "bigbird", "lsh",  "linformer", "performer", "linear"};
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const std::string& n : order) {
      if (attention::find_mechanism(n)) out.push_back(n);
    }
    for (const attention::Mechanism* m : attention::mechanisms()) {
      if (std::find(out.begin(), out.end(), m->name) == out.end()) out.push_back(m->name);
    }
    return out;
  }();
  return names;
}

namespace {

std::string known_names() {
  std::string list;
  for (const std::string& n : attention_names()) list += (list.empty() ? "" : ", ") + n;
  return list;
}

const attention::Mechanism& lookup(const AttentionPart& part) {
  const attention::Mechanism* m = attention::find_mechanism(part.name);
  if (!m || part.name == "+") {
    throw InputError("unknown attention mechanism '" + part.name + "' (expected one of: " + known_names() + ")");
  }
  part.check_keys(m->keys);
  return *m;
}

}  // namespace

std::unique_ptr<Attention> make_attention(const AttentionSpec& spec, const AttentionContext& ctx) {
  if (spec.parts.empty()) throw InputError("attention spec is empty (expected NAME[:key=value,...], e.g. exact)");
  if (ctx.heads < 1 || ctx.head_dim < 1 || ctx.num_layers < 1) {
    throw InputError("attention needs heads, head_dim and num_layers >= 1");
  }
  if (spec.parts.size() == 1) {
    const attention::Mechanism& m = lookup(spec.parts[0]);
    return m.make(spec, spec.parts[0], ctx);
  }
  for (const AttentionPart& p : spec.parts) {
    if (!lookup(p).combinable) {
      throw InputError("attention spec '" + spec.str() + "': " + p.name +
                       " does not combine with other mechanisms (only sliding, random and global join with '+')");
    }
  }
  const attention::Mechanism* combiner = attention::find_mechanism("+");
  if (!combiner) throw InputError("attention spec '" + spec.str() + "': combining mechanisms is not available");
  return combiner->make(spec, spec.parts[0], ctx);
}

AttentionContext attention_context(const EncoderConfig& c) {
  AttentionContext ctx;
  ctx.num_layers = c.num_layers;
  ctx.heads = c.num_heads;
  ctx.head_dim = c.num_heads > 0 ? c.hidden_size / c.num_heads : 0;
  ctx.max_seq = c.max_position_embeddings - c.position_offset;
  return ctx;
}

float* AttentionScratch::floats(size_t count) {
  if (bytes() < count * sizeof(float)) {
    buffer_ = Tensor();   // free first: the old and new buffers are never held together
    buffer_ = Tensor::empty({static_cast<int64_t>(count)});
  }
  return buffer_.data<float>();
}

std::vector<uint8_t> Attention::pattern(int64_t n, int /*layer*/) const {
  return std::vector<uint8_t>(static_cast<size_t>(n * n), 1);
}

}  // namespace slimformer

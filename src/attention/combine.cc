// The "+" combiner: "sliding:window=256+global:first=1+random:r=2" builds each part through its
// own mechanism and merges them into one PatternUnion (a pair is attended when any part says so).
#include "attention/pattern_union.h"
#include "attention/registry.h"
#include "slimformer/error.h"

namespace slimformer::attention {

namespace {

std::unique_ptr<Attention> make_union(const AttentionSpec& spec, const AttentionPart&, const AttentionContext& ctx) {
  std::unique_ptr<PatternUnion> all;
  for (const AttentionPart& part : spec.parts) {
    const Mechanism* m = find_mechanism(part.name);
    if (!m || !m->combinable) {
      throw InputError("attention spec '" + spec.str() + "': " + part.name +
                       " does not combine with '+' (combinable: global, random, sliding)");
    }
    AttentionSpec single;
    single.parts.push_back(part);
    std::unique_ptr<Attention> built = m->make(single, part, ctx);
    auto* as_union = dynamic_cast<PatternUnion*>(built.get());
    if (!as_union) throw InputError("attention spec '" + spec.str() + "': " + part.name + " has no pattern to combine");
    if (!all) {
      built.release();
      all.reset(as_union);
    } else {
      all->absorb(std::move(*as_union));
    }
  }
  if (!all) throw InputError("attention spec is empty (expected NAME[:key=value,...], e.g. exact)");
  return all;
}

const bool registered = register_attention({"+", {}, "union of sliding, global and random", make_union});

}  // namespace

}  // namespace slimformer::attention

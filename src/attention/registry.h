// The table of mechanisms make_attention() builds from. Each mechanism's file registers itself
// at start-up (the library is linked whole, so no registration is dropped):
//
//   namespace { const bool registered = register_attention({"lsh", {"n_hashes", ...}, "Reformer ...", make_lsh}); }
//
// Mechanisms that combine with '+' (sliding, random, global) are built together by the
// combiner registered under the name "+", which receives the whole spec.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "slimformer/attention.h"

namespace slimformer::attention {

struct Mechanism {
  std::string name;
  std::vector<std::string> keys;   // every key the mechanism accepts (unknown keys are refused)
  std::string summary;             // one line for --help and docs
  // Builds from the spec's part of this name. For the "+" combiner, part is unused and
  // `spec` holds every part. InputError on a bad value.
  std::function<std::unique_ptr<Attention>(const AttentionSpec& spec, const AttentionPart& part,
                                           const AttentionContext& ctx)>
      make;
  bool combinable = false;         // may appear with other combinable parts, joined by '+'
};

// Adds a mechanism; returns true (for use in a namespace-scope initializer). Registering a name
// twice is a programming error and aborts with a message.
bool register_attention(Mechanism m);
// Null when no mechanism has that name.
const Mechanism* find_mechanism(const std::string& name);
// Every registered mechanism, sorted by name ("+" excluded).
std::vector<const Mechanism*> mechanisms();

}  // namespace slimformer::attention

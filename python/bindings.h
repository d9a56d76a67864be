// The parts of the Python module, each registering its functions and classes on the module.
#pragma once
#include <pybind11/pybind11.h>

#include <optional>
#include <string>

#include "slimformer/attention.h"

namespace slimpy {

void add_encoder(pybind11::module_& m);   // SentenceEncoder, tokenize
void add_tools(pybind11::module_& m);     // eval_stsb, eval_mrpc, bench, prune, quantize, distill

// threads=None leaves the library's setting; an int sets it (ValueError outside 1..4096).
void apply_threads(const std::optional<int>& threads);
// attention=None: the model's own mechanism; otherwise a spec such as "sliding:window=64"
// (ValueError for bad syntax; unknown names and keys fail when the model is built).
slimformer::AttentionSpec attention_spec(const std::optional<std::string>& text);

}  // namespace slimpy

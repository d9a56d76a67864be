// Helpers the compression passes share: finding a model's tensors by role and refusing states a
// pass cannot work on.
#pragma once
#include <string>
#include <vector>

#include "model/weights.h"
#include "slimformer/compress.h"

namespace slimformer::compress {

// The tensor `name` of m (ModelError naming it when absent).
Tensor& tensor(ModelState& m, const std::string& name);
// The tensor names m's architecture record gives its config and tensors.
model::TensorNames names_of(const ModelState& m);
// InputError when `layer` is not one of m's layers; `what` names the operation.
void check_layer(const ModelState& m, int64_t layer, const char* what);
// InputError when a tensor `name` of m holds int8 data: weights already quantized are not
// pruned (their values are codes, not weights; prune first, then quantize).
void check_not_quantized(const ModelState& m, const std::string& name, const char* what);
// The weights of every Linear of m (nn.Linear's modules() order: per layer query, key, value,
// Longformer's global projections, attention output, FFN in, FFN out; then the pooler).
std::vector<std::string> linear_weight_names(const ModelState& m);

}  // namespace slimformer::compress

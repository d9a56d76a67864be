#include "compress/state_util.h"

#include "slimformer/error.h"

namespace slimformer::compress {

ModelState state_of(const Checkpoint& ckpt) {
  ModelState m;
  m.config = ckpt.config();
  for (const std::string& name : ckpt.names()) m.tensors[name] = ckpt.get(name);
  return m;
}

std::shared_ptr<const Checkpoint> checkpoint_of(const ModelState& m) {
  return std::make_shared<const Checkpoint>(m.config, m.tensors);
}

Tensor& tensor(ModelState& m, const std::string& name) {
  auto it = m.tensors.find(name);
  if (it == m.tensors.end()) throw ModelError("tensor '" + name + "' is missing from the model");
  return it->second;
}

model::TensorNames names_of(const ModelState& m) { return model::tensor_names_for(*checkpoint_of(m)); }

void check_layer(const ModelState& m, int64_t layer, const char* what) {
  if (layer < 0 || layer >= m.config.num_layers) {
    throw InputError(std::string(what) + ": layer " + std::to_string(layer) + " is out of range (the model has " +
                     std::to_string(m.config.num_layers) + " layers)");
  }
}

void check_not_quantized(const ModelState& m, const std::string& name, const char* what) {
  auto it = m.tensors.find(name);
  if (it != m.tensors.end() && it->second.dtype() == DType::I8) {
    throw InputError(std::string(what) + ": the model is quantized ('" + name +
                     "' holds int8 codes); prune the float model first, then quantize");
  }
}

std::vector<std::string> linear_weight_names(const ModelState& m) {
  const model::TensorNames names = names_of(m);
  std::vector<std::string> out;
  for (const model::LayerNames& n : names.layers) {
    for (const std::string* w : {&n.q_w, &n.k_w, &n.v_w, &n.q_global_w, &n.k_global_w, &n.v_global_w, &n.attn_out_w,
                                 &n.ffn_in_w, &n.ffn_out_w}) {
      if (!w->empty()) out.push_back(*w);
    }
  }
  if (!names.pooler_w.empty() && m.tensors.count(names.pooler_w)) out.push_back(names.pooler_w);
  return out;
}

}  // namespace slimformer::compress

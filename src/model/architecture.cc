// The list of supported families and the look-ups over it.
#include "model/architecture.h"

#include "slimformer/error.h"

namespace slimformer {
namespace model {

const std::vector<const Architecture*>& architectures() {
  static const std::vector<const Architecture*> all = {&kBert,       &kRoberta,  &kXlmRoberta,
                                                       &kDistilBert, &kBigBird, &kLongformer};
  return all;
}

const Architecture* find_architecture(const std::string& model_type) {
  for (const Architecture* a : architectures()) {
    if (model_type == a->model_type) return a;
  }
  return nullptr;
}

std::string supported_list() {
  std::string s;
  for (const Architecture* a : architectures()) s += (s.empty() ? "" : ", ") + std::string(a->model_type);
  return s;
}

const Architecture& architecture_of(const EncoderConfig& c) {
  const Architecture* a = find_architecture(c.model_type);
  if (!a) throw ModelError("model_type '" + c.model_type + "' is not supported (supported: " + supported_list() + ")");
  return *a;
}

void check_absolute_positions(const io::Json& j, const std::string& path) {
  const std::string kind = io::optional_string(j, "position_embedding_type", path, "absolute");
  if (kind != "absolute") {
    throw ModelError("'" + path + "': position_embedding_type '" + kind + "' is not supported (only 'absolute')");
  }
}

TensorNames tensor_names_for(const Checkpoint& ckpt) { return architecture_of(ckpt.config()).tensor_names(ckpt); }

}  // namespace model

AttentionSpec default_attention(const EncoderConfig& config) {
  const model::Architecture* a = model::find_architecture(config.model_type);
  if (a && a->default_attention) return a->default_attention(config);
  AttentionSpec spec;
  spec.parts.push_back(AttentionPart{"exact", {}});
  return spec;
}

}  // namespace slimformer

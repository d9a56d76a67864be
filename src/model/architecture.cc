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
    throw ModelError("'" + path + "': position_embedding_type '" + io::text_excerpt(kind) + "' is not supported (only 'absolute')");
  }
}

namespace {
// Layer names are built per layer, so a layer count the weights cannot hold is refused before
// building them (a config saying 10^4 layers would otherwise build 10^4 sets of names for a file
// of a few dozen tensors). Every layer has many tensors, so more layers than tensors is wrong
// for certain; a count only slightly off is left to the loader, which names the missing tensor.
// An empty in-memory checkpoint only asks for the names (random weights) and has none to count.
void check_layers_fit_weights(const Checkpoint& ckpt, const Architecture& arch) {
  if (ckpt.dir().empty() && ckpt.names().empty()) return;
  const int64_t tensors = static_cast<int64_t>(ckpt.names().size());
  const int64_t layers = ckpt.config().num_layers;
  if (layers > tensors) {
    const std::string where = ckpt.dir().empty() ? std::string("the in-memory checkpoint") : "model folder '" + ckpt.dir() + "'";
    throw ModelError(where + ": config " + arch.keys.num_layers + " " + std::to_string(layers) +
                     " is more layers than the weights have tensors (" + std::to_string(tensors) +
                     "; each layer needs at least 16)");
  }
}
}  // namespace

TensorNames tensor_names_for(const Checkpoint& ckpt) {
  const Architecture& arch = architecture_of(ckpt.config());
  check_layers_fit_weights(ckpt, arch);
  return arch.tensor_names(ckpt);
}

}  // namespace model

AttentionSpec default_attention(const EncoderConfig& config) {
  const model::Architecture* a = model::find_architecture(config.model_type);
  if (a && a->default_attention) return a->default_attention(config);
  AttentionSpec spec;
  spec.parts.push_back(AttentionPart{"exact", {}});
  return spec;
}

}  // namespace slimformer

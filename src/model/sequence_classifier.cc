// SequenceClassifier: a model folder saved from a *ForSequenceClassification model. The encoder
// runs as for embeddings; the head is read here, from config.json (which head, how many labels)
// and the checkpoint's classifier tensors, converted to F32 once.
#include <cmath>
#include <filesystem>

#include "io/json_file.h"
#include "model/layers.h"
#include "model/sorted_batches.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"

namespace slimformer {
namespace {

using io::Json;

const std::string kBert = "BertForSequenceClassification";
const std::string kRoberta = "RobertaForSequenceClassification";

std::string supported_heads() { return kBert + ", " + kRoberta; }

std::string where(const std::string& dir) { return "model folder '" + dir + "'"; }

std::string config_path(const std::string& dir) { return (std::filesystem::path(dir) / "config.json").string(); }

bool ends_with(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

bool present(const Json& j, const std::string& key) { return j.is_object() && j.contains(key) && !j[key].is_null(); }

std::string head_in(const Json& config, const std::string& path) {
  if (!present(config, "architectures")) return "";
  const Json& a = config["architectures"];
  if (!a.is_array()) {
    throw FormatError("key 'architectures' in '" + path + "' must be an array of strings, got " + io::json_type_name(a));
  }
  for (const Json& name : a) {
    if (!name.is_string()) {
      throw FormatError("key 'architectures' in '" + path + "' must hold strings, got " + io::json_type_name(name));
    }
    if (ends_with(name.get<std::string>(), "ForSequenceClassification")) return name.get<std::string>();
  }
  return "";
}

// "num_labels" if present, else the size of "id2label", else 2 (as Hugging Face's PretrainedConfig).
// Both present and disagreeing is refused rather than guessed.
int64_t num_labels_in(const Json& config, const std::string& path) {
  int64_t from_map = 0;
  if (present(config, "id2label")) {
    const Json& m = config["id2label"];
    if (!m.is_object() || m.empty()) {
      const std::string got = m.is_object() ? std::string("an empty object") : io::json_type_name(m);
      throw FormatError("key 'id2label' in '" + path + "' must be a non-empty object, got " + got);
    }
    from_map = static_cast<int64_t>(m.size());
  }
  const int64_t n = io::optional_int(config, "num_labels", path, from_map > 0 ? from_map : 2);
  if (n <= 0) throw FormatError("key 'num_labels' in '" + path + "' must be positive, got " + std::to_string(n));
  if (from_map > 0 && from_map != n) {
    throw FormatError("'" + path + "': num_labels " + std::to_string(n) + " disagrees with the " +
                      std::to_string(from_map) + " entries of id2label");
  }
  return n;
}

// The head config.json declares, if slimformer runs it on this model_type; ModelError otherwise.
std::string supported_head(const Json& config, const std::string& dir, const std::string& model_type) {
  const std::string path = config_path(dir);
  const std::string head = head_in(config, path);
  if (head.empty()) {
    throw ModelError(where(dir) + " has no sequence-classification head: no entry of 'architectures' in '" + path +
                     "' ends in ForSequenceClassification (supported: " + supported_heads() + ")");
  }
  const std::string want_type = head == kBert ? "bert" : head == kRoberta ? "roberta" : "";
  if (want_type.empty()) {
    throw ModelError(where(dir) + " declares the head " + head + ", which is not supported (supported: " +
                     supported_heads() + ")");
  }
  if (model_type != want_type) {
    throw ModelError(where(dir) + " declares the head " + head + " but model_type '" + model_type + "' (expected '" +
                     want_type + "')");
  }
  return head;
}

// A head tensor as an owned F32 copy; ModelError naming it if missing, misshapen or not a float.
// `note` says where an expected size comes from ("num_labels 2 from config.json"), or is empty.
Tensor take(const Checkpoint& ckpt, const std::string& name, const Shape& expected, const std::string& note) {
  if (!ckpt.contains(name)) {
    throw ModelError("tensor '" + name + "' (expected shape " + shape_str(expected) + (note.empty() ? "" : ", " + note) +
                     ") is missing from " + where(ckpt.dir()));
  }
  const Tensor t = ckpt.get(name);
  if (t.shape() != expected) {
    throw ModelError("tensor '" + name + "' in " + where(ckpt.dir()) + " has shape " + shape_str(t.shape()) +
                     ", expected " + shape_str(expected) + (note.empty() ? "" : " (" + note + ")"));
  }
  if (t.dtype() != DType::F32 && t.dtype() != DType::F16 && t.dtype() != DType::BF16) {
    throw ModelError("tensor '" + name + "' in " + where(ckpt.dir()) + " has dtype " + dtype_name(t.dtype()) +
                     ", expected F32, F16 or BF16");
  }
  return t.to_f32();
}

}  // namespace

std::string sequence_classification_head(const std::string& model_dir) {
  const std::string path = config_path(model_dir);
  return head_in(io::read_json_file(path), path);
}

SequenceClassifier::SequenceClassifier(const std::string& model_dir, const AttentionSpec& attention)
    : checkpoint_(std::make_shared<Checkpoint>(model_dir)) {
  const std::string path = config_path(model_dir);
  const Json config = io::read_json_file(path);
  architecture_ = supported_head(config, model_dir, checkpoint_->config().model_type);
  const int64_t labels = num_labels_in(config, path);
  encoder_ = std::make_unique<Encoder>(checkpoint_, attention);
  const int64_t H = encoder_->config().hidden_size;
  const std::string why = "num_labels " + std::to_string(labels) + " from config.json";
  if (architecture_ == kBert) {
    if (!encoder_->has_pooler()) {
      throw ModelError(where(model_dir) + " declares " + kBert +
                       " but has no pooler (bert.pooler.dense.weight), whose output its classifier reads");
    }
    head_w_ = take(*checkpoint_, "classifier.weight", {labels, H}, why);
    head_b_ = take(*checkpoint_, "classifier.bias", {labels}, why);
  } else {
    dense_w_ = take(*checkpoint_, "classifier.dense.weight", {H, H}, "");
    dense_b_ = take(*checkpoint_, "classifier.dense.bias", {H}, "");
    head_w_ = take(*checkpoint_, "classifier.out_proj.weight", {labels, H}, why);
    head_b_ = take(*checkpoint_, "classifier.out_proj.bias", {labels}, why);
  }
  tokenizer_ = load_tokenizer(model_dir);
}

int64_t SequenceClassifier::num_labels() const { return head_w_.dim(0); }

const std::string& SequenceClassifier::architecture() const { return architecture_; }

int64_t SequenceClassifier::parameter_count() const {
  int64_t n = encoder_->parameter_count();
  for (const Tensor* t : {&head_w_, &head_b_, &dense_w_, &dense_b_})
    if (t->defined()) n += t->numel();   // an unset Tensor has shape [] and would count as 1
  return n;
}

int64_t SequenceClassifier::max_length() const {
  const EncoderConfig& c = encoder_->config();
  return c.max_position_embeddings - c.position_offset;
}

// BERT: classifier(pooler_output). RoBERTa: out_proj(tanh(dense(first token's state))).
Tensor SequenceClassifier::logits(const Batch& batch) const {
  const ForwardResult r = encoder_->forward(batch);
  if (!dense_w_.defined()) return model::head_linear(r.pooler_output.data<float>(), batch.batch, head_w_, head_b_, false);
  const Tensor first = pool(r.last_hidden_state, batch.mask, PoolingMode::Cls);   // each row's first token
  const Tensor x = model::head_linear(first.data<float>(), batch.batch, dense_w_, dense_b_, true);
  return model::head_linear(x.data<float>(), batch.batch, head_w_, head_b_, false);
}

Tensor SequenceClassifier::logits(const std::vector<std::string>& a, const std::vector<std::string>& b,
                                  int64_t batch_size, int64_t max_len, const ProgressFn& progress) const {
  if (a.size() != b.size()) {
    throw InputError("text pairs need as many second texts as first ones, got " + std::to_string(a.size()) +
                     " and " + std::to_string(b.size()));
  }
  const int64_t limit = model::checked_limit(batch_size, max_len, max_length());
  const std::vector<Encoding> enc = model::encode_truncated(
      a.size(), limit, [&](size_t i, const EncodeOptions& o) { return tokenizer_->encode_pair(a[i], b[i], o); },
      "pair");
  Tensor out = Tensor::empty({static_cast<int64_t>(a.size()), num_labels()});
  model::for_each_sorted_batch(
      enc, batch_size, tokenizer_->pad_id(),
      [&](const Batch& batch, const std::vector<int64_t>& inputs) { model::scatter_rows(logits(batch), inputs, out); },
      progress);
  return out;
}

}  // namespace slimformer

// Encoder: checks a batch, then embeddings -> layers -> (pooler), with one workspace per forward.
#include "slimformer/encoder.h"

#include <cstring>
#include <memory>
#include <mutex>

#include "kernels/cpu/ops.h"
#include "model/layers.h"
#include "model/weights.h"
#include "slimformer/error.h"
#include "slimformer/threads.h"

namespace slimformer {

struct Encoder::Impl {
  // The config, not the checkpoint: the weights hold the tensors they still read (embeddings,
  // biases, norms; views keep a folder's mapping alive), so an in-memory checkpoint's linear
  // weights, packed copies of which the kernels read, are freed once the caller lets go of it.
  EncoderConfig config;
  model::EncoderWeights weights;
  std::unique_ptr<Attention> attention;
  // The last forward's workspace, kept for the next one of the same shape: fresh buffers of
  // tens of MB cost a page fault per 4 KiB on every forward. A forward running while another
  // holds it allocates its own.
  std::mutex spare_mu;
  std::unique_ptr<model::Workspace> spare;
  model::Dims spare_dims{};

  std::unique_ptr<model::Workspace> take_workspace(const model::Dims& d) {
    {
      std::lock_guard<std::mutex> lock(spare_mu);
      if (spare && spare_dims == d) return std::move(spare);
    }
    return std::make_unique<model::Workspace>(d);
  }
  void give_back(std::unique_ptr<model::Workspace> ws, const model::Dims& d) {
    std::lock_guard<std::mutex> lock(spare_mu);
    spare = std::move(ws);
    spare_dims = d;
  }
};

namespace {

void check_range(const std::vector<int64_t>& v, int64_t limit, const char* what, const char* limit_name,
                 int64_t seq) {
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] < 0 || v[i] >= limit) {
      throw InputError(std::string(what) + " " + std::to_string(v[i]) + " at row " + std::to_string(i / seq) +
                       ", position " + std::to_string(i % seq) + " is outside [0, " + std::to_string(limit) + ") (" +
                       limit_name + ")");
    }
  }
}

Tensor copy_of(const Tensor& t) {
  Tensor c = Tensor::empty(t.shape());
  if (t.nbytes()) std::memcpy(c.raw(), t.raw(), t.nbytes());
  return c;
}

}  // namespace

namespace model {

// Everything forward() indexes with is checked here, so the kernels never read out of range.
void check_batch(const Batch& b, const EncoderConfig& c) {
  if (b.batch < 0 || b.seq < 0) throw InputError("batch shape (" + std::to_string(b.batch) + ", " + std::to_string(b.seq) + ") is negative");
  const size_t n = static_cast<size_t>(b.batch * b.seq);
  if (b.ids.size() != n) {
    throw InputError("batch ids hold " + std::to_string(b.ids.size()) + " values, expected batch x seq = " + std::to_string(n));
  }
  if (b.mask.size() != n) {
    throw InputError("batch mask holds " + std::to_string(b.mask.size()) + " values, expected batch x seq = " + std::to_string(n));
  }
  if (!b.type_ids.empty() && b.type_ids.size() != n) {
    throw InputError("batch type_ids hold " + std::to_string(b.type_ids.size()) + " values, expected 0 or " + std::to_string(n));
  }
  if (!b.global_mask.empty() && b.global_mask.size() != n) {
    throw InputError("batch global_mask holds " + std::to_string(b.global_mask.size()) + " values, expected 0 or " +
                     std::to_string(n));
  }
  const int64_t limit = c.max_position_embeddings - c.position_offset;
  if (b.seq > limit) {
    throw InputError("sequence length " + std::to_string(b.seq) + " exceeds the model's limit of " + std::to_string(limit) +
                     " tokens (max_position_embeddings " + std::to_string(c.max_position_embeddings) + ")");
  }
  if (b.seq == 0) return;
  check_range(b.ids, c.vocab_size, "token id", "vocab_size", b.seq);
  check_range(b.mask, 2, "attention mask value", "0 or 1", b.seq);
  if (c.type_vocab_size > 0) check_range(b.type_ids, c.type_vocab_size, "token type id", "type_vocab_size", b.seq);
  check_range(b.global_mask, 2, "global attention mask value", "0 or 1", b.seq);
}

}  // namespace model

Encoder::Encoder(std::shared_ptr<const Checkpoint> checkpoint, const AttentionSpec& attention)
    : impl_(std::make_unique<Impl>()) {
  if (!checkpoint) throw ModelError("Encoder needs a checkpoint, got null");
  impl_->config = checkpoint->config();
  const EncoderConfig& c = impl_->config;
  // The mechanism first: a bad spec fails before the weights are packed.
  impl_->attention = make_attention(attention.empty() ? default_attention(c) : attention, attention_context(c));
  impl_->weights = model::load_weights(*checkpoint, model::tensor_names_for(*checkpoint), c.activation);
}

Encoder::~Encoder() = default;

const EncoderConfig& Encoder::config() const { return impl_->config; }
const Attention& Encoder::attention() const { return *impl_->attention; }
bool Encoder::has_pooler() const { return impl_->weights.has_pooler; }
int64_t Encoder::parameter_count() const { return impl_->weights.parameter_count; }
size_t Encoder::weights_bytes() const { return impl_->weights.bytes; }

void Encoder::release_workspace() const {
  std::lock_guard<std::mutex> lock(impl_->spare_mu);
  impl_->spare.reset();
}

ForwardResult Encoder::forward(const Batch& batch, const ForwardOptions& opt) const {
  const EncoderConfig& c = config();
  model::check_batch(batch, c);
  apply_thread_policy();   // the fair default re-reads the machine's load before each forward
  const model::EncoderWeights& w = impl_->weights;
  const model::Dims d{batch.batch, batch.seq, c.hidden_size, w.max_heads, c.hidden_size / c.num_heads,
                      w.max_intermediate};
  ForwardResult r;
  Tensor hidden = Tensor::empty({d.batch, d.seq, d.hidden});
  if (d.rows() == 0) {
    r.last_hidden_state = hidden;
    if (w.has_pooler) r.pooler_output = Tensor::empty({d.batch, d.hidden});
    return r;
  }
  const std::vector<int64_t> positions = model::position_ids(batch.ids, c, d.batch, d.seq);
  const int64_t* types = (w.token_type.defined() && !batch.type_ids.empty()) ? batch.type_ids.data() : nullptr;
  model::embeddings_forward(hidden.data<float>(), w, c, d, batch.ids.data(), positions.data(), types);
  if (opt.keep_all_hidden_states) r.hidden_states.push_back(copy_of(hidden));

  std::unique_ptr<model::Workspace> ws = impl_->take_workspace(d);
  model::LayerAttention attn;
  attn.mechanism = impl_->attention.get();
  attn.mask = batch.mask.data();
  attn.global_mask = batch.global_mask.empty() ? nullptr : batch.global_mask.data();
  for (const model::LayerWeights& layer : w.layers) {
    model::encoder_layer_forward(hidden.data<float>(), layer, c, d, *ws, attn);
    ++attn.layer;
    if (opt.keep_all_hidden_states) r.hidden_states.push_back(copy_of(hidden));
  }
  impl_->give_back(std::move(ws), d);
  if (w.has_pooler) {
    r.pooler_output = Tensor::empty({d.batch, d.hidden});
    model::pooler_forward(r.pooler_output.data<float>(), hidden.data<float>(), w.pooler, d);
  }
  r.last_hidden_state = hidden;
  return r;
}

}  // namespace slimformer

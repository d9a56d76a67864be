// The sequence-classification heads Hugging Face puts on an encoder, trainable: both read the first
// token's final state h (B, H) and compute logits = W_out tanh(W_dense h + b_dense) + b_out.
//   BertForSequenceClassification:    dense = bert.pooler.dense, out = classifier
//   RobertaForSequenceClassification: dense = classifier.dense,  out = classifier.out_proj
// (dropout aside, which distillation leaves off). Parameters keep the checkpoint's names, so the
// trained head saves into the same folder layout SequenceClassifier loads.
#pragma once
#include <string>
#include <vector>

#include "slimformer/checkpoint.h"
#include "slimformer/tensor.h"
#include "train/trainable_encoder.h"

namespace slimformer::train {

class ClassifierHead {
 public:
  // The head `architecture` (BertForSequenceClassification or RobertaForSequenceClassification,
  // as config.json's "architectures" names it) of ckpt, copied as f32. ModelError naming a missing
  // or misshapen tensor, or an architecture without a head here.
  ClassifierHead(const Checkpoint& ckpt, const std::string& architecture);

  // (B, num_labels) logits from the first token's states first (B, H); keeps what backward needs.
  Tensor forward(const Tensor& first);
  // Adds d loss / d parameter to the grads and returns d loss / d first (B, H), from dlogits
  // (B, num_labels) = d loss / d forward()'s result. InputError without a forward before.
  Tensor backward(const Tensor& dlogits);

  int64_t num_labels() const { return params_[2].value.dim(0); }
  // dense.weight, dense.bias, out.weight, out.bias, under the checkpoint's names.
  std::vector<Parameter>& parameters() { return params_; }

 private:
  std::vector<Parameter> params_;
  Tensor first_, hidden_;   // the last forward's input and tanh output (B, H)
};

}  // namespace slimformer::train

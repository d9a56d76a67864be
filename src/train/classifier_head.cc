// ClassifierHead: two small Linears and a tanh; the forward is SequenceClassifier's own
// (model::head_linear), the backward the shared linear_backward.
#include "train/classifier_head.h"

#include "model/layers.h"
#include "model/weights.h"
#include "slimformer/error.h"
#include "train/ops.h"

namespace slimformer::train {
namespace {

// The tensor `name` as an f32 parameter. `expected` may start with -1: any number of rows.
Parameter take(const Checkpoint& ckpt, const std::string& name, const Shape& expected) {
  if (!ckpt.contains(name)) {
    throw ModelError("tensor '" + name + "' (the classification head's, expected shape " + shape_str(expected) +
                     ") is missing from the checkpoint");
  }
  Tensor t = ckpt.get(name);
  if (t.dtype() != DType::F32 && t.dtype() != DType::F16 && t.dtype() != DType::BF16) {
    throw ModelError("tensor '" + name + "' has dtype " + dtype_name(t.dtype()) + ": training needs float weights");
  }
  const bool any_rows = expected[0] < 0;
  const bool fits = t.shape().size() == expected.size() && (any_rows || t.dim(0) == expected[0]) &&
                    (expected.size() == 1 || t.dim(1) == expected[1]) && (!any_rows || t.dim(0) > 0);
  if (!fits) {
    throw ModelError("tensor '" + name + "' has shape " + shape_str(t.shape()) + ", expected " +
                     (any_rows ? "[num_labels, " + std::to_string(expected[1]) + "]" : shape_str(expected)) +
                     " (the classification head's)");
  }
  Parameter p{name, t.to_f32(), Tensor()};
  p.grad = Tensor::zeros(p.value.shape());
  return p;
}

}  // namespace

ClassifierHead::ClassifierHead(const Checkpoint& ckpt, const std::string& architecture) {
  const int64_t H = ckpt.config().hidden_size;
  std::string dense, out;
  if (architecture == "BertForSequenceClassification") {
    const model::TensorNames n = model::tensor_names_for(ckpt);
    if (n.pooler_w.empty()) {
      throw ModelError("the checkpoint declares " + architecture + " but has no pooler (pooler.dense.weight)");
    }
    dense = n.pooler_w.substr(0, n.pooler_w.size() - std::string("weight").size());
    out = "classifier.";
  } else if (architecture == "RobertaForSequenceClassification") {
    dense = "classifier.dense.";
    out = "classifier.out_proj.";
  } else {
    throw ModelError("training has no classification head for '" + architecture +
                     "' (supported: BertForSequenceClassification, RobertaForSequenceClassification)");
  }
  params_.push_back(take(ckpt, dense + "weight", {H, H}));
  params_.push_back(take(ckpt, dense + "bias", {H}));
  params_.push_back(take(ckpt, out + "weight", {-1, H}));   // (num_labels, H)
  const int64_t labels = params_[2].value.dim(0);
  params_.push_back(take(ckpt, out + "bias", {labels}));
}

Tensor ClassifierHead::forward(const Tensor& first) {
  first_ = first;
  hidden_ = model::head_linear(first.data<float>(), first.dim(0), params_[0].value, params_[1].value, true);
  return model::head_linear(hidden_.data<float>(), hidden_.dim(0), params_[2].value, params_[3].value, false);
}

Tensor ClassifierHead::backward(const Tensor& dlogits) {
  if (!hidden_.defined()) throw InputError("ClassifierHead::backward: no forward to go back through");
  const int64_t B = first_.dim(0), H = first_.dim(1), L = num_labels();
  if (dlogits.shape() != Shape{B, L}) {
    throw InputError("ClassifierHead::backward: gradient of shape " + shape_str(dlogits.shape()) + ", expected " +
                     shape_str({B, L}));
  }
  Tensor dhidden = Tensor::empty({B, H});
  linear_backward(dhidden.data<float>(), params_[2].grad.data<float>(), params_[3].grad.data<float>(),
                  dlogits.data<float>(), hidden_.data<float>(), params_[2].value.data<float>(), B, L, H);
  tanh_backward(dhidden.data<float>(), dhidden.data<float>(), hidden_.data<float>(), B * H);
  Tensor dfirst = Tensor::empty({B, H});
  linear_backward(dfirst.data<float>(), params_[0].grad.data<float>(), params_[1].grad.data<float>(),
                  dhidden.data<float>(), first_.data<float>(), params_[0].value.data<float>(), B, H, H);
  return dfirst;
}

}  // namespace slimformer::train

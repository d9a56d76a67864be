// slimformer.SentenceEncoder: a model folder that embeds text (numpy arrays straight from the
// library's tensors) and tokenizes it as the model does.
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <memory>

#include "bindings.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"

namespace py = pybind11;

namespace slimpy {
namespace {

const char* pooling_name(slimformer::PoolingMode mode) {
  switch (mode) {
    case slimformer::PoolingMode::Mean: return "mean";
    case slimformer::PoolingMode::Cls: return "cls";
    case slimformer::PoolingMode::Max: return "max";
    case slimformer::PoolingMode::MeanSqrtLen: return "mean_sqrt_len_tokens";
    case slimformer::PoolingMode::WeightedMean: return "weightedmean";
    case slimformer::PoolingMode::LastToken: return "lasttoken";
  }
  return "unknown";
}

// The (N, H) float32 array over the tensor's own buffer: the tensor moves into a capsule the
// array keeps, so nothing is copied.
py::array_t<float> to_numpy(slimformer::Tensor&& t) {
  auto* owned = new slimformer::Tensor(std::move(t));
  py::capsule owner(owned, [](void* p) { delete static_cast<slimformer::Tensor*>(p); });
  return py::array_t<float>({owned->dim(0), owned->dim(1)}, owned->data<float>(), owner);
}

// A str, or a sequence of them: the texts, and whether one str was given.
std::vector<std::string> texts_of(const py::object& obj, const char* what, bool& single) {
  single = py::isinstance<py::str>(obj);
  if (single) return {obj.cast<std::string>()};
  if (!py::isinstance<py::sequence>(obj)) {
    throw py::type_error(std::string(what) + ": expected a str or a list of str, got " +
                         std::string(py::str(py::type::of(obj).attr("__name__"))));
  }
  std::vector<std::string> out;
  for (const py::handle item : obj) {
    if (!py::isinstance<py::str>(item)) {
      throw py::type_error(std::string(what) + "[" + std::to_string(out.size()) + "]: expected a str, got " +
                           std::string(py::str(py::type::of(item).attr("__name__"))));
    }
    out.push_back(item.cast<std::string>());
  }
  return out;
}

py::dict encoding_dict(const slimformer::Encoding& e, const std::string& first, const std::string& second) {
  py::dict d;
  d["ids"] = e.ids;
  d["tokens"] = e.tokens;
  d["type_ids"] = e.type_ids;
  d["offsets"] = slimformer::char_offsets(e, first, second);   // characters, as Hugging Face's
  d["attention_mask"] = e.attention_mask;
  return d;
}

class PySentenceEncoder {
 public:
  PySentenceEncoder(const std::string& path, const std::optional<std::string>& attention,
                    const std::optional<int>& threads)
      : path_(path) {
    const slimformer::AttentionSpec spec = attention_spec(attention);
    apply_threads(threads);
    py::gil_scoped_release unlocked;
    encoder_ = std::make_unique<slimformer::SentenceEncoder>(path, spec);
  }

  py::object encode(const py::object& texts, int64_t batch_size, const std::optional<bool>& normalize,
                    const std::optional<int64_t>& max_length) const {
    if (batch_size < 1) throw slimformer::InputError("batch_size: " + std::to_string(batch_size) + " is not positive");
    if (max_length && *max_length < 1) {
      throw slimformer::InputError("max_length: " + std::to_string(*max_length) + " is not positive");
    }
    bool single = false;
    const std::vector<std::string> in = texts_of(texts, "texts", single);
    const bool folder_normalizes = encoder_->sentence_config().normalize;
    slimformer::Tensor e;
    {
      py::gil_scoped_release unlocked;
      if (in.empty()) {
        e = slimformer::Tensor::empty({0, dim()});
      } else {
        // normalize=False skips the folder's Normalize module; True adds one where it has none.
        e = encoder_->embed(in, batch_size, max_length.value_or(0), normalize == false);
        if (normalize == true && !folder_normalizes) slimformer::l2_normalize_rows(e);
      }
    }
    py::array_t<float> out = to_numpy(std::move(e));
    if (single) return out[py::int_(0)];   // one str: one vector, as sentence-transformers returns
    return out;
  }

  py::object tokenize(const py::object& text, const py::object& pair, const std::optional<int64_t>& max_length,
                      bool add_special_tokens) const {
    slimformer::EncodeOptions opt;
    opt.add_special_tokens = add_special_tokens;
    if (max_length && *max_length < 1) {
      throw slimformer::InputError("max_length: " + std::to_string(*max_length) + " is not positive");
    }
    opt.max_length = max_length.value_or(0);
    bool single = false, pair_single = false;
    const std::vector<std::string> a = texts_of(text, "text", single);
    std::vector<std::string> b;
    if (!pair.is_none()) {
      b = texts_of(pair, "pair", pair_single);
      if (pair_single != single || a.size() != b.size()) {
        throw slimformer::InputError("pair: " + std::to_string(b.size()) + " second texts for " +
                                     std::to_string(a.size()) + " texts (expected one each, both a str or both lists)");
      }
    }
    std::vector<slimformer::Encoding> encodings;
    {
      py::gil_scoped_release unlocked;
      const slimformer::Tokenizer& tok = encoder_->tokenizer();
      for (size_t i = 0; i < a.size(); ++i) {
        encodings.push_back(b.empty() ? tok.encode(a[i], opt) : tok.encode_pair(a[i], b[i], opt));
      }
    }
    auto second = [&](size_t i) { return b.empty() ? std::string() : b[i]; };
    if (single) return encoding_dict(encodings[0], a[0], second(0));
    py::list out;
    for (size_t i = 0; i < encodings.size(); ++i) out.append(encoding_dict(encodings[i], a[i], second(i)));
    return out;
  }

  int64_t dim() const { return encoder_->dim(); }
  int64_t max_length() const { return encoder_->max_length(); }
  std::string pooling() const { return pooling_name(encoder_->sentence_config().pooling); }
  bool normalize() const { return encoder_->sentence_config().normalize; }
  std::string attention() const { return encoder_->encoder().attention().describe(); }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<slimformer::SentenceEncoder> encoder_;
};

}  // namespace

void add_encoder(py::module_& m) {
  py::class_<PySentenceEncoder>(m, "SentenceEncoder",
                                "A model folder (config.json, safetensors, tokenizer) that embeds text.")
      .def(py::init<const std::string&, const std::optional<std::string>&, const std::optional<int>&>(),
           py::arg("path"), py::arg("attention") = py::none(), py::arg("threads") = py::none(),
           "attention: a mechanism spec such as 'exact' or 'sliding:window=64' (None: the model's own); "
           "threads: kernel threads for the process (None: leave the current setting).")
      .def("encode", &PySentenceEncoder::encode, py::arg("texts"), py::arg("batch_size") = 32,
           py::arg("normalize") = py::none(), py::arg("max_length") = py::none(),
           "float32 array (n, dim) of the texts' embeddings ((dim,) for one str). normalize: None follows "
           "the folder (its Normalize module), False skips it, True L2-normalizes the rows.")
      .def("tokenize", &PySentenceEncoder::tokenize, py::arg("text"), py::arg("pair") = py::none(),
           py::arg("max_length") = py::none(), py::arg("add_special_tokens") = true,
           "A dict (ids, tokens, type_ids, offsets, attention_mask) for a str, a list of them for a list; "
           "pair: the second texts of text pairs. Offsets count characters of the token's own text, as "
           "Hugging Face's offsets mapping ([0, 0] for special tokens).")
      .def_property_readonly("dim", &PySentenceEncoder::dim, "Embedding width (the last Dense module's out_features, else the hidden size).")
      .def_property_readonly("max_length", &PySentenceEncoder::max_length, "Most tokens per text.")
      .def_property_readonly("pooling", &PySentenceEncoder::pooling, "mean, cls, max, mean_sqrt_len_tokens, weightedmean or lasttoken.")
      .def_property_readonly("normalize", &PySentenceEncoder::normalize, "Whether the folder L2-normalizes.")
      .def_property_readonly("attention", &PySentenceEncoder::attention, "The mechanism run, defaults filled in.")
      .def_property_readonly("path", &PySentenceEncoder::path)
      .def("__repr__", [](const PySentenceEncoder& e) {
        return "SentenceEncoder('" + e.path() + "', dim=" + std::to_string(e.dim()) + ", pooling=" + e.pooling() + ")";
      });
}

}  // namespace slimpy

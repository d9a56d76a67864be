// Students for distillation (make_student) and the sentences they learn from.
#include <algorithm>
#include <cmath>
#include <fstream>
#include <random>
#include <sstream>

#include "compress/state_util.h"
#include "slimformer/distill.h"
#include "slimformer/error.h"
#include "slimformer/eval.h"

namespace slimformer::compress {

ModelState make_student(const ModelState& teacher, int64_t layers, StudentInit init, uint64_t seed) {
  const int64_t n = teacher.config.num_layers;
  if (layers < 1 || layers > n) {
    throw InputError("--student-layers: " + std::to_string(layers) + " is not in [1, " + std::to_string(n) +
                     "] (the teacher's layers)");
  }
  ModelState s = teacher;
  std::vector<int64_t> keep;
  for (int64_t i = 0; i < layers; ++i) {
    // every other layer from the bottom, as DistilBERT; with more than half, the rest from the top
    keep.push_back(init == StudentInit::EveryOther ? std::min(2 * i, n - 1 - (layers - 1 - i)) : i);
  }
  keep_layers(s, keep);
  if (init != StudentInit::Random) return s;
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> normal(0.0f, 0.02f);
  for (auto& [name, t] : s.tensors) {
    Tensor f = Tensor::empty(t.shape());
    const bool norm = name.find("LayerNorm") != std::string::npos || name.find("layer_norm") != std::string::npos;
    const bool bias = name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
    for (int64_t i = 0; i < f.numel(); ++i) {
      f.data<float>()[i] = bias ? 0.0f : norm ? 1.0f : normal(rng);
    }
    t = f;
  }
  return s;
}

std::vector<std::string> read_distill_sentences(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot read the data file '" + path + "'");
  std::vector<std::string> out;
  std::string line;
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (number == 1 && line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);   // a byte-order mark
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, '\t');) fields.push_back(f);
    if (fields.size() >= 7) fields = {fields[5], fields[6]};   // STS Benchmark: the two sentences
    if (fields.size() > 2) {
      throw InputError("data file '" + path + "', line " + std::to_string(number) + ": " +
                       std::to_string(fields.size()) +
                       " tab-separated fields (expected a sentence, a pair, or an STS Benchmark row of 7+)");
    }
    for (const std::string& f : fields) {
      if (!f.empty()) out.push_back(f);
    }
  }
  if (out.empty()) throw InputError("data file '" + path + "' holds no sentences");
  return out;
}

DistillPairs read_distill_pairs(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw IoError("cannot read the data file '" + path + "'");
  std::string line;
  std::getline(in, line);
  if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3);   // a UTF-8 byte-order mark (GLUE's MRPC files have one)
  DistillPairs out;
  if (line.rfind("Quality", 0) == 0) {   // MRPC: its own reader checks every row
    for (const LabelledPair& p : read_mrpc(path)) {
      out.first.push_back(p.sentence1);
      out.second.push_back(p.sentence2);
      out.labels.push_back(p.label);
    }
    return out;
  }
  in.clear();
  in.seekg(0);
  int64_t number = 0;
  while (std::getline(in, line)) {
    ++number;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty()) continue;
    std::vector<std::string> fields;
    std::stringstream ss(line);
    for (std::string f; std::getline(ss, f, '\t');) fields.push_back(f);
    const std::string where = "data file '" + path + "', line " + std::to_string(number) + ": ";
    int64_t label = -1;
    if (fields.size() >= 7) {
      fields = {fields[5], fields[6]};   // STS Benchmark: the two sentences (its score is no class)
    } else if (fields.size() == 3) {
      const std::string& t = fields[2];
      const bool digits = !t.empty() && t.size() <= 9 && t.find_first_not_of("0123456789") == std::string::npos;
      if (!digits) throw InputError(where + "label '" + t.substr(0, 40) + "' is not a class number (0, 1, ...)");
      label = std::stoll(t);
      fields.pop_back();
    }
    if (fields.size() != 2 || fields[0].empty() || fields[1].empty()) {
      throw InputError(where + std::to_string(fields.size()) +
                       " tab-separated fields (a classifier learns from text pairs: first<TAB>second[<TAB>label], "
                       "an MRPC or an STS Benchmark file)");
    }
    out.first.push_back(fields[0]);
    out.second.push_back(fields[1]);
    out.labels.push_back(label);
  }
  if (out.first.empty()) throw InputError("data file '" + path + "' holds no text pairs");
  return out;
}

}  // namespace slimformer::compress

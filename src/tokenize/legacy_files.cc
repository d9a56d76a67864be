// The files older model folders carry instead of tokenizer.json: vocab.txt (BERT WordPiece) and
// vocab.json + merges.txt (RoBERTa byte-level BPE), set up as Hugging Face's fast tokenizers
// set them up; and load_tokenizer, which picks what a model folder offers.
#include <filesystem>
#include <memory>

#include "io/json_file.h"
#include "slimformer/checkpoint.h"
#include "slimformer/error.h"
#include "tokenize/pipeline.h"

namespace slimformer {
namespace {

std::vector<std::string> split_lines(const std::string& text) {
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string::npos) nl = text.size();
    lines.push_back(text.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

// Adds each name present in the vocabulary as a special added token.
std::vector<tok::AddedToken> specials_in_vocab(const tok::Model& model,
                                               std::initializer_list<const char*> names,
                                               const std::string& lstrip_name = "") {
  std::vector<tok::AddedToken> out;
  for (const char* name : names) {
    if (auto id = model.token_to_id(name)) {
      tok::AddedToken t;
      t.content = name;
      t.id = *id;
      t.lstrip = name == lstrip_name;
      out.push_back(t);
    }
  }
  return out;
}

tok::SpecialToken require_special(const tok::Model& model, const std::string& name, const std::string& path) {
  auto id = model.token_to_id(name);
  if (!id) throw FormatError(path + ": the vocabulary lacks the special token " + name);
  return tok::SpecialToken{name, *id};
}

bool is_file(const std::string& p) {
  std::error_code ec;
  return std::filesystem::is_regular_file(p, ec);
}

}  // namespace

std::unique_ptr<Tokenizer> load_wordpiece_vocab(const std::string& path, bool lowercase) {
  const std::string text = read_text_file(path);
  check_utf8(text, path);
  tok::Vocab vocab;
  const std::vector<std::string> lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string tokstr = lines[i];
    while (!tokstr.empty() && (tokstr.back() == '\r' || tokstr.back() == ' ' || tokstr.back() == '\t'))
      tokstr.pop_back();
    vocab[tokstr] = static_cast<int64_t>(i);   // a repeated line takes the later id, as in HF
  }
  if (vocab.empty()) throw FormatError(path + ": the vocabulary is empty");
  tok::PipelineParts p;
  const tok::BertNormalizerOptions bert{true, true, lowercase, lowercase};
  p.normalizers.push_back([bert](const tok::Chars& text) { return tok::bert_normalize(text, bert); });
  p.model = std::make_unique<tok::WordPiece>(std::move(vocab), tok::WordPieceOptions{}, path);
  p.added_tokens = specials_in_vocab(*p.model, {"[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"});
  p.post.kind = tok::PostProcessor::Kind::Bert;
  p.post.cls = require_special(*p.model, "[CLS]", path);
  p.post.sep = require_special(*p.model, "[SEP]", path);
  p.pad_id = tok::find_pad(*p.model, p.pad_token);
  return std::make_unique<tok::PipelineTokenizer>(std::move(p));
}

std::unique_ptr<Tokenizer> load_bpe_files(const std::string& vocab_path, const std::string& merges_path) {
  const io::Json v = io::read_json_file(vocab_path);
  if (!v.is_object()) throw FormatError(vocab_path + ": must hold an object of token -> id");
  tok::Vocab vocab;
  for (auto it = v.begin(); it != v.end(); ++it) {
    if (!it->is_number_integer() || it->get<int64_t>() < 0)
      throw FormatError(vocab_path + ": id of \"" + it.key() + "\" must be a non-negative integer");
    vocab.emplace(it.key(), it->get<int64_t>());
  }
  const std::string text = read_text_file(merges_path);
  check_utf8(text, merges_path);
  std::vector<std::pair<std::string, std::string>> merges;
  const std::vector<std::string> lines = split_lines(text);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string line = lines[i];
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line.rfind("#version", 0) == 0) continue;
    const size_t sp = line.find(' ');
    if (sp == std::string::npos || sp == 0 || sp + 1 >= line.size() || line.find(' ', sp + 1) != std::string::npos)
      throw FormatError(merges_path + ": line " + std::to_string(i + 1) + " must hold two tokens separated by one space");
    merges.emplace_back(line.substr(0, sp), line.substr(sp + 1));
  }
  tok::PipelineParts p;
  p.byte_level = std::make_unique<tok::ByteLevelPreTokenizer>(/*add_prefix_space=*/false, /*use_regex=*/true);
  p.model = std::make_unique<tok::Bpe>(std::move(vocab), merges, "", vocab_path);
  p.added_tokens = specials_in_vocab(*p.model, {"<s>", "<pad>", "</s>", "<unk>", "<mask>"}, "<mask>");
  p.post.kind = tok::PostProcessor::Kind::Roberta;
  p.post.cls = require_special(*p.model, "<s>", vocab_path);
  p.post.sep = require_special(*p.model, "</s>", vocab_path);
  p.post.trim_offsets = true;
  p.post.add_prefix_space = false;
  p.pad_id = tok::find_pad(*p.model, p.pad_token);
  return std::make_unique<tok::PipelineTokenizer>(std::move(p));
}

std::unique_ptr<Tokenizer> load_tokenizer(const std::string& dir) {
  const std::string json = dir + "/tokenizer.json", vocab_txt = dir + "/vocab.txt";
  const std::string vocab_json = dir + "/vocab.json", merges = dir + "/merges.txt";
  if (is_file(json)) return load_tokenizer_json(json);
  if (is_file(vocab_txt)) {
    bool lowercase = true;
    const std::string config = dir + "/tokenizer_config.json";
    if (is_file(config)) lowercase = io::optional_bool(io::read_json_file(config), "do_lower_case", config, true);
    return load_wordpiece_vocab(vocab_txt, lowercase);
  }
  if (is_file(vocab_json) && is_file(merges)) return load_bpe_files(vocab_json, merges);
  throw IoError("no tokenizer in '" + dir +
                "': expected tokenizer.json, vocab.txt, or vocab.json with merges.txt");
}

}  // namespace slimformer

// tokenizer.json (Hugging Face tokenizers' file) -> PipelineTokenizer. Every part the file names
// must be one this library reproduces exactly; anything else is refused with the part named.
#include <memory>

#include "io/json_file.h"
#include "slimformer/error.h"
#include "tokenize/normalizers.h"
#include "tokenize/pipeline.h"
#include "tokenize/unigram.h"

namespace slimformer {
namespace {

using io::Json;
using tok::PostProcessor;

[[noreturn]] void unsupported(const std::string& path, const std::string& part, const std::string& type,
                              const std::string& supported) {
  throw FormatError(path + ": " + part + " type \"" + io::text_excerpt(type) + "\" is not supported (supported: " +
                    supported + ")");
}

std::string type_of(const Json& part, const std::string& path, const std::string& name) {
  if (!part.is_object()) throw FormatError(path + ": " + name + " must be a JSON object or null");
  return io::require_string(part, "type", path + ": " + name);
}

std::shared_ptr<const tok::PrecompiledCharsmap> parse_precompiled(const Json& j, const std::string& path) {
  const std::string ctx = path + ": normalizer Precompiled";
  const std::string blob = tok::decode_base64(io::require_string(j, "precompiled_charsmap", ctx), ctx);
  return std::make_shared<tok::PrecompiledCharsmap>(blob, ctx);
}

tok::BertNormalizerOptions parse_bert_normalizer(const Json& j, const std::string& ctx) {
  tok::BertNormalizerOptions o;
  o.clean_text = io::optional_bool(j, "clean_text", ctx, true);
  o.handle_chinese_chars = io::optional_bool(j, "handle_chinese_chars", ctx, true);
  o.lowercase = io::optional_bool(j, "lowercase", ctx, true);
  o.strip_accents = io::optional_bool(j, "strip_accents", ctx, o.lowercase);   // null: follow lowercase
  return o;
}

std::shared_ptr<const tok::Replace> parse_replace(const Json& j, const std::string& ctx) {
  const Json& pattern = io::require_key(j, "pattern", ctx);
  const bool regex = pattern.is_object() && pattern.contains("Regex");
  if (!pattern.is_object() || pattern.size() != 1 || !(regex || pattern.contains("String")))
    throw FormatError(ctx + ": pattern must be {\"String\": ...} or {\"Regex\": ...}");
  return std::make_shared<const tok::Replace>(io::require_string(pattern, regex ? "Regex" : "String", ctx), regex,
                                              io::require_string(j, "content", ctx), ctx);
}

// Nested Sequences deeper than this are refused (real files nest none).
constexpr int kMaxNormalizerDepth = 8;

void parse_normalizer_into(const Json& j, const std::string& path, int depth, std::vector<tok::NormalizeStep>& out) {
  const std::string type = type_of(j, path, "normalizer");
  const std::string ctx = path + ": normalizer " + type;
  using tok::Chars;
  if (type == "Sequence") {
    if (depth >= kMaxNormalizerDepth)
      throw FormatError(ctx + ": nested deeper than " + std::to_string(kMaxNormalizerDepth) + " levels");
    const Json& steps = io::require_key(j, "normalizers", ctx);
    if (!steps.is_array()) throw FormatError(ctx + ": normalizers must be an array");
    for (const Json& step : steps) parse_normalizer_into(step, path, depth + 1, out);
  } else if (type == "BertNormalizer") {
    const tok::BertNormalizerOptions o = parse_bert_normalizer(j, ctx);
    out.push_back([o](const Chars& t) { return tok::bert_normalize(t, o); });
  } else if (type == "Precompiled") {
    auto map = parse_precompiled(j, path);
    out.push_back([map](const Chars& t) { return map->normalize(t); });
  } else if (type == "NFC" || type == "NFD" || type == "NFKC" || type == "NFKD") {
    const tok::UnicodeForm form = type == "NFC"    ? tok::UnicodeForm::NFC
                                  : type == "NFD"  ? tok::UnicodeForm::NFD
                                  : type == "NFKC" ? tok::UnicodeForm::NFKC
                                                   : tok::UnicodeForm::NFKD;
    out.push_back([form](const Chars& t) { return tok::unicode_normalize(t, form); });
  } else if (type == "Lowercase") {
    out.push_back([](const Chars& t) { return tok::lowercase(t); });
  } else if (type == "StripAccents") {
    out.push_back([](const Chars& t) { return tok::drop_marks(t); });
  } else if (type == "Strip") {
    const bool left = io::optional_bool(j, "strip_left", ctx, true), right = io::optional_bool(j, "strip_right", ctx, true);
    out.push_back([left, right](const Chars& t) { return tok::strip_whitespace(t, left, right); });
  } else if (type == "Prepend") {
    const std::string text = io::require_string(j, "prepend", ctx);
    out.push_back([text](const Chars& t) { return tok::prepend(t, text); });
  } else if (type == "Replace") {
    auto replace = parse_replace(j, ctx);
    out.push_back([replace](const Chars& t) { return replace->apply(t); });
  } else {
    unsupported(path, "normalizer", type,
                "BertNormalizer, Precompiled, NFC, NFD, NFKC, NFKD, Lowercase, StripAccents, Strip, Prepend, Replace, "
                "Sequence of these, null");
  }
}

std::vector<tok::NormalizeStep> parse_normalizer(const Json& j, const std::string& path) {
  std::vector<tok::NormalizeStep> steps;
  if (!j.is_null()) parse_normalizer_into(j, path, 0, steps);
  return steps;
}

tok::MetaspaceOptions parse_metaspace(const Json& j, const std::string& ctx) {
  tok::MetaspaceOptions o;
  const std::string repl = io::optional_string(j, "replacement", ctx, "\u2581");
  const tok::Chars rc = tok::decode_utf8(repl);
  if (rc.size() != 1) throw FormatError(ctx + ": Metaspace replacement must be one char, got \"" + io::text_excerpt(repl) + "\"");
  o.replacement = rc[0].cp;
  // Older files say add_prefix_space; newer ones prepend_scheme, which wins when both are there.
  o.prepend = io::optional_bool(j, "add_prefix_space", ctx, true) ? tok::MetaspaceOptions::Prepend::Always
                                                                  : tok::MetaspaceOptions::Prepend::Never;
  if (j.contains("prepend_scheme")) {
    const std::string scheme = io::require_string(j, "prepend_scheme", ctx);
    if (scheme == "always") o.prepend = tok::MetaspaceOptions::Prepend::Always;
    else if (scheme == "first") o.prepend = tok::MetaspaceOptions::Prepend::First;
    else if (scheme == "never") o.prepend = tok::MetaspaceOptions::Prepend::Never;
    else throw FormatError(ctx + ": Metaspace prepend_scheme must be always, first or never, got " + io::text_excerpt(scheme));
  }
  o.split = io::optional_bool(j, "split", ctx, true);
  return o;
}

// Metaspace alone or WhitespaceSplit then Metaspace (T5, ALBERT, XLM-R files).
std::optional<tok::SpacePreTokenizer> parse_space_pre_tokenizer(const Json& j, const std::string& path) {
  const std::string ctx = path + ": pre_tokenizer";
  const std::string type = io::require_string(j, "type", ctx);
  tok::SpacePreTokenizer p;
  if (type == "Metaspace") {
    p.metaspace = parse_metaspace(j, ctx);
    return p;
  }
  const Json& steps = io::require_key(j, "pretokenizers", ctx);
  if (!steps.is_array() || steps.size() != 2 || !steps[0].is_object() || !steps[1].is_object() ||
      steps[0].value("type", "") != "WhitespaceSplit" || steps[1].value("type", "") != "Metaspace")
    throw FormatError(ctx + ": Sequence is supported only as [WhitespaceSplit, Metaspace]");
  p.whitespace_split = true;
  p.metaspace = parse_metaspace(steps[1], ctx);
  return p;
}

std::unique_ptr<tok::ByteLevelPreTokenizer> parse_pre_tokenizer(const Json& j, const std::string& path,
                                                                 tok::PipelineParts& parts) {
  const std::string type = j.is_null() ? "null" : type_of(j, path, "pre_tokenizer");
  if (type == "BertPreTokenizer") return nullptr;
  if (type == "Metaspace" || type == "Sequence") {
    parts.space_split = parse_space_pre_tokenizer(j, path);
    return nullptr;
  }
  if (type != "ByteLevel")
    unsupported(path, "pre_tokenizer", type, "BertPreTokenizer, ByteLevel, Metaspace, [WhitespaceSplit, Metaspace]");
  const std::string ctx = path + ": pre_tokenizer";
  return std::make_unique<tok::ByteLevelPreTokenizer>(io::optional_bool(j, "add_prefix_space", ctx, true),
                                                      io::optional_bool(j, "use_regex", ctx, true));
}

tok::Vocab parse_vocab(const Json& model, const std::string& ctx) {
  const Json& v = io::require_key(model, "vocab", ctx);
  if (!v.is_object()) throw FormatError(ctx + ": vocab must be an object of token -> id, got " + io::describe_json(v));
  if (v.empty()) throw FormatError(ctx + ": vocab is empty (a model needs at least its unknown token)");
  // Ids index an id -> token table: each must be below the number of entries (real vocabularies
  // number their tokens 0..n-1), so a stray huge id cannot make that table huge.
  const int64_t entries = static_cast<int64_t>(v.size());
  tok::Vocab vocab;
  vocab.reserve(v.size());
  for (auto it = v.begin(); it != v.end(); ++it) {
    const bool in_range = it->is_number_unsigned() && it->get<uint64_t>() < static_cast<uint64_t>(entries);
    if (!in_range) {
      throw FormatError(ctx + ": vocab id of \"" + io::text_excerpt(it.key()) + "\" must be an integer in [0, " +
                        std::to_string(entries) + ") (the vocab has " + std::to_string(entries) + " entries), got " +
                        io::describe_json(*it));
    }
    vocab.emplace(it.key(), it->get<int64_t>());
  }
  return vocab;
}

std::vector<std::pair<std::string, std::string>> parse_merges(const Json& model, const std::string& ctx) {
  const Json& m = io::require_key(model, "merges", ctx);
  if (!m.is_array()) throw FormatError(ctx + ": merges must be an array");
  std::vector<std::pair<std::string, std::string>> merges;
  merges.reserve(m.size());
  for (size_t i = 0; i < m.size(); ++i) {
    const Json& e = m[i];
    if (e.is_string()) {   // older files: "left right"
      const std::string s = e.get<std::string>();
      const size_t sp = s.find(' ');
      if (sp == std::string::npos || sp == 0 || sp + 1 >= s.size() || s.find(' ', sp + 1) != std::string::npos)
        throw FormatError(ctx + ": merge " + std::to_string(i + 1) + " \"" + io::text_excerpt(s) + "\" is not two tokens");
      merges.emplace_back(s.substr(0, sp), s.substr(sp + 1));
    } else if (e.is_array() && e.size() == 2 && e[0].is_string() && e[1].is_string()) {
      merges.emplace_back(e[0].get<std::string>(), e[1].get<std::string>());
    } else {
      throw FormatError(ctx + ": merge " + std::to_string(i + 1) + " must be \"a b\" or [\"a\", \"b\"]");
    }
  }
  return merges;
}

std::unique_ptr<tok::Model> parse_unigram(const Json& j, const std::string& path) {
  const std::string ctx = path + ": model Unigram";
  const Json& v = io::require_key(j, "vocab", ctx);
  if (!v.is_array()) throw FormatError(ctx + ": vocab must be an array of [piece, score]");
  std::vector<tok::UnigramPiece> pieces;
  pieces.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const Json& e = v[i];
    if (!e.is_array() || e.size() != 2 || !e[0].is_string() || !e[1].is_number())
      throw FormatError(ctx + ": vocab entry " + std::to_string(i) + " must be [piece, score]");
    pieces.push_back(tok::UnigramPiece{e[0].get<std::string>(), e[1].get<double>()});
  }
  const Json& unk = io::require_key(j, "unk_id", ctx);
  if (!unk.is_number_integer())
    throw FormatError(ctx + ": unk_id must be an integer (files without one are not supported)");
  return std::make_unique<tok::Unigram>(pieces, unk.get<int64_t>(), io::optional_bool(j, "byte_fallback", ctx, false),
                                        path);
}

std::unique_ptr<tok::Model> parse_model(const Json& j, const std::string& path) {
  if (!j.is_object()) throw FormatError(path + ": model must be a JSON object");
  std::string type;
  if (j.contains("type")) type = io::require_string(j, "type", path + ": model");
  else if (j.contains("merges")) type = "BPE";   // the old format has no "type"
  else if (j.contains("max_input_chars_per_word") || j.contains("continuing_subword_prefix")) type = "WordPiece";
  else throw FormatError(path + ": model has no \"type\" and is neither WordPiece nor BPE");
  const std::string ctx = path + ": model";
  if (type == "Unigram") return parse_unigram(j, path);
  if (type == "WordPiece") {
    tok::WordPieceOptions o;
    o.unk_token = io::optional_string(j, "unk_token", ctx, "[UNK]");
    o.continuing_subword_prefix = io::optional_string(j, "continuing_subword_prefix", ctx, "##");
    o.max_input_chars_per_word = io::optional_int(j, "max_input_chars_per_word", ctx, 100);
    return std::make_unique<tok::WordPiece>(parse_vocab(j, ctx), o, path);
  }
  if (type != "BPE") unsupported(path, "model", type, "WordPiece, BPE, Unigram");
  if (io::optional_number(j, "dropout", ctx, 0.0) != 0.0)
    throw FormatError(ctx + ": BPE dropout is not supported (it makes tokenization random)");
  if (!io::optional_string(j, "continuing_subword_prefix", ctx, "").empty() ||
      !io::optional_string(j, "end_of_word_suffix", ctx, "").empty())
    throw FormatError(ctx + ": BPE continuing_subword_prefix / end_of_word_suffix are not supported");
  if (io::optional_bool(j, "byte_fallback", ctx, false))
    throw FormatError(ctx + ": BPE byte_fallback is not supported");
  if (io::optional_bool(j, "ignore_merges", ctx, false))
    throw FormatError(ctx + ": BPE ignore_merges is not supported");
  return std::make_unique<tok::Bpe>(parse_vocab(j, ctx), parse_merges(j, ctx),
                                    io::optional_string(j, "unk_token", ctx, ""), path);
}

std::vector<tok::AddedToken> parse_added_tokens(const Json& j, const std::string& path) {
  std::vector<tok::AddedToken> out;
  if (j.is_null()) return out;
  if (!j.is_array()) throw FormatError(path + ": added_tokens must be an array");
  for (size_t i = 0; i < j.size(); ++i) {
    const std::string ctx = path + ": added_tokens[" + std::to_string(i) + "]";
    tok::AddedToken t;
    t.content = io::require_string(j[i], "content", ctx);
    t.id = io::require_int(j[i], "id", ctx);
    t.special = io::optional_bool(j[i], "special", ctx, false);
    t.single_word = io::optional_bool(j[i], "single_word", ctx, false);
    t.lstrip = io::optional_bool(j[i], "lstrip", ctx, false);
    t.rstrip = io::optional_bool(j[i], "rstrip", ctx, false);
    t.normalized = io::optional_bool(j[i], "normalized", ctx, !t.special);
    out.push_back(std::move(t));
  }
  return out;
}

tok::SpecialToken parse_pair_token(const Json& j, const std::string& key, const std::string& ctx) {
  const Json& v = io::require_key(j, key, ctx);
  if (!v.is_array() || v.size() != 2 || !v[0].is_string() || !v[1].is_number_integer())
    throw FormatError(ctx + ": " + key + " must be [token, id]");
  return tok::SpecialToken{v[0].get<std::string>(), v[1].get<int64_t>()};
}

std::vector<tok::TemplatePiece> parse_template(const Json& j, const std::string& key, const std::string& ctx) {
  const Json& t = io::require_key(j, key, ctx);
  if (!t.is_array()) throw FormatError(ctx + ": " + key + " must be an array");
  std::vector<tok::TemplatePiece> out;
  for (const Json& e : t) {
    tok::TemplatePiece p;
    if (e.is_object() && e.contains("Sequence")) {
      p.is_sequence = true;
      const std::string id = io::require_string(e["Sequence"], "id", ctx + " " + key);
      if (id != "A" && id != "B") throw FormatError(ctx + ": " + key + " sequence id must be A or B, got " + io::text_excerpt(id));
      p.sequence = id == "A" ? 0 : 1;
      p.type_id = io::optional_int(e["Sequence"], "type_id", ctx + " " + key, 0);
    } else if (e.is_object() && e.contains("SpecialToken")) {
      p.special = io::require_string(e["SpecialToken"], "id", ctx + " " + key);
      p.type_id = io::optional_int(e["SpecialToken"], "type_id", ctx + " " + key, 0);
    } else {
      throw FormatError(ctx + ": " + key + " entries must be {\"Sequence\": ...} or {\"SpecialToken\": ...}");
    }
    out.push_back(std::move(p));
  }
  return out;
}

PostProcessor parse_post_processor(const Json& j, const std::string& path) {
  PostProcessor p;
  if (j.is_null()) return p;
  const std::string type = type_of(j, path, "post_processor");
  const std::string ctx = path + ": post_processor";
  if (type == "BertProcessing" || type == "RobertaProcessing") {
    p.kind = type == "BertProcessing" ? PostProcessor::Kind::Bert : PostProcessor::Kind::Roberta;
    p.cls = parse_pair_token(j, "cls", ctx);
    p.sep = parse_pair_token(j, "sep", ctx);
    p.trim_offsets = io::optional_bool(j, "trim_offsets", ctx, true);
    p.add_prefix_space = io::optional_bool(j, "add_prefix_space", ctx, true);
    return p;
  }
  if (type != "TemplateProcessing")
    unsupported(path, "post_processor", type, "BertProcessing, RobertaProcessing, TemplateProcessing, null");
  p.kind = PostProcessor::Kind::Template;
  p.single = parse_template(j, "single", ctx);
  p.pair = parse_template(j, "pair", ctx);
  const Json& st = io::require_key(j, "special_tokens", ctx);
  if (!st.is_object()) throw FormatError(ctx + ": special_tokens must be an object");
  for (auto it = st.begin(); it != st.end(); ++it) {
    tok::TemplateSpecial s;
    const Json& ids = io::require_key(*it, "ids", ctx + " special_tokens");
    const Json& toks = io::require_key(*it, "tokens", ctx + " special_tokens");
    if (!ids.is_array() || !toks.is_array() || ids.size() != toks.size())
      throw FormatError(ctx + ": special token \"" + io::text_excerpt(it.key()) + "\" needs ids and tokens of one length");
    for (size_t k = 0; k < ids.size(); ++k) {
      if (!ids[k].is_number_integer() || !toks[k].is_string())
        throw FormatError(ctx + ": special token \"" + io::text_excerpt(it.key()) + "\" has a bad id or token");
      s.ids.push_back(ids[k].get<int64_t>());
      s.tokens.push_back(toks[k].get<std::string>());
    }
    p.specials.emplace(it.key(), std::move(s));
  }
  for (const auto* t : {&p.single, &p.pair})
    for (const tok::TemplatePiece& piece : *t)
      if (!piece.is_sequence && !p.specials.count(piece.special))
        throw FormatError(ctx + ": template names special token \"" + io::text_excerpt(piece.special) +
                          "\" that special_tokens does not define");
  return p;
}

const Json& member(const Json& root, const char* key) {
  static const Json null_value;
  auto it = root.find(key);
  return it == root.end() ? null_value : *it;
}

}  // namespace

std::unique_ptr<Tokenizer> load_tokenizer_json(const std::string& path) {
  const Json root = io::read_json_file(path);
  if (!root.is_object()) throw FormatError(path + ": must hold a JSON object");
  tok::PipelineParts p;
  p.normalizers = parse_normalizer(member(root, "normalizer"), path);
  p.byte_level = parse_pre_tokenizer(member(root, "pre_tokenizer"), path, p);
  p.model = parse_model(io::require_key(root, "model", path), path);
  p.added_tokens = parse_added_tokens(member(root, "added_tokens"), path);
  p.post = parse_post_processor(member(root, "post_processor"), path);
  p.pad_id = tok::find_pad(*p.model, p.pad_token);
  const Json& padding = member(root, "padding");
  if (padding.is_object()) {   // the file's own pad token wins over the usual names
    p.pad_id = io::optional_int(padding, "pad_id", path + ": padding", p.pad_id);
    p.pad_token = io::optional_string(padding, "pad_token", path + ": padding", p.pad_token);
  }
  return std::make_unique<tok::PipelineTokenizer>(std::move(p));
}

}  // namespace slimformer

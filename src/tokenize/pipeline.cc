#include "tokenize/pipeline.h"

#include <algorithm>

#include "slimformer/error.h"

namespace slimformer::tok {
namespace {

void truncate(Encoding& e, size_t n) {
  if (e.ids.size() <= n) return;
  e.ids.resize(n);
  e.tokens.resize(n);
  e.type_ids.resize(n);
  e.offsets.resize(n);
  e.attention_mask.resize(n);
  e.sequence_ids.resize(n);
}

// Longest-first truncation of a pair to `max_len` tokens in all, as Hugging Face splits it.
void truncate_pair(Encoding& a, Encoding& b, size_t max_len) {
  size_t n1 = a.ids.size(), n2 = b.ids.size();
  if (n1 + n2 <= max_len) return;
  const bool swap = n1 > n2;
  if (swap) std::swap(n1, n2);
  n2 = n1 > max_len ? n1 : std::max(n1, max_len - n1);
  if (n1 + n2 > max_len) {
    n1 = max_len / 2;
    n2 = n1 + max_len % 2;
  }
  if (swap) std::swap(n1, n2);
  truncate(a, n1);
  truncate(b, n2);
}

}  // namespace

int64_t find_pad(const Model& model, std::string& pad_token) {
  for (const char* name : {"[PAD]", "<pad>"}) {
    if (auto id = model.token_to_id(name)) {
      pad_token = name;
      return *id;
    }
  }
  pad_token.clear();
  return 0;
}

PipelineTokenizer::PipelineTokenizer(PipelineParts parts) : p_(std::move(parts)) {
  // Normalized added tokens are looked for in normalized text, so their pattern is normalized too.
  std::vector<std::string> forms;
  for (const AddedToken& t : p_.added_tokens) {
    if (t.normalized) forms.push_back(to_utf8(normalize(decode_utf8(t.content))));
    else forms.push_back(t.content);
  }
  added_ = AddedVocabulary(p_.added_tokens, forms);
}

Chars PipelineTokenizer::normalize(const Chars& text) const {
  Chars s = text;
  for (const NormalizeStep& step : p_.normalizers) s = step(s);
  return s;
}

int64_t PipelineTokenizer::vocab_size() const {
  int64_t n = p_.model->vocab_size();
  for (const AddedToken& t : p_.added_tokens)
    if (!p_.model->token_to_id(t.content)) ++n;
  return n;
}

void PipelineTokenizer::tokenize_text(const Chars& text, std::vector<Token>& out) const {
  const std::vector<Chars> words = p_.byte_level    ? p_.byte_level->split(text)
                                   : p_.space_split ? p_.space_split->split(text)
                                                    : bert_pre_tokenize(text);
  for (const Chars& w : words) p_.model->tokenize(w, out);
}

Encoding PipelineTokenizer::encode_sequence(const std::string& text, int64_t type_id) const {
  std::vector<Token> tokens;
  auto add_token = [&](const Segment& s) {
    const AddedToken& t = added_.tokens()[static_cast<size_t>(s.token)];
    tokens.push_back(Token{t.id, t.content, s.chars.front().begin, s.chars.back().end});
  };
  for (const Segment& raw : added_.split(decode_utf8(text), /*normalized=*/false)) {
    if (raw.token >= 0) {
      add_token(raw);
      continue;
    }
    const Chars norm = normalize(raw.chars);
    for (const Segment& s : added_.split(norm, /*normalized=*/true)) {
      if (s.token >= 0) add_token(s);
      else if (!s.chars.empty()) tokenize_text(s.chars, tokens);
    }
  }
  Encoding e;
  for (Token& t : tokens) {
    e.ids.push_back(t.id);
    e.tokens.push_back(std::move(t.text));
    e.type_ids.push_back(type_id);
    e.offsets.emplace_back(t.begin, t.end);
    e.attention_mask.push_back(1);
    e.sequence_ids.push_back(type_id);   // encode_sequence's type id is the text's index in the pair
  }
  return e;
}

Encoding PipelineTokenizer::finish(Encoding a, Encoding* b, const EncodeOptions& opt) const {
  if (opt.max_length < 0) throw InputError("max_length must be >= 0, got " + std::to_string(opt.max_length));
  if (opt.max_length > 0) {
    const int64_t added = opt.add_special_tokens ? p_.post.added_tokens(b != nullptr) : 0;
    if (opt.max_length < added)
      throw InputError("max_length " + std::to_string(opt.max_length) + " leaves no room: the " +
                       std::to_string(added) + " special tokens do not fit");
    const auto room = static_cast<size_t>(opt.max_length - added);
    if (b) truncate_pair(a, *b, room);
    else truncate(a, room);
  }
  Encoding e = p_.post.process(std::move(a), b, opt.add_special_tokens);
  if (opt.pad_to_max_length && opt.max_length > static_cast<int64_t>(e.ids.size())) {
    const auto n = static_cast<size_t>(opt.max_length);
    e.ids.resize(n, p_.pad_id);
    e.tokens.resize(n, p_.pad_token);
    e.type_ids.resize(n, 0);
    e.offsets.resize(n, {0, 0});
    e.attention_mask.resize(n, 0);
    e.sequence_ids.resize(n, -1);
  }
  return e;
}

Encoding PipelineTokenizer::encode(const std::string& text, const EncodeOptions& opt) const {
  check_utf8(text, "the text to encode");
  return finish(encode_sequence(text, 0), nullptr, opt);
}

Encoding PipelineTokenizer::encode_pair(const std::string& a, const std::string& b,
                                        const EncodeOptions& opt) const {
  check_utf8(a, "the first text of the pair");
  check_utf8(b, "the second text of the pair");
  Encoding eb = encode_sequence(b, 1);
  return finish(encode_sequence(a, 0), &eb, opt);
}

}  // namespace slimformer::tok

namespace slimformer {

Batch make_batch(const std::vector<Encoding>& encodings, int64_t pad_id) {
  Batch b;
  b.batch = static_cast<int64_t>(encodings.size());
  for (const Encoding& e : encodings) b.seq = std::max(b.seq, static_cast<int64_t>(e.ids.size()));
  const auto total = static_cast<size_t>(b.batch * b.seq);
  b.ids.assign(total, pad_id);
  b.mask.assign(total, 0);
  b.type_ids.assign(total, 0);
  for (size_t r = 0; r < encodings.size(); ++r) {
    const Encoding& e = encodings[r];
    const size_t row = r * static_cast<size_t>(b.seq);
    for (size_t t = 0; t < e.ids.size(); ++t) {
      b.ids[row + t] = e.ids[t];
      b.mask[row + t] = t < e.attention_mask.size() ? e.attention_mask[t] : 1;
      b.type_ids[row + t] = t < e.type_ids.size() ? e.type_ids[t] : 0;
    }
  }
  return b;
}

}  // namespace slimformer

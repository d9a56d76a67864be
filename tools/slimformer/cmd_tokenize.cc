// slimformer tokenize: one JSON line {"ids", "tokens", ["type_ids",] "attention_mask", "offsets"}
// per input line.
#include <array>
#include <memory>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "slimformer/error.h"
#include "slimformer/tokenizer.h"

namespace slimcli {
namespace {

struct TokenizeOptions {
  std::string model, input, max_length;
  bool pair = false, no_special = false;
};

// --pair: every line must hold a tab; checked for all lines before any output is written.
std::vector<std::pair<std::string, std::string>> split_pairs(const InputLines& in) {
  std::vector<std::pair<std::string, std::string>> pairs;
  for (size_t i = 0; i < in.lines.size(); ++i) {
    const std::string& l = in.lines[i];
    const size_t tab = l.find('\t');
    if (tab == std::string::npos) {
      throw slimformer::InputError(in.source + " line " + std::to_string(i + 1) +
                                   ": --pair expects two texts separated by a tab, found no tab");
    }
    pairs.emplace_back(l.substr(0, tab), l.substr(tab + 1));
  }
  return pairs;
}

std::string to_json_line(const slimformer::Encoding& e, bool with_type_ids, const std::string& first,
                         const std::string& second) {
  std::vector<std::array<int64_t, 2>> offsets;
  for (const auto& [begin, end] : slimformer::char_offsets(e, first, second)) offsets.push_back({begin, end});
  nlohmann::ordered_json j;
  j["ids"] = e.ids;
  j["tokens"] = e.tokens;
  if (with_type_ids) j["type_ids"] = e.type_ids;
  j["attention_mask"] = e.attention_mask;
  j["offsets"] = offsets;
  return j.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace) + "\n";
}

int run_tokenize(const TokenizeOptions& o) {
  slimformer::EncodeOptions opt;
  opt.add_special_tokens = !o.no_special;
  opt.max_length = o.max_length.empty() ? 0 : parse_int("--max-length", o.max_length, 1);
  require_model_dir("--model", o.model);
  const InputLines in = read_input_lines(o.input);
  const auto pairs = o.pair ? split_pairs(in) : std::vector<std::pair<std::string, std::string>>{};
  const auto tokenizer = slimformer::load_tokenizer(o.model);
  Output out("", "");
  for (size_t i = 0; i < in.lines.size(); ++i) {
    const slimformer::Encoding e = o.pair ? tokenizer->encode_pair(pairs[i].first, pairs[i].second, opt)
                                          : tokenizer->encode(in.lines[i], opt);
    out.write(o.pair ? to_json_line(e, true, pairs[i].first, pairs[i].second) : to_json_line(e, false, in.lines[i], ""));
  }
  out.commit();
  return 0;
}

}  // namespace

Runner add_tokenize(CLI::App& root) {
  auto o = std::make_shared<TokenizeOptions>();
  CLI::App* cmd = root.add_subcommand("tokenize", "Tokenize texts, one per line, as JSON lines {\"ids\", \"tokens\", \"attention_mask\", \"offsets\"}");
  cmd->add_option("--model", o->model, "Model folder holding tokenizer.json, vocab.txt or vocab.json + merges.txt")
      ->type_name("DIR")->required();
  cmd->add_option("--input", o->input, "Text file, one text per line (default: stdin)")->type_name("FILE");
  cmd->add_flag("--pair", o->pair, "Each line holds two texts separated by a tab; type_ids are written too");
  cmd->add_option("--max-length", o->max_length, "Truncate to N tokens, special tokens included (default: none)")->type_name("N");
  cmd->add_flag("--no-special-tokens", o->no_special, "Leave out [CLS]/[SEP] (<s>/</s>)");
  return [o] { return run_tokenize(*o); };
}

}  // namespace slimcli

// slimformer embed: one JSON line {"embedding": [...]} per input line, in input order.
#include <memory>

#include "commands.h"
#include "slimformer/encoder.h"

namespace slimcli {
namespace {

struct EmbedOptions {
  std::string model, input, output, batch_size = "32", max_length, threads, attention;
  bool no_normalize = false;
};

int run_embed(const EmbedOptions& o) {
  const int64_t batch_size = parse_int("--batch-size", o.batch_size, 1);
  const int64_t max_length = o.max_length.empty() ? 0 : parse_int("--max-length", o.max_length, 1);
  const slimformer::AttentionSpec attention = parse_attention_flag(o.attention);
  apply_threads(o.threads);
  require_model_dir("--model", o.model);
  if (!attention.empty()) {   // a bad mechanism fails before the weights are loaded
    build_attention_flag(attention, slimformer::attention_context(slimformer::read_encoder_config(o.model + "/config.json")));
  }
  Output out(o.output, "--output");               // an unwritable --output fails before any work
  const InputLines in = read_input_lines(o.input);  // every line checked before any output
  const slimformer::SentenceEncoder encoder(o.model, attention);
  if (!in.lines.empty()) {
    const slimformer::Tensor e = encoder.embed(in.lines, batch_size, max_length, o.no_normalize);
    const int64_t H = e.dim(1);
    std::string line;
    for (int64_t i = 0; i < e.dim(0); ++i) {
      line = "{\"embedding\": [";
      const float* row = e.data<float>() + i * H;
      for (int64_t j = 0; j < H; ++j) {
        if (j) line += ", ";
        append_json_float(line, row[j]);
      }
      line += "]}\n";
      out.write(line);
    }
  }
  out.commit();
  return 0;
}

}  // namespace

Runner add_embed(CLI::App& root) {
  auto o = std::make_shared<EmbedOptions>();
  CLI::App* cmd = root.add_subcommand("embed", "Embed texts, one per line, as JSON lines {\"embedding\": [...]}");
  cmd->add_option("--model", o->model, "Model folder (config.json, safetensors, tokenizer)")->type_name("DIR")->required();
  cmd->add_option("--input", o->input, "Text file, one text per line (default: stdin)")->type_name("FILE");
  cmd->add_option("--output", o->output, "Output file, written atomically (default: stdout)")->type_name("FILE");
  cmd->add_option("--batch-size", o->batch_size, "Texts per forward pass (default 32)")->type_name("N");
  cmd->add_option("--max-length", o->max_length, "Truncate texts to N tokens (default: the model's limit)")->type_name("N");
  cmd->add_flag("--no-normalize", o->no_normalize, "Skip the folder's L2 normalization");
  cmd->add_option("--attention", o->attention, "Attention mechanism for every layer, e.g. exact or "
                                               "sliding:window=256+global:first=1 (default: the model's own)")
      ->type_name("SPEC");
  add_threads_flag(cmd, &o->threads);
  return [o] { return run_embed(*o); };
}

}  // namespace slimcli

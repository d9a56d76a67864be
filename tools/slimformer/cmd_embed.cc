// slimformer embed: one embedding per input line, in input order, as JSON lines, .npy or raw f32.
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "commands.h"
#include "embedding_formats.h"
#include "slimformer/encoder.h"
#include "slimformer/error.h"

namespace slimcli {
namespace {

struct EmbedOptions {
  std::string model, input, output, batch_size = "32", max_length, threads, attention, format = "jsonl";
  bool no_normalize = false;
};

// A line on stderr every few seconds once a run has taken more than a few: texts done, rate and
// time left. Short runs (and tests) print nothing.
class EmbedProgress {
 public:
  void operator()(int64_t done, int64_t total) {
    const double t = std::chrono::duration<double>(std::chrono::steady_clock::now() - start_).count();
    if (t < kFirstAfter || (t - last_ < kEvery && done < total)) return;
    last_ = t;
    const double rate = static_cast<double>(done) / t;
    std::fprintf(stderr, "embed: %lld/%lld texts, %.0f texts/s, %s left\n", static_cast<long long>(done),
                 static_cast<long long>(total), rate, duration_text(static_cast<double>(total - done) / rate).c_str());
  }

 private:
  static constexpr double kFirstAfter = 3.0, kEvery = 2.0;
  std::chrono::steady_clock::time_point start_ = std::chrono::steady_clock::now();
  double last_ = 0.0;
};

int run_embed(const EmbedOptions& o) {
  const int64_t batch_size = parse_int("--batch-size", o.batch_size, 1);
  const int64_t max_length = o.max_length.empty() ? 0 : parse_int("--max-length", o.max_length, 1);
  const slimformer::AttentionSpec attention = parse_attention_flag(o.attention);
  const EmbeddingFormat format = parse_embedding_format(o.format);
  if (format != EmbeddingFormat::Jsonl && o.output.empty() && ::isatty(STDOUT_FILENO)) {
    throw slimformer::InputError("--format " + o.format + " writes binary: give --output FILE or redirect stdout");
  }
  apply_threads(o.threads);
  require_model_dir("--model", o.model);
  refuse_outputs_onto_inputs({{"--model", o.model, PathArg::Folder}, {"--input", o.input, PathArg::File}},
                             {{"--output", o.output, PathArg::File}});
  if (!attention.empty()) {   // a bad mechanism fails before the weights are loaded
    build_attention_flag(attention, slimformer::attention_context(slimformer::read_encoder_config(o.model + "/config.json")));
  }
  Output out(o.output, "--output");               // an unwritable --output fails before any work
  const InputLines in = read_input_lines(o.input);  // every line checked before any output
  const slimformer::SentenceEncoder encoder(o.model, attention);
  EmbedProgress progress;
  const slimformer::Tensor e =
      in.lines.empty() ? slimformer::Tensor::empty({0, encoder.dim()})
                       : encoder.embed(in.lines, batch_size, max_length, o.no_normalize, std::ref(progress));
  write_embeddings(e, format, [&](const std::string& piece) { out.write(piece); });
  if (format == EmbeddingFormat::F32) {   // raw floats carry no shape: say it where a person reads it
    std::fprintf(stderr, "embed: %lld x %lld float32, little-endian, one row per input line\n",
                 static_cast<long long>(e.dim(0)), static_cast<long long>(e.dim(1)));
  }
  out.commit();
  return 0;
}

}  // namespace

Runner add_embed(CLI::App& root) {
  auto o = std::make_shared<EmbedOptions>();
  CLI::App* cmd = root.add_subcommand("embed", "Embed texts, one per line, as JSON lines {\"embedding\": [...]}, .npy or f32");
  cmd->add_option("--model", o->model, "Model folder (config.json, safetensors, tokenizer)")->type_name("DIR")->required();
  cmd->add_option("--input", o->input, "Text file, one text per line (default: stdin)")->type_name("FILE");
  cmd->add_option("--output", o->output, "Output file, written atomically (default: stdout)")->type_name("FILE");
  cmd->add_option("--batch-size", o->batch_size, "Texts per forward pass (default 32)")->type_name("N");
  cmd->add_option("--max-length", o->max_length, "Truncate texts to N tokens (default: the model's limit)")->type_name("N");
  cmd->add_option("--format", o->format,
                  "jsonl (default), npy (numpy.load reads it) or f32 (raw little-endian rows; the shape on stderr)")
      ->type_name("FORMAT");
  cmd->add_flag("--no-normalize", o->no_normalize, "Skip the folder's L2 normalization");
  cmd->add_option("--attention", o->attention, "Attention mechanism for every layer, e.g. exact or "
                                               "sliding:window=256+global:first=1 (default: the model's own)")
      ->type_name("SPEC");
  add_threads_flag(cmd, &o->threads);
  return [o] { return run_embed(*o); };
}

}  // namespace slimcli

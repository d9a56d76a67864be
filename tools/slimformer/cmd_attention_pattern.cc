// slimformer attention-pattern: draws which query attends which key for one mechanism at one
// sequence length (Attention::pattern), as a PNG or SVG made by gnuplot.
#include <memory>

#include "commands.h"
#include "slimformer/error.h"
#include "slimformer/plot.h"

namespace slimcli {
namespace {

// The pattern is n x n bytes before it is reduced for drawing: 1 GiB at this length.
constexpr int64_t kMaxSeqLen = 32768;
// Cells a side in the figure; longer sequences are drawn with several tokens a pixel.
constexpr int64_t kMaxCells = 1024;

struct PatternOptions {
  std::string attention, seq_len, layer = "0", layers = "12", output;
};

int run_attention_pattern(const PatternOptions& o) {
  const slimformer::AttentionSpec spec = parse_attention_flag(o.attention);
  if (spec.empty()) throw slimformer::InputError("--attention: empty, expected NAME[:key=value,...] such as full");
  const int64_t n = parse_int("--seq-len", o.seq_len, 1, kMaxSeqLen);
  const int64_t layers = parse_int("--layers", o.layers, 1, 100000);
  const int layer = static_cast<int>(parse_int("--layer", o.layer, 0, layers - 1));
  slimformer::AttentionContext ctx;   // the shapes of BERT-base's attention; a pattern needs none of them
  ctx.num_layers = layers;
  ctx.heads = 12;
  ctx.head_dim = 64;
  ctx.max_seq = n;
  const auto attention = build_attention_flag(spec, ctx);
  std::unique_ptr<slimformer::plot::PatternPlot> plot;
  try {   // extension, gnuplot and the folder are checked before the pattern is computed
    plot = std::make_unique<slimformer::plot::PatternPlot>(o.output);
  } catch (const slimformer::InputError& e) {
    throw slimformer::InputError(std::string("--output: ") + e.what());
  } catch (const slimformer::IoError& e) {
    throw slimformer::IoError(std::string("--output: ") + e.what());
  }
  const std::vector<uint8_t> pattern = attention->pattern(n, layer);
  const slimformer::plot::PatternImage image = slimformer::plot::downsample_pattern(pattern, n, kMaxCells);
  plot->write(image, attention->describe() + "  (n = " + std::to_string(n) + ", layer " + std::to_string(layer) + ")");
  return 0;
}

}  // namespace

Runner add_attention_pattern(CLI::App& root) {
  auto o = std::make_shared<PatternOptions>();
  CLI::App* cmd = root.add_subcommand("attention-pattern", "Draw which query attends which key (PNG or SVG, gnuplot)");
  cmd->add_option("--attention", o->attention, "Mechanism, e.g. sliding:window=4+global:first=1")
      ->type_name("SPEC")->required();
  cmd->add_option("--seq-len", o->seq_len, "Tokens in the sequence (at most 32768)")->type_name("N")->required();
  cmd->add_option("--layer", o->layer, "Layer whose pattern is drawn, from 0 (default 0)")->type_name("L");
  cmd->add_option("--layers", o->layers, "Layers of the model the mechanism is built for (default 12)")->type_name("N");
  cmd->add_option("--output", o->output, "Figure file, .png or .svg, written atomically")->type_name("FILE")->required();
  return [o] { return run_attention_pattern(*o); };
}

}  // namespace slimcli

// What `slimformer bench` runs with no model named: the efficient-attention comparisons on
// built-in configurations. docs/benchmarks/README.md shows a run and says why these lengths.
#include "slimformer/bench.h"

namespace slimformer::bench {

std::vector<ModelSpec> default_bench_models() {
  return parse_model_list(
      "longformer window 512=longformer-base-4096,"
      "longformer window 4=longformer-base-4096:attention_window=4,"
      "bigbird sparse=bigbird-roberta-base,"
      "bigbird full=bigbird-roberta-base:attention=full,"
      "reformer lsh=reformer-shaped,"
      "reformer full=reformer-shaped:attention=full,"
      // bert-base's 512 positions stretched to 4096 (random weights either way) for a dense
      // baseline at the same lengths.
      "bert-base exact=bert-base:max_position_embeddings=4096,attention=exact");
}

BenchGrid default_bench_grid() {
  BenchGrid g;
  g.batch_sizes = {1};
  g.seq_lens = {128, 256, 512, 1024, 2048, 4096};
  g.runs = 5;
  g.warmup = 0;          // the first forward of each cell (memory) already warms it
  g.time_limit_s = 60;
  return g;
}

}  // namespace slimformer::bench

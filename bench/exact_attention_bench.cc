// One layer's attention time for several specs side by side (docs/attention/exact.md): `exact`
// against `full`, and exact's tile sizes against each other. Usage:
//   slim_exact_attention_bench [--specs 'full;exact'] [--shapes 1x512,1x1024,8x128]
//                              [--heads 12] [--head-dim 64] [--threads 2] [--rounds 9] [--min-ms 40]
// A shape is BATCHxLENGTH, no padding, or BATCHxLENGTHr: ragged, sequence b of B holds
// LENGTH (b + 1) / B tokens and padding after them; q/k/v are read in place from the encoder's fused
// (B*T, 3, heads, head_dim) rows. Each spec runs one untimed forward (scratch grown, pages
// touched), then `rounds` rounds in which every spec takes one sample in turn (interleaved, so a
// burst of load on a shared machine hits all specs alike); a sample is the mean of as many
// forwards as fill --min-ms. Prints one markdown row per shape: the median sample per spec (ms),
// the fastest sample in parentheses, and each spec's median over the first spec's; a second row
// ("cpu") gives the same for the process's CPU time per forward (all threads together), a third
// the scratch each mechanism asked for (AttentionScratch::bytes()).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "attention_bench_util.h"
#include "slimformer/attention.h"
#include "slimformer/threads.h"

int main(int argc, char** argv) {
  std::vector<std::string> specs = {"full", "exact"};
  std::vector<std::string> shapes = {"1x512", "1x1024", "1x2048", "1x4096", "8x128", "8x512"};
  int64_t heads = 12, head_dim = 64;
  int threads = 2, rounds = 9;
  double min_ms = 40.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--specs") specs = slimbench::split(value, ';');
    else if (flag == "--shapes") shapes = slimbench::split(value, ',');
    else if (flag == "--heads") heads = std::stoll(value);
    else if (flag == "--head-dim") head_dim = std::stoll(value);
    else if (flag == "--threads") threads = std::stoi(value);
    else if (flag == "--rounds") rounds = std::stoi(value);
    else if (flag == "--min-ms") min_ms = std::stod(value);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  slimformer::set_num_threads(threads);
  std::printf("%lld heads x %lld, %d threads, %d interleaved rounds; median ms (fastest)\n\n| B x n |",
              static_cast<long long>(heads), static_cast<long long>(head_dim), threads, rounds);
  for (const auto& s : specs) std::printf(" %s |", s.c_str());
  for (size_t i = 1; i < specs.size(); ++i) std::printf(" %s / %s |", specs[i].c_str(), specs[0].c_str());
  std::printf("\n|---|");
  for (size_t i = 0; i < 2 * specs.size() - 1; ++i) std::printf("---|");
  std::printf("\n");
  for (const std::string& shape : shapes) {
    const auto bn = slimbench::split(shape, 'x');
    const int64_t batch = std::stoll(bn.at(0)), n = std::stoll(bn.at(1));
    // BxNr: ragged, sequence b holds n (b + 1) / B tokens, the rest padding
    std::vector<int64_t> mask;
    if (shape.back() == 'r') {
      for (int64_t b = 0; b < batch; ++b)
        for (int64_t t = 0; t < n; ++t) mask.push_back(t < n * (b + 1) / batch ? 1 : 0);
    }
    slimbench::LayerBuffers layer(batch, n, heads, head_dim);
    layer.io.mask = mask.empty() ? nullptr : mask.data();
    const slimformer::AttentionIO& io = layer.io;
    const slimformer::AttentionContext ctx = slimbench::one_layer(heads, head_dim, n);
    std::vector<slimbench::InterleavedRunner> runners(specs.size());
    for (size_t s = 0; s < specs.size(); ++s) {
      runners[s].attention = slimformer::make_attention(slimformer::AttentionSpec::parse(specs[s]), ctx);
      runners[s].first_forward(io, min_ms);
    }
    slimbench::time_interleaved(runners, io, rounds);
    std::vector<double> medians;
    std::printf("| %s |", shape.c_str());
    for (slimbench::InterleavedRunner& r : runners) {
      std::sort(r.wall.begin(), r.wall.end());
      medians.push_back(r.wall[r.wall.size() / 2]);
      std::printf(" %.2f (%.2f) |", medians.back(), r.wall.front());
    }
    for (size_t i = 1; i < medians.size(); ++i) std::printf(" %.2f |", medians[i] / medians[0]);
    std::printf("\n| %s cpu |", shape.c_str());
    std::vector<double> cpu;
    for (slimbench::InterleavedRunner& r : runners) {
      std::sort(r.cpu.begin(), r.cpu.end());
      cpu.push_back(r.cpu[r.cpu.size() / 2]);
      std::printf(" %.2f (%.2f) |", cpu.back(), r.cpu.front());
    }
    for (size_t i = 1; i < cpu.size(); ++i) std::printf(" %.2f |", cpu[i] / cpu[0]);
    std::printf("\n| %s scratch MiB |", shape.c_str());
    for (slimbench::InterleavedRunner& r : runners) std::printf(" %.2f |", static_cast<double>(r.scratch.bytes()) / (1 << 20));
    for (size_t i = 1; i < runners.size(); ++i) std::printf(" |");
    std::printf("\n");
    std::fflush(stdout);
  }
  return 0;
}

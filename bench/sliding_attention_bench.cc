// One layer's attention time and memory against sequence length for sparse patterns beside
// `exact` and `full` (docs/attention/sliding.md). Usage:
//   slim_sliding_attention_bench [--specs 'exact;full;sliding:window=512;sliding:window=64']
//                                [--lengths 512,1024,2048,4096,8192,16384] [--full-max 4096]
//                                [--heads 12] [--head-dim 64] [--threads 2] [--rounds 5] [--min-ms 60]
// Batch 1, no padding; q/k/v are read in place from the encoder's fused (T, 3, heads, head_dim)
// rows. Memory: the counting allocator's peak over one forward from a fresh scratch, plus the
// q/k/v and output buffers the layer holds anyway; scratch = AttentionScratch::bytes() after it.
// Time: one untimed forward, then `rounds` rounds in which every spec takes one sample in turn
// (interleaved, so load on a shared machine hits all specs alike); a sample is the mean of as many
// forwards as fill --min-ms. Printed: median wall ms, median process CPU ms per forward (all
// threads; run with OMP_WAIT_POLICY=passive so waiting threads do not spin), each over the first
// spec's, and the memory columns. `full` is skipped above --full-max (its scores are h n^2 floats).
#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "attention_bench_util.h"
#include "slimformer/attention.h"
#include "slimformer/memory.h"
#include "slimformer/threads.h"

namespace {

using namespace slimformer;
using namespace slimbench;

struct Runner : InterleavedRunner {
  std::string spec;
  double peak_mib = 0, scratch_mib = 0;
};

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> specs = {"exact", "full", "sliding:window=512", "sliding:window=64"};
  std::vector<std::string> lengths = {"512", "1024", "2048", "4096", "8192", "16384"};
  int64_t heads = 12, head_dim = 64, full_max = 4096;
  int threads = 2, rounds = 5;
  double min_ms = 60.0;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--specs") specs = split(value, ';');
    else if (flag == "--lengths") lengths = split(value, ',');
    else if (flag == "--full-max") full_max = std::stoll(value);
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
  set_num_threads(threads);
  std::printf("batch 1, %lld heads x %lld, %d threads, %d interleaved rounds\n\n", static_cast<long long>(heads),
              static_cast<long long>(head_dim), threads, rounds);
  std::printf("| n | spec | wall ms | cpu ms | wall / %s | cpu / %s | scratch MiB | peak MiB | peak / peak(n/2) |\n",
              specs[0].c_str(), specs[0].c_str());
  std::printf("|---|---|---|---|---|---|---|---|---|\n");
  std::vector<double> last_peak(specs.size(), 0.0);
  for (const std::string& len : lengths) {
    const int64_t n = std::stoll(len);
    const LayerBuffers layer(1, n, heads, head_dim);
    const AttentionIO& io = layer.io;
    const AttentionContext ctx = one_layer(heads, head_dim, n);
    const double held_mib = static_cast<double>(layer.bytes()) / kMiB;
    std::vector<Runner> runners;
    for (const std::string& spec : specs) {
      if (spec.rfind("full", 0) == 0 && n > full_max) continue;
      Runner r;
      r.spec = spec;
      r.attention = make_attention(AttentionSpec::parse(spec), ctx);
      const size_t live = live_bytes();
      reset_peak_bytes();
      r.first_forward(io, min_ms);
      r.peak_mib = held_mib + static_cast<double>(peak_bytes() - live) / kMiB;
      r.scratch_mib = static_cast<double>(r.scratch.bytes()) / kMiB;
      runners.push_back(std::move(r));
    }
    time_interleaved(runners, io, rounds);
    const double wall0 = median(runners[0].wall), cpu0 = median(runners[0].cpu);
    for (Runner& r : runners) {
      const size_t s = static_cast<size_t>(std::find(specs.begin(), specs.end(), r.spec) - specs.begin());
      const double w = median(r.wall), c = median(r.cpu);
      std::printf("| %lld | %s | %.2f | %.2f | %.3f | %.3f | %.2f | %.1f |", static_cast<long long>(n), r.spec.c_str(), w,
                  c, w / wall0, c / cpu0, r.scratch_mib, r.peak_mib);
      if (last_peak[s] > 0) std::printf(" %.2f |\n", r.peak_mib / last_peak[s]);
      else std::printf(" |\n");
      last_peak[s] = r.peak_mib;
    }
    std::fflush(stdout);
  }
  return 0;
}

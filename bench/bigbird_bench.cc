// Time and memory of one layer's bigbird attention against sequence length, beside `full`
// (docs/attention/bigbird.md). Usage:
//   slim_bigbird_bench [--specs 'bigbird;full'] [--lengths 512,1024,...] [--full-max 8192]
//                      [--heads 12] [--head-dim 64] [--threads 2] [--runs 5]
// Batch 1, q/k/v read in place from the encoder's fused (T, 3, heads, head_dim) rows. Each
// (spec, n) runs in a child process of its own, so its memory is its own: one untimed forward
// (scratch grown), then the median of `runs` timed forwards. Reported: AttentionScratch::bytes()
// (what the mechanism keeps), the counting allocator's peak above what was live before the
// first forward, and the growth of the child's peak RSS over its RSS with the inputs in place
// (which also counts the mechanism's small heap bookkeeping, not from the counting allocator).
// `full` needs heads * n * n floats, so it runs only up to --full-max.
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <string>
#include <vector>

#include "attention_bench_util.h"
#include "slimformer/attention.h"
#include "slimformer/memory.h"
#include "slimformer/threads.h"

namespace {

struct Cell {
  double median_ms = 0, scratch_mib = 0, peak_mib = 0, rss_growth_mib = 0;
  char describe[200] = {};
};

Cell measure(const std::string& spec, int64_t n, int64_t heads, int64_t head_dim, int runs) {
  const slimbench::LayerBuffers layer(1, n, heads, head_dim);
  const auto attention =
      slimformer::make_attention(slimformer::AttentionSpec::parse(spec), slimbench::one_layer(heads, head_dim, n));
  const slimformer::AttentionIO& io = layer.io;
  slimformer::AttentionScratch scratch;
  const size_t rss_before = slimformer::process_rss_bytes();
  const size_t live = slimformer::live_bytes();
  slimformer::reset_peak_bytes();
  attention->forward(io, scratch);   // untimed: grows the scratch
  std::vector<double> ms;
  for (int r = 0; r < runs; ++r) {
    const double t0 = slimbench::wall_ms();
    attention->forward(io, scratch);
    ms.push_back(slimbench::wall_ms() - t0);
  }
  const double mib = slimbench::kMiB;
  Cell c;
  c.median_ms = slimbench::median(ms);
  c.scratch_mib = static_cast<double>(scratch.bytes()) / mib;
  c.peak_mib = static_cast<double>(slimformer::peak_bytes() - live) / mib;
  c.rss_growth_mib = static_cast<double>(slimformer::process_peak_rss_bytes() - rss_before) / mib;
  std::snprintf(c.describe, sizeof c.describe, "%s", attention->describe().c_str());
  return c;
}

// measure() in a child process; false when the child failed.
bool measure_in_child(const std::string& spec, int64_t n, int64_t heads, int64_t head_dim, int runs, Cell& cell) {
  int fds[2];
  if (pipe(fds) != 0) return false;
  const pid_t pid = fork();
  if (pid < 0) return false;
  if (pid == 0) {
    close(fds[0]);
    const Cell c = measure(spec, n, heads, head_dim, runs);
    const bool ok = write(fds[1], &c, sizeof c) == static_cast<ssize_t>(sizeof c);
    _exit(ok ? 0 : 1);
  }
  close(fds[1]);
  const bool got = read(fds[0], &cell, sizeof cell) == static_cast<ssize_t>(sizeof cell);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return got && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::string specs = "bigbird;full";
  std::string lengths = "512,1024,2048,4096,8192,16384";
  int64_t heads = 12, head_dim = 64, full_max = 8192;
  int threads = 2, runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--specs") specs = value;
    else if (flag == "--lengths") lengths = value;
    else if (flag == "--full-max") full_max = std::stoll(value);
    else if (flag == "--heads") heads = std::stoll(value);
    else if (flag == "--head-dim") head_dim = std::stoll(value);
    else if (flag == "--threads") threads = std::stoi(value);
    else if (flag == "--runs") runs = std::stoi(value);
    else {
      std::fprintf(stderr, "unknown flag %s\n", flag.c_str());
      return 2;
    }
  }
  slimformer::set_num_threads(threads);
  std::printf("heads %lld x head_dim %lld, batch 1, %d threads\n\n", static_cast<long long>(heads),
              static_cast<long long>(head_dim), threads);
  std::printf("| spec | n | ms (median of %d) | ms per 1k tokens | scratch MiB | counted peak MiB | peak RSS growth MiB |\n",
              runs);
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  std::fflush(stdout);
  for (const std::string& spec : slimbench::split(specs, ';')) {
    for (const std::string& len : slimbench::split(lengths, ',')) {
      const int64_t n = std::stoll(len);
      if (spec.rfind("full", 0) == 0 && n > full_max) continue;
      Cell c;
      if (!measure_in_child(spec, n, heads, head_dim, runs, c)) {
        std::printf("| %s | %lld | failed | | | | |\n", spec.c_str(), static_cast<long long>(n));
        continue;
      }
      std::printf("| %s | %lld | %.2f | %.2f | %.2f | %.2f | %.2f |\n", c.describe, static_cast<long long>(n), c.median_ms,
                  c.median_ms * 1000.0 / static_cast<double>(n), c.scratch_mib, c.peak_mib, c.rss_growth_mib);
      std::fflush(stdout);
    }
  }
  return 0;
}

// Time and memory of one layer's attention against sequence length for the dense approximations
// (docs/attention/{linformer,performer,linear}.md). Usage:
//   slim_attention_approx_bench [--specs linformer,performer,linear] [--lengths 512,1024,...]
//                               [--heads 12] [--head-dim 64] [--threads 2] [--runs 5]
// Batch 1, q/k/v read in place from the encoder's fused (T, 3, heads, head_dim) rows. For each
// (spec, n): one untimed forward (scratch grown, projections or features drawn), then the median
// of `runs` timed forwards (wall clock, and CPU time of all threads); scratch is
// AttentionScratch::bytes(), kept is what else the mechanism holds from the counting allocator
// after its first forward (linformer's projections), peak is the allocator's peak during the
// timed forwards above what was live before them (0 when nothing new is allocated), and the
// process's peak RSS is printed beside it. Specs are separated by ';' when they
// hold commas themselves, e.g. --specs 'linformer:k=128;performer:features=128'.
#include <cstdio>
#include <string>
#include <vector>

#include "attention_bench_util.h"
#include "slimformer/attention.h"
#include "slimformer/memory.h"
#include "slimformer/threads.h"

int main(int argc, char** argv) {
  std::string specs = "linformer,performer,linear";
  std::string lengths = "512,1024,2048,4096,8192,16384";
  int64_t heads = 12, head_dim = 64;
  int threads = 2, runs = 5;
  for (int i = 1; i + 1 < argc; i += 2) {
    const std::string flag = argv[i], value = argv[i + 1];
    if (flag == "--specs") specs = value;
    else if (flag == "--lengths") lengths = value;
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
  const std::vector<std::string> spec_list = slimbench::split(specs, specs.find(';') != std::string::npos ? ';' : ',');
  std::printf("| spec | n | wall ms (median of %d) | CPU ms (median) | wall ms per 1k tokens | scratch MiB | kept MiB | "
              "peak above live MiB | process peak RSS MiB |\n",
              runs);
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (const std::string& text : spec_list) {
    for (const std::string& len : slimbench::split(lengths, ',')) {
      const int64_t n = std::stoll(len);
      const slimbench::LayerBuffers layer(1, n, heads, head_dim);
      const auto attention =
          slimformer::make_attention(slimformer::AttentionSpec::parse(text), slimbench::one_layer(heads, head_dim, n));
      const slimformer::AttentionIO& io = layer.io;
      slimformer::AttentionScratch scratch;
      const size_t before = slimformer::live_bytes();
      attention->forward(io, scratch);   // untimed: scratch, projections, features
      const size_t live = slimformer::live_bytes();
      // counted bytes the mechanism keeps beyond its scratch (linformer's projections)
      const size_t kept = live - before - scratch.bytes();
      slimformer::reset_peak_bytes();
      std::vector<double> ms, cpu_ms;
      for (int r = 0; r < runs; ++r) {
        const double c0 = slimbench::cpu_ms(), t0 = slimbench::wall_ms();
        attention->forward(io, scratch);
        ms.push_back(slimbench::wall_ms() - t0);
        cpu_ms.push_back(slimbench::cpu_ms() - c0);
      }
      const double median = slimbench::median(ms);
      const double mib = slimbench::kMiB;
      std::printf("| %s | %lld | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f |\n", attention->describe().c_str(),
                  static_cast<long long>(n), median, slimbench::median(cpu_ms), median * 1000.0 / static_cast<double>(n),
                  static_cast<double>(scratch.bytes()) / mib, static_cast<double>(kept) / mib,
                  static_cast<double>(slimformer::peak_bytes() - live) / mib,
                  static_cast<double>(slimformer::process_peak_rss_bytes()) / mib);
      std::fflush(stdout);
    }
  }
  return 0;
}

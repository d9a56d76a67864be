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
#include <algorithm>
#include <chrono>
#include <ctime>
#include <cstdio>
#include <sstream>
#include <string>
#include <vector>

#include "slimformer/attention.h"
#include "slimformer/memory.h"
#include "slimformer/threads.h"

namespace {

std::vector<std::string> split(const std::string& s, char sep) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string item; std::getline(ss, item, sep);) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

// uniform in [-1, 1), cheap and deterministic: the values only need to be ordinary numbers
std::vector<float> filled(int64_t n) {
  std::vector<float> v(static_cast<size_t>(n));
  uint32_t x = 12345;
  for (auto& f : v) {
    x = x * 1664525u + 1013904223u;
    f = static_cast<float>(x >> 8) / 8388608.0f - 1.0f;
  }
  return v;
}

// CPU seconds of the whole process (all threads): on a shared machine it moves less than the
// wall clock when other processes take the cores.
double cpu_seconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + 1e-9 * static_cast<double>(ts.tv_nsec);
}

}  // namespace

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
  const std::vector<std::string> spec_list = split(specs, specs.find(';') != std::string::npos ? ';' : ',');
  std::printf("| spec | n | wall ms (median of %d) | CPU ms (median) | wall ms per 1k tokens | scratch MiB | kept MiB | "
              "peak above live MiB | process peak RSS MiB |\n",
              runs);
  std::printf("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
  for (const std::string& text : spec_list) {
    for (const std::string& len : split(lengths, ',')) {
      const int64_t n = std::stoll(len);
      const int64_t width = heads * head_dim;
      const std::vector<float> qkv = filled(n * 3 * width);
      std::vector<float> out(static_cast<size_t>(n * width));
      slimformer::AttentionContext ctx;
      ctx.num_layers = 1;
      ctx.heads = heads;
      ctx.head_dim = head_dim;
      ctx.max_seq = n;
      const auto attention = slimformer::make_attention(slimformer::AttentionSpec::parse(text), ctx);
      slimformer::AttentionIO io;
      io.batch = 1, io.seq = n, io.heads = heads, io.head_dim = head_dim;
      io.q = qkv.data(), io.k = qkv.data() + width, io.v = qkv.data() + 2 * width;
      io.in_row_stride = 3 * width;
      io.out = out.data(), io.out_row_stride = width;
      slimformer::AttentionScratch scratch;
      const size_t before = slimformer::live_bytes();
      attention->forward(io, scratch);   // untimed: scratch, projections, features
      const size_t live = slimformer::live_bytes();
      // counted bytes the mechanism keeps beyond its scratch (linformer's projections)
      const size_t kept = live - before - scratch.bytes();
      slimformer::reset_peak_bytes();
      std::vector<double> ms, cpu_ms;
      for (int r = 0; r < runs; ++r) {
        const double c0 = cpu_seconds();
        const auto t0 = std::chrono::steady_clock::now();
        attention->forward(io, scratch);
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
        cpu_ms.push_back(1000.0 * (cpu_seconds() - c0));
      }
      std::sort(ms.begin(), ms.end());
      std::sort(cpu_ms.begin(), cpu_ms.end());
      const double median = ms[ms.size() / 2];
      const double mib = 1024.0 * 1024.0;
      std::printf("| %s | %lld | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.0f |\n", attention->describe().c_str(),
                  static_cast<long long>(n), median, cpu_ms[cpu_ms.size() / 2], median * 1000.0 / static_cast<double>(n),
                  static_cast<double>(scratch.bytes()) / mib, static_cast<double>(kept) / mib,
                  static_cast<double>(slimformer::peak_bytes() - live) / mib,
                  static_cast<double>(slimformer::process_peak_rss_bytes()) / mib);
      std::fflush(stdout);
    }
  }
  return 0;
}

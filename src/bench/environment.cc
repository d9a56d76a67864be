// The environment block of a benchmark report: what a reader needs to judge or repeat the numbers.
#include <dnnl.hpp>
#include <omp.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <nlohmann/json.hpp>

#include "bench/gnuplot.h"
#include "kernels/cpu/isa.h"
#include "slim_commit.h"
#include "slimformer/bench.h"
#include "slimformer/memory.h"
#include "slimformer/plot.h"
#include "slimformer/threads.h"

namespace slimformer::bench {
namespace {

std::string cpu_model() {
  std::ifstream in("/proc/cpuinfo");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("model name", 0) == 0) {
      const size_t colon = line.find(':');
      if (colon != std::string::npos) return line.substr(line.find_first_not_of(" \t", colon + 1));
    }
  }
  return "unknown";
}

std::string gib(size_t bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f GiB", static_cast<double>(bytes) / (1024.0 * 1024.0 * 1024.0));
  return buf;
}

// The instruction set oneDNN's GEMM runs with on this CPU.
std::string onednn_isa() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx512_core_amx: return "avx512_core_amx";
    case dnnl::cpu_isa::avx512_core_bf16: return "avx512_core_bf16";
    case dnnl::cpu_isa::avx512_core_vnni: return "avx512_core_vnni";
    case dnnl::cpu_isa::avx512_core: return "avx512_core";
    case dnnl::cpu_isa::avx2_vnni: return "avx2_vnni";
    case dnnl::cpu_isa::avx2: return "avx2";
    case dnnl::cpu_isa::avx: return "avx";
    case dnnl::cpu_isa::sse41: return "sse41";
    default: return "other";
  }
}

// `gnuplot --version`'s line, or why there is none.
std::string gnuplot_version() {
  const std::string path = plot::find_gnuplot();
  if (path.empty()) return "not found";
  const std::string line = plot::first_output_line(path, "--version");
  return line.empty() ? path : line;
}

std::string utc_now() {
  const std::time_t t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string openmp_version() {
  const int v = _OPENMP;
  const char* name = v >= 202011 ? "5.1" : v >= 201811 ? "5.0" : v >= 201511 ? "4.5" : v >= 201307 ? "4.0" : "older than 4.0";
  return std::string(name) + " (" + std::to_string(v) + ")";
}

std::string env_or(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

}  // namespace

Environment collect_environment() {
  Environment e;
  e.emplace_back("slimformer", std::string(SLIM_VERSION) + " (commit " + SLIM_COMMIT + ")");
  e.emplace_back("date", utc_now());
  e.emplace_back("cpu", cpu_model());
  const long online = sysconf(_SC_NPROCESSORS_ONLN);
  e.emplace_back("cores", std::to_string(omp_get_num_procs()) + " usable of " + std::to_string(online) + " online");
  e.emplace_back("threads", std::to_string(num_threads()));
  // active_isa() first: it caps oneDNN, whose effective ISA is read next
  const std::string own = kernels::isa_name(kernels::active_isa());
  e.emplace_back("isa", "own kernels " + own + " (CPU: " + kernels::isa_name(kernels::cpu_isa()) + "), oneDNN " +
                            onednn_isa());
  e.emplace_back("memory", gib(static_cast<size_t>(sysconf(_SC_PHYS_PAGES)) * static_cast<size_t>(sysconf(_SC_PAGE_SIZE))) +
                               " physical, " + gib(available_memory_bytes()) + " usable by this process");
  utsname u{};
  if (uname(&u) == 0) e.emplace_back("os", std::string(u.sysname) + " " + u.release + " " + u.machine);
  const dnnl_version_t* v = dnnl_version();
  e.emplace_back("libraries", "oneDNN " + std::to_string(v->major) + "." + std::to_string(v->minor) + "." +
                                  std::to_string(v->patch) + ", OpenMP " + openmp_version() + ", nlohmann-json " +
                                  std::to_string(NLOHMANN_JSON_VERSION_MAJOR) + "." +
                                  std::to_string(NLOHMANN_JSON_VERSION_MINOR) + "." +
                                  std::to_string(NLOHMANN_JSON_VERSION_PATCH));
  e.emplace_back("compiler", __VERSION__);
  e.emplace_back("gnuplot", gnuplot_version());
  e.emplace_back("GOMP_SPINCOUNT", env_or("GOMP_SPINCOUNT", "unset"));
  return e;
}

std::string format_environment(const Environment& env) {
  size_t width = 0;
  for (const auto& [name, value] : env) width = std::max(width, name.size());
  std::string out = "ENVIRONMENT\n";
  for (const auto& [name, value] : env) out += "  " + name + ":" + std::string(width - name.size() + 1, ' ') + value + "\n";
  return out;
}

}  // namespace slimformer::bench

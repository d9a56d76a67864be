#include "slimformer/threads.h"

#include <dirent.h>
#include <omp.h>
#include <sched.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>

namespace slimformer {
namespace {

// 0: the fair default; n > 0: the count the caller fixed.
std::atomic<int> fixed_threads{0};

// The number before the '/' in /proc/loadavg's fourth field ("2/345"): runnable threads on the
// whole machine, this process's included. -1 when it cannot be read.
int machine_running_threads() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (!f) return -1;
  double l1, l5, l15;
  int running = -1, total = 0;
  if (std::fscanf(f, "%lf %lf %lf %d/%d", &l1, &l5, &l15, &running, &total) != 5) running = -1;
  std::fclose(f);
  return running;
}

// This process's threads in state R (running or waiting for a core), from /proc/self/task/*/stat:
// its own spinning OpenMP workers count there too and must not be taken for another process.
int own_running_threads() {
  DIR* dir = opendir("/proc/self/task");
  if (!dir) return -1;
  int running = 0;
  while (const dirent* e = readdir(dir)) {
    if (e->d_name[0] == '.') continue;
    const std::string path = std::string("/proc/self/task/") + e->d_name + "/stat";
    std::FILE* f = std::fopen(path.c_str(), "r");
    if (!f) continue;   // the thread ended meanwhile
    char buf[512];
    const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = '\0';
    // "pid (comm) S ...": the state follows the last ')' (comm may itself hold parentheses).
    const char* close = std::strrchr(buf, ')');
    if (close && close[1] == ' ' && close[2] == 'R') ++running;
  }
  closedir(dir);
  return running;
}

}  // namespace

int available_cores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof set, &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

int fair_thread_count() {
  const int cores = available_cores();
  const int machine = machine_running_threads();
  const int own = own_running_threads();
  if (machine < 0 || own < 0) return cores;
  // The calling thread is running, so own >= 1; other processes' runnable threads hold cores.
  const int others = std::max(0, machine - std::max(own, 1));
  return std::clamp(cores - others, 1, cores);
}

void set_num_threads(int n) {
  fixed_threads.store(n > 0 ? n : 0);
  apply_thread_policy();
}

int requested_threads() { return fixed_threads.load(); }

int num_threads() { return omp_get_max_threads(); }

void apply_thread_policy() {
  const int fixed = fixed_threads.load();
  const int want = fixed > 0 ? fixed : fair_thread_count();
  // oneDNN (OpenMP build) follows OpenMP's per-thread setting; its primitives are cached per
  // count (kernels/cpu/gemm.cc), so changing it between forwards costs nothing after the first.
  if (omp_get_max_threads() != want) omp_set_num_threads(want);
}

}  // namespace slimformer

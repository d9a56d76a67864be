#include "slimformer/memory.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

#include <unistd.h>

namespace slimformer {
namespace {
std::atomic<size_t> g_live{0};
std::atomic<size_t> g_peak{0};
std::atomic<size_t> g_limit{0};

void raise_peak(size_t now) {
  size_t peak = g_peak.load(std::memory_order_relaxed);
  while (now > peak && !g_peak.compare_exchange_weak(peak, now, std::memory_order_relaxed)) {
  }
}

size_t read_status_kb(const char* field) {
  FILE* f = std::fopen("/proc/self/status", "r");
  if (!f) return 0;
  char line[256];
  size_t kb = 0;
  const size_t n = std::strlen(field);
  while (std::fgets(line, sizeof line, f)) {
    if (std::strncmp(line, field, n) == 0 && line[n] == ':') {
      kb = std::strtoull(line + n + 1, nullptr, 10);
      break;
    }
  }
  std::fclose(f);
  return kb;
}
}  // namespace

void* counted_alloc(size_t bytes) {
  // Counted before the system is asked, so concurrent allocations cannot pass the limit together.
  const size_t live = g_live.fetch_add(bytes, std::memory_order_relaxed) + bytes;
  const size_t limit = g_limit.load(std::memory_order_relaxed);
  const size_t rounded = (bytes + 63) / 64 * 64;
  const bool wrapped = live < bytes || rounded < bytes;   // a size no address space holds
  const bool refused = wrapped || (limit != 0 && live > limit);
  void* p = refused ? nullptr : std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!p) {
    g_live.fetch_sub(bytes, std::memory_order_relaxed);
    throw std::bad_alloc();
  }
  raise_peak(live);
  return p;
}

void counted_free(void* p, size_t bytes) {
  if (!p) return;
  g_live.fetch_sub(bytes, std::memory_order_relaxed);
  std::free(p);
}

size_t live_bytes() { return g_live.load(); }
size_t peak_bytes() { return g_peak.load(); }
void reset_peak_bytes() { g_peak.store(g_live.load()); }
void set_live_limit_bytes(size_t limit) { g_limit.store(limit); }
size_t live_limit_bytes() { return g_limit.load(); }

size_t available_memory_bytes() {
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGE_SIZE);
  size_t bytes = pages > 0 && page > 0 ? static_cast<size_t>(pages) * static_cast<size_t>(page) : 0;
  // cgroup v2 ("max" when unlimited; a number otherwise); v1 reports a huge number when unlimited.
  for (const char* path : {"/sys/fs/cgroup/memory.max", "/sys/fs/cgroup/memory/memory.limit_in_bytes"}) {
    FILE* f = std::fopen(path, "r");
    if (!f) continue;
    unsigned long long v = 0;
    if (std::fscanf(f, "%llu", &v) == 1 && v > 0 && (bytes == 0 || v < bytes)) bytes = static_cast<size_t>(v);
    std::fclose(f);
  }
  return bytes;
}

size_t process_rss_bytes() { return read_status_kb("VmRSS") * 1024; }
size_t process_peak_rss_bytes() { return read_status_kb("VmHWM") * 1024; }

bool reset_process_peak_rss() {
  // Writing 5 to clear_refs resets VmHWM to the current RSS (Linux 4.0 and later).
  std::FILE* f = std::fopen("/proc/self/clear_refs", "w");
  if (!f) return false;
  const bool ok = std::fputs("5", f) >= 0;
  return std::fclose(f) == 0 && ok;
}

}  // namespace slimformer

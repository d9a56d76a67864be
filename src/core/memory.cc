#include "slimformer/memory.h"

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

namespace slimformer {
namespace {
std::atomic<size_t> g_live{0};
std::atomic<size_t> g_peak{0};

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
  const size_t rounded = (bytes + 63) / 64 * 64;
  void* p = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!p) throw std::bad_alloc();
  raise_peak(g_live.fetch_add(bytes, std::memory_order_relaxed) + bytes);
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

size_t process_rss_bytes() { return read_status_kb("VmRSS") * 1024; }
size_t process_peak_rss_bytes() { return read_status_kb("VmHWM") * 1024; }

}  // namespace slimformer

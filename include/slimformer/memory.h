// The counting allocator: every activation and workspace buffer comes from here, so live and
// peak bytes are exact (not the process RSS, which also counts mmapped weights and the heap).
#pragma once
#include <cstddef>

namespace slimformer {

void* counted_alloc(size_t bytes);            // 64-byte aligned; throws std::bad_alloc
void counted_free(void* p, size_t bytes);
size_t live_bytes();
size_t peak_bytes();
void reset_peak_bytes();                      // peak := live

// Process resident set size now and its high-water mark (VmRSS / VmHWM), in bytes.
size_t process_rss_bytes();
size_t process_peak_rss_bytes();

}  // namespace slimformer

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

// A ceiling on live counted bytes: an allocation that would take live_bytes() above it throws
// std::bad_alloc at once, instead of being granted by an overcommitting system and ending the
// process in the OOM killer when its pages are touched. 0 (the default): no ceiling.
void set_live_limit_bytes(size_t limit);
size_t live_limit_bytes();

// The memory this process may use: physical RAM, or the cgroup's memory.max when lower.
size_t available_memory_bytes();

// Process resident set size now and its high-water mark (VmRSS / VmHWM), in bytes.
size_t process_rss_bytes();
size_t process_peak_rss_bytes();
// Sets the high-water mark back to the RSS now, so a later process_peak_rss_bytes() covers only
// what came after (a benchmark cell). false where the kernel does not allow it: the mark then
// keeps counting from the start of the process.
bool reset_process_peak_rss();

}  // namespace slimformer

// How many threads the kernels use (OpenMP and the GEMM library together).
//
// By default the count is fair on a shared machine: before each forward, the thread that runs it
// takes the cores in its affinity mask that other processes leave free right now (at least one).
// A spinning OpenMP worker that waits for a core another process holds makes a 2-thread run 2-4x
// slower than a 1-thread one (docs/performance.md, "Threads on a shared machine").
#pragma once

namespace slimformer {

// n > 0: exactly n threads from now on. n <= 0: the fair default above.
void set_num_threads(int n);

// What set_num_threads last asked for: n > 0, or 0 for the fair default.
int requested_threads();

// The count the next parallel region of the calling thread uses.
int num_threads();

// Applies the current choice to the calling thread (OpenMP's count is per thread): a fixed n, or
// under the fair default the cores free at this moment. Encoder::forward calls it.
void apply_thread_policy();

// The cores this process may run on (its affinity mask), at least 1.
int available_cores();

// Under the fair default: the threads apply_thread_policy would choose now, from the count of
// runnable threads of other processes (/proc/loadavg's running count minus this process's own
// running threads); all available cores where /proc cannot be read.
int fair_thread_count();

}  // namespace slimformer

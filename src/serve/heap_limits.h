// glibc malloc settings for a long-running process such as `slimformer serve`.
#pragma once

namespace slimformer::serve {

// A server allocates for ever-changing batch shapes from 30+ threads, and glibc's defaults let
// its memory creep: the mmap threshold rises with every large free, so activation buffers move
// into the heaps and fragment them, and threads get arenas of their own. A fixed threshold
// (blocks over 256 KiB are mapped and unmapped whole) and two arenas keep RSS flat
// (docs/serve.md, "Memory"). MALLOC_MMAP_THRESHOLD_ or MALLOC_ARENA_MAX in the environment win.
// Call before the threads start. Does nothing without glibc.
void bound_heap_growth();

}  // namespace slimformer::serve

#include "serve/heap_limits.h"

#include <cstdlib>
#ifdef __GLIBC__
#include <malloc.h>
#endif

namespace slimformer::serve {

void bound_heap_growth() {
#ifdef __GLIBC__
  if (!std::getenv("MALLOC_MMAP_THRESHOLD_")) mallopt(M_MMAP_THRESHOLD, 256 * 1024);
  if (!std::getenv("MALLOC_ARENA_MAX")) mallopt(M_ARENA_MAX, 2);
#endif
}

}  // namespace slimformer::serve

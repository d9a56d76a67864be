#include "kernels/cpu/onednn.h"

#include <cstdlib>
#include <memory>
#include <new>

#include "kernels/cpu/isa.h"

namespace slimformer::kernels {

namespace {

// oneDNN keeps its own cache of primitives (1024 by default) beside ours (bounded_cache.h). Ours
// hold what the kernels use; oneDNN's lets equal shapes in different layers share one compiled
// kernel. At 1024 entries it took a server's resident memory up by ~20 MiB over 10,000 requests of
// new batch shapes and was still climbing; 256 is flat at the same throughput (docs/serve.md,
// "Memory"). The environment variables oneDNN reads still decide when they are set.
constexpr int kOneDnnPrimitiveCacheCapacity = 256;

void bound_onednn_primitive_cache() {
  if (std::getenv("ONEDNN_PRIMITIVE_CACHE_CAPACITY") || std::getenv("DNNL_PRIMITIVE_CACHE_CAPACITY")) return;
  dnnl::set_primitive_cache_capacity(kOneDnnPrimitiveCacheCapacity);
}

}  // namespace

dnnl::engine& onednn_engine() {
  static dnnl::engine eng = [] {
    (void)active_isa();   // caps oneDNN (dnnl_set_max_cpu_isa) before its first dispatch
    bound_onednn_primitive_cache();
    return dnnl::engine(dnnl::engine::kind::cpu, 0);
  }();
  return eng;
}

dnnl::stream& onednn_thread_stream() {
  thread_local dnnl::stream s(onednn_engine());
  return s;
}

dnnl::matmul::primitive_desc matmul_pd(const dnnl::matmul::desc& desc, dnnl::primitive_attr attr) {
  attr.set_scratchpad_mode(dnnl::scratchpad_mode::user);
  return dnnl::matmul::primitive_desc(desc, attr, onednn_engine());
}

Matmul make_matmul(const dnnl::matmul::primitive_desc& pd) {
  return Matmul{dnnl::matmul(pd), pd.scratchpad_desc()};
}

namespace {

// Outside the counting allocator, as oneDNN's own scratchpads were: it is library scratch that
// lives as long as the thread, not a tensor of the forward.
struct ScratchBuffer {
  struct Free {
    void operator()(void* p) const { std::free(p); }
  };
  std::unique_ptr<void, Free> data;
  size_t bytes = 0;

  void* at_least(size_t n) {
    if (n > bytes) {
      const size_t rounded = (n + 4095) / 4096 * 4096;
      data.reset();   // before the new one: the old contents are not needed
      data.reset(std::aligned_alloc(4096, rounded));
      if (!data) {
        bytes = 0;
        throw std::bad_alloc();
      }
      bytes = rounded;
    }
    return data.get();
  }
};

}  // namespace

void execute(const Matmul& m, std::unordered_map<int, dnnl::memory>& args) {
  thread_local ScratchBuffer scratch;
  const size_t need = m.scratchpad.get_size();
  if (need > 0) args[DNNL_ARG_SCRATCHPAD] = dnnl::memory(m.scratchpad, onednn_engine(), scratch.at_least(need));
  m.prim.execute(onednn_thread_stream(), args);
  onednn_thread_stream().wait();
}

}  // namespace slimformer::kernels

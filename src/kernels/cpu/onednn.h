// The one oneDNN CPU engine the GEMM kernels share, and how they create and run matmul
// primitives. Creating the engine runs active_isa() first, so oneDNN is capped to SLIMFORMER_ISA
// (isa.h) before it picks an implementation for anything.
#pragma once
#include <dnnl.hpp>
#include <unordered_map>

namespace slimformer::kernels {

dnnl::engine& onednn_engine();
// This thread's stream on that engine.
dnnl::stream& onednn_thread_stream();

// A matmul primitive and the scratch memory it asks for at each execution.
struct Matmul {
  dnnl::matmul prim;
  dnnl::memory::desc scratchpad;   // size 0: none
};

// The primitive description for desc with attr on the shared engine, in scratchpad_mode::user:
// oneDNN's default would give every primitive a scratchpad of its own, held as long as the
// primitive (the primitive caches keep dozens), which made a server's memory grow with every new
// batch shape (docs/serve.md, "Memory"). Every matmul is described through here.
dnnl::matmul::primitive_desc matmul_pd(const dnnl::matmul::desc& desc, dnnl::primitive_attr attr = {});
// The primitive for pd, with the scratch size execute() provides.
Matmul make_matmul(const dnnl::matmul::primitive_desc& pd);

// Runs m with args on this thread's stream and waits. The scratchpad is this thread's buffer,
// grown to the largest any primitive has asked for here and reused.
void execute(const Matmul& m, std::unordered_map<int, dnnl::memory>& args);

}  // namespace slimformer::kernels

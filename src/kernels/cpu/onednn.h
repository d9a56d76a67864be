// The one oneDNN CPU engine the GEMM kernels share. Creating it runs active_isa() first, so
// oneDNN is capped to SLIMFORMER_ISA (isa.h) before it picks an implementation for anything.
#pragma once
#include <dnnl.hpp>

namespace slimformer::kernels {

dnnl::engine& onednn_engine();

}  // namespace slimformer::kernels

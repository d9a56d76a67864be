#include "kernels/cpu/onednn.h"

#include "kernels/cpu/isa.h"

namespace slimformer::kernels {

dnnl::engine& onednn_engine() {
  static dnnl::engine eng = [] {
    (void)active_isa();   // caps oneDNN (dnnl_set_max_cpu_isa) before its first dispatch
    return dnnl::engine(dnnl::engine::kind::cpu, 0);
  }();
  return eng;
}

}  // namespace slimformer::kernels

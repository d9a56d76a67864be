#include "dnnl_candidates.h"

#include <dnnl.hpp>

#include <cstdio>
#include <memory>

namespace slimbench {

std::function<void()> dnnl_matmul_runner(int64_t M, int64_t N, int64_t K, const float* in,
                                         const float* w, float* out, bool packed) {
  using namespace dnnl;
  using tag = memory::format_tag;
  using dt = memory::data_type;
  static engine eng(engine::kind::cpu, 0);
  const memory::desc src_md({M, K}, dt::f32, tag::ab);
  const memory::desc w_user_md({K, N}, dt::f32, tag::ba);   // (N,K) row-major seen as (K,N)
  const memory::desc w_md({K, N}, dt::f32, packed ? tag::any : tag::ba);
  const memory::desc dst_md({M, N}, dt::f32, tag::ab);
  matmul::primitive_desc pd(matmul::desc(src_md, w_md, dst_md), eng);
  static bool said = false;
  if (!said) { std::fprintf(stderr, "oneDNN matmul implementation: %s\n", pd.impl_info_str()); said = true; }
  auto src = std::make_shared<memory>(src_md, eng, const_cast<float*>(in));
  auto dst = std::make_shared<memory>(dst_md, eng, out);
  auto wmem = std::make_shared<memory>(w_user_md, eng, const_cast<float*>(w));
  stream strm(eng);
  if (packed) {
    auto pw = std::make_shared<memory>(pd.weights_desc(), eng);
    reorder(*wmem, *pw).execute(strm, *wmem, *pw);
    strm.wait();
    wmem = pw;
  }
  auto prim = std::make_shared<matmul>(pd);
  return [=]() mutable {
    prim->execute(strm, {{DNNL_ARG_SRC, *src}, {DNNL_ARG_WEIGHTS, *wmem}, {DNNL_ARG_DST, *dst}});
    strm.wait();
  };
}

}  // namespace slimbench

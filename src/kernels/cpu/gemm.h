// Dense f32 matrix products, backed by a maintained BLAS-class library (see docs/gemm.md for
// the measurement behind the choice). Row-major throughout.
#pragma once
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace slimformer::kernels {

// C (M,N) = alpha * op(A) * op(B) + beta * C; op(X) = X or X^T; lda/ldb/ldc are row strides.
void gemm_f32(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
              const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
              int64_t ldc);

// out (M,N) = in (M,K) . weight^T + bias; weight (N,K) as stored by nn.Linear; bias may be null.
void linear_f32(float* out, const float* in, const float* weight, const float* bias, int64_t M,
                int64_t N, int64_t K);

// The scalar reference the library-backed gemm is tested against.
void gemm_f32_ref(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                  const float* A, int64_t lda, const float* B, int64_t ldb, float beta, float* C,
                  int64_t ldc);

// Element offsets between consecutive matrices of a two-level batch (e.g. batch x heads).
struct BatchStride {
  int64_t outer = 0, inner = 0;
};

// For every o < batch_outer, i < batch_inner, with X[o,i] = X + o*sx.outer + i*sx.inner:
//   C[o,i] (M,N) = alpha * A[o,i] (M,K) . op(B[o,i]) [+ row_add[o] on every row]
// A's rows are lda apart; B is (K,N) with rows ldb apart, or (N,K) when trans_b; C's rows are
// ldc apart and C is overwritten; row_add is null or (batch_outer, N) contiguous (attention's
// additive padding mask). One library call over the whole batch, so attention's scores
// (Q.K^T) and context (P.V) read the fused (B,T,3,H,D) QKV and write (B,T,H,D) in place.
void gemm_batched_f32(bool trans_b, int64_t batch_outer, int64_t batch_inner, int64_t M, int64_t N,
                      int64_t K, float alpha, const float* A, int64_t lda, BatchStride sa,
                      const float* B, int64_t ldb, BatchStride sb, float* C, int64_t ldc,
                      BatchStride sc, const float* row_add = nullptr);

// What a PackedLinear applies to in . W^T + bias before writing out (fused into the GEMM).
enum class Epilogue { None, Gelu /* erf */, GeluTanh, Relu };
// The epilogue of one value, as PackedLinear applies it when K == 0 (kernels outside the GEMM
// library apply it with this).
float apply_epilogue(Epilogue e, float x);
// out[j] = apply_epilogue(e, v[j]) (+ out[j] when accumulate) for j < n, 8 or 16 lanes at a time
// where the CPU has AVX2 or AVX-512 (erf and tanh by polynomials within 2e-7 of libm's, absolute,
// on the activation's inner function); out may equal v.
void apply_epilogue_row(Epilogue e, float* out, const float* v, int64_t n, bool accumulate);

// A Linear layer whose weight is repacked once, at model load, into the GEMM library's preferred
// blocked layout (oneDNN matmul, weights format "any"), so no call pays for packing; bias, the
// activation and an optional residual add run inside the GEMM. Copyable (copies share the packed
// weight); forward may be called from several threads at once.
class PackedLinear {
 public:
  PackedLinear();
  // weight (N,K) row-major as nn.Linear stores it; bias (N) or null. Both are copied, so the
  // caller's buffers may be released afterwards. InputError if N or K is negative.
  PackedLinear(const float* weight, const float* bias, int64_t N, int64_t K,
               Epilogue epilogue = Epilogue::None);
  // Layers that share their input fused into one product: weights[i] (Ns[i],K) stacked along N,
  // biases[i] (Ns[i]) or all null. Q, K, V -> one (3H,K) layer whose output rows are [q | k | v],
  // the (B,T,3,heads,head_dim) layout gemm_batched_f32 reads in place. InputError on mismatch.
  static PackedLinear stacked(const std::vector<const float*>& weights,
                              const std::vector<const float*>& biases,
                              const std::vector<int64_t>& Ns, int64_t K,
                              Epilogue epilogue = Epilogue::None);
  ~PackedLinear();
  PackedLinear(const PackedLinear&);
  PackedLinear& operator=(const PackedLinear&);
  PackedLinear(PackedLinear&&) noexcept;
  PackedLinear& operator=(PackedLinear&&) noexcept;

  // out (M,N) = epilogue(in (M,K) . weight^T + bias), plus the previous contents of out when
  // accumulate is true (a fused residual add). in and out must not overlap.
  // Fast for an epilogue or accumulate, not both: oneDNN 2.6 has no optimized matmul for an
  // activation followed by a sum and runs its reference one (9 s, not 10 ms, at M=2048 N=1024
  // K=256). The encoder never asks for both (its residual Linears have no activation).
  void forward(float* out, const float* in, int64_t M, bool accumulate = false) const;

  bool empty() const { return impl_ == nullptr; }
  int64_t out_features() const;        // N
  int64_t in_features() const;         // K
  size_t packed_bytes() const;         // weight + bias as held

 private:
  struct Impl;
  std::shared_ptr<Impl> impl_;
};

}  // namespace slimformer::kernels

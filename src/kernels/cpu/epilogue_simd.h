// The constants both SIMD epilogues share (epilogue_avx2.cc, epilogue_avx512.cc).
#pragma once

namespace slimformer::kernels::epilogue_constants {

// erf(z) = 1 - t (a1 + t (a2 + t (a3 + t (a4 + t a5)))) e^(-z^2), t = 1 / (1 + p z), z >= 0
// (Abramowitz & Stegun 7.1.26, |error| <= 1.5e-7).
constexpr float kP = 0.3275911f;
constexpr float kA1 = 0.254829592f, kA2 = -0.284496736f, kA3 = 1.421413741f, kA4 = -1.453152027f,
                kA5 = 1.061405429f;
constexpr float kInvSqrt2 = 0.70710678118654752f;
// GELU's tanh form: tanh(sqrt(2/pi) (x + 0.044715 x^3)).
constexpr float kSqrt2OverPi = 0.7978845608f, kCubic = 0.044715f;

}  // namespace slimformer::kernels::epilogue_constants

// splitmix64 (Steele, Lea, Flood 2014): the one small generator behind every seeded stream here
// (random weights, LSH rotations, random and BigBird patterns, Linformer/Performer draws, bench
// inputs). Integer arithmetic only, so a seed gives the same numbers on every platform and
// compiler, which the standard library's distributions do not promise.
#pragma once
#include <cstdint>

namespace slimformer::rng {

constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ull;   // the state's step

// The output function: a bijection that spreads nearby inputs far apart.
inline uint64_t mix64(uint64_t z) {
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

// Advances `state` one step and returns its next 64 random bits.
inline uint64_t splitmix64(uint64_t& state) { return mix64(state += kGolden); }

// Uniform in (0, 1] from the top 53 bits: log() of it stays finite.
inline double uniform_open0(uint64_t& state) {
  return (static_cast<double>(splitmix64(state) >> 11) + 1.0) * 0x1.0p-53;
}

}  // namespace slimformer::rng

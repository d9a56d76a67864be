#!/usr/bin/env bash
# Fresh machine -> installed, built, and the whole test suite run twice: the Release build (gcc),
# then one sanitizer build (clang: AddressSanitizer + UndefinedBehaviorSanitizer, with libFuzzer's
# coverage) that runs the suite again (tests named *Slow* run in Release only) and each libFuzzer
# target for SLIM_FUZZ_SECONDS (default 30; docs/fuzzing.md). docs/testing.md has the timings.
#   SLIM_SKIP_SANITIZE=1: Release only.  SLIM_SKIP_FUZZ=1: the sanitizer pass without the fuzzers.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
(cd build && ctest --output-on-failure -j 2)
if [ "${SLIM_SKIP_SANITIZE:-0}" != 1 ]; then
  fuzz=ON
  [ "${SLIM_SKIP_FUZZ:-0}" = 1 ] && fuzz=OFF
  # -g1: line tables, all a sanitizer report needs, at a fraction of full debug info's compile time.
  scripts/build.sh build-san -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
    -DCMAKE_C_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O2 -g1 -DNDEBUG" \
    -DSLIM_SANITIZE=ON -DSLIM_FUZZ="$fuzz" -DSLIM_FUZZ_SECONDS="${SLIM_FUZZ_SECONDS:-30}" \
    -DSLIM_BUILD_BENCH=OFF \
    -DSLIM_BUILD_PYTHON=OFF   # an ASan module cannot load into an interpreter built without ASan
  suppressions="$PWD/tests/lsan-suppressions.txt"   # leaks of the OpenMP runtime's own
  (cd build-san && ASAN_OPTIONS=detect_leaks=1 LSAN_OPTIONS="suppressions=$suppressions" \
     ctest --output-on-failure -j 2 -E 'Slow')
fi

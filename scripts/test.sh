#!/usr/bin/env bash
# Fresh machine -> installed, built, and the whole test suite run twice: the Release build,
# then an AddressSanitizer + UndefinedBehaviorSanitizer build (tests named *Slow* run in Release only),
# then the libFuzzer targets (clang), each for SLIM_FUZZ_SECONDS (default 30; docs/fuzzing.md).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/build.sh build
(cd build && ctest --output-on-failure -j 2)
if [ "${SLIM_SKIP_SANITIZE:-0}" != 1 ]; then
  scripts/build.sh build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DSLIM_SANITIZE=ON -DSLIM_BUILD_BENCH=OFF \
    -DSLIM_BUILD_PYTHON=OFF   # an ASan module cannot load into an interpreter built without ASan
  (cd build-asan && ASAN_OPTIONS=detect_leaks=1 ctest --output-on-failure -j 2 -E 'Slow')
fi
if [ "${SLIM_SKIP_FUZZ:-0}" != 1 ]; then
  scripts/build.sh build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_C_COMPILER=clang-14 \
    -DCMAKE_CXX_COMPILER=clang++-14 -DSLIM_FUZZ=ON -DSLIM_FUZZ_SECONDS="${SLIM_FUZZ_SECONDS:-30}" \
    -DSLIM_BUILD_TESTS=OFF -DSLIM_BUILD_BENCH=OFF -DSLIM_BUILD_PYTHON=OFF
  (cd build-fuzz && ctest --output-on-failure -j 2 -R '^fuzz[.]')
fi

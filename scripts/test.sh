#!/usr/bin/env bash
# Fresh machine -> installed, built, and the whole test suite run twice: the Release build,
# then an AddressSanitizer + UndefinedBehaviorSanitizer build (tests named *Slow* run in Release only).
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

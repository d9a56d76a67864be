#!/usr/bin/env bash
# Runs the GEMM comparison of docs/gemm.md: the ceiling, oneDNN (sgemm, matmul, pre-packed
# matmul, PackedLinear) and OpenBLAS (pthread and OpenMP builds, OPENBLAS_CORETYPE=Haswell and
# auto-detected), each library in its own process. Usage: bench/run_gemm_bench.sh [build dir]
set -euo pipefail
BUILD=${1:-build-perf}
BIN="$BUILD/bench/slim_gemm_bench"
OB_OMP=/usr/lib/x86_64-linux-gnu/openblas-openmp
echo "# $(date -u +%FT%TZ) loadavg $(cat /proc/loadavg)"
"$BIN" --ceiling --backends dnnl_sgemm,dnnl_matmul,dnnl_packed,slim_linear,slim_packed
echo "## OpenBLAS pthread, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
"$BIN" --backends openblas
echo "## OpenBLAS pthread, OPENBLAS_CORETYPE unset"
env -u OPENBLAS_CORETYPE "$BIN" --backends openblas
if [ -e "$OB_OMP/libopenblas.so.0" ]; then
  echo "## OpenBLAS OpenMP build, OPENBLAS_CORETYPE=${OPENBLAS_CORETYPE:-unset}"
  LD_LIBRARY_PATH=$OB_OMP "$BIN" --backends openblas
fi
echo "# end loadavg $(cat /proc/loadavg)"

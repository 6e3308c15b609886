#!/usr/bin/env bash
# make gpu-check: on a machine with an NVIDIA GPU (driver 580 or newer), from a fresh checkout:
#   1. make setup, which builds the CUDA Caffe for this machine's GPU (nvidia-smi), with every core
#   2. the GPU tests and the CUDA build's own tests (tests/test_gpu.py, test_cuda_build.py, test_backend_gpu.py)
#   3. the GPU benchmark on GPU 0 (bench/gpu.py -> bench/results/gpu.json)
# then a summary of all three. Each step's full output goes to $OUT_DIR/<step>.log.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
VENV="${VENV:-$ROOT/.venv}"
OUT_DIR="${OUT_DIR:-$ROOT/.setup-logs/gpu-check}"
mkdir -p "$OUT_DIR"
cd "$ROOT"

if ! nvidia-smi --query-gpu=name,compute_cap,driver_version,memory.total --format=csv,noheader >"$OUT_DIR/gpus.txt" 2>&1; then
    echo "gpu-check: nvidia-smi lists no GPU here ($(head -n 1 "$OUT_DIR/gpus.txt")); it needs an NVIDIA GPU and driver" >&2
    exit 1
fi

START=$(date +%s)
declare -A SECONDS_OF STATUS_OF
run_step() {  # run_step NAME COMMAND...: its output into $OUT_DIR/NAME.log and, live, to the terminal
    local name=$1 t0; shift
    t0=$(date +%s)
    echo "== gpu-check: $name: $*"
    "$@" 2>&1 | tee "$OUT_DIR/$name.log"
    STATUS_OF[$name]=${PIPESTATUS[0]}
    SECONDS_OF[$name]=$(( $(date +%s) - t0 ))
}

run_step setup env VENV="$VENV" CUDA="${CUDA:-auto}" JOBS="${JOBS:-$(nproc)}" bash setup/setup.sh
if [ "${STATUS_OF[setup]}" = 0 ]; then
    run_step tests "$VENV/bin/python" -m pytest -q -rs -p no:cacheprovider \
        tests/test_gpu.py tests/test_cuda_build.py tests/test_backend_gpu.py
    run_step bench "$VENV/bin/python" -m bench.gpu --gpu 0
fi

echo
echo "== gpu-check summary ($(( $(date +%s) - START )) s in all; logs in $OUT_DIR)"
sed 's/^/GPU: /' "$OUT_DIR/gpus.txt"
echo "setup: exit ${STATUS_OF[setup]} in ${SECONDS_OF[setup]} s: $(grep -h '^setup: \(Caffe\|done\)' \
    "$OUT_DIR/setup.log" | sed 's/^setup: //' | tr '\n' ' ')"
if [ "${STATUS_OF[setup]}" != 0 ]; then
    exit "${STATUS_OF[setup]}"
fi
echo "tests: exit ${STATUS_OF[tests]} in ${SECONDS_OF[tests]} s: $(tail -n 1 "$OUT_DIR/tests.log")"
grep -h '^SKIPPED\|^FAILED' "$OUT_DIR/tests.log" | sed 's/^/  /'
echo "bench: exit ${STATUS_OF[bench]} in ${SECONDS_OF[bench]} s"
grep -h '^device:\|^  forward_ms\|^  training_iteration_ms\|^  gpu_memory_mib\|^FCN-8s forward\|^WARNING\|^python -m bench.gpu:' \
    "$OUT_DIR/bench.log" | sed 's/^/  /'
[ "${STATUS_OF[tests]}" = 0 ] && [ "${STATUS_OF[bench]}" = 0 ]

#!/usr/bin/env bash
# The one-shot GPU check (issue 10), for a borrowed GPU machine: one command, under 8 minutes.
#
#   bash benchmarks/gpu_check.sh [OUT_DIR]
#
# 1. the GPU tests (pytest -m gpu: every tensor on the device, GPU == CPU, alone == pack, exact resume);
# 2. training throughput at hidden 128 (one model, a 64-member ensemble, a 640-member pack of the paper's
#    mixed variants; goal: the ensemble >= 30x one model per model-step), exactness on the GPU, and an
#    estimate of the full paper grid's GPU time (goal: under 15 GPU-minutes): benchmarks/gpu_train_check.py;
# 3. the paper grid's shape at a smoke budget through the workflow on the GPU (1,920 models, 20 steps),
#    when Snakemake is importable there (carry its wheels, see benchmarks/README.md).
#
# Every step prints and goes on if another failed; the outputs go to OUT_DIR (default: $OUT when set by
# the device tool, else ./gpu_check). Nothing here needs the network.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
out=${1:-${OUT:-gpu_check}}
mkdir -p "$out"
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
started=$(date +%s)
python3 - <<'PY' | tee "$out/environment.txt"
import platform, torch
print("python", platform.python_version(), "torch", torch.__version__, "cuda", torch.version.cuda)
print("device", torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no CUDA device")
PY

echo "== 1. GPU tests =="
timeout 180 python3 -m pytest -q -m gpu tests/training/test_gpu.py tests/evaluation 2>&1 | tee "$out/gpu_tests.txt" | tail -15

echo "== 2. training on the GPU =="
timeout 240 python3 benchmarks/gpu_train_check.py 2>&1 | tee "$out/gpu_train_check.txt"

echo "== 3. the smoke grid through the workflow on the GPU =="
if [ -d .whl ] && ! python3 -c "import snakemake" 2>/dev/null; then  # wheels of gpu_wheels.txt
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl \
        && export PYTHONPATH="/tmp/site:$PYTHONPATH"
fi
if python3 -c "import snakemake, ripser, persim, pydantic" 2>/dev/null; then
    timeout 300 python3 benchmarks/smoke_grid.py --accelerator gpu --models-per-job 640 \
        2>&1 | tee "$out/smoke_grid_gpu.txt"
else
    echo "skipped: snakemake, ripser, persim or pydantic is not importable here" | tee "$out/smoke_grid_gpu.txt"
fi
echo "gpu_check finished in $(( $(date +%s) - started )) s"

#!/usr/bin/env bash
# The whole paper from one call on a borrowed GPU machine (issue 19): see benchmarks/paper_on_gpu.py.
#
#   bash benchmarks/paper_on_gpu.sh                        # GPU machine: ~8.5 min, files into $OUT
#   bash benchmarks/paper_on_gpu.sh --device cpu --smoke   # the CPU rehearsal (2-4 min on 2 cores)
#
# No network there: the packages that machine lacks (Snakemake, pydantic, ...: benchmarks/gpu_wheels.txt)
# travel as wheels in .whl/ (carry it with the tree) and are installed here into /tmp/site.
set -u
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export PYTHONPATH="$PWD/src${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1
if [ -d .whl ] && ! python3 -c "import snakemake, pydantic" 2>/dev/null; then
    python3 -m pip install -q --no-index --no-deps --no-compile --target /tmp/site .whl/*.whl \
        && export PYTHONPATH="/tmp/site:$PYTHONPATH"
fi
exec python3 benchmarks/paper_on_gpu.py "$@"

#!/bin/bash
# usage: eval_varlen.sh EXP...   (snapshot's vbpipe evaluate, one thread, no figures)
. /work/main/.venv/bin/activate
export OMP_NUM_THREADS=1 PYTHONPATH=/work/snapshot-science/src
cd /work/science-runs
for e in "$@"; do
  python -m vbpipe.cli evaluate --models_dir $e --threads 1 --no_figures > logs/eval_$e.out 2>&1
  echo "$e: $(tail -2 logs/eval_$e.out | head -1)"
done

#!/bin/bash
# usage: run_train.sh NAME [vbpipe train args...]; trains with the frozen snapshot, one thread.
name=$1; shift
. /work/main/.venv/bin/activate
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=/work/snapshot-science/src
cd /work/science-runs
echo "$(date -Is) START $name $*" >> runs.log
/usr/bin/time -f "%e s" python -m vbpipe.cli train --experiment_name "$name" --output_dir /work/science-runs --threads 1 --no_progress "$@" > logs/$name.out 2>&1
echo "$(date -Is) END $name rc=$? $(tail -1 logs/$name.out)" >> runs.log

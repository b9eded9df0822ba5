#!/bin/bash
. /work/main/.venv/bin/activate
export OMP_NUM_THREADS=1 MKL_NUM_THREADS=1 PYTHONPATH=/work/snapshot-science/src
echo "$(date -Is) START resume $*" >> runs.log
python scripts/resume_local.py "$@" > logs/resume_$(echo $1 | tr -d ' ').out 2>&1
echo "$(date -Is) END resume $* rc=$?" >> runs.log

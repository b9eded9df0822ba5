"""Finish, on the local CPU (one thread), the device jobs whose names are given; resumes resume.pt."""

import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run_gpu  # noqa: E402  (job list)

root = "/work/science-runs/gpu/science_runs"
wanted = sys.argv[1:]
for spec in run_gpu.jobs(1.0):
    if spec[0] in wanted:
        spec = (spec[0], "cpu", spec[2], spec[3])
        print("resuming", spec[0], flush=True)
        run_gpu.child(json.dumps(spec), root)

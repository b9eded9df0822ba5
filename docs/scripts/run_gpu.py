"""Science training runs on the device machine (the frozen snapshot's train_block).

bench: time train_step on cuda and cpu for a few layouts.  train: launch the job list as parallel
processes, each with a wall-clock deadline (SIGTERM -> resume.pt), then tar the results into $OUT.
"""

import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE / "src"))

PAPER = {
    "T1": (255, 0, 0),
    "T2": (9241421688590303745, 0, 0),
    "T3": (9241421688590303745, 262676, 189),
    "T4": (9241421688590303745, 38637, 145),
}


def jobs(scale: float):
    """(name, accelerator, seeds, config kwargs); scale shrinks the budgets for a dry run."""
    spe = max(1, int(2000 * scale))
    out = []
    for name, tid in PAPER.items():
        out.append(
            (
                f"paper_{name}",
                "gpu",
                [1, 2, 3, 4, 5, 6],
                dict(
                    task_id=tid,
                    input_dim=8,
                    seq_length=8,
                    hidden_dim=128,
                    epochs=10,
                    steps_per_epoch=spe,
                ),
            )
        )
    for eos in (False, True):
        for seed in (1, 2):
            out.append(
                (
                    f"varlen37_h96_{'eos' if eos else 'noeos'}_s{seed}",
                    "gpu",
                    [seed],
                    dict(
                        task_id=(255, 0, 0),
                        input_dim=8,
                        seq_length=(3, 7),
                        hidden_dim=96,
                        epochs=20,
                        steps_per_epoch=spe,
                        use_eos=eos,
                    ),
                )
            )
    for seed in (1, 2):
        out.append(
            (
                f"varlen37_h192_eos_s{seed}",
                "gpu",
                [seed],
                dict(
                    task_id=(255, 0, 0),
                    input_dim=8,
                    seq_length=(3, 7),
                    hidden_dim=192,
                    epochs=20,
                    steps_per_epoch=spe,
                    use_eos=True,
                ),
            )
        )
    for seed in (1, 2):
        out.append(
            (
                f"varlen37_h96_eos_lr5e-4_s{seed}",
                "cpu",
                [seed],
                dict(
                    task_id=(255, 0, 0),
                    input_dim=8,
                    seq_length=(3, 7),
                    hidden_dim=96,
                    epochs=20,
                    steps_per_epoch=spe,
                    use_eos=True,
                    learning_rate=5e-4,
                ),
            )
        )
    return out


def child(spec_json: str, root: str):
    import torch

    torch.set_num_threads(1)
    from vbpipe.config import TrainConfig
    from vbpipe.training import TrainingInterrupted, train_block

    name, accel, seeds, kwargs = json.loads(spec_json)
    if os.environ.get("FORCE_CPU"):
        accel = "cpu"
    for key in ("task_id", "seq_length"):
        if isinstance(kwargs.get(key), list):
            kwargs[key] = tuple(kwargs[key])
    config = TrainConfig(**kwargs)
    try:
        res = train_block(
            config,
            seeds,
            output_dir=Path(root) / name,
            accelerator=accel,
            threads=1,
            tensorboard=False,
            save_every_steps=2000,
        )
        print(name, "done", res.wall_seconds, json.dumps(res.outcomes, default=str), flush=True)
    except TrainingInterrupted as err:
        print(name, "interrupted", err, flush=True)


def bench():
    import torch

    torch.set_num_threads(1)
    import tempfile

    from vbpipe.config import TrainConfig
    from vbpipe.training import EnsembleModule, Member

    print("cuda", torch.cuda.is_available(), torch.__version__, os.cpu_count(), flush=True)
    for dev, k, hidden, length in [
        ("cuda", 6, 128, 8),
        ("cuda", 1, 128, 8),
        ("cpu", 1, 128, 8),
        ("cpu", 1, 96, (3, 7)),
        ("cuda", 1, 96, (3, 7)),
    ]:
        tmp = Path(tempfile.mkdtemp())
        cfg = TrainConfig(
            task_id=(255, 0, 0),
            input_dim=8,
            seq_length=length,
            hidden_dim=hidden,
            curriculum_horizons=(100,),
            epochs=1,
            steps_per_epoch=10000,
        )
        mod = EnsembleModule([Member(s, cfg, tmp / f"m{s}") for s in range(1, k + 1)]).to(dev)
        for _ in range(5):
            mod.train_step()
        t = time.perf_counter()
        for _ in range(40):
            mod.train_step()
        print(
            dev,
            "K",
            k,
            "hidden",
            hidden,
            "L",
            length,
            f"{(time.perf_counter() - t) / 40 * 1e3:.1f} ms/step",
            flush=True,
        )


def train(scale: float, deadline: float, root: Path, out: Path):
    import torch

    print(
        "cuda available:", torch.cuda.is_available(), torch.__version__, os.cpu_count(), flush=True
    )
    if not torch.cuda.is_available():
        os.environ["FORCE_CPU"] = "1"
    root.mkdir(parents=True, exist_ok=True)
    procs = []
    env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1", PYTHONUNBUFFERED="1")
    for spec in jobs(scale):
        log = open(root / f"{spec[0]}.log", "w")
        cmd = [
            "timeout",
            "--signal=TERM",
            "--kill-after=30",
            str(int(deadline)),
            sys.executable,
            __file__,
            "child",
            json.dumps(spec),
            str(root),
        ]
        procs.append(
            (spec[0], subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env))
        )
    start = time.time()
    for name, p in procs:
        rc = p.wait()
        print(f"{time.time() - start:7.1f}s {name} rc={rc}", flush=True)
    subprocess.run(
        ["tar", "czf", str(out / "science_gpu.tar.gz"), "-C", str(root.parent), root.name],
        check=True,
    )
    for name, _ in procs:
        print(name, (root / f"{name}.log").read_text()[-600:], flush=True)


if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "child":
        child(sys.argv[2], sys.argv[3])
    elif mode == "bench":
        bench()
    else:
        train(float(sys.argv[2]), float(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5]))

"""Time the analysis stages on synthetic data (default: 2400 models x 64 eigenvalues).

Usage::

    PYTHONPATH=src python3 benchmarks/analysis_speed.py [--n_models 2400] [--n_eig 64]
        [--persistence_models N] [--n_jobs J] [--metric bottleneck] [--end_to_end]

Stages timed: the 21 statistics, signatures + z-scores, the signature distance matrix, the
sliced-Wasserstein distance matrix, PCA / MDS / t-SNE embeddings, ripser diagrams + statistics
for every model, and the pairwise persistence distances (H0 by the vectorised exact dynamic
programme, H1 pair by pair), split by dimension. ``--persistence_models`` limits the pairwise
persistence distances to a seeded subset (the ``max_models`` fast path of ``run_persistence``);
``--end_to_end`` also times the loaders (``load_experiment`` of the table + arrays,
``experiment_from_summary``) and the four ``analyze_*`` jobs (with figures) into a temp directory.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from vbpipe.analysis.distances import pairwise_distances, wasserstein_distance_matrix
from vbpipe.analysis.embedding import embed
from vbpipe.analysis.persistence import (
    diagram_distance_matrix,
    diagram_statistics,
    eigenvalue_points,
    persistence_diagrams,
    subsample_indices,
)
from vbpipe.analysis.signatures import compute_signatures, standardize
from vbpipe.analysis.statistics import statistics_matrix

TIMES: dict[str, float] = {}


@contextmanager
def timed(label: str):
    t0 = time.perf_counter()
    yield
    TIMES[label] = time.perf_counter() - t0
    print(f"{label:<48s} {TIMES[label]:9.2f} s", flush=True)


def synthetic(n_models: int, n_eig: int, seed: int = 0) -> list[np.ndarray]:
    """Conjugate-pair spectra with magnitudes ~0.9 and a model-dependent spread."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n_models):
        half = n_eig // 2
        mag = np.clip(rng.normal(0.9, rng.uniform(0.03, 0.2), half), 0.05, None)
        z = mag * np.exp(1j * rng.uniform(0.0, np.pi, half))
        out.append(np.concatenate([z, z.conj()]))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--n_models", type=int, default=2400)
    ap.add_argument("--n_eig", type=int, default=64)
    ap.add_argument("--persistence_models", type=int, default=None)
    ap.add_argument("--metric", default="bottleneck", choices=("bottleneck", "wasserstein"))
    ap.add_argument("--n_jobs", type=int, default=1)
    ap.add_argument("--skip_tsne", action="store_true")
    ap.add_argument("--end_to_end", action="store_true")
    args = ap.parse_args()
    n = args.n_models
    print(f"{n} models x {args.n_eig} eigenvalues; persistence metric {args.metric}")

    eigs = synthetic(n, args.n_eig)
    with timed("eigenvalue statistics (21 per model)"):
        statistics_matrix(eigs)
    with timed("combined signatures + z-score"):
        feats = standardize(compute_signatures(eigs, "combined"))
    with timed("signature distance matrix (euclidean)"):
        dist = pairwise_distances(feats)
    with timed("Wasserstein 2d (sliced, 50 dirs) matrix"):
        wasserstein_distance_matrix(eigs, "2d")
    with timed("embedding: PCA"):
        embed("pca", features=feats)
    with timed("embedding: MDS (precomputed)"):
        embed("mds", distance_matrix=dist)
    if not args.skip_tsne:
        with timed("embedding: t-SNE (precomputed)"):
            embed("tsne", distance_matrix=dist)

    with timed("persistence: ripser diagrams (all models)"):
        dgms = [persistence_diagrams(eigenvalue_points(e), 1) for e in eigs]
    with timed("persistence: diagram statistics"):
        [diagram_statistics(d, 1) for d in dgms]
    idx = subsample_indices(n, args.persistence_models, seed=42)
    sub = [dgms[i] for i in idx]
    pairs = idx.size * (idx.size - 1) // 2
    print(f"pairwise persistence distances on {idx.size} models ({pairs} pairs)")
    with timed(f"persistence: H0 {args.metric} (vectorised DP)"):
        diagram_distance_matrix([[d[0]] for d in sub], args.metric)
    with timed(f"persistence: H1 {args.metric} (n_jobs={args.n_jobs})"):
        diagram_distance_matrix([[d[1]] for d in sub], args.metric, n_jobs=args.n_jobs)
    if pairs:
        per_pair = (
            TIMES[f"persistence: H0 {args.metric} (vectorised DP)"]
            + TIMES[f"persistence: H1 {args.metric} (n_jobs={args.n_jobs})"]
        ) / pairs
        full = n * (n - 1) // 2
        print(
            f"  -> {1e6 * per_pair:.1f} us per pair; all {full} pairs of {n} models "
            f"~ {per_pair * full:.0f} s"
        )

    if args.end_to_end:
        end_to_end(eigs, args)


def synthetic_results(eigs: list[np.ndarray]):
    """An experiment's results (table + row arrays) holding these spectra as eig(W_sub) at L = 8."""
    from vbpipe.results.experiment import experiment_from_metrics
    from vbpipe.results.records import array_key, empty_metrics

    records, arrays = [], []
    for i, eig in enumerate(eigs):
        record = empty_metrics([8])
        record["identity"] = {
            "experiment": "bench",
            "variant": "v",
            "seed": i + 1,
            "model_name": "",
        }
        record["identity"]["model_name"] = f"model-{i + 1}"
        record["params"] = {"task_id": ["255", "0", "0"], "input_dim": 8, "hidden_dim": 128}
        record["task_label"] = "T1"
        record["model"]["accuracy"] = record["lengths"][0]["accuracy"] = float(i % 100) / 100
        records.append(record)
        arrays.append({array_key("eigenvalues_sub", 8): eig, "eigenvalues_whh": eig})
    return experiment_from_metrics(records, arrays, source="synthetic")


def end_to_end(eigs, args) -> None:
    """The four analysis jobs (with figures) on the experiment files, and the loaders."""
    from vbpipe.fileio import write_json
    from vbpipe.jobs.compare import analyze_compare
    from vbpipe.jobs.eigenvalue import analyze_eigenvalue
    from vbpipe.jobs.embedding import analyze_embedding
    from vbpipe.jobs.persistence import analyze_persistence
    from vbpipe.results.experiment import load_experiment
    from vbpipe.results.summary import build_summary, experiment_from_summary

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        table, arrays, summary = (
            tmp / "evaluation_table.csv",
            tmp / "evaluation_arrays.npz",
            tmp / "evaluation_summary.json",
        )
        results = synthetic_results(eigs)
        results.write(table, arrays)
        write_json(summary, build_summary(results), indent=None)
        with timed("load_experiment (table + arrays)"):
            load_experiment(table, arrays)
        with timed("experiment_from_summary (summary JSON)"):
            experiment_from_summary(summary)
        source = (table, arrays)
        with timed("analyze_eigenvalue (with figures)"):
            analyze_eigenvalue(source, tmp / "eig")
        with timed("analyze_embedding pca (with figures)"):
            analyze_embedding(source, tmp / "emb")
        with timed("analyze_persistence (with figures)"):
            analyze_persistence(
                source,
                tmp / "pers",
                metric=args.metric,
                max_models=args.persistence_models,
                n_jobs=args.n_jobs,
            )
        with timed("analyze_compare (2 x same set)"):
            analyze_compare([source, source], ["a", "b"], tmp / "cmp")


if __name__ == "__main__":
    main()

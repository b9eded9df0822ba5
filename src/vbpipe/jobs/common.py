"""What the analysis jobs share: an experiment's models at one length and spectrum, the output
folder, the minimum model counts, axis labels."""

from __future__ import annotations

import logging
from pathlib import Path

from ..analysis.data import ModelRecord, select_models
from ..analysis.embedding import tsne_perplexity
from ..results.experiment import as_experiment

log = logging.getLogger(__name__)


_METHOD_NAMES = {"pca": "PCA", "tsne": "t-SNE", "mds": "MDS", "isomap": "Isomap"}


def _load(experiment, seq_length: int, spectrum: str) -> tuple[list[ModelRecord], str]:
    results = as_experiment(experiment)
    records = select_models(results, seq_length, spectrum)
    log.info("%s: %d model(s) with %s eigenvalues", results.source, len(records), spectrum)
    return records, results.source


def _out(out_dir) -> Path:
    path = Path(out_dir)
    path.mkdir(parents=True, exist_ok=True)
    return path


def _check_min_models(method: str, n: int) -> None:
    if method == "tsne":
        tsne_perplexity(n)  # raises the documented error for n < TSNE_MIN_MODELS
    elif n < (3 if method == "isomap" else 2):
        raise ValueError(
            f"{method} embedding needs at least {3 if method == 'isomap' else 2} models; got {n}"
        )


def _axis_labels(method: str, result: dict) -> tuple[str, str]:
    if method == "pca":
        ratio = result["explained_variance_ratio"]
        pct = [100 * ratio[k] if k < ratio.size else 0.0 for k in range(2)]
        return f"PC1 ({pct[0]:.1f}% variance)", f"PC2 ({pct[1]:.1f}% variance)"
    return f"{_METHOD_NAMES[method]} 1", f"{_METHOD_NAMES[method]} 2"

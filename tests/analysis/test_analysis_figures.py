import numpy as np
from matplotlib.figure import Figure

from vbpipe.analysis import figures


def test_embedding_figure_colorbar_nan_and_outliers():
    coords = np.random.default_rng(0).normal(size=(10, 2))
    values = np.linspace(0, 1, 10)
    values[3] = np.nan
    fig = figures.plot_embedding(
        coords,
        values,
        "accuracy",
        xlabel="PC1",
        ylabel="PC2",
        names=[f"model-{i}" for i in range(10)],
        outliers=[7],
    )
    assert isinstance(fig, Figure)
    ax, cax = fig.axes  # main axes + colour bar
    assert ax.get_xlabel() == "PC1" and cax.get_ylabel() == "accuracy"
    assert "model-7" in [t.get_text() for t in ax.texts]
    assert "accuracy missing" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_comparison_metrics_figure_has_one_panel_per_statistic():
    agg = {"mean": 1.0, "std": 0.1, "sem": 0.05, "min": 0.8, "max": 1.2}
    stats = {k: agg for k in ("spectral_radius", "mag_mean", "n_unstable", "n_near_unit_circle")}
    comparison = [
        {"label": "h128", "n_models": 4, "statistics": stats, "accuracy": agg},
        {"label": "h64", "n_models": 5, "statistics": stats, "accuracy": agg},
    ]
    fig = figures.plot_comparison_metrics(comparison, error="sem")
    assert len(fig.axes) == 5
    assert all(ax.get_title() for ax in fig.axes)

import numpy as np
from matplotlib.figure import Figure

from vbpipe.analysis.distance_figures import cluster_order, plot_distance_overview
from vbpipe.analysis.hausdorff import hausdorff_distance_matrix


def _two_groups() -> np.ndarray:
    """Models 0, 2, 4 near each other, models 1, 3, 5 near each other, the groups far apart."""
    x = np.array([0.0, 10.0, 0.1, 10.1, 0.2, 10.2])
    return np.abs(x[:, None] - x[None, :])


def test_cluster_order_puts_groups_together():
    order = cluster_order(_two_groups())
    assert sorted(order) == list(range(6))
    groups = sorted([sorted(order[:3]), sorted(order[3:])])
    assert groups == [[0, 2, 4], [1, 3, 5]]


def test_cluster_order_sends_undefined_rows_last():
    d = _two_groups()
    d[3, :] = d[:, 3] = np.nan
    d[3, 3] = np.nan
    order = cluster_order(d)
    assert order[-1] == 3 and sorted(order) == list(range(6))


def test_distance_overview_figure():
    d = _two_groups()
    coords = np.column_stack([[0, 10, 0.1, 10.1, 0.2, 10.2], np.zeros(6)])
    values = np.array([0.9, 0.5, np.nan, 0.5, 0.9, 0.5])
    names = [f"model-{i}" for i in range(6)]
    fig = plot_distance_overview(d, coords, values, distance_label="test distance", names=names)
    assert isinstance(fig, Figure)
    heat, scatter = fig.axes[0], fig.axes[1]  # then the two colorbars
    image = heat.images[0].get_array()
    order = cluster_order(d)
    np.testing.assert_array_equal(image, d[np.ix_(order, order)])
    assert [t.get_text() for t in heat.get_yticklabels()] == [names[i] for i in order]
    # one grey collection for the missing value, one coloured for the rest
    assert [len(c.get_offsets()) for c in scatter.collections] == [1, 5]
    only_heatmap = plot_distance_overview(hausdorff_distance_matrix([[0, 1], [0, 2], [5]]))
    assert len(only_heatmap.axes) == 2  # heatmap and its colorbar

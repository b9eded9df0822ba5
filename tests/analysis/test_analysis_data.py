import numpy as np
import pytest

from vbpipe.analysis.data import MissingDataWarning, NoModelsError, metric_values, select_models
from vbpipe.analysis.signatures import standardize
from vbpipe.results.errors import ResultsError


def test_models_and_spectra_come_from_the_table(make_experiment):
    results = make_experiment(4, n_eig=6)
    records = select_models(results, 8)
    assert [r.name for r in records] == ["model-1", "model-2", "model-3", "model-4"]
    assert records[0].eigenvalues.dtype == np.complex128 and records[0].eigenvalues.size == 6
    assert records[1].variant == "T1-L8-h64"
    full = select_models(results, 8, "full")
    assert full[0].eigenvalues.size == 8  # all of W_hh
    assert records[0].accuracy == pytest.approx(results.table["accuracy"][0])


def test_models_without_the_spectrum_are_skipped_with_a_warning(make_experiment):
    results = make_experiment(3, n_diverged=2)
    with pytest.warns(MissingDataWarning, match="model-4.*model-5"):
        records = select_models(results, 8)
    assert len(records) == 3
    with pytest.warns(MissingDataWarning), pytest.raises(NoModelsError, match="emt"):
        select_models(results, 8, "emt")  # the synthetic models have no EMT spectrum
    with pytest.raises(NoModelsError, match="seq_length 16"):
        select_models(results, 16)
    with pytest.raises(ResultsError, match="unknown spectrum"):
        select_models(results, 8, "sideways")


def test_metric_values_columns_aliases_and_nulls(make_experiment):
    records = select_models(make_experiment(20, seed=3), 8)
    values, column = metric_values(records, "spectral_error")
    assert column == "spectral_error" and np.isnan(values).any() and np.isfinite(values).any()
    values, column = metric_values(records, "frob_error")
    assert column == "frob_relative" and np.all(np.isfinite(values))
    values, column = metric_values(records, "hidden_dim")
    assert set(values) == {64.0, 128.0}
    with pytest.raises(ResultsError, match="no metric 'nonexistent'"):
        metric_values(records, "nonexistent")
    with pytest.raises(ResultsError, match="not a number"):
        metric_values(records, "variant")


def test_standardize_ignores_nan_without_warning():
    x = np.array([[np.nan, 1.0, 2.0], [np.nan, 1.0, 4.0]])
    with np.errstate(all="raise"):
        z = standardize(x)
    assert np.array_equal(z, [[0.0, 0.0, -1.0], [0.0, 0.0, 1.0]])

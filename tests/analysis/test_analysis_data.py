import numpy as np
import pytest

from vbpipe.analysis.data import (
    MissingDataWarning,
    eigenvalues_from_json,
    metric_values,
    select_models,
)
from vbpipe.analysis.signatures import standardize


def _summary():
    return {
        "metrics": [
            {
                "model_name": "model-1",
                "accuracy": 0.9,
                "eigenvalues_full_seq8": [[1, 0], [0, 1]],
                "spectral_error_deg_seq8": None,
                "custom": 2.0,
            },
            {
                "model_name": "model-2",
                "accuracy": None,
                "eigenvalues_full_seq8": [[0.5, 0.5]],
                "spectral_error_deg_seq8": 3.5,
            },
        ]
    }


def test_eigenvalue_key_gets_seq_suffix_when_needed():
    records = select_models(_summary(), 8, "eigenvalues_full")
    assert [r.name for r in records] == ["model-1", "model-2"]
    assert np.array_equal(records[0].eigenvalues, [1, 1j])


def test_eigenvalues_from_json_forms_and_errors():
    assert np.array_equal(eigenvalues_from_json([0.5, -1.0]), [0.5, -1.0])
    with pytest.raises(ValueError, match="non-finite"):
        eigenvalues_from_json([[np.nan, 0.0]])
    with pytest.raises(ValueError):
        eigenvalues_from_json([[1, 2, 3]])


def test_metric_values_aliases_nulls_and_custom_keys():
    records = select_models(_summary(), 8, "eigenvalues_full")
    vals, key = metric_values(records, "spectral_error", 8)
    assert key == "spectral_error_deg_seq8" and np.isnan(vals[0]) and vals[1] == 3.5
    acc, _ = metric_values(records, "accuracy", 8)
    assert acc[0] == 0.9 and np.isnan(acc[1])
    custom, key = metric_values(records, "custom", 8)
    assert key == "custom" and custom[0] == 2.0 and np.isnan(custom[1])


def test_default_key_missing_everywhere_raises_with_warning():
    with pytest.warns(MissingDataWarning, match="model-1"):
        with pytest.raises(ValueError, match="eigenvalues_rnn_seq8"):
            select_models(_summary(), 8)


def test_standardize_ignores_nan_without_warning():
    x = np.array([[np.nan, 1.0, 2.0], [np.nan, 1.0, 4.0]])
    with np.errstate(all="raise"):
        z = standardize(x)
    assert np.array_equal(z, [[0.0, 0.0, -1.0], [0.0, 0.0, 1.0]])

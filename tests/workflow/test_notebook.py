"""``notebooks/demo.ipynb`` runs from top to bottom and shows what it promises: a trained model
with high accuracy, its figures (spectrum, Φ, accuracy per step) and the replay of the torch module."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[2] / "notebooks" / "demo.ipynb"


def _text(output) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    return output.get("data", {}).get("text/plain", "")


def test_the_demo_notebook_runs_and_shows_a_learnt_model(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="nbformat is in the test extra")
    nbclient = pytest.importorskip("nbclient", reason="nbclient is in the test extra")
    pytest.importorskip("ipykernel", reason="ipykernel is in the test extra")
    notebook = nbformat.read(NOTEBOOK, as_version=4)
    committed = [o for cell in notebook.cells for o in cell.get("outputs", [])]
    assert not committed, "commit the notebook with its outputs stripped"

    monkeypatch.setenv("VBPIPE_DEMO_DIR", str(tmp_path))
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    nbclient.NotebookClient(notebook, timeout=300, kernel_name="python3").execute()

    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) >= 3, "spectrum, Φ and accuracy-per-step figures"
    text = "\n".join(_text(o) for o in outputs)
    accuracy = float(re.search(r"^accuracy = ([0-9.]+)$", text, re.M).group(1))
    replayed = float(re.search(r"replayed bit accuracy = ([0-9.]+)", text).group(1))
    assert accuracy > 0.95 and replayed > 0.95, text[-2000:]
    assert (tmp_path / "demo" / "model-1" / "checkpoint" / "model.pt").is_file()
    assert (tmp_path / "demo" / "evaluation_table.csv").is_file()

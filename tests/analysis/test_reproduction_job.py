"""The reproduction job end to end on an experiment's results: Table 1 beside the paper's values."""

import numpy as np
import pandas as pd

from vbpipe.jobs.reproduction import reproduce_paper_table1
from vbpipe.results.experiment import ExperimentResults


def paper_shaped_results(n_seeds: int = 4) -> ExperimentResults:
    """T1 at hidden 128, L2 0: every seed solves the task with a spectral error near the paper's
    0.0005; T1 at hidden 64, L2 0.1: every seed at chance, as in the paper."""
    rng = np.random.default_rng(0)
    rows = []
    for seed in range(1, n_seeds + 1):
        for threshold in (0.9, 0.98):
            common = {"seed": seed, "curriculum_threshold": threshold, "task": "T1",
                      "eval_length": 8, "experiment": "paper", "model_name": f"model-{seed}"}  # fmt: skip
            rows.append({**common, "variant": f"h128-{threshold}", "hidden_dim": 128,
                         "l2_penalty": 0.0, "accuracy": 1.0,
                         "spectral_error": 0.0005 + 1e-5 * rng.standard_normal()})  # fmt: skip
            rows.append({**common, "variant": f"h64-{threshold}", "hidden_dim": 64,
                         "l2_penalty": 0.1, "accuracy": 0.5, "spectral_error": np.nan})  # fmt: skip
    return ExperimentResults(pd.DataFrame(rows), {}, source="paper")


def test_reproduction_job_writes_verdicts_beside_the_paper(tmp_path):
    files = reproduce_paper_table1(
        paper_shaped_results(),
        csv=tmp_path / "t.csv",
        markdown=tmp_path / "t.md",
        figure=tmp_path / "t.png",
        n_boot=500,
    )
    assert [f.name for f in files] == ["t.csv", "t.md", "t.png"]
    table = pd.read_csv(tmp_path / "t.csv")
    cell = table[(table.task == "T1") & (table.hidden_dim == 128) & (table.l2_penalty == 0.0)]
    assert cell.accuracy_verdict.item() == "within noise"
    assert cell.spectral_error_verdict.item() == "within noise"
    chance = table[(table.task == "T1") & (table.hidden_dim == 64) & (table.l2_penalty == 0.1)]
    assert chance.accuracy_verdict.item() == "within noise"  # 0.50 in the paper too
    assert "no value on either side" in chance.spectral_error_verdict.item()
    text = (tmp_path / "t.md").read_text()
    assert "Cells per verdict" in text and "T1" in text

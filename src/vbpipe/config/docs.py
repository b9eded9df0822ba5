"""``config/README.md`` and the config's JSON Schema, generated from the typed model.

Both are written by ``python -m vbpipe.config.docs`` and checked to be up to date by the tests, so
the documentation of a key can never disagree with its default or its bounds.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

from .sections import (
    AnalysisSettings,
    ComparisonSpec,
    EvaluationSection,
    ExecutionSettings,
    OriginalRuns,
    Seeds,
)
from .training import TrainConfig

SECTIONS = (
    (
        "training",
        TrainConfig,
        "What one model is trained from (the original project's defaults). Set under "
        "`defaults.training` or `experiments.NAME.training`; any key can be swept instead, under "
        "`experiments.NAME.sweep` (a list of values; the variants are the product of the lists). "
        "Changing one retrains the models it applies to, and only those.",
    ),
    (
        "seeds",
        Seeds,
        "`seeds: {first: 1, count: 20}` or an explicit list `[1, 2, 3]`, under `defaults` or an "
        "experiment. Model `k` of a variant is `model-{seed}`; its data, initial weights and test set "
        "come from streams seeded by `(seed, stream)`. Adding seeds trains only the new ones.",
    ),
    (
        "evaluation",
        EvaluationSection,
        "How an experiment's models are evaluated (`defaults.evaluation`, "
        "`experiments.NAME.evaluation`). Changing one re-evaluates, never retrains; the two "
        "figure-only keys redraw figures only.",
    ),
    (
        "analysis",
        AnalysisSettings,
        "The cross-model analyses of an experiment (`defaults.analysis`, "
        "`experiments.NAME.analysis`).",
    ),
    (
        "execution",
        ExecutionSettings,
        "Top level only: how jobs run, for every experiment. Speed only: changing these never "
        "retrains or re-evaluates anything. Override one on the command line with a dotted key, "
        "e.g. `snakemake ... --config execution.models_per_job=16`.",
    ),
    (
        "original_runs",
        OriginalRuns,
        "`experiments: {NAME: {original_runs: path/to/EXPERIMENT}}`: the models of an experiment "
        "trained by the original project (`emt_variable_binding`'s `train.py` / "
        "`train_multiple.py`), evaluated and analysed by the same jobs as vbpipe's own, never "
        "trained. The directory's `config.json` gives the one variant (task, `d`, `L`, hidden "
        "size, ...); its `model-<i>` directories are the models, each read from its latest "
        "checkpoint (highest `version_*`, then step), and their results go to "
        "`results/NAME/VARIANT/model-<i>/`. `evaluation` and `analysis` apply as to any "
        "experiment; `training`, `sweep` and `seeds` do not, and are refused. The directory is "
        "read when Snakemake parses the workflow (only when `run:` selects the experiment): a "
        "missing directory, no `config.json`, no `model-<i>` directories, a model without a "
        "checkpoint, a checkpoint that is not a model of that `config.json`, an infinite-horizon "
        "run or a `model.type` other than `rnn` stop the run before any job. A changed checkpoint "
        "re-evaluates its variant, and nothing is written inside the directory "
        "(`docs/original_runs.md`).",
    ),
    (
        "comparisons",
        ComparisonSpec,
        "`comparisons: {NAME: {experiments: [a, b]}}` sets whole experiments side by side; "
        "`{NAME: {experiment: a, by: KEY}}` splits one experiment by a swept training key. A "
        "comparison whose experiments are not all selected by `run:` is skipped, with a note.",
    ),
)

HEADER = """# Configuration keys

Generated from `src/vbpipe/config/training.py` and `sections.py` by `python -m vbpipe.config.docs`; do not edit by hand.

A config file holds:

| key | meaning |
|---|---|
| `run` | the experiments to run, a non-empty list of names (absent: all that are defined) |
| `defaults` | `training`, `seeds`, `evaluation`, `analysis` every experiment starts from |
| `experiments` | `NAME: {training, sweep, seeds, evaluation, analysis}` or `NAME: {original_runs, ...}`; at least one |
| `comparisons` | side-by-side analyses (below) |
| `execution` | how jobs run (below) |

Every key is checked when Snakemake parses the workflow, before any job: an unknown key, a value of the
wrong type or out of bounds, a duplicate key, a sweep point whose task id does not decode, an evaluated
length too short for the task, an analysis length that is not evaluated, or a comparison `by:` a key that
is not swept is refused with the file, the line, the key path and the value. `snakemake --configfile
A.yaml [B.yaml]` reads those files instead of `config/config.yaml` (later files override earlier ones, key
by key); `--config KEY.SUB=VALUE` overrides one value. Bounds keep every value a valid config can hold
finite in float32 during training.

An overlay cannot remove a key by leaving it out, since files merge key by key. To drop a comparison,
set it to null: `comparisons: {paper_hidden: null}`; to drop an experiment, leave it out of `run:`; a
list (a sweep's values, `seeds`) is replaced as a whole. A comparison `by:` a key that the selected
variants hold at one value only (an overlay that narrowed `hidden_dim` to `[64]`) is skipped with a note
at parse time, not run to fail after training. `vbpipe check --configfile A.yaml [B.yaml]` reads and
checks the files as the workflow does, and prints what they select and every note.
"""


def _type(schema: dict) -> str:
    if "anyOf" in schema:
        return " or ".join(_type(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " \\| ".join(json.dumps(v) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    kind = schema.get("type", "any")
    if isinstance(kind, list):
        return " or ".join(_type({"type": k}) for k in kind)
    if kind == "array":
        items = schema.get("items") or (schema.get("prefixItems") or [{}])[0]
        return f"list of {_type(items)}"
    if kind == "object":
        return "mapping"
    return {"integer": "int", "number": "float", "boolean": "bool", "string": "str"}.get(kind, kind)


def _bounds(schema: dict) -> str:
    parts = []
    schema = {**schema, "anyOf": [*schema.get("anyOf", []), schema.get("items", {})]}
    for key, sign in (
        ("minimum", ">="),
        ("exclusiveMinimum", ">"),
        ("maximum", "<="),
        ("exclusiveMaximum", "<"),
    ):
        for option in [schema, *schema.get("anyOf", [])]:
            if key in option:
                parts.append(f"{sign} {option[key]}")
    return ", ".join(dict.fromkeys(parts))


def _default(field) -> str:
    if field.default_factory is not None:
        return json.dumps(field.default_factory())
    value = field.default
    if isinstance(value, tuple):
        value = list(value)
    return "" if value is None and field.is_required() else json.dumps(value)


def section_table(model) -> str:
    schema = model.model_json_schema()
    rows = ["| key | type | default | bounds | meaning |", "|---|---|---|---|---|"]
    for name, field in model.model_fields.items():
        prop = schema["properties"][name]
        meaning = (field.description or "").replace("|", "\\|")
        default = "required" if field.is_required() else f"`{_default(field)}`"
        rows.append(f"| `{name}` | {_type(prop)} | {default} | {_bounds(prop)} | {meaning} |")
    return "\n".join(rows)


#: Which stage reads each section, and what a change to it reruns (README: "Architecture" and
#: "Caching: what reruns when").
READERS = (
    (
        "`training`, `seeds`",
        "the planner (`vbpipe.plan`, at parse time) and the training job (`vbpipe.jobs.train` over "
        "`vbpipe.training`)",
        "the models it applies to, then their evaluation and everything after",
    ),
    (
        "`evaluation`",
        "the evaluation job (`vbpipe.jobs.evaluate`); its defaults and bounds are "
        "`vbpipe.results.records.EvaluationSettings`'s",
        "evaluation of that experiment and everything after, never training",
    ),
    (
        "`evaluation.magnitude_threshold`, `evaluation.figures`",
        "the figure jobs (`vbpipe.jobs.model_figures`, `vbpipe.jobs.figures`)",
        "those figures only",
    ),
    (
        "`analysis`",
        "one job per analysis (`vbpipe.jobs.eigenvalue`, `.embedding`, `.persistence`, "
        "`.distances`, `.diagnostics`, `.fixed_points`, `.input_phase`, ...)",
        "the analyses whose keys changed",
    ),
    (
        "`original_runs`",
        "the config itself, at parse time (`vbpipe.original_experiment.discover_experiment`: the "
        "variant, the models, each one's checkpoint and seed); the evaluation job reads the "
        "checkpoints",
        "that experiment's evaluation and everything after; a changed checkpoint (an input file) "
        "likewise; never training",
    ),
    ("`comparisons`", "the comparison job (`vbpipe.jobs.compare`)", "that comparison"),
    (
        "`execution`",
        "the planner (pack sizes) and every rule's threads and resources",
        "nothing (speed only)",
    ),
)


def readers_table() -> str:
    rows = [
        "## Where each section is read\n",
        "Each section reaches exactly the stages that use it, so a change reruns those stages and "
        "nothing upstream.\n",
        "| section | read by | a change reruns |",
        "|---|---|---|",
    ]
    rows += [f"| {section} | {reader} | {reruns} |" for section, reader, reruns in READERS]
    return "\n".join(rows) + "\n"


def readme() -> str:
    parts = [HEADER]
    for name, model, text in SECTIONS:
        parts.append(f"## `{name}`\n\n{text}\n\n{section_table(model)}\n")
    parts.append(readers_table())
    return "\n".join(parts)


def json_schema() -> dict:
    """The JSON Schema of a config file (for editors and other tools; vbpipe checks with the model)."""
    sections = {name: model.model_json_schema() for name, model, _ in SECTIONS}
    defaults = {
        "type": "object",
        "additionalProperties": False,
        "properties": {k: sections[k] for k in ("training", "seeds", "evaluation", "analysis")},
    }
    seeds = {
        "anyOf": [
            sections["seeds"],
            {"type": "array", "items": {"type": "integer", "minimum": 0}, "minItems": 1},
        ]
    }
    defaults["properties"]["seeds"] = seeds
    experiment = {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "training": sections["training"],
            "sweep": {
                "type": "object",
                "propertyNames": {"enum": list(TrainConfig.model_fields)},
                "additionalProperties": {"type": "array", "minItems": 1},
            },
            "seeds": seeds,
            "evaluation": sections["evaluation"],
            "analysis": sections["analysis"],
            "original_runs": sections["original_runs"]["properties"]["original_runs"],
        },
        "dependentSchemas": {
            "original_runs": {
                "not": {"anyOf": [{"required": [key]} for key in OriginalRuns.EXCLUDES]}
            }
        },
    }
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "urn:vbpipe:schema:config",
        "description": "vbpipe workflow configuration (generated from vbpipe.config's typed models; see "
        "config/README.md). vbpipe itself checks configs with the typed model, which also checks "
        "what a schema cannot (task ids, lengths, names).",
        "type": "object",
        "additionalProperties": False,
        "required": ["experiments"],
        "properties": {
            "run": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "defaults": defaults,
            "experiments": {
                "type": "object",
                "minProperties": 1,
                "additionalProperties": experiment,
            },
            "comparisons": {"type": "object", "additionalProperties": sections["comparisons"]},
            "execution": sections["execution"],
        },
    }


README_PATH = Path("config/README.md")
SCHEMA_PATH = Path("workflow/schemas/config.schema.json")


def main(root: str = ".") -> int:
    base = Path(root)
    (base / README_PATH).write_text(readme(), encoding="utf-8")
    (base / SCHEMA_PATH).write_text(json.dumps(json_schema(), indent=2) + "\n", encoding="utf-8")
    print(f"wrote {README_PATH} and {SCHEMA_PATH}")
    return 0


if __name__ == "__main__":
    sys.exit(main(*sys.argv[1:]))

"""The results room: the contract between stages, in small modules with one job each.

- :mod:`.layout`: every path and file name (the ground floor: training, the planner and the
  workflow's rules import it too), the outputs of every stage, discovery of result directories;
- :mod:`.records`: ``metrics.json`` (schema, reading, validation), evaluation settings and model
  identity, checkpoint fingerprints;
- :mod:`.table`: the tidy per-model table and its CSV form;
- :mod:`.experiment`: :class:`~.experiment.ExperimentResults` and its loaders;
- :mod:`.summary`: the ``evaluation_summary.json`` export (built, validated, read back).

Nothing is imported here, so that a job imports (and its code fingerprint covers) only the
modules it uses. None of them imports torch; pandas only when a table is built or read.

Layout (relative to a results root, ``results/`` in the workflow)::

    {experiment}/{variant}/config.json                       the variant's resolved parameters
    {experiment}/{variant}/model-{seed}/checkpoint/model.pt  the trained model (+ model.json sidecar)
    {experiment}/{variant}/model-{seed}/results/metrics.json one model's evaluation (a record, below)
    {experiment}/{variant}/model-{seed}/results/arrays.npz   its arrays (spectra, Ψ, Φ_emp, ...)
    {experiment}/{variant}/model-{seed}/results/*.png        its figures (:func:`model_figure_names`)
    {experiment}/evaluation_table.csv      tidy table: one row per model and evaluated length
    {experiment}/evaluation_arrays.npz     the table's per-row arrays (spectra, per-step accuracy)
    {experiment}/evaluation_summary.json   export in the original's format (JSON Schema, versioned)
    {experiment}/tables/table1.{csv,tex}   the paper's Table 1
    {experiment}/global_analysis/*.png     :data:`GLOBAL_FIGURES`
    {experiment}/paper_figures/figure{3,4}_{task}.png, paper_figures_{task}.json
    {experiment}/analysis/{eigenvalue,embedding/{method},persistence}/...
    comparison/{name}/...

``metrics.json`` (format ``vbpipe-metrics``, version :data:`METRICS_VERSION`) holds sections, every
field always present (``null`` where not applicable), no NaN, no eigenvalue lists, no file paths::

    {"format", "format_version",
     "identity":   {experiment, variant, seed, model_name},
     "checkpoint": {sha256, stamp, size},          # the model.pt it was computed from
     "params":     {...},                          # the checkpoint's hyper-parameters, once
     "task_label": "T1",
     "training":   {converged, diverged, ...},     # TRAINING_FIELDS
     "evaluation": {test_horizon, ...},            # EVALUATION_FIELDS
     "model":      {accuracy, solved, ...},        # MODEL_FIELDS
     "lengths":    [{eval_length, accuracy, spectral_error, ...}, ...]}   # LENGTH_FIELDS

The tidy table (:data:`TABLE_COLUMNS` plus one column per training parameter) and the experiment
arrays (:data:`ROW_ARRAYS`) are read back by :func:`load_experiment` as an
:class:`ExperimentResults`; :func:`experiment_from_summary` builds the same object from an
``evaluation_summary.json`` (:func:`summary_records` writes one).
"""

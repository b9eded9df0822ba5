"""The one base class of every error a user can cause (bad config, bad task id, bad or missing file).

The ``vbpipe`` command prints such an error as one line naming the problem and exits with status 2;
anything else is a bug and keeps its traceback. Each module raises its own subclass (``ConfigError``,
``TaskIdError``, ``CheckpointError``, ...) so callers can still tell them apart.
"""


class VbpipeError(Exception):
    """Something the user can fix: the message names the file, key or value at fault."""


class TrainingInterrupted(RuntimeError):
    """Training stopped by a signal (SIGTERM, SIGINT, SIGUSR1) after saving every model's resume state.

    Rerunning the same command (or the workflow) continues each model exactly where it stopped.
    """

    def __init__(self, signum: int, reason: str | None = None):
        why = reason or f"signal {signum}"
        super().__init__(f"training interrupted by {why}; state saved, rerun to resume")
        self.signum, self.reason = signum, reason

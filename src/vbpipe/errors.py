"""The one base class of every error a user can cause (bad config, bad task id, bad or missing file).

The ``vbpipe`` command prints such an error as one line naming the problem and exits with status 2;
anything else is a bug and keeps its traceback. Each module raises its own subclass (``ConfigError``,
``TaskIdError``, ``CheckpointError``, ...) so callers can still tell them apart.
"""


class VbpipeError(Exception):
    """Something the user can fix: the message names the file, key or value at fault."""

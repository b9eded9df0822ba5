"""Errors of the results room (a file missing, corrupt, stale or of another format)."""

from ..errors import VbpipeError


class ResultsError(VbpipeError, ValueError):
    """A results file that is missing, corrupt, of another format, or inconsistent."""


class StaleResultError(ResultsError):
    """A result computed from another checkpoint than the one now in place: re-evaluate."""

"""Argument types shared by every ``vbpipe`` subcommand (one spelling of each check and message)."""

import argparse
import os


def positive_int(text: str) -> int:
    """An integer >= 1 (argparse ``type=``)."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected an integer >= 1, got {value}")
    return value


def models_directory(text: str) -> str:
    """A ``--models_dir``: refused at once when it names a file (a missing one is named later, by
    the directory search)."""
    if os.path.exists(text) and not os.path.isdir(text):
        raise argparse.ArgumentTypeError(
            f"{text} is a file, not a models directory; give an experiment or variant directory, "
            "e.g. results/quick"
        )
    return text

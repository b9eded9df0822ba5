"""Every report caption renders as clean reStructuredText: Snakemake renders a caption with Jinja,
then docutils, and a docutils message (an undefined ``|substitution|``, a broken table) shows up in
the HTML as a red error box instead of the caption. Cheap: no workflow run."""

from __future__ import annotations

import io
import warnings
from pathlib import Path

import pytest

docutils_core = pytest.importorskip("docutils.core")
jinja2 = pytest.importorskip("jinja2")

CAPTIONS = sorted((Path(__file__).resolve().parents[2] / "workflow" / "report").glob("*.rst"))


def render(text: str) -> tuple[str, str]:
    """The caption's HTML body and the messages docutils wrote (as Snakemake calls it)."""
    messages = io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", PendingDeprecationWarning)  # writer_name, docutils 0.22
        parts = docutils_core.publish_parts(
            text,
            writer_name="html",
            settings_overrides={"warning_stream": messages, "report_level": 1, "halt_level": 5},
        )
    return parts["body"], messages.getvalue()


def test_there_are_captions():
    assert len(CAPTIONS) > 10


@pytest.mark.parametrize("caption", CAPTIONS, ids=lambda p: p.name)
def test_caption_renders_without_docutils_messages(caption):
    text = jinja2.Environment().from_string(caption.read_text(encoding="utf-8")).render()
    body, messages = render(text)
    assert messages == "", messages
    assert "system-message" not in body
    assert body.strip()


def test_a_broken_caption_is_caught():
    """The check itself can fail: an undefined substitution gives a docutils message."""
    body, messages = render("The red line marks |lambda| = 1.")
    assert "Undefined substitution" in messages
    assert "system-message" in body

"""The pages under docs/ point at things that exist: every figure they show, every script and config
file they name as the command behind a number."""

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted((ROOT / "docs").glob("*.md"))
IMAGE = re.compile(r"!\[[^\]]*\]\(([^)\s]+)\)")
NAMED_FILE = re.compile(r"(?<![\w/.])((?:docs/scripts|config)/[\w.-]+\.(?:py|sh|yaml))\b")


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_figure_and_named_file_exists(page):
    text = page.read_text(encoding="utf-8")
    missing = [src for src in IMAGE.findall(text) if not (page.parent / src).is_file()]
    missing += [name for name in NAMED_FILE.findall(text) if not (ROOT / name).is_file()]
    assert not missing, f"{page.name} points at files that do not exist: {missing}"


def test_the_pattern_sees_the_pages_references():
    text = (ROOT / "docs" / "controls.md").read_text(encoding="utf-8")
    assert "controls.png" in IMAGE.findall(text)
    assert "docs/scripts/controls_tables.py" in NAMED_FILE.findall(text)

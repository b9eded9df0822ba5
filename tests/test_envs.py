"""envs/: every rule names an environment file that exists and lists every runtime dependency of the
package (conda environments are built on users' clusters, not here, so their consistency is tested)."""

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONDA_NAMES = {"matplotlib": "matplotlib-base"}


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ]", requirement.strip(), maxsplit=1)[0].lower()


def test_every_rule_names_an_existing_environment():
    rules = "".join(p.read_text() for p in (ROOT / "workflow" / "rules").glob("*.smk"))
    assert rules.count("conda:") == rules.count("\nrule ")
    envs = set(re.findall(r'ENV = "(.+?)"', rules))
    assert envs == {"../../envs/vbpipe.yaml"}
    assert (ROOT / "workflow" / "rules" / "../../envs/vbpipe.yaml").resolve().is_file()


def test_environment_lists_every_package_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = {_name(r) for r in project["dependencies"]}
    env = yaml.safe_load((ROOT / "envs" / "vbpipe.yaml").read_text())
    listed = set()
    for item in env["dependencies"]:
        if isinstance(item, dict):
            listed |= {_name(r) for r in item["pip"]}
        else:
            listed.add(_name(item))
    missing = {n for n in needed if n not in listed and CONDA_NAMES.get(n) not in listed}
    assert not missing, f"envs/vbpipe.yaml lacks {sorted(missing)}"
    python = next(i for i in env["dependencies"] if isinstance(i, str) and i.startswith("python"))
    assert ">=3.11" in python  # as pyproject's requires-python

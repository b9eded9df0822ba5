"""envs/: every script rule names an environment file that exists, the file lists every runtime
dependency of the package, and its pip part installs this checkout from wherever Snakemake copies the
file (conda environments are built on users' clusters, not here: their consistency is tested)."""

import os
import re
import subprocess
import sys
import tomllib
import venv
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
CONDA_NAMES = {"matplotlib": "matplotlib-base"}
ENV = yaml.safe_load((ROOT / "envs" / "vbpipe.yaml").read_text())


def _name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ]", requirement.strip(), maxsplit=1)[0].lower()


def test_every_script_rule_names_an_existing_environment():
    rules = "".join(p.read_text() for p in (ROOT / "workflow" / "rules").glob("*.smk"))
    assert rules.count("conda:") == rules.count("script:") > 5
    envs = set(re.findall(r'ENV = "(.+?)"', rules))
    assert envs == {"../../envs/vbpipe.yaml"}
    assert (ROOT / "workflow" / "rules" / "../../envs/vbpipe.yaml").resolve().is_file()


def test_environment_lists_every_package_dependency():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = {_name(r) for r in project["dependencies"]}
    listed = set()
    for item in ENV["dependencies"]:
        if isinstance(item, dict):
            listed |= {_name(r) for r in item["pip"]}
        else:
            listed.add(_name(item))
    missing = {n for n in needed if n not in listed and CONDA_NAMES.get(n) not in listed}
    assert not missing, f"envs/vbpipe.yaml lacks {sorted(missing)}"
    python = next(i for i in ENV["dependencies"] if isinstance(i, str) and i.startswith("python"))
    assert ">=3.11" in python  # as pyproject's requires-python


@pytest.mark.slow
def test_pip_part_installs_this_checkout_from_a_copy_of_the_env_file(tmp_path):
    """What conda does with the pip part: write it as a requirements file beside the env file's copy
    (Snakemake's copy lives under .snakemake/conda/ or --conda-prefix) and run pip there, from a
    process started in the repository root. The editable install must be this checkout."""
    pip_lines = next(item["pip"] for item in ENV["dependencies"] if isinstance(item, dict))
    copy_dir = tmp_path / "elsewhere" / "conda"
    copy_dir.mkdir(parents=True)
    requirements = copy_dir / "condaenv.requirements.txt"
    requirements.write_text("\n".join(pip_lines) + "\n")
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    # torch and the rest are already installed in the test's environment: let the new one see them
    site = subprocess.check_output([python, "-c", "import site; print(site.getsitepackages()[0])"])
    ours = [p for p in sys.path if p.endswith("site-packages")]
    (Path(site.decode().strip()) / "outer.pth").write_text("\n".join(ours) + "\n")
    env = {**os.environ, "PWD": str(ROOT), "PIP_DISABLE_PIP_VERSION_CHECK": "1"}
    env.pop("PYTHONPATH", None)
    install = subprocess.run(
        [python, "-m", "pip", "install", "-q", "-r", str(requirements)],
        cwd=copy_dir,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert install.returncode == 0, install.stdout[-2000:] + install.stderr[-3000:]
    where = subprocess.run(
        [python, "-c", "import vbpipe, sys; print(vbpipe.__file__)"],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert where.returncode == 0, where.stderr
    assert Path(where.stdout.strip()).resolve().is_relative_to(ROOT / "src"), where.stdout
    assert sys.executable != str(python)

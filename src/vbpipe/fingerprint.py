"""Code fingerprints of workflow stages, derived from what each stage actually imports.

A stage is a workflow script (``workflow/scripts/*.py``). Its fingerprint hashes the code of every
``vbpipe`` module the script imports, followed transitively through the package's import statements
(also those inside functions), plus the package data files (schemas, reference tables) whose names
those modules mention. No list of files is kept by hand, so none can go stale: editing a module reruns
exactly the stages that import it, and only when its code changes (comments, docstrings and
formatting are ignored: the syntax tree is hashed without docstrings).

No torch here: the workflow's parse step imports this module.
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
PACKAGE = PACKAGE_DIR.name  # "vbpipe"


def _module_file(name: str) -> Path | None:
    """The source file of module ``vbpipe.x.y`` (a package's ``__init__.py``), or None."""
    parts = name.split(".")
    if parts[0] != PACKAGE:
        return None
    base = PACKAGE_DIR.joinpath(*parts[1:])
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE_DIR).with_suffix("")
    parts = [PACKAGE, *rel.parts]
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST, module: str, is_package: bool) -> set[str]:
    """Every ``vbpipe`` module named by an import statement anywhere in ``tree``."""
    found = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                prefix = ".".join(base + ([node.module] if node.module else []))
            else:
                prefix = node.module or ""
            found.add(prefix)
            found.update(f"{prefix}.{alias.name}" for alias in node.names)  # submodules
    named = set()
    for name in found:
        parts = name.split(".")
        # importing vbpipe.a.b runs vbpipe/__init__ and vbpipe/a/__init__ too
        named.update(".".join(parts[:end]) for end in range(1, len(parts) + 1))
    return {n for n in named if n.split(".")[0] == PACKAGE and _module_file(n)}


@cache
def _parsed(path: Path) -> ast.AST:
    return ast.parse(path.read_text(encoding="utf-8"))


def _code_text(path: Path) -> bytes:
    """A Python file's syntax tree without docstrings; any other file's bytes."""
    if path.suffix != ".py":
        return path.read_bytes()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(body, list)
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree).encode()


def _data_files() -> list[Path]:
    return sorted(
        p
        for p in PACKAGE_DIR.rglob("*")
        if p.is_file() and p.suffix not in (".py", ".pyc") and "__pycache__" not in p.parts
    )


def module_closure(
    script: str | Path | None = None, module: str | None = None, exclude: tuple[str, ...] = ()
) -> list[Path]:
    """The package files a script (or a ``vbpipe`` module) runs: its ``vbpipe`` imports,
    transitively, and the data files they name. Modules in ``exclude`` are not followed."""
    if module is not None:
        todo = sorted(_imports(ast.parse(f"import {module}"), "__script__", False))
    else:
        tree = ast.parse(Path(script).read_text(encoding="utf-8"))
        todo = sorted(_imports(tree, "__script__", False))
    seen: dict[str, Path] = {}
    todo = [name for name in todo if name not in exclude]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        path = _module_file(name)
        seen[name] = path
        todo.extend(
            _imports(_parsed(path), name, path.name == "__init__.py") - set(seen) - set(exclude)
        )
    files = set(seen.values())
    sources = {path: path.read_text(encoding="utf-8") for path in files}
    for data in _data_files():
        if any(data.name in text for text in sources.values()):
            files.add(data)
    return sorted(files)


def code_fingerprint(
    script: str | Path | None = None, module: str | None = None, exclude: tuple[str, ...] = ()
) -> str:
    """A short hash of the code a workflow script (or a module) runs (see the module docstring),
    leaving out the modules in ``exclude``."""
    digest = hashlib.sha256()
    for path in module_closure(script, module, exclude):
        digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode())
        digest.update(_code_text(path))
    return digest.hexdigest()[:12]

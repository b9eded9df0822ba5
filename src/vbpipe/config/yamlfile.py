"""Reading config files strictly, remembering where every value was written.

Plain YAML loaders keep the last of two equal keys and forget line numbers. Here a duplicate key, an
empty file, a syntax error or a top level that is not a mapping is refused naming the file and the
line, and :class:`Located` maps every key path of the merged config to ``file:line`` so that an error
found later (a value out of range, a sweep point that does not decode) names the line to edit.
"""

from __future__ import annotations

import copy
import os
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .base import ConfigError

KeyPath = tuple  # e.g. ("experiments", "paper", "sweep", "hidden_dim", 2)


def format_path(path: KeyPath) -> str:
    """``experiments.paper.sweep.hidden_dim[2]``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


@dataclass
class Located:
    """A merged config and, for each key path, the ``file:line`` that set it last."""

    data: dict = field(default_factory=dict)
    where: dict[KeyPath, str] = field(default_factory=dict)

    def origin(self, path: KeyPath) -> str | None:
        """``file:line`` of ``path``, or of its nearest enclosing key written in a file."""
        for end in range(len(path), 0, -1):
            if path[:end] in self.where:
                return self.where[path[:end]]
        return None

    def error(self, path: KeyPath, message: str) -> ConfigError:
        """A ConfigError that names the file and line, the key path and the problem."""
        origin = self.origin(path)
        key = format_path(path)
        prefix = f"{origin}: " if origin else ""
        return ConfigError(f"{prefix}{key}: {message}" if key else f"{prefix}{message}", key)


def _display(path: str | os.PathLike) -> str:
    path = Path(path)
    try:
        return os.path.relpath(path)
    except ValueError:
        return str(path)


def _build(node, loader, name: str, path: KeyPath, where: dict):
    """Python data from a YAML node, refusing duplicate keys and recording lines (a key's line for a
    mapping entry, the item's line for a list entry)."""
    where.setdefault(path, f"{name}:{node.start_mark.line + 1}")
    if isinstance(node, yaml.MappingNode):
        out = {}
        for key_node, value_node in node.value:
            key = loader.construct_object(key_node, deep=True)
            if not isinstance(key, str | int) or isinstance(key, bool):
                raise ConfigError(
                    f"{name}:{key_node.start_mark.line + 1}: keys must be names, got {key!r}"
                )
            if key in out:
                first = where[(*path, key)]
                raise ConfigError(
                    f"{name}:{key_node.start_mark.line + 1}: duplicate key {key!r} under "
                    f"{format_path(path) or 'the top level'} (first at {first}); YAML would keep "
                    "only the last one"
                )
            where[(*path, key)] = f"{name}:{key_node.start_mark.line + 1}"
            out[key] = _build(value_node, loader, name, (*path, key), where)
        return out
    if isinstance(node, yaml.SequenceNode):
        return [_build(item, loader, name, (*path, i), where) for i, item in enumerate(node.value)]
    return loader.construct_object(node, deep=True)


def load_yaml(path: str | os.PathLike) -> Located:
    """One config file as a :class:`Located` mapping (errors name the file and line)."""
    name = _display(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigError(f"{name}: cannot read the config file ({error.strerror})") from None
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            raise ConfigError(
                f"{name}: the config file is empty; it must hold a mapping with at least "
                "`experiments:` (see config/README.md)"
            )
        where: dict = {}
        data = _build(node, loader, name, (), where)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        line = f":{mark.line + 1}" if mark else ""
        problem = error.problem or error.context or "invalid YAML"
        raise ConfigError(f"{name}{line}: YAML syntax error: {problem}") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{name}: YAML error: {error}") from None
    finally:
        loader.dispose()
    if not isinstance(data, dict):
        raise ConfigError(
            f"{name}:1: the config file must hold a mapping of keys, got {type(data).__name__}"
        )
    return Located(data, where)


def merge(base: Located, top: Located) -> Located:
    """``top`` over ``base``: mappings merge key by key, anything else is replaced."""
    data = copy.deepcopy(base.data)
    where = dict(base.where)

    def put(target: dict, values: dict, path: KeyPath):
        for key, value in values.items():
            here = (*path, key)
            if isinstance(value, dict) and isinstance(target.get(key), dict):
                put(target[key], value, here)
                where[here] = top.where.get(here, where.get(here))
                continue
            for old in [p for p in where if p[: len(here)] == here]:
                del where[old]
            target[key] = copy.deepcopy(value)
            for p, origin in top.where.items():
                if p[: len(here)] == here:
                    where[p] = origin

    put(data, top.data, ())
    return Located(data, where)


def overrides(values: dict) -> Located:
    """Command-line ``--config`` values; a dotted key (``execution.models_per_job=16``) is a path."""
    located = Located()
    for key, value in values.items():
        path = tuple(str(key).split("."))
        node = located.data
        for part in path[:-1]:
            node = node.setdefault(part, {})
        node[path[-1]] = value
        for end in range(1, len(path) + 1):
            located.where[path[:end]] = f"--config {key}"
    return located


def load_config(files, cli_values: dict | None = None) -> Located:
    """The config files merged in order, then the ``--config`` values."""
    files = list(files)
    if not files:
        raise ConfigError("no config file given (expected config/config.yaml)")
    result = load_yaml(files[0])
    for path in files[1:]:
        result = merge(result, load_yaml(path))
    if cli_values:
        result = merge(result, overrides(cli_values))
    return result

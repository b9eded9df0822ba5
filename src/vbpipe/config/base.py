"""What every config section shares: the error type, strict frozen models, readable messages."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from ..errors import VbpipeError


class ConfigError(VbpipeError, ValueError):
    """A configuration value out of range, of the wrong type or inconsistent with another.

    ``key`` is the dotted path of the value at fault (relative to what was being validated) when
    known; :mod:`vbpipe.config.experiments` prefixes it with the path in the file and the file's line.
    """

    def __init__(self, message: str, key: str | None = None):
        super().__init__(message)
        self.key = key


def validation_message(error: ValidationError) -> tuple[str, str | None]:
    """One readable line for a pydantic error, and the dotted key of the first problem."""
    parts, first_key = [], None
    for item in error.errors()[:4]:
        key = ""
        for part in item["loc"]:
            key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
        first_key = first_key or key or None
        message = item["msg"]
        if message.startswith("Value error, "):
            message = message[len("Value error, ") :]
        if item["type"] == "extra_forbidden":
            message = "unknown key"
        elif item["type"] == "value_error":
            pass  # our validators' messages already show the value
        elif item["type"] == "missing":
            message = "required key is missing"
        else:
            message = f"{message[0].lower()}{message[1:]}, got {item['input']!r}"
        parts.append(f"{key}: {message}" if key else message)
    return "; ".join(parts), first_key


class _Section(BaseModel):
    """A config section: strict types, unknown keys refused, immutable, errors as ConfigError."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)

    def __init__(self, **values: Any):
        try:
            super().__init__(**values)
        except ValidationError as error:
            message, key = validation_message(error)
            raise ConfigError(message, key) from None

    @classmethod
    def from_dict(cls, values: dict | None):
        if values is not None and not isinstance(values, dict):
            raise ConfigError(f"must be a mapping of keys, got {values!r}")
        return cls(**(values or {}))


def _as_tuple(value):
    return tuple(value) if isinstance(value, list) else value

"""One settings tree. Every threshold is a :class:`Setting` with a default, a one-line help and an
allowed range, declared next to the code that uses it (a detector module's ``SETTINGS``) and collected
here, so ``netsift config`` can show the whole tree and ``netsift config validate FILE`` can check a user's
file (TOML, ``[section] name = value``).
"""

from __future__ import annotations

import math
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from netsift.errors import ConfigError


@dataclass(frozen=True)
class Setting:
    name: str
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple[Any, ...] | None = None
    item_check: Callable[[Any], str | None] | None = None  # list settings: an error for one item, or None

    def check(self, value: Any) -> str | None:
        """An error message, or None when ``value`` is allowed."""
        if isinstance(self.default, (list, tuple)):
            if not isinstance(value, (list, tuple)):
                return f"{self.name}: expected a list, got {value!r}"
            for item in value:
                err = self.item_check(item) if self.item_check else None
                if err:
                    return f"{self.name}: {err}"
            return None
        if isinstance(self.default, bool):
            return None if isinstance(value, bool) else f"{self.name}: expected true/false, got {value!r}"
        if isinstance(self.default, (int, float)) and not isinstance(self.default, bool):
            if not isinstance(value, (int, float)) or isinstance(value, bool):
                return f"{self.name}: expected a number, got {value!r}"
            if not math.isfinite(value):
                return f"{self.name}: expected a finite number, got {value!r}"
            if self.min is not None and value < self.min:
                return f"{self.name}: {value} is below the minimum {self.min}"
            if self.max is not None and value > self.max:
                return f"{self.name}: {value} is above the maximum {self.max}"
        if isinstance(self.default, str) and not isinstance(value, str):
            return f"{self.name}: expected a string, got {value!r}"
        if self.choices is not None and value not in self.choices:
            return f"{self.name}: {value!r} is not one of {', '.join(map(str, self.choices))}"
        return None


class Settings:
    """Resolved values for one section: defaults overlaid with the user's file."""

    def __init__(self, declared: tuple[Setting, ...], values: dict[str, Any] | None = None):
        self._declared = {s.name: s for s in declared}
        self._values = {s.name: s.default for s in declared}
        for k, v in (values or {}).items():
            if k in self._declared:
                self._values[k] = v

    def __getattr__(self, name: str) -> Any:
        try:
            return self._values[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, name: str) -> Any:
        return self._values[name]

    def as_dict(self) -> dict[str, Any]:
        return dict(self._values)


def load_file(path: str | Path | None) -> dict[str, dict[str, Any]]:
    """The user's settings file as a dict; ConfigError (one line: file, what, where) when it cannot be read
    or is not TOML."""
    if path is None:
        return {}
    try:
        with open(path, "rb") as fh:
            return tomllib.load(fh)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not a UTF-8 text file (byte {exc.start}); a settings file is TOML") from exc
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from exc


def validate(sections: dict[str, tuple[Setting, ...]], user: dict[str, dict[str, Any]]) -> list[str]:
    """Every problem in a user's config, not just the first."""
    problems = []
    for section, values in user.items():
        if section not in sections:
            problems.append(f"unknown section [{section}] (known: {', '.join(sorted(sections))})")
            continue
        if not isinstance(values, dict):
            problems.append(f"[{section}] must be a table")
            continue
        declared = {s.name: s for s in sections[section]}
        for name, value in values.items():
            if name not in declared:
                problems.append(f"[{section}] unknown setting {name!r} (known: {', '.join(sorted(declared))})")
                continue
            err = declared[name].check(value)
            if err:
                problems.append(f"[{section}] {err}")
    return problems

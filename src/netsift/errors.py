"""The exception tree. The CLI turns these (and only these) into one-line error messages.

    NetsiftError
     ├── InputError          an input file cannot be read as a log (empty, binary, truncated, unknown
     │    │                  format); carries the path and names the fix
     │    └── BadLineError   --strict: the first line that did not parse (path:line and reason)
     ├── StoreError          the database cannot be opened (locked by another process, wrong file)
     ├── ConfigError         a setting is unknown or out of range, a settings file cannot be read
     ├── UsageError          a value given on the command line or in a dashboard form is not acceptable
     │                       (a verdict, its entity or note, an input to forget): exit 2
     └── ServiceError        an online service or a list download failed (HTTP status, rate limit)
"""

from __future__ import annotations


class NetsiftError(Exception):
    """Base of every error netsift reports to the user."""


class InputError(NetsiftError):
    def __init__(self, message: str, path: str | None = None):
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class BadLineError(InputError):
    def __init__(self, path: str, line: int, reason: str, text: str = ""):
        self.line = line
        self.reason = reason
        snippet = text if len(text) <= 120 else text[:117] + "..."
        super().__init__(f"line {line}: {reason}: {snippet!r}", f"{path}")


class StoreError(NetsiftError):
    pass


class ConfigError(NetsiftError):
    pass


class UsageError(NetsiftError):
    pass


class ServiceError(NetsiftError):
    pass

"""Click pieces shared by every command module (``netsift.cli`` and ``netsift.web.cli``): the --db option,
the machine-output flags, and the one place where netsift's errors become one-line CLI errors."""

from __future__ import annotations

import functools

import click

from netsift.errors import NetsiftError


def db_option(f):
    return click.option("--db", "db", type=click.Path(dir_okay=False), default=None, envvar="NETSIFT_DB",
                        help="DuckDB file (default ./netsift.duckdb, or $NETSIFT_DB).")(f)


def output_options(f):
    """--json / --ndjson / --csv on every listing command (default: a table)."""
    f = click.option("--csv", "output", flag_value="csv", help="CSV on stdout.")(f)
    f = click.option("--ndjson", "output", flag_value="ndjson", help="One JSON object per line on stdout.")(f)
    f = click.option("--json", "output", flag_value="json", help="JSON on stdout.")(f)
    return f


def handle_errors(f):
    """Turn a NetsiftError into a one-line error on stderr (exit 1) instead of a traceback."""
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except NetsiftError as exc:
            raise click.ClickException(str(exc)) from exc

    return wrapper

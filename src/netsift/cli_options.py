"""Click pieces shared by every command module (``netsift.cli``, ``netsift.cli_commands``,
``netsift.report.cli`` and ``netsift.web.cli``): the group (Ctrl-C handling, commands loaded by name from
the table in ``netsift.cli``), the --db option, the machine-output flags, parameter types, and the one place
where netsift's errors become one-line CLI errors. Light on purpose: every command imports it, so nothing
here imports the analysis stack (the analysis options are in ``netsift.cli_analysis``)."""

from __future__ import annotations

import codecs
import functools
import importlib
import os
import signal
import sys
import threading
import zlib
from pathlib import Path

import click

from netsift.errors import NetsiftError, UsageError
from netsift.ingest.run import IngestOptions, IngestSummary
from netsift.report import console as con_out
from netsift.report import machine
from netsift.report.console import printable
from netsift.store import default_db_path, store_exists


class NetsiftGroup(click.Group):
    """The ``netsift`` group: Ctrl-C ends any command with one line and exit status 130 (128 + SIGINT, the
    shell's convention), not click's "Aborted!" and 1, nor a traceback. ``lazy`` names commands by
    ``"module:attribute"``: a module is imported only when one of its commands is looked up (run, or listed
    by ``--help``), so a command's start-up pays for its own imports only."""

    def __init__(self, *args, lazy: dict[str, str] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module, _, attribute = self.lazy[cmd_name].partition(":")
            command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context):
        previous = _install_sigint_handler()
        try:
            return super().invoke(ctx)
        except (KeyboardInterrupt, RuntimeError) as exc:
            if not interrupted(exc):
                raise
            click.echo("\ninterrupted", err=True)
            raise click.exceptions.Exit(130) from None
        finally:
            if previous is not None and not _interrupting.is_set():
                signal.signal(signal.SIGINT, previous)


STOP_GRACE_SECONDS = 2.0
_interrupting = threading.Event()  # set by the first Ctrl-C: our handler stays until the process ends


def _install_sigint_handler():
    """Ctrl-C raises KeyboardInterrupt as usual (the command cleans up and exits 130), and also arms a
    watchdog: a process still alive STOP_GRACE_SECONDS later, or a second Ctrl-C, ends at once with 130.
    Libraries can swallow the KeyboardInterrupt (DuckDB turns one into "Query interrupted"; a thread may be
    mid-insert), so the watchdog makes Ctrl-C reliable; what an ingest left half-done is removed by the
    next run (its file record still says "in progress"). Returns the previous handler, or None when not
    on the main thread."""
    if threading.current_thread() is not threading.main_thread():
        return None
    armed = _interrupting
    armed.clear()

    def stop_now() -> None:
        try:
            os.write(sys.stderr.fileno(), b"\ninterrupted\n")
        finally:
            os._exit(130)

    def on_sigint(signum, frame):
        if armed.is_set():
            stop_now()
        armed.set()
        watchdog = threading.Timer(STOP_GRACE_SECONDS, stop_now)
        watchdog.daemon = True
        watchdog.start()
        raise KeyboardInterrupt

    return signal.signal(signal.SIGINT, on_sigint)


def interrupted(exc: BaseException | None) -> bool:
    """Whether ``exc`` (or what caused it) is a Ctrl-C. DuckDB turns a SIGINT that arrives during a query on
    the main thread into ``RuntimeError('Query interrupted')`` (or its InterruptException) and consumes the
    KeyboardInterrupt."""
    seen = 0
    while exc is not None and seen < 10:
        if isinstance(exc, KeyboardInterrupt) or (
                isinstance(exc, Exception) and type(exc).__name__ in ("RuntimeError", "InterruptException")
                and str(exc).strip().lower() in ("query interrupted", "interrupt exception: query interrupted")):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


DB_HELP = ("Store: a DuckDB file (default ./netsift.duckdb, or $NETSIFT_DB), chdb:DIR or "
           "clickhouse://[user@]host[:port]/database (pip install 'netsift[clickhouse]').")


def db_option(f, *, callback=None, help: str = DB_HELP):
    return click.option("--db", "db", type=click.Path(dir_okay=False), default=None, envvar="NETSIFT_DB",
                        callback=callback, help=help)(f)


def require_store(db: str | None) -> None:
    """A command that reads a store refuses one that is not there, instead of creating an empty file and
    showing nothing (a mistyped --db, or the wrong folder, would look like a network with no findings)."""
    if not store_exists(db):
        raise UsageError(f"no store at {db or default_db_path()}: `netsift ingest FILE...` (or `netsift demo`) "
                         "fills one; --db or $NETSIFT_DB chooses another")


def existing_db_option(f):
    """--db for the commands that read a store: a store that is not there is a usage error (see
    ``require_store``)."""
    def check(ctx, param, value):
        try:
            require_store(value)
        except UsageError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from exc
        return value

    return db_option(f, callback=check, help=DB_HELP + " It must exist.")


def output_options(f):
    """--json / --ndjson / --csv on every listing command (default: a table)."""
    f = click.option("--csv", "output", flag_value="csv", help="CSV on stdout.")(f)
    f = click.option("--ndjson", "output", flag_value="ndjson", help="One JSON object per line on stdout.")(f)
    f = click.option("--json", "output", flag_value="json", help="JSON on stdout.")(f)
    return f


def handle_errors(f):
    """Turn a NetsiftError, or an OSError on a file (a missing folder, no permission), into a one-line error
    on stderr (exit 1; a UsageError exits 2 like click's own usage errors) instead of a traceback; text from
    a log or a file name in the message is shown inert (control characters as visible escapes)."""
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except UsageError as exc:
            raise click.UsageError(printable(str(exc))) from exc
        except NetsiftError as exc:
            raise click.ClickException(printable(str(exc))) from exc
        except BrokenPipeError:
            raise  # the reader of our output went away (| head): not an error of ours to explain
        except OSError as exc:  # a file we were told to read or write: its path and why, not a traceback
            where = f"{exc.filename}: " if exc.filename else ""
            raise click.ClickException(printable(f"{where}{exc.strerror or exc}")) from exc

    return wrapper


# --- parameter types: a bad value is a usage error (one line, exit 2) before any work starts ---------------

YEAR = click.IntRange(1970, 2100)
COUNT = click.IntRange(min=0)
PORT = click.IntRange(1, 65535)


class TimeZone(click.ParamType):
    """A zone name for naive timestamps, as the parsers use it (polars' time zone database)."""

    name = "zone"

    def convert(self, value, param, ctx):
        if value in ("UTC", "utc", "Z"):
            return value
        import datetime as dt

        import polars as pl

        try:
            if not str(value).strip():
                raise ValueError("empty")
            pl.Series([dt.datetime(2020, 1, 1)]).dt.replace_time_zone(str(value))
        except (ValueError, pl.exceptions.PolarsError):
            self.fail(f"{value!r} is not a time zone: use an IANA name such as UTC, Europe/Berlin or "
                      "America/New_York", param, ctx)
        return value


def _text_problem(path: str, archives: bool) -> str | None:
    """Why ``path`` cannot be a text list (binary, not UTF-8, a broken archive), or None."""
    with open(path, "rb") as fh:
        head = fh.read(8192)
    if archives and head[:2] == b"PK":
        import zipfile

        return None if zipfile.is_zipfile(path) else "a broken zip archive"
    if archives and head[:2] == b"\x1f\x8b":
        try:
            head = zlib.decompressobj(16 + zlib.MAX_WBITS).decompress(head, 8192)
        except zlib.error:
            return "a broken gzip file"
    text = codecs.getincrementaldecoder("utf-8")(errors="replace").decode(head)
    odd = sum(1 for ch in text if ch == "\ufffd" or (ch < " " and ch not in "\t\n\r\f\v"))
    if "\x00" in text or odd > len(text) // 20:
        return "binary data, not a text list"
    return None


class TextFile(click.Path):
    """An input list that must exist and be text (a directory too when ``dir_okay``); ``archives`` admits
    .zip and .gz files."""

    def __init__(self, what: str, dir_okay: bool = False, archives: bool = False):
        super().__init__(exists=True, dir_okay=dir_okay)
        self.what, self.archives = what, archives

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        problem = text_file_problem(str(path), self.what, self.archives)
        if problem:
            self.fail(problem, param, ctx)
        return path


def text_file_problem(path: str, what: str, archives: bool = False) -> str | None:
    """One line saying why the file at ``path`` is not a readable text list, or None; directories pass
    (their files are read by the list's own reader)."""
    if Path(path).is_dir():
        return None
    try:
        problem = _text_problem(path, archives)
    except OSError as exc:
        problem = f"cannot be read ({exc.strerror or exc})"
    return f"{printable(path)}: {problem}; expected {what}" if problem else None


# --- ingest options and output, shared by `ingest` and `analyze` -------------------------------------


def ingest_options(f):
    f = click.option("--show-secrets", is_flag=True,
                     help="Store passwords seen in clear in captures as they are (default: masked, e.g. p*******).")(f)
    f = click.option("--strict", is_flag=True, help="Stop at the first line that does not parse.")(f)
    f = click.option("--columns", default=None, metavar="FIELD=COLUMN,...",
                     help="Map CSV columns by name, e.g. ts=When,client=Source,query_name=Host.")(f)
    f = click.option("--tz", type=TimeZone(), default="UTC", show_default=True,
                     help="Zone of timestamps without one (an IANA name: UTC, Europe/Berlin).")(f)
    f = click.option("--year", type=YEAR, default=None,
                     help="Year of year-less syslog stamps, 1970-2100 (default: the file's mtime).")(f)
    f = click.option("--format", "fmt", default=None, metavar="NAME",
                     help="Skip detection; see `netsift formats`.")(f)
    return f


def parse_columns(spec: str | None) -> dict[str, str]:
    if not spec:
        return {}
    out = {}
    for part in spec.split(","):
        if "=" not in part:
            raise click.BadParameter(f"{part!r} is not FIELD=COLUMN", param_hint="--columns")
        k, v = part.split("=", 1)
        out[k.strip()] = v.strip()
    return out


def ingest_opts(fmt, year, tz, columns, strict, show_secrets=False) -> IngestOptions:
    return IngestOptions(format=fmt, year=year, tz=tz, columns=parse_columns(columns), strict=strict,
                         show_secrets=show_secrets)


def print_ingest(summary: IngestSummary, quiet: bool) -> None:
    err = con_out.console(stderr=True)  # one line per file, however long (soft_wrap)
    for f in summary.files:
        if f.status == "error":
            err.print(f"[red]error[/] {con_out.escape(f.path)}: {con_out.escape(f.message or '')}",
                      soft_wrap=True)
            continue
        for warning in f.warnings:  # stamps in the future or far from the store: shown even with -q
            err.print(f"[yellow]warning[/] {con_out.escape(f.path)}: {con_out.escape(warning)}",
                      soft_wrap=True)
        if quiet:
            continue
        detail = f"{f.rows:,} rows, {f.rejected:,} rejected" if f.status in ("ingested", "resumed") else ""
        note = f" ({con_out.escape(f.message)})" if f.message else ""
        err.print(f"{con_out.escape(f.path)}: [bold]{con_out.escape(f.format or '?')}[/] {f.status} {detail}{note}",
                  soft_wrap=True)
        for line, reason, text in f.first_rejections:
            err.print(f"    line {line}: {con_out.escape(reason)}: {con_out.escape((text or '')[:100])!s}")


def emit(rows: list[dict], output: str | None, title: str, columns: list[str] | None = None) -> None:
    machine.emit(rows, output, title, columns)

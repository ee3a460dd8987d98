"""Click pieces shared by every command module (``netsift.cli``, ``netsift.report.cli`` and
``netsift.web.cli``): the --db option, the machine-output flags, the analysis options and what they build
(:func:`analysis_opts`, :func:`enrich_opts`), and the one place where netsift's errors become one-line CLI
errors."""

from __future__ import annotations

import codecs
import functools
import os
import signal
import sys
import threading
import zlib
from pathlib import Path

import click

from netsift import baseline, pipeline
from netsift.config import load_file, validate
from netsift.enrich.step import SERVICES, EnrichOptions, FeedFile
from netsift.errors import ConfigError, NetsiftError, UsageError
from netsift.report.console import printable


class NetsiftGroup(click.Group):
    """The ``netsift`` group: Ctrl-C ends any command with one line and exit status 130 (128 + SIGINT, the
    shell's convention), not click's "Aborted!" and 1, nor a traceback."""

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


def db_option(f):
    return click.option("--db", "db", type=click.Path(dir_okay=False), default=None, envvar="NETSIFT_DB",
                        help="Store: a DuckDB file (default ./netsift.duckdb, or $NETSIFT_DB), chdb:DIR or "
                             "clickhouse://[user@]host[:port]/database (pip install 'netsift[clickhouse]').")(f)


def output_options(f):
    """--json / --ndjson / --csv on every listing command (default: a table)."""
    f = click.option("--csv", "output", flag_value="csv", help="CSV on stdout.")(f)
    f = click.option("--ndjson", "output", flag_value="ndjson", help="One JSON object per line on stdout.")(f)
    f = click.option("--json", "output", flag_value="json", help="JSON on stdout.")(f)
    return f


def handle_errors(f):
    """Turn a NetsiftError into a one-line error on stderr (exit 1; a UsageError exits 2 like click's own
    usage errors) instead of a traceback; text from a log or a file name in the message is shown inert
    (control characters as visible escapes)."""
    @functools.wraps(f)
    def wrapper(*args, **kwargs):
        try:
            return f(*args, **kwargs)
        except UsageError as exc:
            raise click.UsageError(printable(str(exc))) from exc
        except NetsiftError as exc:
            raise click.ClickException(printable(str(exc))) from exc

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


class SettingsFile(click.Path):
    """A TOML settings file, read and checked against every declared setting when the option is parsed."""

    def __init__(self):
        super().__init__(exists=True, dir_okay=False)

    def convert(self, value, param, ctx):
        path = super().convert(value, param, ctx)
        try:
            problems = validate(pipeline.settings_sections(), load_file(path))
        except ConfigError as exc:
            self.fail(printable(str(exc)), param, ctx)
        if problems:
            self.fail(printable(f"{path}: {'; '.join(problems)}") + " (`netsift config` lists every setting)",
                      param, ctx)
        return path


TOP_LIST_TEXT = "a top-sites CSV (rank,domain as Tranco, Umbrella or Majestic ship it; plain, .gz or .zip)"
ALLOWLIST_TEXT = "an allowlist: one domain or *.domain per line"
CATEGORIES_TEXT = "a category list: UT1-style folder, <category>.domains file or domain,category CSV"
FEED_TEXT = "a threat feed: hosts file, one domain per line, or CSV"


class FeedSpec(click.ParamType):
    """``[NAME[:KIND]=]PATH`` of a threat feed file; the value stays the spec (parsed again by the caller)."""

    name = "feed"

    def convert(self, value, param, ctx):
        try:
            feed = FeedFile.parse(value)
        except ValueError as exc:
            self.fail(printable(str(exc)), param, ctx)
        if not Path(feed.path).is_file():
            self.fail(f"no such file: {printable(feed.path)}", param, ctx)
        problem = text_file_problem(str(feed.path), FEED_TEXT)
        if problem:
            self.fail(problem, param, ctx)
        return value


def analysis_options(f=None, *, reanalysis: bool = False):
    """--top-list, --allowlist and --config: for an analysis now (``analyze``), or, with ``reanalysis``,
    for the re-analyses a command runs later (``serve``, after verdicts)."""
    def add(f):
        later = " for re-analyses" if reanalysis else ""
        f = click.option("--config", "config_file", type=SettingsFile(), default=None, envvar="NETSIFT_CONFIG",
                         help="Settings file (TOML) for re-analyses after verdicts." if reanalysis
                         else "Settings file (TOML); see `netsift config`.")(f)
        f = click.option("--allowlist", type=TextFile(ALLOWLIST_TEXT), default=None,
                         help=f"Allowlist file{later}: one domain or *.domain per line.")(f)
        f = click.option("--top-list", "top_lists", multiple=True, type=TextFile(TOP_LIST_TEXT, archives=True),
                         help=f"Top-sites CSV{later} (Tranco/Umbrella/Majestic); repeatable.")(f)
        return f

    return add(f) if f is not None else add


def enrich_opts(feed_specs=(), category_paths=(), geoip_dbs=(), online=False, online_top=10, online_services=(),
                resolve=False) -> EnrichOptions:
    """The EnrichOptions of the enrichment options given."""
    feeds = []
    for spec in feed_specs:
        try:
            feeds.append(FeedFile.parse(spec))
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--feed") from exc
    missing = [f.path for f in feeds if not Path(f.path).is_file()]
    if missing:
        raise click.BadParameter(f"no such file: {', '.join(missing)}", param_hint="--feed")
    return EnrichOptions(feeds=feeds, categories=list(category_paths), geoip_db=list(geoip_dbs), online=online,
                         online_top=online_top, services=tuple(online_services) or SERVICES, resolve=resolve)


def analysis_opts(top_lists, allowlist, config_file, enrich: EnrichOptions | None = None) -> pipeline.AnalysisOptions:
    """The AnalysisOptions of --top-list, --allowlist, --config (checked) and the enrichment options."""
    user = load_file(config_file)
    problems = validate(pipeline.settings_sections(), user)
    if problems:
        raise click.ClickException(f"{config_file}: " + "; ".join(problems))
    opts = pipeline.AnalysisOptions(
        baseline=baseline.BaselineOptions(top_lists=list(top_lists), installed_lists=pipeline.installed_top_lists(),
                                          allowlist=allowlist),
        settings=user, config_path=config_file,
    )
    if enrich is not None:
        opts.enrich = enrich
    return opts

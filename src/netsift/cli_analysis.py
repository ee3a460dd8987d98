"""The analysis options of ``analyze``, ``report`` and ``serve`` (--top-list, --allowlist, --config, the
enrichment inputs) and what they build (:func:`analysis_opts`, :func:`enrich_opts`). Apart from
``netsift.cli_options`` because they import the analysis stack, which ``netsift ingest`` does not load."""

from __future__ import annotations

from pathlib import Path

import click

from netsift import baseline, pipeline
from netsift.cli_options import TextFile, text_file_problem
from netsift.config import load_file, validate
from netsift.enrich.step import SERVICES, EnrichOptions, FeedFile
from netsift.errors import ConfigError
from netsift.report.console import printable


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


def enrich_file_options(f=None, *, purpose: str = "re-analyses"):
    """--geoip-db, --categories and --feed for the analyses a long-running command runs later (``serve``
    after verdicts, ``watch`` on its cadence)."""
    def add(f):
        f = click.option("--feed", "feed_specs", multiple=True, type=FeedSpec(), metavar="[NAME[:KIND]=]PATH",
                         help=f"Threat feed file used by {purpose}; repeatable.")(f)
        f = click.option("--categories", "category_paths", multiple=True,
                         type=TextFile(CATEGORIES_TEXT, dir_okay=True),
                         help=f"Category list folder or file used by {purpose}; repeatable.")(f)
        f = click.option("--geoip-db", "geoip_dbs", multiple=True, type=click.Path(exists=True, dir_okay=False),
                         help=f"MaxMind .mmdb file(s) adding city/coordinates to {purpose}; repeatable.")(f)
        return f

    return add(f) if f is not None else add

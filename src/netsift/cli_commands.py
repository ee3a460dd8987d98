"""The analysis commands of ``netsift`` (``analyze``, ``status``, ``normal``, ``explain``, ``score``,
``verdict``, ``verdicts``, ``demo``, ``lists``, ``schema``, ``config``): thin functions over ``pipeline`` and
friends, registered by name in ``netsift.cli.COMMANDS`` and imported only when one of them runs."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from netsift import inputs, pipeline
from netsift import schema as declared
from netsift.baseline.verdicts import (
    add_verdicts, check_entity, check_note, check_verdict, list_verdicts, undo_verdicts,
)
from netsift.cli_analysis import CATEGORIES_TEXT, FeedSpec, analysis_options, analysis_opts, enrich_opts
from netsift.cli_options import (
    COUNT, TextFile, db_option, emit, existing_db_option, handle_errors, ingest_options, ingest_opts, output_options,
    print_ingest, require_store,
)
from netsift.config import load_file, validate
from netsift.detect.dga import score_names
from netsift.enrich.step import filter_findings
from netsift.errors import UsageError
from netsift.explain import explain as build
from netsift.lists import CATALOG, data_dir, installed, update
from netsift.report import console as con_out
from netsift.report import machine
from netsift.report.progress import progress_bar
from netsift.store import default_db_path, open_store
from netsift.synth.scenario import write_demo


@click.command()
@existing_db_option
@output_options
@handle_errors
def status(db, output):
    """What the store holds: questions, clients, time span, files, findings by severity, the last analysis
    and the inputs it remembers (top lists, allowlist, settings, feeds, categories, GeoIP) with their age."""
    with open_store(db) as store:
        doc = pipeline.status(store)
    if output == "json":
        machine.write_json(doc)
        return
    if output in ("ndjson", "csv"):
        rows = doc["inputs"]
        machine.write_ndjson(rows) if output == "ndjson" else machine.write_csv(rows)
        return
    out = con_out.console()
    span = f"{doc['start']} to {doc['end']}" if doc["start"] else "no questions yet"
    severities = ", ".join(f"{n:,} {sev}" for sev, n in doc["findings"].items()) or "none (run `netsift analyze`)"
    out.print(con_out.escape(
        f"{doc['store']}: {doc['rows']:,} questions from {doc['clients']:,} clients, {span}; {len(doc['files'])} "
        f"files ({doc['rejected']:,} rejected lines). Findings: {severities}"
        + (f"; last analysis {doc['analyzed_at']}." if doc["analyzed_at"] else ".")))
    if not doc["inputs"]:
        out.print("No remembered analysis inputs (give --top-list, --allowlist, --config, --feed, --categories or "
                  "--geoip-db to `netsift analyze` once; later analyses reuse them).")
        return
    rows = [[i["flag"], i["spec"], i["given_at"][:19], "missing" if not i["exists"] else f"{i['age_days']:g} days"]
            for i in doc["inputs"]]
    out.print(con_out.table("Remembered analysis inputs (`analyze --forget-input KIND|PATH` drops one)",
                            ["option", "path", "given", "file age"], rows))


def forget_input_option(f):
    return click.option(
        "--forget-input", "forget_inputs", multiple=True, metavar="KIND|PATH",
        help="Stop using a remembered input: a path, or a kind (top-list, allowlist, config, feed, categories, "
             "geoip-db); repeatable. Inputs given once are remembered by the store (`netsift status`).")(f)


def enrich_options(f):
    """Enrichment inputs of `analyze`: feeds, categories, GeoIP databases, online services, --resolve."""
    f = click.option("--resolve", is_flag=True,
                     help="Resolve the domains of findings that have no answers in the logs (network; needs "
                          "pip install 'netsift[resolve]').")(f)
    f = click.option("--online-service", "online_services", multiple=True,
                     type=click.Choice(["virustotal", "investigate"]),
                     help="With --online: only this service; repeatable (default: both).")(f)
    f = click.option("--online-top", type=click.IntRange(1, 10_000), default=10, show_default=True,
                     help="With --online: how many of the top findings' domains to look up.")(f)
    f = click.option("--online", is_flag=True,
                     help="Look the top findings' domains up with VirusTotal ($VT_API_KEY) and Umbrella "
                          "Investigate ($UMBRELLA_INVESTIGATE_TOKEN); rate-limited, answers cached in the store.")(f)
    f = click.option("--geoip-db", "geoip_dbs", multiple=True, type=click.Path(exists=True, dir_okay=False),
                     help="MaxMind .mmdb (City, Country or ASN) adding city, coordinates, AS numbers; repeatable.")(f)
    f = click.option("--categories", "category_paths", multiple=True, type=TextFile(CATEGORIES_TEXT, dir_okay=True),
                     help="Category list: UT1-style folder, <category>.domains file or domain,category CSV; "
                          "repeatable.")(f)
    f = click.option("--feed", "feed_specs", multiple=True, type=FeedSpec(), metavar="[NAME[:KIND]=]PATH",
                     help="Threat feed file (hosts, one domain per line, or CSV), e.g. --feed mylist:suspicious="
                          "list.txt; KIND is malicious (default), suspicious or informational; repeatable.")(f)
    return f


def finding_filters(f):
    f = click.option("--feed-hits", "feed_hits_only", is_flag=True,
                     help="Only findings on a domain a threat feed lists.")(f)
    f = click.option("--category", "only_categories", multiple=True, metavar="NAME",
                     help="Only findings on a domain in this category (or 'security' / 'content'); repeatable.")(f)
    return f


@click.command()
@click.argument("paths", nargs=-1)
@db_option
@ingest_options
@analysis_options
@forget_input_option
@enrich_options
@click.option("--limit", type=COUNT, default=25, show_default=True, help="Findings to show (0: all).")
@click.option("--kind", "kinds", multiple=True, help="Only findings of this kind; repeatable.")
@finding_filters
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@output_options
@handle_errors
def analyze(paths, db, fmt, year, tz, columns, strict, show_secrets, top_lists, allowlist, config_file, feed_specs, category_paths,
            geoip_dbs, online, online_top, online_services, resolve, limit, kinds, only_categories, feed_hits_only,
            quiet, output, forget_inputs=()):
    """Ingest PATHS (if any), explain normal away, rank what is left with reasons, and enrich it (threat
    feeds, categories, networks and countries; online services and --resolve only when asked)."""
    enrich = enrich_opts(feed_specs, category_paths, geoip_dbs, online, online_top, online_services, resolve)
    opts = analysis_opts(top_lists, allowlist, config_file, enrich)
    if not paths:
        require_store(db)  # nothing to ingest and no store: a mistyped --db, not an empty network
    with open_store(db) as store:
        for what in forget_inputs:
            for gone in inputs.forget(store, what):
                con_out.console(stderr=True).print(f"no longer using {con_out.escape(gone.kind)} "
                                                   f"{con_out.escape(gone.path)}")
        if paths:
            summary = pipeline.ingest(store, paths, ingest_opts(fmt, year, tz, columns, strict, show_secrets),
                                      progress_bar(quiet))
            print_ingest(summary, quiet or output is not None)
        result = pipeline.analyze(store, opts)
        overview = pipeline.overview(store, result.enrichment)
        findings = filter_findings(store, [f for f in result.findings if not kinds or f.kind in kinds],
                                   categories=only_categories, feed_hits=feed_hits_only)
    for note in overview["enrichment"]["notes"]:
        con_out.console(stderr=True).print(f"note: {con_out.escape(note)}")
    if output == "json":
        machine.write_json({"summary": overview, "findings": [f.to_dict() for f in findings]})
    elif output == "ndjson":
        machine.write_ndjson(f.to_dict() for f in findings)
    elif output == "csv":
        machine.write_csv([f.to_dict() for f in findings])
    else:
        out = con_out.console()
        out.print(f"{overview['rows']:,} queries from {overview['clients']:,} clients in {len(overview['files'])} "
                  f"files ({overview['rejected']:,} rejected lines); {result.baseline.normal:,} of "
                  f"{result.baseline.domains:,} registered domains explained as normal "
                  f"(lists: {con_out.escape(', '.join(result.baseline.lists))}).")
        out.print(con_out.escape(_enrichment_line(overview["enrichment"])))
        table, left_out = con_out.queue_table(findings, limit, floor=not kinds)
        out.print(table)
        if left_out:
            out.print(con_out.escape(left_out))


def _enrichment_line(e: dict) -> str:
    feeds = [item["name"] for item in e["lists"] if item["used_for"] == "feeds"]
    def n(count: int, word: str) -> str:
        return f"{count:,} {word}{'' if count == 1 else 's'}"

    line = (f"Enrichment: {n(e['feed_hits'], 'feed hit')} on {n(e['feed_hit_domains'], 'domain')} "
            f"({', '.join(feeds) if feeds else 'no feeds: see `netsift lists` or --feed'}), "
            f"{n(e['categorised_names'], 'name')} categorised, {e['ips_located']:,} of {n(e['ips'], 'answer IP')} "
            "located")
    if e["stale_lists"]:
        line += f"; stale lists: {', '.join(e['stale_lists'])} (`netsift lists update`)"
    return line + "."


@click.command()
@existing_db_option
@click.option("--limit", type=COUNT, default=50, show_default=True, help="Rows to show (0: all).")
@output_options
@handle_errors
def normal(db, limit, output):
    """Show the registered domains explained as normal, and why."""
    with open_store(db) as store:
        if not store.scalar("SELECT count(*) FROM domain_stats"):
            raise click.ClickException("no baseline yet: run `netsift analyze` first")
        sql = ("SELECT registered_domain AS domain, queries, clients, top_rank, normal_reason AS why FROM "
               "domain_stats WHERE normal_reason IS NOT NULL ORDER BY queries DESC")
        rows = store.frame(sql + (" LIMIT ?" if limit else ""), [limit] if limit else []).to_dicts()
    emit(rows, output, "Explained as normal")


def _checked(check):
    """A click callback running one of verdicts' checks: its UsageError is click's (exit 2)."""
    def callback(ctx, param, value):
        try:
            return check(value) if value is not None else None
        except UsageError as exc:
            raise click.BadParameter(str(exc), ctx, param) from exc
    return callback


VERDICT_CHOICES = ("benign", "malicious", "needs_review")


@click.command()
@click.argument("args", nargs=-1, metavar="ENTITY... VERDICT")
@click.option("--note", default=None, callback=_checked(check_note), help="Why (at most 2,000 characters).")
@click.option("--from-file", "from_file", type=click.File("r", encoding="utf-8"), default=None,
              help="Entities to judge, one per line (blank lines and # comments skipped; - reads stdin).")
@click.option("--undo", is_flag=True, help="Undo the latest verdict on each ENTITY instead (kept as undone).")
@db_option
@handle_errors
def verdict(args, note, from_file, undo, db):
    """Record a verdict on one or more domains, clients or finding ids: `netsift verdict a.com b.com benign`.
    Benign domains count as normal afterwards. --undo takes the latest verdict on each entity back."""
    args = list(args)
    chosen = None
    if not undo:
        if not args:
            raise click.UsageError("give the entities and the verdict: netsift verdict ENTITY... "
                                   f"{'|'.join(VERDICT_CHOICES)}")
        try:
            chosen = check_verdict(args.pop())
        except UsageError as exc:
            raise click.BadParameter(str(exc), param_hint="VERDICT") from exc
    entities = args + ([ln.strip() for ln in from_file if ln.strip() and not ln.lstrip().startswith("#")]
                       if from_file else [])
    if not entities:
        raise click.UsageError("no entity given (arguments or --from-file)")
    checked = []
    for entity in entities:
        try:
            checked.append(check_entity(entity))
        except UsageError as exc:
            raise click.BadParameter(str(exc), param_hint="ENTITY") from exc
    with open_store(db) as store:
        if undo:
            undone = undo_verdicts(store, checked)
            done = {e for e, _ in undone}
            for entity, was in undone:
                click.echo(f"{con_out.printable(entity)}: {was} undone", err=True)
            for entity in dict.fromkeys(checked):
                if entity not in done:
                    click.echo(f"{con_out.printable(entity)}: no verdict to undo", err=True)
            if not undone:
                raise click.ClickException("no verdict was undone")
            return
        stored = add_verdicts(store, checked, chosen, note)
    if len(stored) <= 10:
        for entity in stored:
            click.echo(f"{con_out.printable(entity)}: {chosen}", err=True)
    else:
        click.echo(f"{len(stored):,} entities: {chosen}", err=True)


@click.command()
@click.option("--history", is_flag=True, help="Also the superseded and undone verdicts (with who undid them).")
@existing_db_option
@output_options
@handle_errors
def verdicts(history, db, output):
    """List the verdicts in force: entity, verdict, note, who, when (newest first)."""
    with open_store(db) as store:
        rows = list_verdicts(store, include_history=history)
    for r in rows:
        for k in ("ts", "undone_at"):
            r[k] = r[k].isoformat(timespec="seconds") if r[k] is not None else None
    if not history:
        rows = [{k: r[k] for k in ("entity", "verdict", "note", "who", "ts")} for r in rows]
    emit(rows, output, "Verdicts" + (" (all, with undone ones)" if history else " in force"))


@click.command()
@click.option("--dir", "directory", type=click.Path(file_okay=False), default="netsift-demo", show_default=True,
              help="Where the generated logs are written.")
@click.option("--db", type=click.Path(dir_okay=False), default=None,
              help="Store (default: the one every other command uses, $NETSIFT_DB or ./netsift.duckdb, unless "
                   "it already holds other logs: then DIR/netsift.duckdb).")
@click.option("--seed", type=int, default=7, show_default=True)
@click.option("--limit", type=COUNT, default=20, show_default=True, help="Findings to show (0: all).")
@click.option("-q", "--quiet", is_flag=True)
@output_options
@handle_errors
def demo(directory, db, seed, limit, quiet, output):
    """Generate a realistic multi-day network with planted threats in several log formats, ingest it
    and print the ranked findings. No network, no server."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    err = con_out.console(stderr=True)
    paths = write_demo(directory, seed=seed)
    if not quiet:
        err.print(f"wrote {len(paths)} log files to {con_out.escape(str(directory))}/")
    if db is None:
        db = _demo_store(directory, paths, err)
    ctx = click.get_current_context()
    ctx.invoke(analyze, paths=tuple(str(p) for p in paths), db=db, fmt=None,
               year=None, tz="UTC", columns=None, strict=False, top_lists=(), allowlist=None, config_file=None,
               limit=limit, kinds=(), quiet=quiet, output=output)
    if not quiet:
        hint = "" if db == default_db_path() else f" --db {db}"
        err.print(f"store: {con_out.escape(db)}. Next: `netsift serve{hint}` (dashboard), `netsift explain{hint} "
                  "FINDING`, `netsift report" + hint + "`, `netsift status" + hint + "`.")


def _demo_store(directory: Path, paths: list[Path], err) -> str:
    """The store the demo fills: the default one (so that the next command, typed without flags, shows the
    demo), unless that already holds logs other than the demo's."""
    default = default_db_path()
    if not Path(default).exists():
        return default
    with open_store(default) as store:
        ingested = [r[0] for r in store.rows("SELECT path FROM ingested_files")]
    ours = {str(p.resolve()) for p in paths}
    if all(p in ours for p in ingested):
        return default
    fallback = str(directory / "netsift.duckdb")
    err.print(f"note: {con_out.escape(default)} holds other logs; the demo uses {con_out.escape(fallback)} "
              "(give --db to choose)")
    return fallback


@click.group()
def score():
    """Score inputs without logs (e.g. a list of names)."""


@score.command("domains")
@click.argument("source", type=click.File("r", encoding="utf-8", errors="replace"))
@handle_errors
def score_domains(source):
    """Score each name in SOURCE (a file, or - for stdin; one per line, # comments) for looking
    machine-generated. Prints one JSON object per name: name, score 0-1, verdict dga|benign, reasons."""
    names = (ln.strip() for ln in source)
    lines: list[str] = []  # written a few thousand at a time: one echo per line cost a tenth of the run
    for result in score_names(n for n in names if n and not n.startswith("#")):
        lines.append(machine.dumps(result))
        if len(lines) >= 2000:
            click.echo("\n".join(lines))
            lines.clear()
    if lines:
        click.echo("\n".join(lines))


@click.command()
@click.argument("what")
@existing_db_option
@click.option("--rows", "max_rows", type=COUNT, default=20, show_default=True, help="Evidence rows to show.")
@output_options
@handle_errors
def explain(what, db, max_rows, output):
    """Explain a finding (by id), a domain or a client: every sub-score, the baseline's view and the rows
    behind it."""
    with open_store(db) as store:
        doc = build(store, what, max_rows=max_rows)
    if output in ("json", "ndjson"):
        machine.write_json(doc) if output == "json" else machine.write_ndjson([doc])
        return
    if output == "csv":
        machine.write_csv(doc["evidence"])
        return
    out = con_out.console()
    out.print(f"[bold]{con_out.escape(doc['title'])}[/]")
    for f in doc["findings"]:
        out.print(con_out.findings_table([pipeline.finding_from_dict(f)], title=f"finding {f['id']}"))
        if f["sub_scores"]:
            out.print(con_out.table("sub-scores and modifiers", ["name", "value"],
                                    [[k, v] for k, v in f["sub_scores"].items()]))
    if doc.get("baseline"):
        out.print(con_out.table("baseline", list(doc["baseline"]), [list(doc["baseline"].values())]))
    if doc.get("timeline"):
        out.print(con_out.table(f"story of {doc['title'].removeprefix('client ')} (UTC)", ["when", "family", "what"],
                                [[e["ts"][:19], e["family"], e["text"]] for e in doc["timeline"]]))
    if doc["evidence"]:
        cols = list(doc["evidence"][0])
        out.print(con_out.table(f"evidence (first {len(doc['evidence'])} of {doc['evidence_total']:,} rows)", cols,
                                [[r[c] for c in cols] for r in doc["evidence"]]))


@click.group("lists", invoke_without_command=True)
@output_options
@click.pass_context
def lists_group(ctx, output):
    """Show the installed public lists (age, entries, stale flag); `lists update` downloads them."""
    if ctx.invoked_subcommand is not None:
        return
    have = {item.name: item for item in installed()}
    rows = []
    for name, spec in CATALOG.items():
        item = have.get(name)
        rows.append({
            "name": name, "kind": spec.kind, "installed": item.date.strftime("%Y-%m-%d") if item else None,
            "age_days": round(item.age_days, 1) if item else None, "entries": item.entries if item else None,
            "stale": item.stale if item else None, "description": spec.description,
        })
    emit(rows, output, f"Lists in {data_dir()} (`netsift lists update` downloads them)")


@lists_group.command("update")
@click.argument("names", nargs=-1)
@click.option("-q", "--quiet", is_flag=True, help="No progress bar.")
@handle_errors
def lists_update(names, quiet):
    """Download public lists (all, or the NAMES given) into the data directory. This is the only command
    that uses the network by default."""
    unknown = [n for n in names if n not in CATALOG]
    if unknown:
        raise click.ClickException(f"unknown list {', '.join(unknown)}; lists: {', '.join(CATALOG)}")
    bar = progress_bar(quiet, "download")
    seen = {"name": None, "done": 0}

    def progress(name: str, done: int, total: int | None) -> None:
        if name != seen["name"]:
            bar.stop()
            bar.start(total or 0)
            seen["name"], seen["done"] = name, 0
        bar.advance(done - seen["done"])
        seen["done"] = done

    try:
        results = update(list(names) or None, progress=progress)
    finally:
        bar.stop()
    err = con_out.console(stderr=True)
    for r in results:
        if r.ok:
            err.print(f"{r.name}: {r.entries:,} entries, {r.bytes:,} bytes, sha256 {r.sha256[:12]}…")
        else:
            err.print(f"[red]{r.name}: failed[/]: {con_out.escape(r.error or '')}")
    if not all(r.ok for r in results):
        sys.exit(1)


@click.command()
@click.option("--markdown", "as_markdown", is_flag=True, help="As Markdown (docs/schema.md).")
@output_options
def schema(as_markdown, output):
    """Print the canonical tables (DDL, or Markdown; --json/--ndjson/--csv: one row per column)."""
    pipeline.register_all_tables()
    if output:
        emit([{"table": t.name, "column": c.name, "type": c.type, "nullable": c.nullable,
                "primary_key": c.name in t.primary_key, "doc": c.doc}
               for t in declared.all_tables() for c in t.columns], output, "Tables")
    elif as_markdown:
        click.echo(declared.markdown())
    else:
        click.echo(";\n\n".join(declared.duckdb_ddl(t) for t in declared.all_tables()) + ";")


@click.group(invoke_without_command=True)
@output_options
@click.pass_context
def config(ctx, output):
    """Show every setting with its section, default, range and help (--json/--ndjson/--csv for machines)."""
    if ctx.invoked_subcommand is None:
        rows = []
        for section_name, settings in pipeline.settings_sections().items():
            for s in settings:
                rng = f"{s.min}..{s.max}" if s.min is not None or s.max is not None else (
                    ", ".join(map(str, s.choices)) if s.choices else "")
                rows.append({"section": section_name, "name": s.name, "default": s.default, "range": rng,
                             "help": s.help})
        emit(rows, output, "Settings ([section] name = value in a TOML file given with --config)")


@config.command("validate")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@handle_errors
def config_validate(path):
    """Check a settings file: every unknown name and out-of-range value is reported."""
    user = load_file(path)  # ConfigError: not TOML, not UTF-8, unreadable
    problems = validate(pipeline.settings_sections(), user)
    for p in problems:
        click.echo(con_out.printable(f"{path}: {p}"), err=True)
    if problems:
        sys.exit(1)
    click.echo(f"{path}: ok", err=True)

"""``netsift watch``: a thin command over :class:`netsift.watch.runner.Watcher`, registered on the main group."""

from __future__ import annotations

import json
import os
import signal
import sys
import threading

import click

from netsift.cli_analysis import analysis_options, analysis_opts, enrich_file_options, enrich_opts
from netsift.cli_options import PORT, db_option, handle_errors, ingest_options, ingest_opts
from netsift.errors import UsageError
from netsift.findings import SEVERITIES
from netsift.store import default_db_path, open_store
from netsift.watch.alerts import CefSink, NdjsonSink, Sink, Webhook
from netsift.watch.follow import watched_paths
from netsift.watch.health import Health, format_status, read_status, status_path
from netsift.watch.runner import WatchOptions, Watcher
from netsift.watch.syslog import SyslogListener

STATUS_SECONDS = 1.0


@click.command()
@click.argument("paths", nargs=-1)
@db_option
@ingest_options
@click.option("--syslog", "syslog_urls", multiple=True, metavar="udp://HOST:PORT|tcp://HOST:PORT",
              help="Listen for syslog (RFC 3164/5424; TCP octet-counted or newline framing); repeatable. "
                   "The message's program picks the parser.")
@click.option("--alerts", "alerts_path", default="-", show_default=True, metavar="FILE|-",
              help="Where alerts go, one JSON object per line (- is stdout; a file is appended to).")
@click.option("--webhook", default=None, metavar="URL", help="POST each alert as JSON here (retries with backoff).")
@click.option("--cef", "cef_target", default=None, metavar="udp://HOST:PORT|tcp://HOST:PORT",
              help="Send each alert as CEF over syslog (for SIEMs).")
@click.option("--min-severity", type=click.Choice(SEVERITIES), default="medium", show_default=True,
              help="Alert on findings at or above this severity.")
@click.option("--serve", "serve_dashboard", is_flag=True, help="Run the dashboard in the same process (live pages).")
@click.option("--port", type=PORT, default=8080, show_default=True, help="Dashboard port (127.0.0.1) with --serve.")
@click.option("--poll", type=click.FloatRange(0.05, 10), default=0.25, show_default=True,
              help="Seconds between polls of the followed files.")
@click.option("--detect-every", type=click.FloatRange(0.5, 3600), default=2.0, show_default=True,
              help="Seconds between analyses at least (never more than half of the time).")
@click.option("--no-detect", is_flag=True, help="Store only: no analysis, no alerts.")
@click.option("--status", "show_status", is_flag=True,
              help="Print the health of the watcher running on --db and exit.")
@click.option("--json", "as_json", is_flag=True, help="With --status: the health as JSON.")
@analysis_options(reanalysis=True)
@enrich_file_options(purpose="the analyses")
@handle_errors
def watch(paths, db, fmt, year, tz, columns, strict, show_secrets, syslog_urls, alerts_path, webhook, cef_target, min_severity,
          serve_dashboard, port, poll, detect_every, no_detect, show_status, as_json, top_lists, allowlist, config_file,
          geoip_dbs, category_paths, feed_specs):
    """Follow logs as they grow (like tail -F: appends, rotation, truncation, new files in a directory or
    glob; - follows stdin) and syslog, store them in small checkpointed transactions, analyse on a cadence
    and print an alert (one JSON line) for each new or escalated finding.

    Holds the store's write lock while it runs; `netsift watch --status` shows its health, and so does
    SIGUSR1 (on stderr)."""
    db = db or default_db_path()
    if show_status:
        doc = read_status(db)
        if doc is None:
            raise UsageError(f"no watcher status for {db} ({status_path(db)} not found): is `netsift watch` running?")
        click.echo(json.dumps(doc, indent=2) if as_json else format_status(doc))
        return
    if not paths and not syslog_urls:
        raise UsageError("give files, directories, globs or - to follow, or --syslog")
    if strict:
        raise UsageError("--strict stops at the first bad line: not for a watcher (see `netsift rejected`)")
    opts = WatchOptions(paths=paths, ingest=ingest_opts(fmt, year, tz, columns, False, show_secrets),
                        analysis=analysis_opts(top_lists, allowlist, config_file,
                                               enrich=enrich_opts(feed_specs, category_paths, geoip_dbs)),
                        min_severity=min_severity, poll=poll, detect_every=detect_every, detect=not no_detect,
                        rollups=serve_dashboard, spool_dir=f"{db}.syslog-spool" if syslog_urls else None)
    sinks: list[Sink] = []
    if alerts_path == "-":
        sinks.append(NdjsonSink(sys.stdout))
    else:
        sinks.append(NdjsonSink(open(alerts_path, "a", encoding="utf-8"), owned=True))  # noqa: SIM115
    hook = Webhook(webhook) if webhook else None
    if hook is not None:
        sinks.append(hook)
    if cef_target:
        sinks.append(CefSink(cef_target))
    listeners = [SyslogListener.parse(u) for u in syslog_urls]
    health = Health()
    store = open_store(db)
    server = None
    try:
        watcher = Watcher(store, opts, sinks, health)
        for listener in listeners:
            listener.start(watcher)
            click.echo(f"listening for syslog on {listener.url}", err=True)
        if serve_dashboard:
            from netsift.watch.live import start_dashboard  # deferred: the FastAPI stack (~0.3 s)

            server = start_dashboard(store, watcher, port, opts.analysis)
            click.echo(f"netsift dashboard on http://127.0.0.1:{port}/  (live)", err=True)
        _on_signals(watcher, health, db, hook)
        click.echo(f"watching {', '.join(paths) or 'syslog'} into {db} (Ctrl-C to stop)", err=True)
        for path in paths:
            if path != "-" and not os.path.isdir(path) and not watched_paths([path]):
                # like tail -F: said, then followed once it exists (a typo shows here, not as silence)
                click.echo(f"{path}: no such file yet; waiting for it to appear", err=True)
        watcher.run()
    finally:
        for listener in listeners:
            listener.close()
        if server is not None:
            server.should_exit = True
        for sink in sinks:
            sink.close()
        store.close()
        try:
            os.unlink(status_path(db))
        except OSError:
            pass


def _on_signals(watcher: Watcher, health: Health, db: str, hook: Webhook | None) -> None:
    """SIGUSR1 prints the health on stderr; SIGTERM stops cleanly (as Ctrl-C); the status file is written
    about once a second."""
    def extra() -> None:
        if hook is not None:
            health.extra["webhook"] = {"sent": hook.sent, "failed": hook.failed, "dropped": hook.dropped,
                                       "queued": hook.queue.qsize(), "last_error": hook.last_error}

    def on_usr1(signum, frame):
        extra()
        click.echo(format_status(health.snapshot()), err=True)

    def on_term(signum, frame):
        watcher.stop.set()

    if threading.current_thread() is threading.main_thread():
        if hasattr(signal, "SIGUSR1"):
            signal.signal(signal.SIGUSR1, on_usr1)
        signal.signal(signal.SIGTERM, on_term)

    def write_status() -> None:
        while not watcher.stop.wait(STATUS_SECONDS):
            extra()
            try:
                health.write(status_path(db))
            except OSError:
                pass

    threading.Thread(target=write_status, name="netsift-status", daemon=True).start()

"""``netsift bandwidth`` and ``netsift credentials``: thin shells over :mod:`netsift.report.traffic`."""

from __future__ import annotations

import click

from netsift.cli_options import existing_db_option, handle_errors, output_options
from netsift.report import console as con_out
from netsift.report import machine
from netsift.report.traffic import bandwidth as per_client
from netsift.report.traffic import credentials as seen_credentials
from netsift.report.traffic import human_bytes
from netsift.store import open_store

BANDWIDTH_COLUMNS = ["client", "bytes_out", "bytes_in", "connections", "first_seen", "last_seen"]
CREDENTIAL_COLUMNS = ["ts", "client", "server", "server_port", "protocol", "account", "secret", "host", "detail"]


@click.command()
@existing_db_option
@click.option("--client", default=None, help="Only this client.")
@click.option("--limit", type=click.IntRange(min=0), default=25, show_default=True, help="Clients to show (0: all).")
@output_options
@handle_errors
def bandwidth(db, client, limit, output):
    """Bytes per client (conn.log, captures, proxy logs): sent, received, connections, first and last seen,
    most bytes sent first. Bytes are summed exactly as the logs give them (--json for the exact integers)."""
    with open_store(db) as store:
        rows = per_client(store, client, limit or None)
    if not rows and output is None:
        con_out.console(stderr=True).print("no connections in this store: ingest a Zeek conn.log, a capture or a "
                                           "Squid access.log")
        return
    shown = [[r["client"], human_bytes(r["bytes_out"]), human_bytes(r["bytes_in"]), f"{r['connections']:,}",
              r["first_seen"], r["last_seen"]] for r in rows]
    machine.emit(rows, output, "Bandwidth per client (most bytes sent first)", BANDWIDTH_COLUMNS, shown)


@click.command()
@existing_db_option
@click.option("--limit", type=click.IntRange(min=0), default=100, show_default=True, help="Rows to show (0: all).")
@output_options
@handle_errors
def credentials(db, limit, output):
    """Credentials seen in clear text in captures, oldest first; secrets masked (p*******) unless the capture
    was ingested with --show-secrets."""
    with open_store(db) as store:
        rows = seen_credentials(store, limit or None)
    if not rows and output is None:
        con_out.console(stderr=True).print("no credentials seen in clear in this store")
        return
    shown = [[r.get(c) for c in CREDENTIAL_COLUMNS] for r in rows]
    machine.emit(rows, output, "Credentials seen in clear text", CREDENTIAL_COLUMNS, shown)

"""Zeek ``conn.log`` in Zeek's TSV format (the ``#fields`` header): one row per connection into
``connections``.

Fields read (Zeek's ``Conn::Info``): ``ts``, ``id.orig_h``, ``id.orig_p``, ``id.resp_h``, ``id.resp_p``,
``proto``, ``service``, ``duration``, ``orig_bytes``, ``resp_bytes``, ``orig_pkts``, ``resp_pkts``,
``conn_state``. Columns are found by name, so a cluster's extra ``_node_name`` column, ``community_id``,
``ip_proto`` or a reordered schema read the same. ``bytes_out`` / ``bytes_in`` are ``orig_bytes`` /
``resp_bytes`` as Zeek logs them (payload bytes, unset for a connection with no payload seen: null, not 0).
The file is recognised by a ``#fields`` header naming ``orig_bytes`` and ``conn_state`` (or ``#path conn``).

Accounting: header, trailer and blank lines are skipped; a row with the wrong number of fields, an
unreadable ``ts`` or no ``id.orig_h`` / ``id.resp_h`` is rejected with the reason (common rules:
``ingest/zeek_logs.py``).
"""

from __future__ import annotations

from netsift.ingest.base import Parser
from netsift.ingest.zeek_logs import ZeekLog, tsv_parser
from netsift.schema import CONNECTIONS

CONN_LOG = ZeekLog(
    path="conn",
    table=CONNECTIONS,
    columns={
        "ts": ("ts", "time"), "client": ("id.orig_h", "text"), "client_port": ("id.orig_p", "int"),
        "server": ("id.resp_h", "text"), "server_port": ("id.resp_p", "int"), "protocol": ("proto", "text"),
        "service": ("service", "text"), "duration": ("duration", "float"), "bytes_out": ("orig_bytes", "int"),
        "bytes_in": ("resp_bytes", "int"), "packets_out": ("orig_pkts", "int"),
        "packets_in": ("resp_pkts", "int"), "state": ("conn_state", "text"),
    },
    required=("ts", "client", "server"),
    json_keys=("conn_state", "proto"),
    signature=("ts", "id.orig_h", "orig_bytes", "conn_state"),
)

parse, sniff = tsv_parser(CONN_LOG)

PARSER = Parser(
    name="zeek_conn_tsv",
    description="Zeek conn.log, TSV with #fields header: connections, bytes and packets each way.",
    kind="lines",
    table=CONNECTIONS.name,
    sniff=sniff,
    parse=parse,
)

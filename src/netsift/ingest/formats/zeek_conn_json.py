"""Zeek ``conn.log`` written as JSON lines (``LogAscii::use_json=T``, Corelight, Filebeat, Security
Onion): one row per connection into ``connections``.

The same fields as ``zeek_conn_tsv``; ``id.orig_h``, ``id_orig_h`` and a nested ``"id": {...}`` are all
read, ``ts`` is epoch seconds or ISO 8601, and extra keys (a cluster's ``_node_name``, ``community_id``)
are ignored. Recognised by objects carrying ``id.orig_h`` (or its spellings) with ``conn_state`` and
``proto`` (present in every record; unset fields are absent in JSON). Accounting: blank lines are skipped; a line that is not a JSON object, has a field of the
wrong type, no readable ``ts`` or no addresses is rejected with the reason.
"""

from __future__ import annotations

from netsift.ingest.base import Parser
from netsift.ingest.formats.zeek_conn_tsv import CONN_LOG
from netsift.ingest.zeek_logs import json_parser

parse, sniff = json_parser(CONN_LOG)

PARSER = Parser(
    name="zeek_conn_json",
    description="Zeek conn.log as JSON lines: connections, bytes and packets each way.",
    kind="lines",
    table=CONN_LOG.table.name,
    sniff=sniff,
    parse=parse,
)

"""Zeek ``http.log`` written as JSON lines: one row per request into ``http_requests``.

The same fields as ``zeek_http_tsv`` (``password`` never read), with the JSON spellings of
``zeek_conn_json``. Recognised by objects carrying ``id.orig_h`` (or its spellings) with ``trans_depth``
(every http.log record has it; unset fields are absent in JSON). Accounting as ``zeek_conn_json``.
"""

from __future__ import annotations

from netsift.ingest.base import Parser
from netsift.ingest.formats.zeek_http_tsv import HTTP_LOG
from netsift.ingest.zeek_logs import json_parser

parse, sniff = json_parser(HTTP_LOG)

PARSER = Parser(
    name="zeek_http_json",
    description="Zeek http.log as JSON lines: HTTP requests (method, host, URI, agent, status).",
    kind="lines",
    table=HTTP_LOG.table.name,
    sniff=sniff,
    parse=parse,
)

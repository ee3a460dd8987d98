"""Zeek ``http.log`` in Zeek's TSV format (the ``#fields`` header): one row per request into
``http_requests``.

Fields read (Zeek's ``HTTP::Info``): ``ts``, ``id.orig_h``, ``id.resp_h``, ``id.resp_p``, ``method``,
``host`` (lower-cased, port dropped), ``uri``, ``user_agent``, ``status_code``, ``request_body_len``
(``bytes_out``), ``response_body_len`` (``bytes_in``) and ``username`` (``account``). Zeek's
``password`` column is never read (cleartext credentials come from captures, masked). A row whose
request Zeek never saw (``method`` unset) is kept with a null method. Recognised by a ``#fields`` header
naming ``method``, ``uri`` and ``status_code`` (or ``#path http``). Accounting as ``zeek_conn_tsv``.
"""

from __future__ import annotations

from netsift.ingest.base import Parser
from netsift.ingest.zeek_logs import ZeekLog, tsv_parser
from netsift.schema import HTTP_REQUESTS

HTTP_LOG = ZeekLog(
    path="http",
    table=HTTP_REQUESTS,
    columns={
        "ts": ("ts", "time"), "client": ("id.orig_h", "text"), "server": ("id.resp_h", "text"),
        "server_port": ("id.resp_p", "int"), "method": ("method", "text"), "host": ("host", "host"),
        "uri": ("uri", "text"), "user_agent": ("user_agent", "text"), "status": ("status_code", "int"),
        "bytes_out": ("request_body_len", "int"), "bytes_in": ("response_body_len", "int"),
        "account": ("username", "text"),
    },
    required=("ts", "client"),
    json_keys=("trans_depth",),
    signature=("ts", "id.orig_h", "method", "uri", "status_code"),
    constants={"log": "zeek"},
)

parse, sniff = tsv_parser(HTTP_LOG)

PARSER = Parser(
    name="zeek_http_tsv",
    description="Zeek http.log, TSV with #fields header: HTTP requests (method, host, URI, agent, status).",
    kind="lines",
    table=HTTP_REQUESTS.name,
    sniff=sniff,
    parse=parse,
)

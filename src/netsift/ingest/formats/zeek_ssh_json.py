"""Zeek ``ssh.log`` written as JSON lines: one row per SSH connection into ``logon_events``.

The same fields and meaning as ``zeek_ssh_tsv`` (``auth_success`` true/false/absent), with the JSON spellings
of ``zeek_conn_json``. Recognised by objects carrying ``id.orig_h`` (or its spellings) with
``auth_attempts`` (every ssh.log record has it). Accounting as ``zeek_conn_json``.
"""

from __future__ import annotations

from netsift.ingest.base import Parser
from netsift.ingest.formats.zeek_ssh_tsv import SSH_LOG
from netsift.ingest.zeek_logs import json_parser

parse, sniff = json_parser(SSH_LOG)

PARSER = Parser(
    name="zeek_ssh_json",
    description="Zeek ssh.log as JSON lines: SSH logons seen on the wire (success, failures, none).",
    kind="lines",
    table=SSH_LOG.table.name,
    sniff=sniff,
    parse=parse,
)

"""Zeek ``ssh.log`` in Zeek's TSV format (the ``#fields`` header): one row per SSH connection into
``logon_events``, as a network sensor sees logons it cannot read (the session is encrypted).

Fields read (Zeek's ``SSH::Info``): ``ts``, ``id.orig_h`` (``client``), ``id.orig_p`` (``port``),
``id.resp_h`` (``host``: the server's address), ``auth_success`` and ``auth_attempts``. ``auth_success`` T
is a ``success``; F a ``failure`` standing for its ``auth_attempts`` failed attempts (``repeats``, so the
logon detectors count each); unset (the client never authenticated: a scanner, a banner grab) a
``disconnect``. ``service`` is ``ssh`` (seen on the wire, not sshd's own log) and ``detail`` the client's
software (``client``: ``SSH-2.0-libssh_0.9.6``). Zeek cannot see the account, so account-based detectors
(password_spray, new_logon_source) have nothing to read; brute_force and login_after_failures do. Zeek infers
``auth_success`` from packet sizes: a heuristic that can be wrong for unusual servers. Recognised by a
``#fields`` header naming ``auth_success`` and ``auth_attempts`` (or ``#path ssh``). Accounting as
``zeek_conn_tsv``.
"""

from __future__ import annotations

from netsift.ingest.base import Parser
from netsift.ingest.zeek_logs import ZeekLog, tsv_parser
from netsift.schema import LOGON_EVENTS

SSH_LOG = ZeekLog(
    path="ssh",
    table=LOGON_EVENTS,
    columns={
        "ts": ("ts", "time"), "client": ("id.orig_h", "text"), "port": ("id.orig_p", "int"),
        "host": ("id.resp_h", "text"), "event": ("auth_success", "outcome"), "detail": ("client", "text"),
    },
    when_event={"repeats": ("auth_attempts", "int", "failure")},
    required=("ts", "client"),
    json_keys=("auth_attempts",),
    signature=("ts", "id.orig_h", "auth_success", "auth_attempts"),
    constants={"service": "ssh"},
)

parse, sniff = tsv_parser(SSH_LOG)

PARSER = Parser(
    name="zeek_ssh_tsv",
    description="Zeek ssh.log, TSV with #fields header: SSH logons seen on the wire (success, failures, none).",
    kind="lines",
    table=LOGON_EVENTS.name,
    sniff=sniff,
    parse=parse,
)

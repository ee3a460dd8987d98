"""Linux authentication log (``/var/log/auth.log``, ``/var/log/secure``): sshd, sudo, su, login and PAM.

Rows go to ``logon_events`` (``client``: the address that tried; ``host``: the syslog host name, the
machine logged into). Three syslog envelopes, one per line, mixed freely::

    Mar  3 14:02:11 web1 sshd[811]: Failed password for invalid user admin from 203.0.113.9 port 50112 ssh2
    2026-03-03T14:02:11.123456+01:00 web1 sshd[811]: Accepted publickey for bob from 10.0.0.5 port 52144 ssh2: ...
    <38>1 2026-03-03T14:02:11.003Z web1 sshd 811 - - Invalid user test from 203.0.113.9 port 50113

RFC 3164 (year-less: the year as for the other syslog formats, ``--year``, else the file's modification
time, rolling over at New Year; read in ``--tz``), rsyslog's high-precision ISO 8601 stamps
(``RSYSLOG_FileFormat``; an offset or ``Z`` is honoured, a naive stamp read in ``--tz``) and RFC 5424
(``<PRI>1 STAMP HOST APP PROCID MSGID [SD] MSG``; a ``-`` stamp is rejected). Old-style program names
such as ``sshd(pam_unix)`` and OpenSSH 9.8's ``sshd-session`` count as sshd.

Messages read (``ingest/auth_messages.py``, one rule each): sshd ``Failed <method> for [invalid user] U
from A port P``, ``Accepted <method> for U from A port P``, ``Invalid user U from A [port P]``, ``maximum
authentication attempts exceeded``, ``Disconnecting ...: Too many authentication failures``, the pre-auth
disconnects (``Disconnected from [invalid|authenticating] user U A port P [preauth]``, ``Connection
closed by ... [preauth]``, ``Received disconnect from A port P:11: ... [preauth]``; without ``[preauth]``
after a session: a logoff); any program's ``pam_unix(SVC:auth): authentication failure; ... rhost=A
user=U`` (method ``pam``, service ``SVC``); sudo's ``U : [3 incorrect password attempts ;] TTY=... ;
PWD=... ; USER=T ; COMMAND=C`` (a privilege use, or a failure); su's ``Successful su for T by U``,
``FAILED su for T by U``, ``+ tty U:T`` / ``- tty U:T`` and its PAM session opened; login's ``FAILED
LOGIN`` and ``ROOT LOGIN``.

Skipped, counted by class: lines of other programs ("other program"), and other messages of these
programs (session opened/closed, key exchange, "Server listening": "other sshd message", ...). Rejected:
lines with no syslog envelope, stamps that do not parse, and messages that start like one of the forms
above but do not match it (a truncated line).
"""

from __future__ import annotations

import polars as pl

from netsift.ingest.auth_messages import TABLE, auth_events
from netsift.ingest.base import (ParseContext, Parser, ParseResult, empty_rejected, iso_timestamps, rejected_from,
                                 syslog_timestamps)

# <PRI>? Mmm dd hh:mm:ss[.frac] host program[pid]: message
_RFC3164 = (r"^(?:<\d{1,3}>)?(?P<stamp>[A-Z][a-z]{2} [ 0-9][0-9] \d\d:\d\d:\d\d(?:\.\d+)?) (?P<host>\S+) +"
            r"(?P<program>[^\[:]*?)(?:\[(?P<pid>[^\]]*)\])?: ?(?P<message>.*)$")
# rsyslog's high-precision stamp: 2026-03-03T14:02:11.123456+01:00 host program[pid]: message
_ISO = (r"^(?:<\d{1,3}>)?(?P<stamp>\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d(?:\.\d+)?(?:Z|[+-]\d\d:?\d\d)?) (?P<host>\S+) +"
        r"(?P<program>[^\[:]*?)(?:\[(?P<pid>[^\]]*)\])?: ?(?P<message>.*)$")
# RFC 5424: <PRI>1 STAMP HOST APP PROCID MSGID SD MSG (SD "-" or [..] elements, without "]" inside values)
_RFC5424 = (r"^<\d{1,3}>1 (?P<stamp>\S+) (?P<host>\S+) (?P<program>\S+) (?P<pid>\S+) \S+ "
            r"(?:-|(?:\[[^\]]*\])+)(?: (?P<message>.*))?$")
# a plain RFC 3164 line (no <PRI>, no fraction, a program without spaces or colons, then ": "): the fast path
_PLAIN_3164 = r"^[A-Z][a-z]{2} [ 0-9][0-9] [0-9]{2}:[0-9]{2}:[0-9]{2} [^ ]+ [^ :\[]+(?:\[[^\]]*\])?: "
_SNIFF_PROGRAMS = ("sshd", "sudo", "su", "login", "sshd-session", "sshd(pam_unix)", "su(pam_unix)")


def envelope(lines: pl.DataFrame, ctx: ParseContext) -> tuple[pl.DataFrame, pl.DataFrame, int]:
    """(line_no, line, ts, host, program, message) of the syslog lines, the lines with no envelope
    (rejected), and the blank lines (skipped)."""
    blank = lines["line"].fill_null("").str.strip_chars() == ""
    lines = lines.filter(~blank)
    parts, rest = [], lines
    # the common case, tokenised without captures: "Mmm dd hh:mm:ss host program[pid]: message"
    plain = rest["line"].str.contains(_PLAIN_3164)
    if plain.any():
        hit = rest.filter(plain)
        rest = rest.filter(~plain)
        tail = pl.col("line").str.slice(16)
        host_rest = tail.str.splitn(" ", 2)
        prog_msg = host_rest.struct.field("field_1").str.splitn(": ", 2)
        hit = hit.with_columns(stamp=pl.col("line").str.slice(0, 15), host=host_rest.struct.field("field_0"),
                               program=prog_msg.struct.field("field_0").str.replace(r"\[[^\]]*\]$", ""),
                               message=prog_msg.struct.field("field_1").str.strip_chars_end("\r"))
        parts.append(hit.with_columns(ts=syslog_timestamps(hit["stamp"], ctx))
                     .select("line_no", "line", "ts", "host", "program", "message"))
    for name, regex in (("3164", _RFC3164), ("iso", _ISO), ("5424", _RFC5424)):
        if not rest.height:
            break
        got = rest.with_columns(pl.col("line").str.strip_chars_end("\r").str.extract_groups(regex).alias("g")).unnest("g")
        ok = got["host"].is_not_null()
        hit = got.filter(ok)
        rest = rest.filter(~ok)
        if not hit.height:
            continue
        stamps = (syslog_timestamps(hit["stamp"], ctx) if name == "3164"
                  else iso_timestamps(hit["stamp"], ctx.tz))
        parts.append(hit.with_columns(ts=stamps, message=pl.col("message").fill_null(""))
                     .select("line_no", "line", "ts", "host", "program", "message"))
    env = (pl.concat(parts) if parts else
           pl.DataFrame(schema={"line_no": pl.Int64, "line": pl.String, "ts": pl.Datetime("us"), "host": pl.String,
                                "program": pl.String, "message": pl.String}))
    return env.sort("line_no"), rest, int(blank.sum())


def parse(lines: pl.DataFrame, ctx: ParseContext) -> ParseResult:
    env, no_envelope, blank = envelope(lines, ctx)
    result = auth_events(env)
    rejected = [result.rejected]
    if no_envelope.height:
        rejected.append(rejected_from(no_envelope, "not a syslog line (no stamp, host and program)"))
    skipped_by = {**result.skipped_by, "blank": blank}
    return ParseResult(result.records, pl.concat(rejected).sort("source_line") if rejected else empty_rejected(),
                       skipped_by=skipped_by)


def sniff(lines: list[str]) -> float:
    """Syslog lines of which some are sshd/sudo/su/login messages."""
    sample = lines[:50]
    if not sample:
        return 0.0
    frame = pl.DataFrame({"line": sample})
    programs: list[str] = []
    for regex in (_RFC3164, _ISO, _RFC5424):
        got = frame.select(pl.col("line").str.extract_groups(regex).struct.field("program")).to_series()
        programs += [p for p in got.to_list() if p]
    if len(programs) < max(1, len(sample) // 2):
        return 0.0
    auth = sum(1 for p in programs if p.lower() in _SNIFF_PROGRAMS or p.lower().startswith(("sshd", "sudo")))
    if not auth:
        return 0.0
    return 0.9 if auth * 4 >= len(programs) else 0.7


PARSER = Parser("linux_auth", "Linux auth log (auth.log, secure): sshd, sudo, su, login, PAM over syslog "
                "(RFC 3164, RFC 5424, ISO stamps)", "lines", table=TABLE, sniff=sniff, parse=parse,
                syslog_programs=("sshd", "sshd-session", "sudo", "su", "login"))

"""Linux authentication messages -> ``logon_events`` rows, whatever carried them (a syslog file, a
journald export). The format modules (``formats/linux_auth.py``, ``formats/journald_json.py``) read the
envelope (stamp, host, program, message); this module reads the message, table-driven.

Each rule is (services, how the message starts, a regex with named groups, the event). Rules are tried in
order on the lines of an authentication program (``sshd``, ``sshd-session``, ``sudo``, ``su``, ``login``
and any program's ``pam_unix(SERVICE:auth): authentication failure``); a line of such a program that
starts like a rule but does not match its regex is rejected (a truncated or unknown variant); a line of
such a program that no rule claims is skipped as "other <program> message" (session bookkeeping, key
exchange, listening notices); lines of other programs are skipped as "other program".

Events (``logon_events.event``): ``success`` (sshd Accepted, login ROOT LOGIN), ``failure`` (sshd Failed,
PAM authentication failure, sudo incorrect password / not in sudoers, su FAILED, login FAILED LOGIN),
``invalid_user`` (sshd's "Invalid user X from": an unknown account announced before any attempt),
``max_attempts`` (maximum authentication attempts exceeded, too many authentication failures),
``disconnect`` (a connection closed before authenticating, ``[preauth]``), ``logoff`` (sshd
Disconnected from user, a received disconnect after the session), ``privileged`` (a sudo command, a
successful su). ``unknown_account`` is true when the log says the account does not exist (sshd's invalid
user). rsyslog's repeated-message reduction (``message repeated N times: [ MESSAGE]``, on by default on
Debian and Ubuntu) is read as MESSAGE with ``repeats`` N: the row stands for N events. PAM failures get method ``pam`` (sshd logs its own Failed line for the same attempt: the
detectors count the larger of the two, never their sum).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from netsift.ingest.base import ParseResult, empty_records, finish_records, rejected_from

TABLE = "logon_events"

# the envelope every caller hands over: line_no, line (for rejected text), ts, host, program, message
ENVELOPE = ("line_no", "line", "ts", "host", "program", "message")


@dataclass(frozen=True)
class Rule:
    services: tuple[str, ...]  # the programs it applies to ("*": any)
    start: str  # the message starts with this (after an optional "error: ")
    regex: str  # named groups: account, client, port, method, invalid, preauth, detail, target
    event: str  # the event; "?" rules decide in _event()
    method: str | None = None  # fixed method (else the "method" group)
    contains: str = ""  # and holds this text (literal)


_ADDR = r"(?P<client>\S+) port (?P<port>\d+)"
_PAM_FAIL = (r"authentication failure;.*?(?:logname=(?P<target>\S*))?.*?rhost=(?P<client>\S*)"
             r"(?:\s+user=(?P<account>\S+))?")

RULES: tuple[Rule, ...] = (
    Rule(("sshd",), "Failed ", r"^Failed (?P<method>\S+) for (?P<invalid>invalid user )?(?P<account>.*?) from " + _ADDR,
         "failure"),
    Rule(("sshd",), "Accepted ", r"^Accepted (?P<method>\S+) for (?P<account>.*?) from " + _ADDR, "success"),
    Rule(("sshd",), "Invalid user ", r"^Invalid user (?P<account>.*?) from (?P<client>\S+)(?: port (?P<port>\d+))?",
         "invalid_user"),
    Rule(("sshd",), "", contains="maximum authentication attempts exceeded", regex=
         r"maximum authentication attempts exceeded for (?P<invalid>invalid user )?(?P<account>.*?) from " + _ADDR,
         event="max_attempts"),
    Rule(("sshd",), "Disconnecting ",
         r"^Disconnecting (?:(?P<invalid>invalid) user|authenticating user|user) (?P<account>.*?) " + _ADDR
         + r": (?P<detail>.*?)(?P<preauth> \[preauth\])?$", "?"),
    Rule(("sshd",), "Disconnected from ",
         r"^Disconnected from (?:(?:(?P<invalid>invalid) user|(?P<target>authenticating) user|user) (?P<account>.*?) )?"
         + _ADDR + r"(?P<preauth> \[preauth\])?", "?"),
    Rule(("sshd",), "Connection closed by ",
         r"^Connection closed by (?:(?:(?P<invalid>invalid) user|authenticating user) (?P<account>.*?) )?" + _ADDR
         + r"(?P<preauth> \[preauth\])?", "?"),
    Rule(("sshd",), "Received disconnect from ",
         r"^Received disconnect from " + _ADDR + r":\s*(?P<detail>.*?)(?P<preauth> \[preauth\])?$", "?"),
    Rule(("*",), "pam_unix(", r"^pam_unix\((?P<method>[^:)]+):auth\): " + _PAM_FAIL, "failure", "pam",
         contains=":auth): authentication failure;"),
    Rule(("*",), "authentication failure;", "^" + _PAM_FAIL, "failure", "pam"),
    Rule(("sudo",), "", contains=" ; USER=", regex=r"^\s*(?P<account>\S+) : (?P<detail>.*?)(?:TTY=\S+ ; )?PWD=.*? ; USER=(?P<target>\S+) ; "
                        r"(?:.*?; )?COMMAND=(?P<method>.*)$", event="?"),
    Rule(("su",), "Successful su for ", r"^Successful su for (?P<account>\S+) by (?P<target>\S+)", "privileged", "su"),
    Rule(("su",), "FAILED su for ", r"^FAILED su for (?P<account>\S+) by (?P<target>\S+)", "failure", "su"),
    Rule(("su",), "+ ", r"^\+ (?P<detail>\S+) (?P<target>[^:\s]+):(?P<account>\S+)", "privileged", "su"),
    Rule(("su",), "- ", r"^- (?P<detail>\S+) (?P<target>[^:\s]+):(?P<account>\S+)", "failure", "su"),
    Rule(("su",), "session opened for user ",
         r"^session opened for user (?P<account>[^\s(]+)(?:\(uid=\d+\))? by (?P<target>[^\s(]+|\(uid=\d+\))", "privileged", "su"),
    Rule(("su",), "pam_unix(su", contains=":session): session opened", regex=r"^pam_unix\(su(?:-l)?:session\): session opened for user (?P<account>[^\s(]+)"
                                 r"(?:\(uid=\d+\))? by (?P<target>[^\s(]*)", event="?", method="su"),
    Rule(("login",), "FAILED LOGIN ", r"^FAILED LOGIN (?:\(\d+\) )?(?:on|ON) '?(?P<detail>[^' ]+)'? (?:FROM '?(?P<client>[^' ]*)'? )?"
                                      r"FOR '?(?P<account>[^',]+)'?", "failure", "password"),
    Rule(("login",), "ROOT LOGIN ", r"^ROOT LOGIN (?:on|ON) '?(?P<detail>[^' ]+)'?(?: FROM '?(?P<client>[^' ]+)'?)?",
         "success", "password"),
)
GROUPS = ("account", "client", "port", "method", "invalid", "preauth", "detail", "target")
AUTH_PROGRAMS = ("sshd", "sudo", "su", "login")


def _program(program: pl.Expr) -> pl.Expr:
    """sshd-session -> sshd; sshd(pam_unix) -> sshd; lower case."""
    base = program.str.to_lowercase().str.split("(").list.first()
    return pl.when(base == "sshd-session").then(pl.lit("sshd")).otherwise(base)


def _event(rule: Rule, g: pl.DataFrame) -> pl.Expr:
    """The event of a row matched by ``rule`` (rules marked "?" decide by their groups)."""
    preauth = pl.col("preauth").is_not_null()
    authenticating = pl.col("invalid").is_not_null() | (pl.col("target") == "authenticating")
    if rule.event != "?":
        return pl.lit(rule.event)
    if rule.start == "Disconnecting ":
        return (pl.when(pl.col("detail").str.contains("(?i)too many authentication failures"))
                .then(pl.lit("max_attempts")).otherwise(pl.lit("disconnect")))
    if rule.start == "Disconnected from ":
        return (pl.when(preauth | authenticating | pl.col("account").is_null())
                .then(pl.lit("disconnect")).otherwise(pl.lit("logoff")))
    if rule.start in ("Connection closed by ", "Received disconnect from "):
        return pl.when(preauth).then(pl.lit("disconnect")).otherwise(pl.lit("logoff"))
    if rule.services == ("sudo",):
        return (pl.when(pl.col("detail").str.contains("(?i)incorrect password|NOT in sudoers|authentication failure"))
                .then(pl.lit("failure")).otherwise(pl.lit("privileged")))
    return pl.lit("privileged")  # su's pam session opened


def _matching(message: pl.Expr, rule: Rule) -> pl.Expr:
    starts = message.str.starts_with(rule.start) if rule.start else pl.lit(True)
    return starts & message.str.contains(rule.contains, literal=True) if rule.contains else starts


def auth_events(env: pl.DataFrame) -> ParseResult:
    """Rows of the envelope (``ENVELOPE`` columns, ``ts`` already a datetime) -> logon_events records,
    skipped lines by class, rejected lines. Lines whose ``ts`` is null are rejected here."""
    # rsyslog's repeated-message reduction (on by default on Debian and Ubuntu) folds N identical messages
    # into "message repeated N times: [ MESSAGE]": the row stands for N events
    env = env.rechunk()
    if env["message"].str.starts_with("message repeated ").any():
        folded = pl.col("message").str.extract_groups(r"^message repeated (?P<n>\d+) times: \[ ?(?P<m>.*?)\]?\s*$")
        env = env.with_columns(folded.alias("_folded")).with_columns(
            repeats=pl.col("_folded").struct.field("n").cast(pl.Int64, strict=False),
            message=pl.coalesce(pl.col("_folded").struct.field("m"), pl.col("message")),
        ).drop("_folded")
    env = env.with_columns(service=_program(pl.col("program")),
                           message=pl.col("message").str.strip_prefix("error: ").str.strip_chars_end())
    no_ts = env.filter(pl.col("ts").is_null())
    env = env.filter(pl.col("ts").is_not_null())
    pam_auth = pl.col("message").str.contains(r"^(?:pam_unix\([^)]*:auth\): )?authentication failure;")
    ours = env.filter(pl.col("service").is_in(AUTH_PROGRAMS) | pam_auth)
    others = env.height - ours.height
    rest = ours.with_row_index("_i")
    parts: list[pl.DataFrame] = []
    bad: list[pl.DataFrame] = []
    for rule in RULES:
        if not rest.height:
            break
        applies = pl.lit(True) if rule.services == ("*",) else pl.col("service").is_in(rule.services)
        mask = applies & _matching(pl.col("message"), rule)
        hit, rest = rest.filter(mask), rest.filter(~mask)
        if not hit.height:
            continue
        groups = hit.select(pl.col("message").str.extract_groups(rule.regex).alias("g"))["g"].struct.unnest()
        got = hit.with_columns(*(groups[c] if c in groups.columns else pl.lit(None, pl.String).alias(c)
                                 for c in GROUPS))
        matched = pl.any_horizontal(pl.col(c).is_not_null() for c in groups.columns) if groups.columns else pl.lit(False)
        bad.append(got.filter(~matched))
        got = got.filter(matched)
        if not got.height:
            continue
        got = got.with_columns(event=_event(rule, got))
        if rule.method is not None and rule.method != "pam":
            got = got.with_columns(method=pl.lit(rule.method))
        elif rule.method == "pam":  # the PAM service names the program (gdm, cyrus, sshd ...)
            got = got.with_columns(service=pl.coalesce(pl.col("method"), pl.col("service")), method=pl.lit("pam"),
                                   account=pl.coalesce(pl.col("account").replace("", None),
                                                       pl.col("target").replace("", None)))
        if rule.services == ("sudo",):  # COMMAND= sits in the method group: move it to the detail
            got = got.with_columns(detail=pl.format("USER={} COMMAND={}", pl.col("target"), pl.col("method")),
                                   method=pl.lit("password"))
        elif rule.services == ("su",):
            target = pl.when(pl.col("target") == "").then(pl.lit("?")).otherwise(pl.col("target"))
            got = got.with_columns(detail=pl.concat_str(pl.lit("by "), target,
                                                        pl.lit(" "), pl.col("detail"), ignore_nulls=True)
                                   .str.strip_chars())
        parts.append(got)
    records = pl.concat(parts, how="diagonal_relaxed") if parts else None
    skipped = rest.group_by("service").len() if rest.height else None
    skipped_by = {"other program": others}
    if skipped is not None:
        for service, n in skipped.iter_rows():
            skipped_by[f"other {service} message"] = skipped_by.get(f"other {service} message", 0) + n
    rejected = [rejected_from(no_ts.select("line_no", "line"), "no readable timestamp")]
    for b in bad:
        if b.height:
            rejected.append(rejected_from(b.select("line_no", "line"),
                                          "authentication message in an unrecognised form"))
    if records is None:
        out = empty_records(TABLE)
    else:
        client = pl.col("client").replace({"": None, "UNKNOWN": None, "-": None})
        out = finish_records(records.with_columns(
            client=client, account=pl.col("account").replace("", None),
            unknown_account=pl.col("invalid").is_not_null() | (pl.col("event") == "invalid_user"),
            port=pl.col("port").cast(pl.Int64, strict=False), source_line="line_no",
        ).sort("line_no"), TABLE)
    return ParseResult(out, pl.concat(rejected).sort("source_line"), skipped_by=skipped_by)

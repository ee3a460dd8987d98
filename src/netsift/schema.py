"""The canonical tables, declared once.

Every table is a list of :class:`Column` (name, logical type, one-line doc). The DuckDB DDL, the Polars
dtypes the parsers produce, and ``docs/schema.md`` are all generated from these declarations, so the
three can never drift apart (``tests/test_schema.py`` checks the docs).

Logical types: ``timestamp`` (UTC, microseconds), ``text``, ``int``, ``float``, ``bool``, ``text[]``.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    doc: str
    nullable: bool = True


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    primary_key: tuple[str, ...] = ()

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]


DNS_QUERIES = Table(
    "dns_queries",
    "One row per DNS question seen, whatever log it came from.",
    (
        Column("ts", "timestamp", "When the question was asked (or the response seen, if only that is logged), UTC.", False),
        Column("client", "text", "Asking host: IP address, or a name where the log only has a name."),
        Column("query_name", "text", "Lower-case FQDN without trailing dot; IDN kept as punycode.", False),
        Column("query_type", "text", "A, AAAA, TXT, NULL, MX, PTR, ... (numeric types mapped to names)."),
        Column("response_code", "text", "NOERROR, NXDOMAIN, SERVFAIL, REFUSED, ... where the log says."),
        Column("answers", "text[]", "IPs / names returned, where the log says."),
        Column("resolver_action", "text", "forwarded, cached, blocked:<list>, local, ... where the log says."),
        Column("source_file_id", "int", "The ingested_files row this came from.", False),
        Column("source_line", "int", "Line (or packet / record) number in that file, 1-based.", False),
    ),
)

HTTP_REQUESTS = Table(
    "http_requests",
    "One row per HTTP request seen: a proxy's access log (Squid's native or a common/combined log), a web "
    "server's access log, Zeek's http.log, Suricata's http events, or a capture.",
    (
        Column("ts", "timestamp", "When the request was made (Squid: when the reply was logged), UTC.", False),
        Column("client", "text", "The requesting host (the originator): IP address, or a name where the log "
               "only has one."),
        Column("server", "text", "The address the request went to (the proxy's upstream peer for Squid), "
               "where known."),
        Column("server_port", "int", "Server TCP port, where known."),
        Column("method", "text", "GET, POST, CONNECT, ... as the log or the request says."),
        Column("host", "text", "The Host header (or the URL's host), lower-case, without the port."),
        Column("uri", "text", "The request target as logged (path and query, or the full URL for a proxy)."),
        Column("user_agent", "text", "The User-Agent header, where known."),
        Column("status", "int", "HTTP status code of the response, where known (null: no response seen)."),
        Column("bytes_out", "int", "Request body bytes sent by the client, where the log says."),
        Column("bytes_in", "int", "Bytes returned to the client: Squid's reply size (headers included), "
               "Zeek's response_body_len, a capture's response body."),
        Column("account", "text", "The user the proxy authenticated (Squid ident/user) or Zeek's username."),
        Column("result", "text", "The proxy's result code (Squid: TCP_MISS, TCP_DENIED, ...), null elsewhere."),
        Column("log", "text", "Where the row came from: squid (Squid's native log), proxy (a common/combined "
               "log of a proxy), access (a web server's), zeek, suricata, fortigate (its web filter), paloalto (its URL "
               "filtering) or pcap (squid and proxy rows are the proxy's "
               "clients' traffic, counted by `netsift bandwidth`).", False),
        Column("source_file_id", "int", "The ingested_files row this came from.", False),
        Column("source_line", "int", "Line (or packet) number in that file, 1-based.", False),
    ),
)

CONNECTIONS = Table(
    "connections",
    "One row per connection (flow): Zeek's conn.log, Suricata's flow events, a firewall's traffic log (FortiGate, "
    "PAN-OS, Cisco ASA, Windows Firewall), Sysmon's network connections, or the flows of a capture.",
    (
        Column("ts", "timestamp", "First packet of the connection, UTC.", False),
        Column("client", "text", "The originator's address (the side that sent the first packet).", False),
        Column("client_port", "int", "The originator's port (null for protocols without ports)."),
        Column("server", "text", "The responder's address.", False),
        Column("server_port", "int", "The responder's port (ICMP: the type, as Zeek logs it)."),
        Column("protocol", "text", "tcp, udp, icmp or the IP protocol number as text."),
        Column("service", "text", "The application protocol Zeek or Suricata detected (http, dns, ssl, tls, ...), a firewall's "
               "application, or for Sysmon's connections the process (powershell.exe), where known."),
        Column("duration", "float", "Seconds from the first packet to the last."),
        Column("bytes_out", "int", "Payload bytes the originator sent (Zeek orig_bytes; a capture's TCP/UDP "
               "payload; Suricata's bytes_toserver: whole packets, headers included)."),
        Column("bytes_in", "int", "Payload bytes the responder sent (Zeek resp_bytes; Suricata: whole packets)."),
        Column("packets_out", "int", "Packets the originator sent."),
        Column("packets_in", "int", "Packets the responder sent."),
        Column("state", "text", "Zeek's conn_state (S0, SF, REJ, ...), or a firewall's end of session (FortiGate: "
               "close, timeout, deny, server-rst ...; PAN-OS: the session end reason; Cisco ASA: the teardown reason, deny "
               "or permit); null for a capture's and "
               "Suricata's flows."),
        Column("source_file_id", "int", "The ingested_files row this came from.", False),
        Column("source_line", "int", "Line number (or first packet) in that file, 1-based.", False),
    ),
)

CREDENTIALS = Table(
    "credentials",
    "Credentials seen in clear text in a capture. The secret is masked (its first character and length) "
    "unless the file was ingested with --show-secrets.",
    (
        Column("ts", "timestamp", "When the credential was sent, UTC.", False),
        Column("client", "text", "The host that sent it (the originator).", False),
        Column("client_port", "int", "The client's port."),
        Column("server", "text", "The host it was sent to.", False),
        Column("server_port", "int", "The server's port."),
        Column("protocol", "text", "http-basic, http-form, ftp, pop3, imap, smtp, ldap, socks5 or telnet.", False),
        Column("account", "text", "The user name or login sent."),
        Column("secret", "text", "The password, masked (e.g. p******* for an 8-character one) unless "
               "secret_clear."),
        Column("secret_clear", "bool", "True when the secret is stored in clear (ingested with --show-secrets).",
               False),
        Column("host", "text", "The HTTP Host (or the server address) the credential was for."),
        Column("detail", "text", "Where in the protocol it was seen (a URL, a command, an SMTP AUTH mechanism)."),
        Column("source_file_id", "int", "The ingested_files row this came from.", False),
        Column("source_line", "int", "Packet number that completed the credential, 1-based.", False),
    ),
)

IDS_ALERTS = Table(
    "ids_alerts",
    "One row per alert an intrusion detection or prevention system raised (Suricata's EVE alerts, FortiGate's "
    "IPS logs, PAN-OS threat logs): the rule that fired and the packet's two ends as the sensor saw them.",
    (
        Column("ts", "timestamp", "When the alert was raised, UTC.", False),
        Column("src", "text", "Source address of the packet (or flow side) that fired the rule."),
        Column("src_port", "int", "Its port (null for protocols without ports)."),
        Column("dest", "text", "Destination address."),
        Column("dest_port", "int", "Its port."),
        Column("protocol", "text", "tcp, udp, icmp, ... as the sensor names it, lower case."),
        Column("signature_id", "int", "The rule's id (Suricata/Snort sid)."),
        Column("signature", "text", "The rule's message (ET MALWARE ..., GPL ATTACK_RESPONSE ...)."),
        Column("category", "text", "The rule's classification (A Network Trojan was detected, ...)."),
        Column("severity", "int", "The rule's priority: 1 most severe, 3 or 4 least."),
        Column("action", "text", "allowed, or blocked (an IPS dropped or rejected it)."),
        Column("app_proto", "text", "The application protocol of the flow (http, dns, tls, ...), where known."),
        Column("source_file_id", "int", "The ingested_files row this came from.", False),
        Column("source_line", "int", "Line number in that file, 1-based.", False),
    ),
)

LOGON_EVENTS = Table(
    "logon_events",
    "One row per authentication event (a logon, a failed or refused one, a logoff, a privilege use), whatever "
    "log it came from: Linux auth logs and journald exports, Windows Security events (EVTX, XML, CSV), MSSQL "
    "failed logins, Zeek's ssh.log (logons seen on the wire). ``client`` is the acting address (who tried), "
    "``host`` the machine logged into.",
    (
        Column("ts", "timestamp", "When it happened, UTC.", False),
        Column("client", "text", "Acting address: the source IP (sshd's from, Windows IpAddress, MSSQL CLIENT), "
                                 "or the workstation name where the log has no address; null for local events."),
        Column("account", "text", "Account used or targeted, as logged (sshd's user, TargetUserName, sudo's user)."),
        Column("domain", "text", "Account domain (Windows TargetDomainName), where logged."),
        Column("host", "text", "Target machine: the syslog host name, the Windows Computer, where logged."),
        Column("workstation", "text", "Workstation name the logon came from (Windows WorkstationName), where logged."),
        Column("service", "text", "What logged it: sshd, sudo, su, login, windows, mssql, ssh (Zeek's ssh.log), ...",
               False),
        Column("event", "text", "success, failure, invalid_user (unknown account), logoff, privileged (special "
                                "privileges, sudo, su), explicit_credentials (4648), max_attempts, disconnect "
                                "(before authenticating).", False),
        Column("method", "text", "password, publickey, keyboard-interactive, kerberos, ntlm, negotiate, ... "
                                 "where the log says."),
        Column("logon_type", "int", "Windows logon type (2 interactive, 3 network, 10 remote interactive, ...)."),
        Column("status", "text", "Failure status as logged (0xC000006D, Kerberos 0x18, MSSQL state)."),
        Column("sub_status", "text", "Windows failure sub-status (0xC000006A: bad password, 0xC0000064: no such "
                                     "user)."),
        Column("unknown_account", "bool", "The log says the account does not exist (sshd invalid user, Windows "
                                          "0xC0000064, Kerberos 0x6 principal unknown)."),
        Column("event_id", "int", "Windows event id (4624, 4625, 4771, 18456, ...); null for syslog."),
        Column("port", "int", "Source port, where logged."),
        Column("detail", "text", "The rest worth reading: sudo's command, su's by-user, a failure reason."),
        Column("repeats", "int", "How many identical events the row stands for, when the log folded them into "
                                 "one line (rsyslog's `message repeated N times: [ ... ]`: N); null: one."),
        Column("source_file_id", "int", "The ingested_files row this came from.", False),
        Column("source_line", "int", "Line (or EVTX record) number in that file, 1-based.", False),
    ),
)

DOMAIN_NAMES = Table(
    "domain_names",
    "Derived once per distinct query name (not per row): its place in the public suffix list and shape.",
    (
        Column("query_name", "text", "The query name as stored in dns_queries.", False),
        Column("registered_domain", "text", "Registered domain per the public suffix list (private domains included); "
               "the name itself when it has no registrable part (e.g. .arpa, .local, single labels)."),
        Column("tld", "text", "Public suffix of the name (e.g. com, co.uk, github.io)."),
        Column("subdomain", "text", "Labels left of the registered domain, '' when none."),
        Column("label_count", "int", "Number of labels in the name."),
        Column("longest_label", "int", "Length of the longest label."),
        Column("subdomain_entropy", "float", "Shannon entropy (bits per character) of the subdomain part."),
        Column("is_infrastructure", "bool", "Reverse lookup (.arpa), mDNS/.local, or a single-label name."),
    ),
    primary_key=("query_name",),
)

INGESTED_FILES = Table(
    "ingested_files",
    "Every file (or stream) read, so that re-ingesting adds nothing and a grown file adds only its tail.",
    (
        Column("file_id", "int", "Identifier referenced by source_file_id.", False),
        Column("path", "text", "Absolute path as given (or '-' for stdin).", False),
        Column("size", "int", "Bytes read so far (decompressed for compressed inputs)."),
        Column("head_hash", "text", "SHA-256 of the first 4 KiB: recognises a rotated (renamed) file."),
        Column("content_hash", "text", "'blake3:' + BLAKE3 hex of all bytes ingested so far (bytes 0..last_offset); "
               "records from earlier netsift versions hold a bare SHA-256 hex (still recognised)."),
        Column("last_offset", "int", "Byte offset up to which the file has been ingested."),
        Column("last_line", "int", "Line number up to which the file has been ingested."),
        Column("format", "text", "Format name the parser registry chose (or --format)."),
        Column("rows", "int", "Records stored from this file."),
        Column("rejected", "int", "Lines kept aside in rejected_lines."),
        Column("ingested_at", "timestamp", "When the file was last read."),
        Column("in_progress", "bool", "True while a read is being committed in batches; a record still true at the "
               "start of a run belongs to an interrupted read, whose rows past last_line are removed."),
    ),
    primary_key=("file_id",),
)

REJECTED_LINES = Table(
    "rejected_lines",
    "Input lines that did not parse: kept, never silently dropped.",
    (
        Column("source_file_id", "int", "The ingested_files row.", False),
        Column("source_line", "int", "Line number in that file, 1-based.", False),
        Column("reason", "text", "Why the line was rejected.", False),
        Column("text", "text", "The line itself (undecodable bytes replaced, cut at 4096 characters)."),
    ),
)

VERDICTS = Table(
    "verdicts",
    "The analyst's judgements. A benign verdict explains the entity as normal in later analyses.",
    (
        Column("entity", "text", "Registered domain, FQDN, client or finding id the verdict is about.", False),
        Column("verdict", "text", "benign, malicious or needs_review.", False),
        Column("note", "text", "Free text."),
        Column("who", "text", "Analyst (defaults to the OS user)."),
        Column("ts", "timestamp", "When the verdict was given.", False),
        Column("undone_at", "timestamp", "When the verdict was undone (null: in force); kept for the audit trail."),
        Column("undone_by", "text", "Who undid it."),
    ),
)

DOMAIN_STATS = Table(
    "domain_stats",
    "The network's own history per registered domain, and why it is normal (null when it is not). "
    "Rebuilt by the baseline step of every analysis.",
    (
        Column("registered_domain", "text", "Registered domain.", False),
        Column("queries", "int", "Questions asked for names under it."),
        Column("clients", "int", "Distinct clients that asked (prevalence)."),
        Column("names", "int", "Distinct query names under it."),
        Column("nxdomain", "int", "Questions answered NXDOMAIN."),
        Column("first_seen", "timestamp", "First question."),
        Column("last_seen", "timestamp", "Last question."),
        Column("top_rank", "int", "Best rank in the loaded top-sites lists, null when absent."),
        Column("normal_reason", "text", "Why it is normal: top-sites, allowlist, verdict, prevalence, "
               "infrastructure; null when it is not explained."),
    ),
    primary_key=("registered_domain",),
)

TOP_SITES = Table(
    "top_sites",
    "Popularity lists loaded for the baseline (Tranco, Umbrella, Majestic or the bundled fallback).",
    (
        Column("domain", "text", "Registered domain (FQDN lists are reduced to their registered domain).", False),
        Column("rank", "int", "Best rank of the domain in the list.", False),
        Column("list_name", "text", "Which list.", False),
    ),
)

FINDINGS = Table(
    "findings",
    "One wide row per finding, with sub-scores and reasons; the report and dashboard only display these.",
    (
        Column("finding_id", "text", "Stable id: kind, client and domain hashed.", False),
        Column("kind", "text", "Detector that raised it (unexplained_domain, dga, tunnel, beacon, ...).", False),
        Column("client", "text", "Client the finding is about, or null."),
        Column("domain", "text", "Registered domain the finding is about, or null."),
        Column("score", "float", "Final score, 0..1.", False),
        Column("severity", "text", "info, low, medium, high or critical.", False),
        Column("reasons", "text[]", "Human-readable reasons, most important first."),
        Column("sub_scores", "text", "JSON object of sub-score name -> value and modifiers applied."),
        Column("first_seen", "timestamp", "First evidence."),
        Column("last_seen", "timestamp", "Last evidence."),
        Column("evidence_count", "int", "Rows behind the finding."),
        Column("created_at", "timestamp", "When the analysis that produced it ran.", False),
        Column("names", "text[]", "Registered domains folded into this finding (a dga client's generated names, "
                                  "a storm's names): listed here instead of as unexplained_domain rows."),
        Column("group_key", "text", "unexplained_domain rows sharing a hosting platform suffix or answer network "
                                    "(platform:SUFFIX, network:PREFIX): shown as one group row in the queue."),
        Column("account", "text", "Account used or targeted (logon and credential findings), or null; client stays "
                                  "the acting address."),
        Column("host", "text", "Target machine the finding happened on (the host logged into), or null."),
    ),
    primary_key=("finding_id",),
)

ANALYSIS_INPUTS = Table(
    "analysis_inputs",
    "The inputs an analysis was given (top lists, allowlist, settings file, feeds, categories, GeoIP "
    "databases), remembered so that every later analysis of this store uses them until they are changed.",
    (
        Column("kind", "text", "top_list, allowlist, config, feed, categories or geoip_db.", False),
        Column("position", "int", "Order among the inputs of its kind.", False),
        Column("path", "text", "Absolute path of the file or folder.", False),
        Column("spec", "text", "The option value it is rebuilt from (a feed's NAME:KIND=PATH).", False),
        Column("given_at", "timestamp", "When it was given.", False),
    ),
)

TABLES: tuple[Table, ...] = (
    DNS_QUERIES, DOMAIN_NAMES, DOMAIN_STATS, INGESTED_FILES, REJECTED_LINES, VERDICTS, TOP_SITES, FINDINGS,
    ANALYSIS_INPUTS, HTTP_REQUESTS, CONNECTIONS, CREDENTIALS, IDS_ALERTS, LOGON_EVENTS,
)

_EXTRA_TABLES: list[Table] = []


def is_record_table(table: Table) -> bool:
    """Whether parsers write this table: its rows are stamped records of an ingested file (``ts``,
    ``source_file_id``, ``source_line``), removed with the file and routed by ``Parser.table``."""
    return {"ts", "source_file_id", "source_line"} <= set(table.column_names)


def record_table(name: str) -> Table:
    """The declared table a parser writes (KeyError, naming the candidates, for any other name)."""
    for t in TABLES:
        if t.name == name and is_record_table(t):
            return t
    raise KeyError(f"{name!r} is not a record table; parsers write one of "
                   + ", ".join(t.name for t in TABLES if is_record_table(t)))


def register_tables(*tables: Table) -> None:
    """Let another package (enrichment, detectors) declare tables of its own in the same style."""
    for t in tables:
        if all(t.name != known.name for known in (*TABLES, *_EXTRA_TABLES)):
            _EXTRA_TABLES.append(t)


# modules that declare tables of their own (imported on first use, so every store has every table)
TABLE_MODULES = ("netsift.enrich.tables", "netsift.store.rollups")


def all_tables() -> tuple[Table, ...]:
    import importlib

    for module in TABLE_MODULES:
        importlib.import_module(module)
    return (*TABLES, *_EXTRA_TABLES)


_DUCKDB_TYPES = {
    "timestamp": "TIMESTAMP",  # stored as naive UTC microseconds
    "text": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "bool": "BOOLEAN",
    "text[]": "VARCHAR[]",
}

POLARS_TYPES: dict[str, pl.DataType] = {
    "timestamp": pl.Datetime("us"),
    "text": pl.String(),
    "int": pl.Int64(),
    "float": pl.Float64(),
    "bool": pl.Boolean(),
    "text[]": pl.List(pl.String),
}


def duckdb_type(column: Column) -> str:
    return _DUCKDB_TYPES[column.type]


def duckdb_ddl(table: Table) -> str:
    cols = ",\n  ".join(
        f"{c.name} {_DUCKDB_TYPES[c.type]}{'' if c.nullable else ' NOT NULL'}" for c in table.columns
    )
    pk = f",\n  PRIMARY KEY ({', '.join(table.primary_key)})" if table.primary_key else ""
    return f"CREATE TABLE IF NOT EXISTS {table.name} (\n  {cols}{pk}\n)"


def polars_schema(table: Table, without: tuple[str, ...] = ()) -> pl.Schema:
    return pl.Schema({c.name: POLARS_TYPES[c.type] for c in table.columns if c.name not in without})


def markdown() -> str:
    """The schema as Markdown (docs/schema.md is this text)."""
    out = [
        "# Schema",
        "",
        f"Canonical tables, version {SCHEMA_VERSION}. Generated from `src/netsift/schema.py` by "
        "`netsift schema --markdown`; do not edit by hand. Timestamps are UTC.",
        "",
    ]
    for t in all_tables():
        out += [f"## `{t.name}`", "", t.doc, "", "| column | type | meaning |", "|---|---|---|"]
        for c in t.columns:
            null = "" if c.nullable else ", not null"
            out.append(f"| {c.name} | {c.type}{null} | {c.doc} |")
        out.append("")
    return "\n".join(out)

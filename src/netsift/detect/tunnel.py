"""tunnel — data carried inside DNS names (dnscat2, iodine, DNS exfiltration, command-and-control over TXT).

Per unexplained registered domain (service labels such as ``_dmarc``, ``_domainkey``, ``_acme-challenge``
and SRV names are never evidence): how many distinct subdomains it has (RITA scores from 100 up to 1000),
what share of its names carry an *encoded-looking* label (:func:`label_shapes`: hex of 12+ characters,
base32 or base64 alphabets of 16+ characters with the character-class switches of random data, or a long
high-entropy label), what share of the questions ask for record types that carry data back (TXT, NULL, MX,
CNAME, ANY, ...), how unique its names are (a channel rarely asks the same name twice), and its
**information rate**: the bytes of *distinct* label text one client sent it in one hour — the quantity
Paxson et al. (USENIX Security 2013) bound to find exfiltration, since a repeated question carries nothing
new.

Two low-and-slow shapes are findings whatever the subdomain count (:func:`score_domain`):

- an *encoded channel*: at least ``slow_min_questions`` questions, most names encoded, most questions for
  data-carrying types (a dnscat2 session of 24 TXT questions with 18-hex labels): medium or above;
- a *plain TXT channel*: at least ``slow_min_questions`` questions, nearly all TXT/NULL, over at least
  ``plain_min_names`` distinct names that are not reversed IP addresses (DNSBL look-ups) — a C2 polling
  for instructions with short labels: medium.

A finding names the registered domain and the clients using it (the ``client`` field when one client sent
``owner_share`` of the label bytes).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from netsift.config import Setting, Settings
from netsift.detect.context import UNEXPLAINED_QUERIES
from netsift.detect.scoring import MIN_SCORE, log_ramp, noisy_or, plural, ramp, sample
from netsift.findings import Finding
from netsift.store.base import Store

DATA_TYPES = ("TXT", "NULL", "MX", "CNAME", "ANY", "KEY", "PRIVATE", "TYPE65399")
TEXT_TYPES = ("TXT", "NULL", "ANY", "PRIVATE", "TYPE65399")  # answers that are free-form data

SETTINGS = (
    Setting("min_subdomains", 5, "Distinct subdomains a registered domain needs to be looked at.", 1, 1e6),
    Setting(
        "subdomains_base",
        100,
        "Distinct subdomains where the subdomain sub-score starts (RITA: 100).",
        1,
        1e6,
    ),
    Setting(
        "subdomains_high", 1000, "Distinct subdomains for a full subdomain sub-score (RITA: 1000).", 2, 1e7
    ),
    Setting("encoded_label_length", 20, "A label at least this long can carry encoded data.", 8, 63),
    Setting(
        "encoded_entropy",
        3.3,
        "Subdomain entropy (bits/char) at or above which a long label looks encoded.",
        1,
        6,
    ),
    Setting("hex_min_length", 12, "A hex label (digits and a-f) at least this long looks encoded.", 6, 63),
    Setting(
        "base32_min_length",
        16,
        "A base32/base64-alphabet label at least this long, with 3+ character-class switches, looks encoded.",
        8,
        63,
    ),
    Setting(
        "data_type_share",
        0.5,
        "Share of TXT/NULL/MX/CNAME questions for a full record-type sub-score.",
        0.01,
        1,
    ),
    Setting(
        "info_rate_base",
        200,
        "Bytes of distinct label text per client per hour where the information-rate sub-score starts.",
        1,
        1e9,
    ),
    Setting(
        "info_rate_high",
        20000,
        "Bytes of distinct label text per client per hour for a full information-rate sub-score.",
        2,
        1e10,
    ),
    Setting(
        "slow_min_questions",
        20,
        "Questions that make a low-and-slow channel a finding whatever the subdomain count.",
        2,
        1e6,
    ),
    Setting(
        "slow_encoded_share",
        0.5,
        "Share of encoded-looking names an encoded low-and-slow channel needs.",
        0,
        1,
    ),
    Setting(
        "min_uniqueness",
        0.3,
        "Distinct names per question a low-and-slow channel needs (a poller repeats one name).",
        0,
        1,
    ),
    Setting(
        "plain_txt_share",
        0.9,
        "Share of TXT/NULL questions a channel with plain (short) labels needs.",
        0.01,
        1,
    ),
    Setting(
        "plain_min_names",
        10,
        "Distinct names (not reversed IP addresses) a channel with plain labels needs.",
        2,
        1e6,
    ),
    Setting(
        "owner_share",
        0.8,
        "Share of the label bytes one client must send to be named as the finding's client.",
        0.5,
        1,
    ),
    Setting("max_names", 5000, "Distinct names per domain whose labels are classified (a sample).", 100, 1e7),
    MIN_SCORE,
)


# --- label shapes (pure, vectorised) -------------------------------------------------------------------


def _switches(labels: pl.Expr) -> pl.Expr:
    """Character-class switches (lower / upper / digit) in a label: runs of each class, minus one."""
    return (
        labels.str.count_matches(r"[0-9]+")
        + labels.str.count_matches(r"[a-z]+")
        + labels.str.count_matches(r"[A-Z]+")
        - 1
    )


def label_shapes(labels: pl.Series, s: Settings) -> pl.DataFrame:
    """One row per label: ``hex``, ``base32``, ``base64`` (booleans) and ``shape`` (the first that holds,
    or null). Random data in those alphabets switches between digits and letters; words and counters
    (``office365connector``, ``20260302``) do not, so they are not encoded."""
    df = pl.DataFrame({"label": labels.cast(pl.String)})
    lab, low = pl.col("label"), pl.col("label").str.to_lowercase()
    n = lab.str.len_chars()
    sw = _switches(lab)
    return df.with_columns(
        hex=(n >= s.hex_min_length) & low.str.contains(r"^[0-9a-f]+$") & low.str.contains(r"[0-9]")
        & low.str.contains(r"[a-f]"),
        base32=(n >= s.base32_min_length) & low.str.contains(r"^[a-z2-7]+$") & (sw >= 3),
        base64=(n >= s.base32_min_length) & lab.str.contains(r"^[A-Za-z0-9+/=_-]+$")
        & lab.str.contains(r"[A-Z]") & lab.str.contains(r"[a-z]") & lab.str.contains(r"[0-9]") & (sw >= 3),
    ).with_columns(
        shape=pl.when("hex").then(pl.lit("hex")).when("base32").then(pl.lit("base32"))
        .when("base64").then(pl.lit("base64")).otherwise(None)
    )


def name_shapes(names: pl.DataFrame, s: Settings) -> pl.DataFrame:
    """Per distinct name (columns ``registered_domain``, ``subdomain``, ``longest_label``,
    ``subdomain_entropy``): ``shape`` (hex/base32/base64/long_random or null), ``long_encoded`` (an encoded
    label of ``encoded_label_length``+ characters: evidence on its own), ``reversed_ip`` (a DNSBL-style
    look-up of an address)."""
    if names.height == 0:
        return names.with_columns(shape=pl.lit(None, pl.String), long_encoded=pl.lit(False),
                                  reversed_ip=pl.lit(False))
    labels = (
        names.select("registered_domain", "subdomain", label=pl.col("subdomain").str.split("."))
        .explode("label")
    )
    shapes = pl.concat([labels, label_shapes(labels["label"], s).drop("label")], how="horizontal")
    per_name = shapes.group_by("registered_domain", "subdomain").agg(
        label_shape=pl.col("shape").drop_nulls().first(),
        long_shape=(
            pl.col("shape").is_not_null() & (pl.col("label").str.len_chars() >= s.encoded_label_length)
        ).any(),
    )
    long_random = (pl.col("longest_label") >= s.encoded_label_length) & (
        pl.col("subdomain_entropy") >= s.encoded_entropy)
    return names.join(per_name, on=["registered_domain", "subdomain"], how="left").with_columns(
        shape=pl.coalesce(pl.col("label_shape"), pl.when(long_random).then(pl.lit("long_random"))),
        long_encoded=pl.col("long_shape").fill_null(False) | long_random.fill_null(False),
        reversed_ip=pl.col("subdomain").str.contains(r"^(\d{1,3}\.){3}\d{1,3}(\.|$)"),
    ).drop("label_shape", "long_shape")


# --- scoring (pure) -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measures:
    """What the gathering measured for one registered domain."""

    subdomains: int  # distinct subdomains (service labels left out)
    questions: int = 0
    encoded_share: float = 0.0  # share of distinct names with an encoded-looking label
    long_encoded_share: float = 0.0  # ... with one of encoded_label_length+ characters
    data_type_share: float = 0.0  # share of questions for TXT/NULL/MX/CNAME/ANY/...
    text_type_share: float = 0.0  # share of questions for TXT/NULL/ANY/private types
    uniqueness: float = 0.0  # distinct names / questions
    plain_names: int = 0  # distinct names that are not reversed IP addresses
    info_rate: float = 0.0  # most bytes of distinct label text from one client in one hour


def slow_channel(m: Measures, s: Settings) -> str | None:
    """``"encoded"`` / ``"plain"`` when the domain is a low-and-slow channel (see the module doc)."""
    if m.questions < s.slow_min_questions or m.uniqueness < s.min_uniqueness:
        return None
    if m.encoded_share >= s.slow_encoded_share and m.data_type_share >= 0.5:
        return "encoded"
    if m.text_type_share >= s.plain_txt_share and m.plain_names >= s.plain_min_names:
        return "plain"
    return None


def score_domain(m: Measures, s: Settings) -> tuple[float, dict[str, float]]:
    """(score, sub_scores) of one registered domain."""
    slow = slow_channel(m, s)
    if m.subdomains < s.min_subdomains and not slow:
        return 0.0, {}
    subs = {
        "subdomains": log_ramp(m.subdomains, s.subdomains_base, s.subdomains_high),
        "encoded_labels": max(0.0, min(1.0, m.long_encoded_share)),
        "short_encoded_labels": max(0.0, min(1.0, m.encoded_share)),
        "data_record_types": ramp(m.data_type_share, 0.0, s.data_type_share),
        "info_rate": log_ramp(m.info_rate, s.info_rate_base, s.info_rate_high),
        "uniqueness": ramp(m.uniqueness, s.min_uniqueness, 1.0),
        "slow_channel": {"encoded": 1.0, "plain": 0.5}.get(slow or "", 0.0),
    }
    # record types and volume only count when the names themselves look like a channel; short encoded
    # labels (hex of 12-19 characters) are a channel only with data-carrying types or a slow channel
    channel = max(
        subs["encoded_labels"], subs["subdomains"], subs["short_encoded_labels"] * subs["data_record_types"]
    )
    parts = [
        0.75 * subs["subdomains"],
        0.65 * subs["encoded_labels"],
        0.45 * subs["data_record_types"] * channel,
        0.5 * subs["info_rate"] * channel,
    ]
    if slow == "encoded":
        parts.append(0.55 + 0.2 * subs["info_rate"] + 0.1 * subs["uniqueness"])
    elif slow == "plain":
        parts.append(0.55 + 0.15 * subs["info_rate"])
    return noisy_or(parts), subs


# --- gathering ----------------------------------------------------------------------------------------


def gather(store: Store, s: Settings) -> pl.DataFrame:
    """One row per candidate registered domain, aggregated in DuckDB, with the shapes of (up to
    ``max_names`` of) its distinct names classified per label."""
    types = ", ".join(f"'{t}'" for t in DATA_TYPES)  # constants, not user input
    text = ", ".join(f"'{t}'" for t in TEXT_TYPES)
    domains = store.frame(f"""
        WITH u AS ({UNEXPLAINED_QUERIES}),
        -- service labels (_dmarc, _domainkey, _acme-challenge, _sip._tcp) are lookups of records, not data
        s AS (SELECT * FROM u WHERE subdomain <> '' AND NOT starts_with(subdomain, '_')
                                AND NOT contains(subdomain, '._')),
        cand AS (
            SELECT registered_domain FROM s GROUP BY registered_domain
            HAVING count(DISTINCT subdomain) >= ? OR count(*) >= ?
        ),
        q AS (SELECT s.* FROM s JOIN cand USING (registered_domain)),
        -- information rate: bytes of distinct label text per client and hour (a repeat carries nothing new)
        hourly AS (
            SELECT registered_domain, client, hour, sum(length(subdomain))::BIGINT AS bytes
            FROM (SELECT DISTINCT registered_domain, client, date_trunc('hour', ts) AS hour, subdomain FROM q)
            GROUP BY ALL
        ),
        per_client AS (
            SELECT registered_domain, client, max(bytes) AS peak_bytes, arg_max(hour, bytes) AS peak_hour,
                   sum(bytes)::BIGINT AS total_bytes
            FROM hourly GROUP BY ALL
        ),
        clients AS (
            SELECT registered_domain, max(peak_bytes) AS peak_bytes,
                   arg_max(client, peak_bytes) AS peak_client,
                   arg_max(peak_hour, peak_bytes) AS peak_hour, sum(total_bytes)::BIGINT AS total_bytes,
                   max(total_bytes) AS top_client_bytes, arg_max(client, total_bytes) AS top_client,
                   list(client ORDER BY total_bytes DESC, client) AS clients
            FROM per_client GROUP BY registered_domain
        ),
        totals AS (
            SELECT registered_domain, count(*) AS queries, count(DISTINCT subdomain) AS subdomains,
                   avg(CASE WHEN query_type IN ({types}) THEN 1.0 ELSE 0.0 END) AS data_type_share,
                   avg(CASE WHEN query_type IN ({text}) THEN 1.0 ELSE 0.0 END) AS text_type_share,
                   histogram(query_type) AS type_counts, min(ts) AS first_seen, max(ts) AS last_seen,
                   avg(longest_label) AS avg_longest, avg(subdomain_entropy) AS avg_entropy
            FROM q GROUP BY registered_domain
        )
        SELECT * FROM totals JOIN clients USING (registered_domain)
        ORDER BY registered_domain
        """,
        [s.min_subdomains, s.slow_min_questions],
    )
    if domains.height == 0:
        return domains
    names = store.frame(f"""
        WITH u AS ({UNEXPLAINED_QUERIES}),
        d AS (SELECT DISTINCT registered_domain, subdomain, longest_label, subdomain_entropy FROM u
              WHERE {store.sql.in_list("registered_domain")} AND subdomain <> ''
                AND NOT starts_with(subdomain, '_') AND NOT contains(subdomain, '._'))
        SELECT * FROM d QUALIFY row_number() OVER (PARTITION BY registered_domain ORDER BY subdomain) <= ?
        """,
        [store.sql.list_param(domains["registered_domain"].to_list()), int(s.max_names)],
    )
    shaped = name_shapes(names, s)
    per_domain = shaped.group_by("registered_domain").agg(
        encoded_share=pl.col("shape").is_not_null().mean(),
        long_encoded_share=pl.col("long_encoded").mean(),
        reversed_ip_share=pl.col("reversed_ip").mean(),
        shape_counts=pl.col("shape").drop_nulls().value_counts(sort=True),
        samples=pl.col("subdomain").sort_by(pl.col("shape").is_null(), -pl.col("longest_label"), "subdomain")
        .head(3),
    )
    return domains.join(per_domain, on="registered_domain", how="left").with_columns(
        pl.col("encoded_share", "long_encoded_share", "reversed_ip_share").fill_null(0.0),
        uniqueness=pl.col("subdomains") / pl.col("queries"),
    )


def measures(r: dict) -> Measures:
    return Measures(
        subdomains=int(r["subdomains"]),
        questions=int(r["queries"]),
        encoded_share=float(r["encoded_share"]),
        long_encoded_share=float(r["long_encoded_share"]),
        data_type_share=float(r["data_type_share"]),
        text_type_share=float(r["text_type_share"]),
        uniqueness=float(r["uniqueness"]),
        plain_names=round(int(r["subdomains"]) * (1.0 - float(r["reversed_ip_share"]))),
        info_rate=float(r["peak_bytes"]),
    )


def _hours(first, last) -> str:
    hours = (last - first).total_seconds() / 3600
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def _counts(value) -> dict:
    if isinstance(value, list):  # polars hands a MAP over as a list of key/value structs
        return {kv.get("key", kv.get("shape")): kv.get("value", kv.get("count")) for kv in value}
    return value or {}


def reasons_for(r: dict, m: Measures, slow: str | None, s: Settings) -> list[str]:
    dom = r["registered_domain"]
    reasons = [
        f"{r['subdomains']} distinct subdomains under {dom} in {_hours(r['first_seen'], r['last_seen'])} "
        f"(RITA threshold {s.subdomains_base:g}, full score at {s.subdomains_high:g})."
    ]
    slow = slow if m.subdomains < s.subdomains_base else None  # a many-name channel needs no slow reason
    if slow == "encoded":
        reasons.append(
            f"A low-and-slow channel: {m.questions} questions ({m.uniqueness:.0%} of them distinct names), "
            f"{m.encoded_share:.0%} of the names encoded-looking and {m.data_type_share:.0%} for record "
            f"types that carry data back — {s.slow_min_questions:g}+ such questions are a finding whatever "
            "the subdomain count."
        )
    elif slow == "plain":
        reasons.append(
            f"A TXT channel with plain labels: {m.text_type_share:.0%} of its {m.questions} questions ask "
            f"for TXT/NULL across {m.plain_names} distinct names ({m.uniqueness:.0%} of the questions "
            "distinct), under a domain no top list or prevalence explains — the shape of command-and-control "
            "polling for instructions."
        )
    if m.encoded_share > 0:
        shapes = ", ".join(f"{k} {v}" for k, v in _counts(r["shape_counts"]).items())
        reasons.append(
            f"{m.encoded_share:.0%} of its names carry an encoded-looking label ({shapes}; hex of "
            f"{s.hex_min_length:g}+ characters, base32/base64 of {s.base32_min_length:g}+, or "
            f"{s.encoded_label_length:g}+ characters at >= {s.encoded_entropy:g} bits/char); "
            f"{m.long_encoded_share:.0%} carry one of {s.encoded_label_length:g}+ characters (longest label "
            f"{r['avg_longest']:.0f} characters and {r['avg_entropy']:.2f} bits/char on average), "
            f"e.g. {sample(r['samples'] or [], 2, total=r['subdomains'])}."
        )
    if m.data_type_share > 0:
        counts = _counts(r["type_counts"])
        listed = ", ".join(
            f"{t} {n}" for t, n in sorted(counts.items(), key=lambda kv: -kv[1]) if t in DATA_TYPES
        )
        reasons.append(
            f"{m.data_type_share:.0%} of its {m.questions} questions ask for record types that "
            f"carry data back ({listed})."
        )
    reasons.append(
        f"Information rate: up to {r['peak_bytes']:,} bytes of distinct label text in one hour from "
        f"{r['peak_client']} ({r['peak_hour']:%Y-%m-%d %H:00} UTC), {r['total_bytes']:,} bytes in all "
        f"(exfiltration is bounded by the information in query names, Paxson et al. 2013; the score starts "
        f"at {s.info_rate_base:g} B/h and is full at {s.info_rate_high:g} B/h)."
    )
    clients = r["clients"]
    reasons.append(f"Used by {plural(len(clients), 'client')}: {sample(clients)}.")
    return reasons


def run(store: Store, s: Settings) -> list[Finding]:
    findings = []
    for r in gather(store, s).iter_rows(named=True):
        m = measures(r)
        score, subs = score_domain(m, s)
        if score < s.min_score:
            continue
        owner = r["top_client"] if r["top_client_bytes"] >= s.owner_share * r["total_bytes"] else None
        findings.append(
            Finding(
                kind="tunnel",
                domain=r["registered_domain"],
                client=owner,
                score=score,
                reasons=reasons_for(r, m, slow_channel(m, s), s),
                sub_scores=subs,
                first_seen=r["first_seen"],
                last_seen=r["last_seen"],
                evidence_count=int(r["queries"]),
            )
        )
    return findings

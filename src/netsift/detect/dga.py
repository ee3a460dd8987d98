"""dga — clients that ask for machine-generated domain names.

Per name: the registrable label (``kq3vxz8`` in ``www.kq3vxz8.info``) is scored by the character model of
:mod:`netsift.detect.dga_model` (trigram likelihood under popular names, length, entropy, digits,
consonant runs). Per client: how many distinct unexplained registered domains look generated, how sure the
model is, what share of them answered NXDOMAIN, and the client's worst hour of distinct NXDOMAIN names
(Slips alarms at 10 per host per hour). A finding names the client and lists sample names.

:func:`score_names` is the same per-name scoring for ``netsift score domains``: one dict per input name,
``{"name", "score", "verdict": "dga" | "benign", "reasons"}``, no database needed.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import duckdb
import polars as pl

from netsift.config import Setting, Settings
from netsift.detect.context import UNEXPLAINED_QUERIES, frame
from netsift.detect.dga_model import DgaModel, load_model
from netsift.detect.scoring import MIN_SCORE, log_ramp, noisy_or, plural, ramp, sample
from netsift.enrich import psl
from netsift.findings import Finding

SETTINGS = (
    Setting("threshold", 0.5, "Name score at or above which a name counts as machine-generated.", 0.05, 0.99),
    Setting(
        "platform_factor",
        0.5,
        "Multiplier for names under a hosting platform's suffix (x.duckdns.org).",
        0,
        1,
    ),
    Setting(
        "min_names",
        3,
        "Generated-looking registered domains a client needs (unless it has an NXDOMAIN burst).",
        1,
        1000,
    ),
    Setting("names_high", 20, "Generated-looking registered domains for a full volume sub-score.", 2, 100000),
    Setting(
        "nxdomain_burst",
        10,
        "Distinct NXDOMAIN names per client per hour that make a burst (Slips: 10).",
        1,
        100000,
    ),
    Setting(
        "nxdomain_burst_high", 100, "Distinct NXDOMAIN names per hour for a full burst sub-score.", 2, 1e6
    ),
    MIN_SCORE,
)


# --- per name ---------------------------------------------------------------------------------------


def _label(name: str) -> tuple[str, str, str, bool, bool]:
    """(label, registered_domain, suffix, is_infrastructure, under_private_suffix)."""
    reg, suffix, _sub, infra = psl.split_name(name)
    if infra:
        return "", reg, suffix, True, False
    if reg == suffix or not reg.endswith("." + suffix):  # the name is itself a (platform) suffix
        return name.split(".")[0], reg, suffix, False, True
    private = "." in suffix and bool(psl._extractor()(name).is_private)
    return reg[: -len(suffix) - 1], reg, suffix, False, private


def explain_label(
    label: str,
    feats: dict[str, float],
    contrib: dict[str, float],
    reference: dict[str, float],
    generated: bool,
) -> list[str]:
    """Human sentences for the features that moved the decision the way it went, strongest first."""
    ll, ref_ll = feats["log_likelihood"], reference["log_likelihood"]
    sentences: list[tuple[float, str]] = []
    seq = contrib["log_likelihood"] + contrib["total_log_likelihood"] + contrib["worst_transitions"]
    if generated and seq > 0:
        sentences.append(
            (
                seq,
                (
                    f"Its character sequences are rare in popular domain names: {ll:.2f} log10-probability "
                    f"per character over {len(label)} characters (popular names: median {ref_ll:.2f})."
                ),
            )
        )
    elif not generated and seq <= 0:
        sentences.append(
            (
                -seq,
                (
                    f"Its character sequences are common in popular domain names: {ll:.2f} "
                    f"log10-probability per character (popular names: median {ref_ll:.2f})."
                ),
            )
        )
    if generated and contrib["entropy"] > 0.2 and feats["entropy"] > reference["entropy"]:
        sentences.append(
            (
                contrib["entropy"],
                (
                    f"High character entropy: {feats['entropy']:.2f} bits per character "
                    f"(popular names: median {reference['entropy']:.2f})."
                ),
            )
        )
    if generated and feats["length"] >= 12:
        sentences.append(
            (
                0.1,
                (
                    f"Long label: {int(feats['length'])} characters (popular names: median "
                    f"{reference['length']:.0f})."
                ),
            )
        )
    if generated and feats["consonant_run"] >= 5:
        sentences.append((0.1, f"{int(feats['consonant_run'])} consonants in a row."))
    if generated and feats["digit_switches"] >= 2:
        sentences.append(
            (
                0.1,
                (
                    f"Digits mixed into letters: {int(feats['digit_ratio'] * feats['length'])} digits, "
                    f"{int(feats['digit_switches'])} switches between letters and digits."
                ),
            )
        )
    sentences.sort(key=lambda t: -t[0])
    return [s for _, s in sentences]


def score_name(name: str, model: DgaModel | None = None, settings: Settings | None = None) -> dict:
    """``{"name", "score", "verdict", "reasons"}`` for one name (FQDN or registered domain)."""
    s = settings or Settings(SETTINGS)
    model = model or load_model()
    name = name.strip().lower().rstrip(".")
    if not name or "." not in name and not name.isalnum():
        return {
            "name": name,
            "score": 0.0,
            "verdict": "benign",
            "reasons": ["Not a domain name; not scored."],
        }
    label, _reg, suffix, infra, platform = _label(name)
    if infra:
        return {
            "name": name,
            "score": 0.0,
            "verdict": "benign",
            "reasons": [
                "Reverse lookup, local/private-TLD or single-label name: nothing registrable to score."
            ],
        }
    if label.startswith("xn--"):
        return {
            "name": name,
            "score": 0.0,
            "verdict": "benign",
            "reasons": [
                "Internationalised (punycode) label: the character model only knows ASCII names; not scored."
            ],
        }
    score, feats, contrib = model.score_label(label)
    reasons = explain_label(label, feats, contrib, model.reference, score >= s.threshold)
    if platform:
        score *= s.platform_factor
        reasons.append(
            f"Under the hosting platform suffix {suffix}, where machine-made names are common "
            f"(score x{s.platform_factor:g})."
        )
    score = round(score, 4)  # the verdict follows the score as printed
    verdict = "dga" if score >= s.threshold else "benign"
    if not reasons:
        reasons = [f"Scored {score:.2f} on the character model of popular names (threshold {s.threshold:g})."]
    return {"name": name, "score": score, "verdict": verdict, "reasons": reasons}


def score_names(names: Iterable[str]) -> Iterator[dict]:
    """Score each name (blank lines and ``#`` comments skipped), one dict per name, in input order."""
    model = load_model()
    s = Settings(SETTINGS)
    for raw in names:
        name = raw.strip()
        if not name or name.startswith("#"):
            continue
        yield score_name(name, model, s)


def left_to_dga(
    candidates: list[tuple[str, list[str], float]], threshold: float = 0.5, min_names: int = 3
) -> set[str]:
    """Of (domain, clients, name score) candidates of the new/rare-domain detectors, the generated-looking
    domains whose every client asked for at least ``min_names`` of them: the dga detector reports those
    clients (one finding per infected host instead of one per generated name)."""
    per_client: dict[str, int] = {}
    for _dom, clients, score in candidates:
        if score >= threshold:
            for c in clients:
                per_client[c] = per_client.get(c, 0) + 1
    return {
        dom
        for dom, clients, score in candidates
        if score >= threshold and clients and all(per_client[c] >= min_names for c in clients)
    }


# --- per client -------------------------------------------------------------------------------------


def score_client(
    generated: int, mean_name_score: float, nxdomain_share: float, peak_nx_names: int, s: Settings
) -> tuple[float, dict[str, float]]:
    """(score, sub_scores) of one client. ``generated``: distinct generated-looking registered domains it
    asked for; ``mean_name_score``: their mean name score; ``nxdomain_share``: share of them that only
    ever answered NXDOMAIN; ``peak_nx_names``: most distinct NXDOMAIN names it asked in one hour."""
    if generated < s.min_names and peak_nx_names < s.nxdomain_burst:
        return 0.0, {}
    volume = log_ramp(generated, 1, s.names_high) if generated else 0.0
    quality = ramp(mean_name_score, s.threshold, 0.9) if generated else 0.0
    burst = 0.0
    if peak_nx_names >= s.nxdomain_burst:
        burst = 0.5 + 0.5 * log_ramp(peak_nx_names, s.nxdomain_burst, s.nxdomain_burst_high)
    subs = {
        "generated_names": volume,
        "name_score": quality,
        "nxdomain_burst": burst,
        "nxdomain_share": nxdomain_share,
    }
    score = noisy_or(
        [
            0.8 * volume * (0.5 + 0.5 * quality),
            0.45 * burst * (0.3 + 0.7 * volume),
            0.3 * nxdomain_share * volume,
        ]
    )
    return score, subs


def gather(con: duckdb.DuckDBPyConnection, s: Settings) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per-client aggregates over generated-looking domains, per-client NXDOMAIN peak hour)."""
    domains = frame(con, f"SELECT DISTINCT registered_domain FROM ({UNEXPLAINED_QUERIES}) u")
    model = load_model()
    scored = [(d, score_name(d, model, s)["score"]) for d in domains["registered_domain"].to_list() if d]
    scores = pl.DataFrame(
        [(d, v) for d, v in scored if v >= s.threshold],
        schema={"registered_domain": pl.String, "name_score": pl.Float64},
        orient="row",
    )
    con.register("dga_name_scores", scores)
    try:
        per_client = frame(
            con,
            f"""
            WITH u AS ({UNEXPLAINED_QUERIES}),
            per_domain AS (
                SELECT u.client, u.registered_domain, any_value(g.name_score) AS name_score, count(*) AS queries,
                       bool_and(u.response_code = 'NXDOMAIN') AS only_nx, min(u.ts) AS first_seen,
                       max(u.ts) AS last_seen
                FROM u JOIN dga_name_scores g ON g.registered_domain = u.registered_domain
                GROUP BY u.client, u.registered_domain
            )
            SELECT client, count(*) AS generated, avg(name_score) AS mean_name_score,
                   avg(CASE WHEN only_nx THEN 1.0 ELSE 0.0 END) AS nxdomain_share, sum(queries)::BIGINT AS queries,
                   min(first_seen) AS first_seen, max(last_seen) AS last_seen,
                   list(registered_domain ORDER BY name_score DESC, registered_domain)[1:8] AS samples,
                   list(registered_domain ORDER BY queries DESC, registered_domain) FILTER (WHERE NOT only_nx)
                       AS resolved
            FROM per_domain GROUP BY client
            """,
        )
    finally:
        con.unregister("dga_name_scores")
    peaks = frame(
        con,
        f"""
        WITH hourly AS (
            SELECT client, date_trunc('hour', ts) AS hour, count(DISTINCT query_name) AS nx_names,
                   count(*) AS nx_queries, min(ts) AS first_seen, max(ts) AS last_seen
            FROM ({UNEXPLAINED_QUERIES}) u WHERE response_code = 'NXDOMAIN'
            GROUP BY client, hour
        )
        SELECT client, arg_max(hour, nx_names) AS peak_hour, max(nx_names) AS peak_nx_names,
               sum(nx_queries)::BIGINT AS nx_queries, min(first_seen) AS nx_first, max(last_seen) AS nx_last
        FROM hourly GROUP BY client HAVING max(nx_names) >= ?
        """,
        [s.nxdomain_burst],
    )
    return per_client, peaks


def run(con: duckdb.DuckDBPyConnection, s: Settings) -> list[Finding]:
    per_client, peaks = gather(con, s)
    rows = {r["client"]: r for r in per_client.iter_rows(named=True)}
    peak_rows = {r["client"]: r for r in peaks.iter_rows(named=True)}
    findings = []
    for client in sorted(set(rows) | set(peak_rows), key=str):
        r = rows.get(client) or {
            "generated": 0,
            "mean_name_score": 0.0,
            "nxdomain_share": 0.0,
            "queries": 0,
            "samples": [],
            "resolved": [],
            "first_seen": None,
            "last_seen": None,
        }
        p = peak_rows.get(client) or {"peak_nx_names": 0}
        score, subs = score_client(
            r["generated"], r["mean_name_score"] or 0.0, r["nxdomain_share"] or 0.0, p["peak_nx_names"], s
        )
        if score < s.min_score:
            continue
        reasons = []
        if r["generated"]:
            nx = round(r["nxdomain_share"] * r["generated"])
            reasons.append(
                f"Asked for {plural(r['generated'], 'registered domain')} whose names look machine-generated "
                f"(mean name score {r['mean_name_score']:.2f}, threshold {s.threshold:g}), "
                f"e.g. {sample(r['samples'], total=r['generated'])}; {nx} of them never resolved (NXDOMAIN)."
            )
            if r["resolved"] and nx:
                reasons.append(
                    f"Of those names, these resolved — the likely command-and-control: "
                    f"{sample(r['resolved'], 3)}."
                )
        if p["peak_nx_names"] >= s.nxdomain_burst:
            reasons.append(
                f"{p['peak_nx_names']} distinct names answered NXDOMAIN in one hour "
                f"({p['peak_hour']:%Y-%m-%d %H:00} UTC; Slips alarms at {s.nxdomain_burst} per host per hour)."
            )
        first = [t for t in (r["first_seen"], p.get("nx_first")) if t is not None]
        last = [t for t in (r["last_seen"], p.get("nx_last")) if t is not None]
        findings.append(
            Finding(
                kind="dga",
                client=client,
                score=score,
                reasons=reasons,
                sub_scores=subs,
                first_seen=min(first) if first else None,
                last_seen=max(last) if last else None,
                evidence_count=max(int(r["queries"] or 0), int(p.get("nx_queries") or 0)),
            )
        )
    return findings

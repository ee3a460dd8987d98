"""The enrich step of an analysis: after the detectors, before ranking.

:func:`enrich` takes the findings of the detectors and the baseline and

1. rebuilds ``feed_hits``, ``domain_categories`` and ``ip_info`` (:func:`annotate.enrich_store`) from the
   lists ``netsift lists update`` installed plus the user's own feed and category files;
2. adds the findings of the enrich stage's producers, ``feed_hit`` and ``shared_infrastructure``
   (:data:`annotate.PRODUCERS`; an ``unexplained_domain`` row for a listed domain is superseded by its
   ``feed_hit`` finding, as detector findings supersede it: ``supersedes_leftovers``);
3. raises every other finding on a listed domain (the ``feed_hit`` modifier: malicious +0.25, suspicious
   +0.1 by default, recorded as ``modifier_feed_hit``) with a reason per feed: "listed by blackbook as emotet";
4. appends context to every finding on a domain: where its answers point ("answers point to AS
   'DIGITALOCEAN-ASN' (NL)") and its categories, security ones first ("categories: dynamic-dns (security),
   filehosting");
5. only when asked: resolves the domains of findings without answers (``--resolve``: dnspython, bounded
   concurrency and timeouts; the addresses go to ``ip_info``) and looks the top findings' domains up with
   VirusTotal / Umbrella Investigate (``--online``: cached in the store, rate-limited), adding their verdict
   line to the reasons and a modifier for a malicious answer.

Problems that are not the user's input (a missing key, a refusal, a rate limit, dnspython missing, a stale
or unreadable installed list) become one-line notes in the :class:`EnrichSummary`, never exceptions.
Thresholds are the ``[enrich]`` settings (:func:`all_settings`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import polars as pl

from netsift.baseline import leftovers
from netsift.config import Setting, Settings
from netsift.enrich import annotate, asn_geo, investigate, virustotal
from netsift.enrich.cache import EnrichmentCache
from netsift.enrich.categories import ALIASES, CategoryList, installed_categories, load_categories
from netsift.enrich.feeds import FEED_KINDS, Feed, installed_feeds, load_feed
from netsift.enrich.online import OnlineService
from netsift.errors import InputError
from netsift.lists import installed
from netsift.findings import Finding, merge
from netsift.store.base import Store

SETTINGS = (
    Setting("feed_malicious_increase", 0.25, "Added to a finding whose domain a malicious feed lists.", 0, 1),
    Setting("feed_suspicious_increase", 0.1, "Added to a finding whose domain a suspicious feed lists.", 0, 1),
    Setting("feed_informational_increase", 0.0, "Added to a finding whose domain an informational feed lists.",
            0, 1),
    Setting("online_malicious_increase", 0.2, "Added when VirusTotal or Investigate (--online) calls the domain "
            "malicious.", 0, 1),
    Setting("virustotal_malicious_engines", 3, "VirusTotal engines saying malicious before the domain counts as "
            "malicious.", 1, 200),
    Setting("context_max_networks", 3, "AS organisations named in a finding's 'answers point to' reason.", 1, 50),
    Setting("context_max_categories", 6, "Categories named in a finding's 'categories' reason.", 1, 50),
    Setting("resolve_concurrency", 16, "--resolve: lookups in flight at once.", 1, 256),
    Setting("resolve_timeout", 3.0, "--resolve: seconds before one name's lookup gives up.", 0.1, 60),
    Setting("resolve_max_names", 200, "--resolve: at most this many domains, best-ranked findings first.", 1,
            100_000),
)
SERVICES = ("virustotal", "investigate")
_L = TypeVar("_L")  # a kind of list (Feed, CategoryList)


def all_settings() -> tuple[Setting, ...]:
    """The ``[enrich]`` section: this step's settings, annotate's and both online services'."""
    return SETTINGS + annotate.SETTINGS + virustotal.SETTINGS + investigate.SETTINGS


@dataclass(frozen=True)
class FeedFile:
    """A user's feed file with its name and kind."""

    path: str
    name: str | None = None  # default: the file stem
    kind: str = "malicious"

    @classmethod
    def parse(cls, spec: str) -> FeedFile:
        """``PATH``, ``NAME=PATH`` or ``NAME:KIND=PATH`` (kind: malicious, suspicious, informational)."""
        if "=" not in spec or Path(spec).exists():
            return cls(spec)
        label, path = spec.split("=", 1)
        name, _, kind = label.partition(":")
        kind = kind.strip().lower() or "malicious"
        if kind not in FEED_KINDS:
            raise ValueError(f"feed kind {kind!r} in {spec!r} is not one of {', '.join(FEED_KINDS)}")
        return cls(path, name.strip() or None, kind)


@dataclass
class EnrichOptions:
    enabled: bool = True
    feeds: list[FeedFile] = field(default_factory=list)
    categories: list[str | Path] = field(default_factory=list)  # folders, .domains files, CSVs
    geoip_db: list[str | Path] = field(default_factory=list)  # MaxMind .mmdb files
    installed_lists: bool = True  # use what `netsift lists update` installed
    data_dir: str | Path | None = None  # where those live (default: $NETSIFT_DATA_DIR / user data dir)
    online: bool = False
    online_top: int = 10
    services: tuple[str, ...] = SERVICES
    max_age_days: float | None = None  # reuse cached online answers this long (default: the settings)
    base_urls: dict[str, str] = field(default_factory=dict)  # service -> base URL (mirror, newer API, tests)
    resolve: bool = False
    nameservers: tuple[str, ...] = ()  # --resolve: ask these (IP or IP:port), not the system's resolver


@dataclass
class EnrichSummary:
    lists: list[dict] = field(default_factory=list)  # name, kind, used_for, source, entries, date, age, stale
    tables: annotate.EnrichSummary = field(default_factory=annotate.EnrichSummary)
    findings_added: dict[str, int] = field(default_factory=dict)
    findings_raised: int = 0  # findings moved by the feed_hit modifier
    superseded: int = 0  # unexplained_domain rows replaced by feed_hit findings
    online: dict[str, dict[str, int]] = field(default_factory=dict)  # service -> asked, cached, fetched, failed
    resolved: dict[str, int] = field(default_factory=dict)  # asked, answered, ips
    notes: list[str] = field(default_factory=list)

    def record(self, added: list[Finding], superseded: int) -> None:
        """Count the findings the enrich stage added (by kind) and the leftover rows they superseded."""
        for f in added:
            self.findings_added[f.kind] = self.findings_added.get(f.kind, 0) + 1
        self.superseded += superseded

    @property
    def stale_lists(self) -> list[str]:
        return [item["name"] for item in self.lists if item.get("stale")]

    def as_dict(self) -> dict:
        return {"lists": self.lists, "stale_lists": self.stale_lists, "findings_added": self.findings_added,
                "findings_raised_by_feeds": self.findings_raised, "superseded": self.superseded,
                "online": self.online, "resolved": self.resolved, "notes": self.notes}


def enrich(store: Store, findings: list[Finding], opts: EnrichOptions | None = None,
           settings_by_section: dict[str, dict] | None = None) -> tuple[list[Finding], EnrichSummary]:
    """Enrich the store and the findings (see the module docstring): :func:`prepare`, this stage's producers
    (:data:`annotate.PRODUCERS`), merged as they declare, then :func:`finish`. Returns the findings (in no
    particular order) and what was done. ``pipeline.analyze`` runs the same steps with the registry."""
    opts = opts or EnrichOptions()
    s = Settings(all_settings(), (settings_by_section or {}).get("enrich"))
    summary = prepare(store, opts)
    new = [f for p in annotate.PRODUCERS for f in p.run(store, s)]
    known = {p.kind: p for p in (leftovers.PRODUCER, *annotate.PRODUCERS)}
    kept, added, superseded = merge(findings, new, known)
    summary.record(added, superseded)
    return finish(store, kept, opts, s, summary), summary


def prepare(store: Store, opts: EnrichOptions) -> EnrichSummary:
    """Load the lists and rebuild the enrichment tables (the enrich stage's producers read them)."""
    summary = EnrichSummary()
    feeds, cats = load_sources(opts, summary)
    try:
        summary.tables = annotate.enrich_store(store, feeds=feeds, categories=cats, geoip_db=opts.geoip_db or None)
    except (ImportError, RuntimeError) as exc:  # asn_geo: MissingDependency (maxminddb), GeoIPDatabaseError
        raise InputError(str(exc)) from exc
    # annotate's only note ("AS numbers need a MaxMind ASN database") would repeat on every run: documented
    return summary


def finish(store: Store, findings: list[Finding], opts: EnrichOptions, s: Settings,
           summary: EnrichSummary) -> list[Finding]:
    """After the enrich stage's findings are in: the feed modifier, --resolve, the context reasons and
    --online, on every finding (in place); returns ``findings``."""
    ranked = sorted((f for f in findings if f.domain), key=lambda f: -f.score)
    domains = list(dict.fromkeys(f.domain for f in ranked if f.domain))
    context = gather_context(store, domains)
    summary.findings_raised = apply_feed_modifier(findings, context["feeds"], s)
    if opts.resolve:
        wanted = [d for d in domains if d not in context["networks"] and _resolvable(d)][: s.resolve_max_names]
        context["resolved"] = resolve_into_ip_info(store, wanted, opts, s, summary)
    add_context_reasons(findings, context, s)
    if opts.online:
        look_up_online(store, findings, opts, s, summary)
    return findings


def load_sources(opts: EnrichOptions, summary: EnrichSummary) -> tuple[list[Feed], list[CategoryList]]:
    """Installed feeds and categories (unless turned off) plus the user's files; records every list used
    and notes stale or unreadable installed lists. A user's file that cannot be read is an InputError."""
    feeds: list[Feed] = []
    cats: list[CategoryList] = []
    if opts.installed_lists:
        try:
            items = {item.name: item for item in installed(opts.data_dir)}
        except (OSError, ValueError, KeyError) as exc:
            summary.notes.append(f"installed lists unreadable ({exc}); run `netsift lists update`")
            items = {}

        def add_installed(bucket: list[_L], loader: Callable[[str | Path | None], list[_L]]) -> None:
            try:
                bucket.extend(loader(opts.data_dir))
            except (OSError, ValueError) as exc:
                summary.notes.append(f"an installed list could not be read ({exc}); run `netsift lists update`")

        add_installed(feeds, installed_feeds)
        add_installed(cats, installed_categories)
        used = {f.name: ("feeds", f.domains, f.kind) for f in feeds} | {
            c.source: ("categories", c.entries.height, "categories") for c in cats}
        for name, item in items.items():
            role, entries, kind = used.get(name, ("baseline" if item.kind == "toplist" else "unused",
                                                  item.entries, item.kind))
            summary.lists.append({"name": name, "kind": kind, "used_for": role, "source": "installed",
                                  "entries": entries, "date": item.date.isoformat(),
                                  "age_days": round(item.age_days, 1), "stale": item.stale})
            if item.stale:
                summary.notes.append(f"list {name} is {item.age_days:.0f} days old (stale after "
                                     f"{item.max_age_days}): run `netsift lists update {name}`")
    for spec in opts.feeds:
        try:
            feed = load_feed(spec.path, name=spec.name, kind=spec.kind)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read this feed: {exc}", str(spec.path)) from exc
        feeds.append(feed)
        summary.lists.append({"name": feed.name, "kind": feed.kind, "used_for": "feeds", "source": str(spec.path),
                              "entries": feed.domains, "date": None, "age_days": None, "stale": False})
    for path in opts.categories:
        try:
            lst = load_categories(path)
        except (OSError, ValueError) as exc:
            raise InputError(f"cannot read these categories: {exc}", str(path)) from exc
        cats.append(lst)
        summary.lists.append({"name": lst.source, "kind": "categories", "used_for": "categories",
                              "source": str(path), "entries": lst.entries.height, "date": None, "age_days": None,
                              "stale": False})
    return feeds, cats


# --- context per finding domain -------------------------------------------------------------------------

def domain_keys(store: Store, domains: list[str]) -> pl.DataFrame:
    """(name, key): every query name whose registered domain is one of ``domains``, or that is one."""
    names = store.frame("SELECT DISTINCT query_name AS name FROM dns_queries")["name"]
    known = annotate.registered_domains(store, names)
    wanted = pl.Series(domains, dtype=pl.String).implode()
    return pl.concat([
        known.filter(pl.col("registered_domain").is_in(wanted)).select("name", key=pl.col("registered_domain")),
        known.filter(pl.col("name").is_in(wanted)).select("name", key=pl.col("name")),
    ]).unique()


def gather_context(store: Store, domains: list[str]) -> dict[str, dict]:
    """Per finding domain: the networks its answers point to, its categories and its feed hits."""
    out: dict[str, dict] = {"networks": {}, "categories": {}, "feeds": {}, "resolved": {}}
    if not domains:
        return out
    with store.temp_table("_netsift_step_keys", domain_keys(store, domains)):
        networks = store.frame(f"""
            SELECT k.key, i.as_org, i.country, coalesce(i.is_private, false) AS private,
                   count(DISTINCT a.ip) AS ips
            FROM (SELECT query_name, {store.sql.unnest('answers')} AS ip FROM dns_queries
                  WHERE query_name IN (SELECT name FROM _netsift_step_keys)) a
            JOIN _netsift_step_keys k ON k.name = a.query_name
            JOIN ip_info i ON i.ip = a.ip
            GROUP BY ALL""")
        cats = store.frame("""
            SELECT k.key, c.category, c.kind, count(DISTINCT c.name) AS names
            FROM domain_categories c JOIN _netsift_step_keys k ON k.name = c.name GROUP BY ALL""")
        feeds = store.frame("""
            SELECT DISTINCT k.key, f.feed, f.kind, f.family
            FROM feed_hits f JOIN _netsift_step_keys k ON k.name = f.name""")
    for name, frame in (("networks", networks), ("categories", cats), ("feeds", feeds)):
        grouped: dict[str, list[tuple]] = defaultdict(list)
        for row in frame.rows():
            grouped[row[0]].append(row[1:])
        out[name] = dict(grouped)
    return out


def apply_feed_modifier(findings: list[Finding], feeds: dict[str, list[tuple]], s: Settings) -> int:
    """Raise every finding (but ``feed_hit`` ones) on a listed domain; returns how many were touched."""
    increase = {"malicious": s.feed_malicious_increase, "suspicious": s.feed_suspicious_increase,
                "informational": s.feed_informational_increase}
    touched = 0
    for f in findings:
        entries = feeds.get(f.domain or "")
        if f.kind == "feed_hit" or not entries:
            continue
        by_feed: dict[str, tuple[str, set[str]]] = {}
        for feed, kind, family in entries:
            old_kind, families = by_feed.get(feed, (kind, set()))
            strongest = min(old_kind, kind, key=lambda k: FEED_KINDS.index(k) if k in FEED_KINDS else 9)
            by_feed[feed] = (strongest, families | ({family} if family else set()))
        change = max(increase.get(kind, 0.0) for kind, _ in by_feed.values())
        f.apply_change("feed_hit", change, None)
        f.reasons[0:0] = [f"listed by {feed} as {', '.join(sorted(families))}" if families
                          else f"listed by {feed} ({kind})" for feed, (kind, families) in sorted(by_feed.items())]
        touched += 1
    return touched


def add_context_reasons(findings: list[Finding], context: dict[str, dict], s: Settings) -> None:
    """Append where a finding's answers point and its categories."""
    for f in findings:
        if not f.domain:
            continue
        for rows, verb in ((context["networks"].get(f.domain), "answers point to"),
                           (context["resolved"].get(f.domain), "resolves now (--resolve) to")):
            text = network_reason(rows or [], verb, s.context_max_networks)
            if text:
                f.reasons.append(text)
        text = category_reason(context["categories"].get(f.domain) or [], s.context_max_categories)
        if text:
            f.reasons.append(text)


def network_reason(rows: list[tuple], verb: str, limit: int) -> str | None:
    """``answers point to AS 'GOOGLE' (US), AS 'CLOUDFLARENET' (AU, US)`` from (as_org, country, private,
    ips) rows; None without rows."""
    public = [r for r in rows if not r[2]]
    if not public:
        return f"{verb} private or reserved addresses only (blocked or internal)" if rows else None
    orgs: dict[str | None, list] = {}
    for org, country, _, ips in public:
        entry = orgs.setdefault(org, [0, set()])
        entry[0] += ips
        if country:
            entry[1].add(country)
    order = sorted(orgs.items(), key=lambda kv: (-kv[1][0], kv[0] is None, kv[0] or ""))
    parts = []
    for org, (_, countries) in order[:limit]:
        where = f" ({', '.join(sorted(countries))})" if countries else ""
        parts.append(f"AS '{org}'{where}" if org else f"an unknown AS{where}")
    more = len(order) - limit
    return f"{verb} {', '.join(parts)}" + (f" and {more} more network{'s' if more > 1 else ''}" if more > 0 else "")


def category_reason(rows: list[tuple], limit: int) -> str | None:
    """``categories: dynamic-dns (security), filehosting`` from (category, kind, names) rows."""
    best: dict[str, tuple[str, int]] = {}
    for category, kind, names in rows:
        old = best.get(category)
        best[category] = (kind if not old or kind == "security" else old[0], names + (old[1] if old else 0))
    order = sorted(best.items(), key=lambda kv: (kv[1][0] != "security", -kv[1][1], kv[0]))
    if not order:
        return None
    parts = [f"{c} (security)" if kind == "security" else c for c, (kind, _) in order[:limit]]
    more = len(order) - limit
    return "categories: " + ", ".join(parts) + (f" and {more} more" if more > 0 else "")


# --- --resolve ---------------------------------------------------------------------------------------------

def resolve_into_ip_info(store: Store, domains: list[str], opts: EnrichOptions, s: Settings,
                         summary: EnrichSummary) -> dict[str, list[tuple]]:
    """Resolve ``domains`` now (A and AAAA), add their addresses to ``ip_info``, and return per domain the
    (as_org, country, private, ips) rows for its reason. Trouble becomes a note."""
    summary.resolved = {"asked": len(domains), "answered": 0, "ips": 0}
    if not domains:
        return {}
    try:
        answers = resolve_names(domains, concurrency=s.resolve_concurrency, timeout=s.resolve_timeout,
                                nameservers=opts.nameservers)
    except ImportError:
        summary.notes.append("--resolve needs dnspython: pip install 'netsift[resolve]' (nothing was resolved)")
        return {}
    except OSError as exc:  # no resolver configuration, no nameserver
        summary.notes.append(f"--resolve: no resolver available ({exc}); nothing was resolved")
        return {}
    ips = sorted({ip for found in answers.values() for ip in found})
    summary.resolved.update(answered=sum(1 for found in answers.values() if found), ips=len(ips))
    if not ips:
        return {}
    info = asn_geo.lookup_ips(ips, geoip_db=opts.geoip_db or None)
    known = store.frame("SELECT ip FROM ip_info")["ip"].cast(pl.String)
    new = info.filter(~pl.col("ip").is_in(known.implode()))
    if new.height:
        store.append("ip_info", new)
    where = {r["ip"]: (r["as_org"], r["country"], bool(r["is_private"])) for r in info.iter_rows(named=True)}
    out: dict[str, list[tuple]] = {}
    for domain, found in answers.items():
        rows: dict[tuple, int] = defaultdict(int)
        for ip in found:
            rows[where.get(ip, (None, None, False))] += 1
        if rows:
            out[domain] = [(*k, n) for k, n in rows.items()]
    return out


def resolve_names(names: list[str], *, concurrency: int = 16, timeout: float = 3.0,
                  nameservers: tuple[str, ...] = ()) -> dict[str, list[str]]:
    """A and AAAA addresses of each name (empty when it has none or the lookup failed), at most
    ``concurrency`` lookups in flight, each giving up after ``timeout`` seconds. Needs dnspython
    (ImportError otherwise); OSError when no resolver is configured."""
    from concurrent.futures import ThreadPoolExecutor

    import dns.exception
    import dns.resolver

    try:
        resolver = dns.resolver.Resolver(configure=not nameservers)
    except dns.resolver.NoResolverConfiguration as exc:
        raise OSError(str(exc) or "no nameservers in /etc/resolv.conf") from exc
    if nameservers:
        hosts = []
        for server in nameservers:
            host, _, port = server.rpartition(":") if server.count(":") == 1 else (server, "", "")
            hosts.append(host)
            if port:
                resolver.port = int(port)
        resolver.nameservers = hosts
    resolver.timeout = resolver.lifetime = timeout
    resolver.cache = None

    def one(name: str) -> tuple[str, list[str]]:
        found: list[str] = []
        for rdtype in ("A", "AAAA"):
            try:
                answer = resolver.resolve(name, rdtype, search=False, raise_on_no_answer=False)
            except dns.exception.DNSException:
                continue
            found.extend(r.address for r in answer if hasattr(r, "address"))
        return name, found

    with ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(names)))) as pool:
        return dict(pool.map(one, names))


def _resolvable(domain: str) -> bool:
    return "." in domain and not domain.endswith((".arpa", ".local", ".internal", ".lan", ".home.arpa"))


# --- --online ----------------------------------------------------------------------------------------------

def look_up_online(store: Store, findings: list[Finding], opts: EnrichOptions, s: Settings,
                   summary: EnrichSummary) -> None:
    """Look the top ``online_top`` findings' domains up with each service; verdict lines to the reasons, a
    modifier for malicious answers, one note per service that failed."""
    ranked = sorted((f for f in findings if f.domain and _resolvable(f.domain)), key=lambda f: -f.score)
    domains = list(dict.fromkeys(f.domain for f in ranked if f.domain))[: max(0, opts.online_top)]
    by_domain: dict[str, list[Finding]] = defaultdict(list)
    for f in findings:
        if f.domain:
            by_domain[f.domain].append(f)
    cache = EnrichmentCache(store)
    service: OnlineService
    verdict: Callable[[dict[str, Any]], str]
    malicious: Callable[[dict[str, Any]], bool]
    for name in opts.services:
        if name == "virustotal":
            service = virustotal.VirusTotal(
                base_url=opts.base_urls.get(name), cache=cache,
                limits=((s.virustotal_per_minute, 60.0), (s.virustotal_per_day, 86400.0)),
                max_age_days=opts.max_age_days if opts.max_age_days is not None else s.virustotal_max_age_days)
            verdict, malicious = virustotal.verdict, (lambda d: d.get("malicious", 0) >= s.virustotal_malicious_engines)
        elif name == "investigate":
            service = investigate.Investigate(
                base_url=opts.base_urls.get(name), cache=cache,
                limits=((s.investigate_per_second, 1.0), (s.investigate_per_day, 86400.0)),
                max_age_days=opts.max_age_days if opts.max_age_days is not None else s.investigate_max_age_days)
            verdict, malicious = investigate.verdict, (lambda d: d.get("status") == -1)
        else:
            raise ValueError(f"unknown online service {name!r} (known: {', '.join(SERVICES)})")
        with service:
            results = service.lookup_many(domains)
        failed = [r for r in results if not r.ok]
        stats = {"asked": len(results), "cached": sum(r.cached for r in results),
                 "fetched": sum(r.ok and not r.cached for r in results), "failed": len(failed), "malicious": 0}
        for r in results:
            if not r.ok:
                continue
            bad = bool(r.data.get("found", True)) and malicious(r.data)
            stats["malicious"] += bad
            for f in by_domain.get(r.key, []):
                if bad:
                    f.apply_change(name, s.online_malicious_increase, None)
                f.reasons.append(verdict(r.data))
        summary.online[name] = stats
        if failed:
            first = failed[0].error or "failed"
            summary.notes.append(first if len(failed) == 1 or not service.configured else
                                 f"{first} ({len(failed)} of {len(results)} lookups failed)")


# --- filters and counts --------------------------------------------------------------------------------

def filter_findings(store: Store, findings: list[Finding], *, categories: tuple[str, ...] | list[str] = (),
                    feed_hits: bool = False) -> list[Finding]:
    """Only findings on a domain in one of ``categories`` (a category name in any spelling, or ``security``
    / ``content`` for any of that kind) and, with ``feed_hits``, on a domain a feed lists."""
    if not categories and not feed_hits:
        return findings
    domains = list(dict.fromkeys(f.domain for f in findings if f.domain))
    if not domains or not store.has_table("feed_hits"):
        return []
    context = gather_context(store, domains)
    wanted = {_category_key(c) for c in categories}

    def keep(f: Finding) -> bool:
        if not f.domain:
            return False
        if feed_hits and not context["feeds"].get(f.domain):
            return False
        if wanted:
            rows = context["categories"].get(f.domain) or []
            return any(_category_key(c) in wanted or kind in wanted for c, kind, _ in rows)
        return True

    return [f for f in findings if keep(f)]


def _category_key(category: str) -> str:
    key = category.strip().lower()
    return ALIASES.get(key, key)


def table_counts(store: Store) -> dict[str, int]:
    """What the enrichment tables hold: feed hits, categorised names and domains, located IPs."""
    if not store.has_table("feed_hits"):
        return {k: 0 for k in ("feed_hits", "feed_hit_names", "feed_hit_domains", "categorised_names",
                               "categorised_domains", "security_names", "ips", "ips_located", "ips_with_as")}
    hits = store.rows("SELECT count(*), count(DISTINCT name), count(DISTINCT coalesce(registered_domain, name)) "
                      "FROM feed_hits")[0]
    cats = store.rows("SELECT count(DISTINCT name), count(DISTINCT coalesce(registered_domain, name)), "
                      "count(DISTINCT name) FILTER (WHERE kind = 'security') FROM domain_categories")[0]
    ips = store.rows("SELECT count(*), count(country), count(as_org) FROM ip_info")[0]
    return {"feed_hits": hits[0], "feed_hit_names": hits[1], "feed_hit_domains": hits[2],
            "categorised_names": cats[0], "categorised_domains": cats[1], "security_names": cats[2],
            "ips": ips[0], "ips_located": ips[1], "ips_with_as": ips[2]}


def overview(store: Store, summary: EnrichSummary | None = None) -> dict:
    """The ``enrichment`` object of ``analyze --json``'s summary: table counts, plus the lists used, what
    was added, online lookups and notes when the step ran in this process."""
    return {**table_counts(store), **(summary.as_dict() if summary else {"lists": [], "stale_lists": [],
                                                                           "notes": []})}

"""Planted threats: each one on its own client, each row labelled with the threat's name.

Every threat is a function of its shape parameters (rate, jitter, size, timing) so a benchmark can vary
them, and returns a canonical events frame (the columns of :func:`netsift.synth.generate`). The defaults
are what ``generate()`` plants and what :data:`PLANTED` describes.

- ``dga``            a Ramnit-like seeded character DGA walking its list at ~30 names/hour until one
                     resolves, then checking in with it
- ``tunnel``         dnscat2-style: hex-encoded packets as labels under one domain, TXT/CNAME/MX (+ some
                     NULL, iodine style), a steady poll rate
- ``beacon``         a C2 check-in every ~300 s with ±20 % jitter, missed beats, the laptop asleep at night
- ``phishing``       a look-alike domain, first seen on the last day, a handful of lookups by one client
- ``nxdomain_storm`` hundreds of distinct nonexistent names under a few random domains within an hour
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta

import polars as pl

from netsift.schema import DNS_QUERIES, polars_schema

EVENT_SCHEMA = pl.Schema({**polars_schema(DNS_QUERIES, without=("source_file_id", "source_line")),
                          "label": pl.String(), "server": pl.String()})

DGA_CAMPAIGN_SEED = 0x2A5F17
DGA_TLDS = ("com", "net", "info")
TUNNEL_DOMAIN = "stat-cdn-relay.net"
BEACON_HOST = "api.cloudsync-telemetry.com"
PHISHING_DOMAIN = "micros0ft-secure-login.com"
# Threat infrastructure answers with short TTLs (seconds); benign names use domains.ttl_for.
TTLS = {TUNNEL_DOMAIN: 0, "cloudsync-telemetry.com": 60, PHISHING_DOMAIN: 300}


def dga_names(count: int, campaign_seed: int = DGA_CAMPAIGN_SEED, tlds: tuple[str, ...] = DGA_TLDS) -> list[str]:
    """The campaign's name list: a linear congruential generator picks length (8-16) and letters, as
    Ramnit-style seed-based families do; the same seed always gives the same list."""
    x = campaign_seed & 0x7FFFFFFF
    out = []

    def nxt() -> int:
        nonlocal x
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        return x >> 8

    for _ in range(count):
        length = 8 + nxt() % 9
        label = "".join(chr(97 + nxt() % 26) for _ in range(length))
        out.append(f"{label}.{tlds[nxt() % len(tlds)]}")
    return out


def _storm_domains() -> tuple[str, ...]:
    rng = random.Random("nxdomain-storm-targets")
    return tuple(f"{''.join(rng.choice('abcdefghijklmnopqrstuvwxyz') for _ in range(rng.randint(5, 8)))}"
                 f".{rng.choice(('com', 'net', 'xyz', 'top'))}" for _ in range(3))


STORM_DOMAINS = _storm_domains()


def _frame(rows: list[tuple], label: str, client: str, server: str) -> pl.DataFrame:
    """rows: (ts_us, name, qtype, rcode, answers)."""
    ts, name, qtype, rcode, answers = (list(col) for col in zip(*rows)) if rows else ([],) * 5
    n = len(ts)
    return pl.DataFrame({
        "ts": pl.Series(ts, dtype=pl.Int64).cast(pl.Datetime("us")),
        "client": [client] * n, "query_name": name, "query_type": qtype, "response_code": rcode,
        "answers": pl.Series(answers, dtype=pl.List(pl.String)), "resolver_action": pl.Series([None] * n, dtype=pl.String),
        "label": [label] * n, "server": [server] * n,
    }, schema=EVENT_SCHEMA)


def _us(t: datetime) -> int:
    return int(t.timestamp() * 1_000_000)


def _addr(rng: random.Random, first: tuple[int, ...]) -> str:
    return f"{rng.choice(first)}.{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(2, 254)}"


def dga(rng: random.Random, start: datetime, *, client: str = "10.0.0.27", server: str = "10.0.0.2",
        offset_hours: float = 10.2, rate_per_hour: float = 30.0, resolve_at: int = 100, checkins: int = 6,
        campaign_seed: int = DGA_CAMPAIGN_SEED) -> pl.DataFrame:
    names = dga_names(resolve_at + 1, campaign_seed)
    c2_ip = _addr(random.Random(names[resolve_at]), (91, 185, 194))
    t = _us(start + timedelta(hours=offset_hours))
    mean_gap = 3600 / rate_per_hour
    rows: list[tuple[int, str, str, str, list[str] | None]] = []
    for i, name in enumerate(names):
        t += int(mean_gap * rng.uniform(0.3, 1.7) * 1e6)
        if i == resolve_at:
            rows.append((t, name, "A", "NOERROR", [c2_ip]))
        else:
            rows.append((t, name, "A", "NXDOMAIN", None))
    for _ in range(checkins):  # found its C2: check in every 20-40 minutes
        t += int(rng.uniform(1200, 2400) * 1e6)
        rows.append((t, names[resolve_at], "A", "NOERROR", [c2_ip]))
    return _frame(rows, "dga", client, server)


def _dnscat_name(rng: random.Random, session: int, seq: int, domain: str, data_bytes: int) -> str:
    header = f"{rng.getrandbits(16):04x}01{session:04x}{seq & 0xFFFF:04x}{(seq * 7) & 0xFFFF:04x}"
    hexdata = header + "".join(f"{rng.getrandbits(8):02x}" for _ in range(data_bytes))
    labels = [hexdata[i:i + 63] for i in range(0, len(hexdata), 63)]
    return ".".join(labels) + "." + domain


def tunnel(rng: random.Random, start: datetime, *, client: str = "10.0.1.13", server: str = "10.0.1.2",
           offset_hours: float = 26.1, queries: int = 700, interval: float = 3.0, jitter: float = 0.3,
           domain: str = TUNNEL_DOMAIN,
           qtype_mix: tuple[tuple[str, float], ...] = (("TXT", 0.45), ("CNAME", 0.25), ("MX", 0.25), ("NULL", 0.05)),
           ) -> pl.DataFrame:
    types = [q for q, _ in qtype_mix]
    weights = [w for _, w in qtype_mix]
    session = rng.getrandbits(16)
    t = _us(start + timedelta(hours=offset_hours))
    rows = []
    for seq in range(queries):
        t += int(interval * rng.uniform(1 - jitter, 1 + jitter) * 1e6)
        busy = rng.random() < 0.7  # data packets are long; idle polls short
        name = _dnscat_name(rng, session, seq, domain, rng.randint(20, 90) if busy else rng.randint(0, 4))
        qt = rng.choices(types, weights)[0]
        reply = "".join(f"{rng.getrandbits(8):02x}" for _ in range(rng.randint(9, 40)))
        if qt == "TXT":
            answers = [reply]
        elif qt in ("CNAME", "MX"):
            answers = [f"{reply[:63]}.{domain}"]
        else:
            answers = None
        rows.append((t, name, qt, "NOERROR", answers))
    return _frame(rows, "tunnel", client, server)


def beacon(rng: random.Random, start: datetime, days: int, *, client: str = "192.168.50.23",
           server: str = "192.168.50.2", period: float = 300.0, jitter: float = 0.2, miss_rate: float = 0.03,
           host: str = BEACON_HOST, sleep_at: float = 23.25, wake_at: float = 7.25) -> pl.DataFrame:
    ip = _addr(random.Random(host), (45, 193, 172))
    end = start + timedelta(days=days)
    midnight = start.replace(hour=0, minute=0, second=0, microsecond=0)
    naps = []  # (asleep from, awake at) per night, each a little different
    for d in range(-1, days + 1):
        night = midnight + timedelta(days=d)
        naps.append((night + timedelta(hours=sleep_at + rng.gauss(0, 0.6)),
                     night + timedelta(days=1, hours=wake_at + rng.gauss(0, 0.5))))
    rows = []
    t = start + timedelta(seconds=rng.uniform(0, period))
    while t < end:
        nap = next(((a, b) for a, b in naps if a <= t < b), None)
        if nap:
            t = nap[1] + timedelta(seconds=rng.uniform(5, 90))  # wakes up, checks in soon after
            continue
        if rng.random() >= miss_rate:
            rows.append((_us(t), host, "A", "NOERROR", [ip]))
        t += timedelta(seconds=period * rng.uniform(1 - jitter, 1 + jitter))
    return _frame(rows, "beacon", client, server)


def phishing(rng: random.Random, start: datetime, days: int, *, client: str = "10.0.0.41",
             server: str = "10.0.0.3", domain: str = PHISHING_DOMAIN, at_hour: float = 16.3,
             qtypes: tuple[str, ...] = ("HTTPS", "AAAA", "A")) -> pl.DataFrame:
    ip = _addr(random.Random(domain), (193, 45, 91))
    t = start + timedelta(days=days - 1, hours=at_hour, seconds=rng.uniform(0, 600))
    rows = []
    # the click, the page's own assets, the credential POST, and a second look a few minutes later
    for delay, host in ((0, domain), (1.4, f"www.{domain}"), (rng.uniform(25, 60), f"login.{domain}"),
                        (rng.uniform(240, 480), domain)):
        t += timedelta(seconds=delay)
        for k, qt in enumerate(qtypes):
            rows.append((_us(t) + k * 300, host, qt, "NOERROR", [ip] if qt == "A" else None))
    return _frame(rows, "phishing", client, server)


def nxdomain_storm(rng: random.Random, start: datetime, *, client: str = "192.168.50.31",
                   server: str = "192.168.50.2", offset_hours: float = 38.4, names: int = 260,
                   minutes: float = 40.0, targets: tuple[str, ...] = STORM_DOMAINS) -> pl.DataFrame:
    alnum = "abcdefghijklmnopqrstuvwxyz0123456789"
    seen: dict[str, None] = {}
    while len(seen) < names:
        label = "".join(rng.choice(alnum) for _ in range(rng.randint(6, 14)))
        seen[f"{label}.{rng.choice(targets)}"] = None
    t0 = _us(start + timedelta(hours=offset_hours, seconds=rng.uniform(0, 600)))
    span = minutes * 60e6 * rng.uniform(0.9, 1.0)
    t = t0
    rows = []
    for name in seen:  # bursts of a few to a few dozen, pauses between
        t += int(rng.uniform(0.02, 0.4) * 1e6) if rng.random() < 0.9 else int(rng.uniform(5, 40) * 1e6)
        rows.append((t, name, "A", "NXDOMAIN", None))
    scale = span / max(t - t0, 1)  # stretch or squeeze to the requested span
    rows = [(t0 + int((r[0] - t0) * scale), *r[1:]) for r in rows]
    return _frame(rows, "nxdomain_storm", client, server)


PLANTED: dict[str, dict] = {
    "dga": {"name": "dga", "client": "10.0.0.27", "domain": dga_names(101)[100], "kind": "dga",
            "resolver": "10.0.0.2"},
    "tunnel": {"name": "tunnel", "client": "10.0.1.13", "domain": TUNNEL_DOMAIN, "kind": "tunnel",
               "resolver": "10.0.1.2"},
    "beacon": {"name": "beacon", "client": "192.168.50.23", "domain": "cloudsync-telemetry.com",
               "fqdn": BEACON_HOST, "kind": "beacon", "resolver": "192.168.50.2"},
    "phishing": {"name": "phishing", "client": "10.0.0.41", "domain": PHISHING_DOMAIN, "kind": "newly_observed",
                 "resolver": "10.0.0.3"},
    "nxdomain_storm": {"name": "nxdomain_storm", "client": "192.168.50.31", "domain": STORM_DOMAINS[0],
                       "domains": list(STORM_DOMAINS), "kind": "nxdomain_burst", "resolver": "192.168.50.2"},
}


def plant_all(seed: int, start: datetime, days: int) -> list[pl.DataFrame]:
    """Every threat with its default shape, each from its own seeded generator. The tunnel (a night on
    day 2) and the storm (an afternoon on day 2) move into day 1 when the window is a single day."""
    r = {name: random.Random(f"{seed}-{name}") for name in PLANTED}
    return [
        dga(r["dga"], start),
        tunnel(r["tunnel"], start, offset_hours=26.1 if days >= 2 else 2.1),
        beacon(r["beacon"], start, days),
        phishing(r["phishing"], start, days),
        nxdomain_storm(r["nxdomain_storm"], start, offset_hours=38.4 if days >= 2 else 14.4),
    ]

"""The benign population of the synthetic network and the DNS questions it asks.

Four segments, each behind its own resolver (so :mod:`netsift.synth.scenario` can write each as the log
format that resolver really produces):

- ``ad``     Windows workstations 10.0.0.21-34, Active Directory DNS 10.0.0.2 (Windows DNS debug log)
- ``office`` Mac/Linux workstations 10.0.0.35-46, office BIND resolver 10.0.0.3 (BIND query log)
- ``home``   phones, laptops, a TV, a Chromecast and an IPv6 host on 192.168.50.0/24, Pi-hole 192.168.50.2
- ``dmz``    four Linux servers 10.0.1.10-13 behind 10.0.1.2, seen by a Zeek sensor (which also sees mDNS)

Each client browses "visits" drawn from a Zipf popularity over :func:`domains.catalog` with personal
favourites, in a diurnal / weekly rhythm of its kind; a visit asks for the site and a few third-party hosts
(fonts, CDNs, ads), each for A / AAAA (/ HTTPS) as its OS does. On top come the background habits real
networks have: AD SRV lookups, WPAD and search-suffix NXDOMAINs, typos, telemetry and connectivity checks,
NTP, mDNS browsing, software-update bursts, a mail server's MX/TXT/DNSBL lookups, and an internet-facing
server reverse-resolving the scanners that hit it. Rows are accumulated column-wise in plain lists.
"""

from __future__ import annotations

import itertools
import math
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from netsift.synth import domains

RESOLVERS = {"ad": "10.0.0.2", "office": "10.0.0.3", "home": "192.168.50.2", "dmz": "10.0.1.2"}
MDNS_V4, MDNS_V6 = "224.0.0.251", "ff02::fb"
RATE = 1.7  # overall browsing multiplier: scale=1.0 gives ~67 k rows for 40 clients over 3 days
QTYPES_BY_OS = {
    "windows": ("A", "AAAA"), "mac": ("HTTPS", "AAAA", "A"), "ios": ("HTTPS", "AAAA", "A"),
    "linux": ("A", "AAAA"), "android": ("A", "AAAA"), "roku": ("A",), "cast": ("A", "AAAA"),
}

# Activity by hour of day (0-23), for weekdays and weekends, relative to a client's peak rate.
_OFFICE_WEEKDAY = (0, 0, 0, 0, 0, 0, .05, .3, .8, 1, 1, 1, .6, 1, 1, 1, .95, .7, .3, .1, .05, 0, 0, 0)
_HOME_WEEKDAY = (.05, .03, .02, .02, .02, .03, .2, .6, .5, .25, .2, .2, .3, .2, .2, .25, .4, .7, 1, 1, 1, .9, .6,
                 .2)
_HOME_WEEKEND = (.1, .05, .03, .02, .02, .02, .05, .2, .5, .8, .9, .9, .9, .8, .8, .9, .9, .9, 1, 1, 1, .9, .7,
                 .3)
_TV = (.1, .05, .05, .05, .05, .05, .05, .1, .1, .1, .1, .1, .1, .1, .1, .1, .2, .3, .6, 1, 1, 1, .7, .3)
_FLAT = (1,) * 24


@dataclass(frozen=True)
class Client:
    ip: str
    host: str
    segment: str  # ad | office | home | dmz
    os: str
    role: str  # workstation | laptop | desktop | phone | tv | cast | fileserver | mail | web | jump
    rate: float  # visits per hour at full activity
    night_on: bool = False  # left switched on overnight (background traffic continues)
    weekend_worker: bool = False

    @property
    def server(self) -> str:
        return RESOLVERS[self.segment]

    def activity(self, hour: int, weekday: int) -> float:
        weekend = weekday >= 5
        if self.segment in ("ad", "office"):
            if weekend:
                busy = 0.6 if self.weekend_worker and weekday == 6 and 13 <= hour <= 18 else 0.0
                return max(busy, 0.03 if self.night_on else 0.0)
            base = _OFFICE_WEEKDAY[hour]
            return max(base, 0.04) if self.night_on else base
        if self.role == "tv":
            return _TV[hour]
        if self.role in ("cast",) or self.segment == "dmz":
            return _FLAT[hour]
        return (_HOME_WEEKEND if weekend else _HOME_WEEKDAY)[hour]


def population(n: int = 40) -> list[Client]:
    """The client list: the 40-host template, shrunk (servers, threat hosts and the IPv6 host kept) or
    grown with more office workstations."""
    core = [
        Client("10.0.1.10", "fs01", "dmz", "linux", "fileserver", 4),
        Client("10.0.1.11", "mail", "dmz", "linux", "mail", 0),
        Client("10.0.1.12", "www", "dmz", "linux", "web", 0),
        Client("10.0.1.13", "jump01", "dmz", "linux", "jump", 2),
        Client("10.0.0.27", "WS-0027", "ad", "windows", "workstation", 16, night_on=True),  # dga
        Client("10.0.0.41", "mbp-dana", "office", "mac", "workstation", 14, weekend_worker=True),  # phishing
        Client("192.168.50.23", "lenovo-t14", "home", "windows", "laptop", 14),  # beacon
        Client("192.168.50.31", "desktop-fam", "home", "windows", "desktop", 10),  # nxdomain storm
        Client("fd00:50::8c1f:5aff:fe3b:21d7", "nas-ipv6", "home", "linux", "desktop", 3),
        Client("192.168.50.101", "iphone-sam", "home", "ios", "phone", 8),
        Client("192.168.50.102", "pixel-7", "home", "android", "phone", 8),
    ]
    extra = [
        Client("192.168.50.60", "roku-tv", "home", "roku", "tv", 6),
        Client("192.168.50.61", "chromecast", "home", "cast", "cast", 2),
        Client("192.168.50.103", "iphone-alex", "home", "ios", "phone", 7),
        Client("192.168.50.104", "galaxy-s23", "home", "android", "phone", 6),
        Client("192.168.50.24", "macbook-air", "home", "mac", "laptop", 12),
    ]
    rng = random.Random("population")
    ad = [Client(f"10.0.0.{i}", f"WS-{i:04d}", "ad", "windows", "workstation", rng.uniform(10, 20),
                 night_on=rng.random() < 0.3) for i in range(21, 35) if i != 27]
    office = [Client(f"10.0.0.{i}", f"{'mbp' if i % 3 else 'dev'}-{i}", "office", "mac" if i % 3 else "linux",
                     "workstation", rng.uniform(9, 18), night_on=i % 3 == 0) for i in range(35, 47) if i != 41]
    pool = list(itertools.chain.from_iterable(itertools.zip_longest(ad, office, extra)))
    pool = [c for c in pool if c is not None]
    k = len(core) + len(pool)
    i = 0
    while k < n:  # grow: more office workstations on the next addresses
        host = 47 + i
        subnet, octet = divmod(host, 250)
        pool.append(Client(f"10.0.{subnet * 3}.{octet + (2 if subnet else 0)}", f"WS-{host:04d}",
                           "ad" if i % 2 else "office", "windows" if i % 2 else "mac", "workstation",
                           rng.uniform(9, 18)))
        i += 1
        k += 1
    return core + pool[: max(0, n - len(core))]


@dataclass
class Rows:
    """Column lists being filled: one entry per DNS question."""

    ts: list[int] = field(default_factory=list)  # microseconds since the epoch, UTC
    client: list[str] = field(default_factory=list)
    name: list[str] = field(default_factory=list)
    qtype: list[str] = field(default_factory=list)
    server: list[str] = field(default_factory=list)

    def add(self, ts: float, c: Client, name: str, qtypes: tuple[str, ...] = ("A",), server: str | None = None):
        us = int(ts * 1e6)
        srv = server or c.server
        for i, qt in enumerate(qtypes):
            self.ts.append(us + i * 311)
            self.client.append(c.ip)
            self.name.append(name)
            self.qtype.append(qt)
            self.server.append(srv)


def poisson(rng: random.Random, lam: float) -> int:
    if lam <= 0:
        return 0
    if lam > 30:
        return max(0, round(rng.gauss(lam, math.sqrt(lam))))
    limit, k, p = math.exp(-lam), 0, rng.random()
    while p > limit:
        k += 1
        p *= rng.random()
    return k


MAIL_PEERS = ("gmail.com", "gmail.com", "outlook.com", "outlook.com", "yahoo.com", "icloud.com", "microsoft.com",
              "salesforce.com", "hubspot.com", "mailchimp.com", "sendgrid.net", "atlassian.net", "github.com",
              "linkedin.com", "amazon.com", "paypal.com", "stripe.com", "zoom.us", "slack.com", "dropbox.com")
_COMPANIONS = (  # third-party hosts a page pulls in, with weights
    ("fonts.googleapis.com", 8), ("fonts.gstatic.com", 8), ("www.gstatic.com", 6), ("ajax.googleapis.com", 3),
    ("www.googletagmanager.com", 4), ("www.google-analytics.com", 5), ("securepubads.g.doubleclick.net", 3),
    ("googleads.g.doubleclick.net", 2), ("pagead2.googlesyndication.com", 2), ("static.doubleclick.net", 1),
    ("cdn.jsdelivr.net", 3), ("cdnjs.cloudflare.com", 3), ("unpkg.com", 1), ("connect.facebook.net", 3),
    ("static.hotjar.com", 2), ("cdn.segment.io", 1), ("ib.adnxs.com", 2), ("match.adsrvr.org", 1),
    ("cdn.taboola.com", 1), ("sb.scorecardresearch.com", 2), ("c.amazon-adsystem.com", 2), ("js-agent.newrelic.com", 1),
    ("www.youtube.com", 2), ("i.ytimg.com", 2), ("r10.o.lencr.org", 2), ("ocsp.digicert.com", 2),
)


class Browser:
    """Zipf browsing with personal favourites; one instance per client."""

    def __init__(self, rng: random.Random, client: Client):
        cat = [d for d in domains.catalog() if d.category != "ad"]
        weights = [1.0 / (rank + 1) ** 1.05 for rank in range(len(cat))]
        tail = [i for i, d in enumerate(cat) if d.category.startswith("tail")]
        for i in rng.sample(tail, 12):  # the client's own sites: local paper, shops, the SaaS they use
            weights[i] *= rng.uniform(15, 60)
        for i in range(len(cat)):
            weights[i] *= rng.lognormvariate(0, 0.4)
        self.domains = cat
        self.cum = list(itertools.accumulate(weights))
        comp = [(h, w) for h, w in _COMPANIONS if h in domains.host_index()]
        self.comp_hosts = [h for h, _ in comp]
        self.comp_cum = list(itertools.accumulate(w for _, w in comp))
        self.rng = rng

    def visits(self, k: int) -> list[domains.Domain]:
        return self.rng.choices(self.domains, cum_weights=self.cum, k=k)

    def companions(self) -> list[str]:
        n = min(6, int(self.rng.expovariate(0.7)))
        return self.rng.choices(self.comp_hosts, cum_weights=self.comp_cum, k=n) if n else []


def _typo(rng: random.Random, domain: str) -> str:
    label, _, suffix = domain.partition(".")
    if len(label) < 4:
        return f"{label}{label[-1]}.{suffix}"
    i = rng.randrange(1, len(label) - 1)
    kind = rng.random()
    if kind < 0.4:
        label = label[:i] + label[i + 1:]
    elif kind < 0.7:
        label = label[:i] + label[i + 1] + label[i] + label[i + 2:]
    else:
        label = label[:i] + label[i] + label[i:]
    return f"{label}.{suffix}"


def browse(rows: Rows, rng: random.Random, c: Client, start: datetime, hours: int, scale: float) -> None:
    """The client's own browsing, hour by hour."""
    b = Browser(rng, c)
    qtypes = QTYPES_BY_OS[c.os]
    t0 = start.timestamp()
    day_factor = [rng.lognormvariate(0, 0.2) for _ in range(hours // 24 + 1)]
    suffix_junk = c.segment in ("ad", "office") and c.os != "mac"
    for h in range(hours):
        when = start + timedelta(hours=h)
        lam = RATE * c.rate * c.activity(when.hour, when.weekday()) * scale * day_factor[h // 24]
        n = poisson(rng, lam)
        if not n:
            continue
        base = t0 + h * 3600
        for dom in b.visits(n):
            ts = base + rng.random() * 3600
            hosts = dom.hosts
            host = hosts[min(int(rng.expovariate(1.2)), len(hosts) - 1)]
            if rng.random() < 0.004:  # a typo, then the right name
                rows.add(ts - 2.5, c, _typo(rng, dom.name), qtypes[-1:])
            rows.add(ts, c, host, qtypes)
            if suffix_junk and rng.random() < 0.01:
                rows.add(ts + 0.002, c, f"{host}.{domains.LOCAL_ZONE}", ("A",))
            for comp in b.companions():
                rows.add(ts + rng.uniform(0.05, 2.5), c, comp, qtypes)


def _every(rng: random.Random, t_from: float, t_to: float, period: float, jitter: float):
    t = t_from + rng.uniform(0, period)
    while t < t_to:
        yield t
        t += period * rng.uniform(1 - jitter, 1 + jitter)


def habits(rows: Rows, rng: random.Random, c: Client, start: datetime, hours: int, scale: float) -> None:
    """Background behaviour of a client's kind (not browsing)."""
    t0 = start.timestamp()
    t1 = t0 + hours * 3600

    def awake(ts: float) -> bool:
        when = datetime.fromtimestamp(ts, start.tzinfo)
        return c.activity(when.hour, when.weekday()) > 0.1 or rng.random() < 0.05

    if c.segment == "ad":
        for ts in _every(rng, t0, t1, 3000, 0.3):
            if awake(ts):
                rows.add(ts, c, "_ldap._tcp.dc._msdcs.corp.lan", ("SRV",))
                rows.add(ts + 0.01, c, "dc01.corp.lan", ("A",))
                if rng.random() < 0.3:
                    rows.add(ts + 0.4, c, "_kerberos._tcp.corp.lan", ("SRV",))
        for ts in _every(rng, t0, t1, 1800, 0.5):
            if awake(ts):
                rows.add(ts, c, rng.choice(("settings-win.data.microsoft.com", "v10.events.data.microsoft.com",
                                            "self.events.data.microsoft.com")), ("A", "AAAA"))
        for day in range(hours // 24 + 1):
            ts = t0 + day * 86400 + rng.uniform(7.5, 9.5) * 3600
            if t0 <= ts < t1 and awake(ts):
                rows.add(ts, c, "wpad.corp.lan", ("A",))
                rows.add(ts + 0.3, c, "www.msftconnecttest.com", ("A",))
                rows.add(ts + 0.4, c, "ipv6.msftconnecttest.com", ("AAAA",))
                rows.add(ts + 1.2, c, "isatap.corp.lan", ("A",))
    elif c.role == "tv":  # Roku phones home every ~5 min (Pi-hole blocks it)
        for ts in _every(rng, t0, t1, 300, 0.1):
            rows.add(ts, c, "scribe.logs.roku.com", ("A",))
    elif c.role == "cast":
        for ts in _every(rng, t0, t1, 1200, 0.25):
            rows.add(ts, c, "connectivitycheck.gstatic.com", ("A", "AAAA"))
    elif c.segment == "dmz":
        _server_habits(rows, rng, c, t0, t1, scale)
    if c.segment == "home" and c.os in ("ios", "mac"):
        for ts in _every(rng, t0, t1, 3600, 0.6):
            rows.add(ts, c, "lb._dns-sd._udp.0.50.168.192.in-addr.arpa", ("PTR",))
    if c.os in ("ios", "android", "mac", "cast") or c.role == "desktop":
        for ts in _every(rng, t0, t1, 3600 / max(scale, 0.1), 0.9):
            if awake(ts):
                name = rng.choice(("_googlecast._tcp.local", "_googlecast._tcp.local", "_airplay._tcp.local",
                                   "_companion-link._tcp.local", "_spotify-connect._tcp.local"))
                dst = MDNS_V6 if ":" in c.ip else MDNS_V4
                for k, gap in enumerate((0, 1.0, 3.0)):  # mDNS retries at 1 s, then 3 s
                    rows.add(ts + gap + k * 0.01, c, name, ("PTR",), server=dst)


def _server_habits(rows: Rows, rng: random.Random, c: Client, t0: float, t1: float, scale: float) -> None:
    for ts in _every(rng, t0, t1, 2048, 0.02):  # systemd-timesyncd
        rows.add(ts, c, "0.debian.pool.ntp.org", ("A", "AAAA"))
    for day in range(int((t1 - t0) // 86400) + 1):
        ts = t0 + day * 86400 + 6 * 3600 + rng.uniform(0, 3600)  # unattended-upgrades
        if ts < t1:
            for k, n in enumerate(("deb.debian.org", "security.debian.org", "deb.debian.org")):
                rows.add(ts + k * 0.5, c, n, ("A", "AAAA"))
    if c.role == "fileserver":
        for day in range(int((t1 - t0) // 86400) + 1):
            ts = t0 + day * 86400 + 2 * 3600 + rng.uniform(0, 300)  # nightly backup to S3
            for k in range(rng.randint(20, 40)):
                rows.add(ts + k * rng.uniform(20, 60), c, rng.choice(("s3.amazonaws.com", "s3-w.us-east-1.amazonaws.com")),
                         ("A",))
    elif c.role == "mail":
        senders = [*MAIL_PEERS, *(d.name for d in domains.catalog() if d.category in ("tail-shop", "tail-saas"))]
        for ts in _every(rng, t0, t1, 360 / max(scale, 0.1), 0.95):
            peer = rng.choice(senders)
            ip = domains.ipv4(domains.PROVIDER.get(peer, "generic"), "mx" + peer, 1)[0]
            if rng.random() < 0.6:  # inbound: PTR, DNSBL, SPF, DMARC
                rows.add(ts, c, domains.reverse_name(ip), ("PTR",))
                rows.add(ts + 0.1, c, ".".join(reversed(ip.split("."))) + ".zen.spamhaus.org", ("A",))
                rows.add(ts + 0.3, c, peer, ("TXT",))
                rows.add(ts + 0.35, c, f"_dmarc.{peer}", ("TXT",))
            else:  # outbound: MX, then the exchanger's address
                rows.add(ts, c, peer, ("MX",))
                rows.add(ts + 0.05, c, (domains.resolve(peer, "MX")[1] or [f"mx1.{peer}"])[0], ("A", "AAAA"))
    elif c.role == "web":  # internet-facing: reverse lookups of the scanners that knock
        for ts in _every(rng, t0, t1, 240 / max(scale, 0.1), 0.95):
            ip = f"{rng.choice((45, 80, 89, 91, 92, 103, 141, 162, 167, 185, 193, 194, 195, 198, 205))}." \
                 f"{rng.randrange(256)}.{rng.randrange(256)}.{rng.randrange(1, 255)}"
            rows.add(ts, c, domains.reverse_name(ip), ("PTR",))
    elif c.role == "jump":
        for ts in _every(rng, t0, t1, 5400, 0.8):
            rows.add(ts, c, domains.reverse_name(f"10.0.0.{rng.randint(21, 46)}"), ("PTR",))


def update_bursts(rows: Rows, rng: random.Random, clients: list[Client], start: datetime, hours: int) -> None:
    """Patch day: every Windows host fetches updates within ~15 minutes; an iOS release brings every Apple
    device to mesu/gdmf within half an hour."""
    t0 = start.timestamp()
    win = [c for c in clients if c.os == "windows"]
    apple = [c for c in clients if c.os in ("ios", "mac")]
    ms_names = ("fe3.delivery.mp.microsoft.com", "slscr.update.microsoft.com", "tlu.dl.delivery.mp.microsoft.com",
                "download.windowsupdate.com", "ctldl.windowsupdate.com", "au.download.windowsupdate.com",
                "displaycatalog.mp.microsoft.com")
    apple_names = ("mesu.apple.com", "gdmf.apple.com", "updates.cdn-apple.com", "xp.apple.com", "gs.apple.com")
    for burst_hour, hosts, names in ((10, win, ms_names), (24 + 9.5, apple, apple_names)):
        if burst_hour * 3600 >= hours * 3600:
            continue
        t = t0 + burst_hour * 3600
        for c in hosts:
            ts = t + rng.uniform(0, 900 if hosts is win else 1800)
            for k, n in enumerate(rng.sample(names, rng.randint(3, len(names)))):
                rows.add(ts + k * rng.uniform(0.2, 20), c, n, QTYPES_BY_OS[c.os])


def benign(rng: random.Random, clients: list[Client], start: datetime, hours: int, scale: float) -> Rows:
    rows = Rows()
    for c in clients:
        crng = random.Random(f"{rng.random()}-{c.ip}")
        if c.rate:
            browse(rows, crng, c, start, hours, scale)
        habits(rows, crng, c, start, hours, scale)
    update_bursts(rows, rng, clients, start, hours)
    return rows


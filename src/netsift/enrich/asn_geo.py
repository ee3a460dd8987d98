"""IP address -> country, autonomous system and (optionally) city, offline.

Default source: the GeoLite2 country + ASN data bundled inside the ``geoip2fast`` package
(``geoip2fast-asn-ipv6.dat.gz``, IPv4 and IPv6). It is loaded lazily, once per process (0.5-1 s and
~160 MB), the first time an address is looked up; importing this module loads nothing and nothing here
ever touches the network (geoip2fast's own updater is never called). geoip2fast keeps AS *names* only,
so ``asn`` (the number) stays null unless a MaxMind ASN database is given.

Lookups are vectorised: geoip2fast's sorted range tables are copied once into numpy arrays and a whole
column of IPv4 addresses is placed with one ``searchsorted``; IPv6 addresses (rarer in answers) use
``bisect`` on the same tables. Those tables are module globals of geoip2fast, not its public interface, so
a release may change them: on loading, the copied tables are checked against the public
``GeoIP2Fast.lookup`` on a fixed sample of addresses, and if they are missing or disagree, every address is
looked up through ``GeoIP2Fast.lookup`` instead (~30 k addresses/s rather than ~300 k; the same answers).
A test checks the fast path against ``GeoIP2Fast.lookup`` address by address, and the fallback against the
fast path.

Optional: one or more user MaxMind databases (``--geoip-db``: GeoLite2/GeoIP2 City, Country or ASN
``.mmdb``) override and extend the offline answer with city, coordinates and AS numbers. Reading them
needs the ``maxminddb`` package; without it :class:`MissingDependency` says ``pip install maxminddb``.
"""

from __future__ import annotations

import bisect
import ipaddress
import socket
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TypedDict

import numpy as np
import polars as pl

from netsift.enrich.tables import IP_INFO
from netsift.schema import polars_schema

GEOIP2FAST_DATA = "geoip2fast-asn-ipv6.dat.gz"
IP_INFO_SCHEMA = polars_schema(IP_INFO)
_PRIVATE_IDS = 16  # geoip2fast: country ids below 16 are reserved / private ranges
_NOT_FOUND_ID = 15  # "99:<not found in database>"
_NOT_FOUND_NAME = "<not found in database>"
_MAX_V4 = 2**32 - 1
_V4_MAPPED = 0xFFFF << 32  # ::ffff:0:0/96


class _V4Columns(TypedDict):
    """What :meth:`OfflineGeoIP.lookup_v4` gives: one value per address."""

    country_id: np.ndarray
    as_id: np.ndarray
    as_network: pl.Series


class MissingDependency(ImportError):
    """An optional package is needed; the message carries the exact install command."""


class GeoIPDatabaseError(RuntimeError):
    """A user-supplied GeoIP database cannot be read."""


class _Ranges:
    """One geoip2fast range table (country or ASN) as flat arrays: first address, last address, value id."""

    def __init__(self, firsts: list[list[int]], netlens: list[list[int]], ids: list[list[int]]):
        first = [f for chunk in firsts for f in chunk]
        netlen = [n for chunk in netlens for n in chunk]
        value = [v for chunk in ids for v in chunk]
        split = bisect.bisect_right(first, _MAX_V4)
        self.v4_first = np.array(first[:split], dtype=np.uint64)
        self.v4_netlen = np.array(netlen[:split], dtype=np.uint8)
        self.v4_last = self.v4_first + (np.uint64(1) << (np.uint64(32) - self.v4_netlen.astype(np.uint64))) - 1
        self.v4_id = np.array(value[:split], dtype=np.int64)
        self.v6_first = first[split:]
        self.v6_netlen = netlen[split:]
        self.v6_id = value[split:]

    def find_v4(self, ips: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(row index, found mask) for an array of IPv4 integers."""
        order = np.argsort(ips, kind="stable")  # sorted keys make searchsorted cache-friendly
        idx = np.empty(len(ips), dtype=np.int64)
        idx[order] = np.searchsorted(self.v4_first, ips[order], side="right")
        idx -= 1
        safe = np.clip(idx, 0, None)
        found = (idx >= 0) & (ips <= self.v4_last[safe])
        return safe, found

    def find_v6(self, ip: int) -> int | None:
        i = bisect.bisect_right(self.v6_first, ip) - 1
        if i < 0 or ip > self.v6_first[i] + (1 << (128 - self.v6_netlen[i])) - 1:
            return None
        return i


class OfflineGeoIP:
    """geoip2fast's bundled country + ASN tables, ready for column lookups. Use :func:`offline` to get the
    process-wide instance."""

    def __init__(self) -> None:
        from geoip2fast import GeoIP2Fast  # ~0.5-1 s and ~160 MB with its data: only when first needed

        self.reference = GeoIP2Fast(geoip2fast_data_file=GEOIP2FAST_DATA)
        self.source = str(self.reference.get_database_path() or "geoip2fast")
        self._as_prefixes: dict[str, int] | None = None
        try:
            self._copy_tables()
            self.fast = self._tables_agree()
        except (AttributeError, TypeError, ValueError, IndexError):  # a release changed its internals
            self.fast = False

    def _copy_tables(self) -> None:
        """geoip2fast's range tables (module globals) as numpy arrays, for column lookups."""
        from geoip2fast import geoip2fast as g
        codes, names = zip(*(item.split(":", 1) for item in g.mainListNamesCountry), strict=True)
        self.country_codes = pl.Series([c if i >= _PRIVATE_IDS else None for i, c in enumerate(codes)],
                                       dtype=pl.String)
        self.country_names = pl.Series([None if i == _NOT_FOUND_ID else n for i, n in enumerate(names)],
                                       dtype=pl.String)
        self.as_names = pl.Series([None if n == "<unknown>" else n for n in g.mainListNamesASN], dtype=pl.String)
        self.country = _Ranges(g.mainListFirstIP, g.mainListNetlength, g.mainListIDCountryCodes)
        self.asn = _Ranges(g.mainListFirstIPASN, g.mainListNetlengthASN, g.mainListIDASN)

    def _tables_agree(self) -> bool:
        """Whether the copied tables give geoip2fast's own public answers for a fixed sample of addresses."""
        sample = [f"{a}.{(a * 37) % 256}.{(a * 101) % 256}.{(a * 13) % 256}" for a in range(1, 224, 3)]
        ints = np.array([int(ipaddress.IPv4Address(ip)) for ip in sample], dtype=np.uint64)
        cols = self.lookup_v4(ints)
        for i, ip in enumerate(sample):
            ref = self.reference.lookup(ip)
            code = self.country_codes[int(cols["country_id"][i])]
            if code != _public_country(ref):
                return False
        return True

    def lookup_public(self, texts: list[str], values: list[int]) -> pl.DataFrame:
        """``ip_info`` columns through ``GeoIP2Fast.lookup``, one address at a time (the slow, stable path)."""
        rows: dict[str, list[Any]] = {c: [] for c in ("country", "country_name", "as_org", "as_network", "is_private")}
        for text, value in zip(texts, values, strict=True):
            ip = str(ipaddress.IPv4Address(value)) if value <= _MAX_V4 else text.split("%", 1)[0]
            ref = self.reference.lookup(ip)
            name = ref.country_name or None
            in_as = bool(ref.asn_cidr) and ipaddress.ip_address(ip) in ipaddress.ip_network(ref.asn_cidr,
                                                                                             strict=False)
            rows["country"].append(_public_country(ref))
            rows["country_name"].append(None if name == _NOT_FOUND_NAME else name)
            rows["as_org"].append(ref.asn_name if in_as and ref.asn_name not in ("", "<unknown>") else None)
            rows["as_network"].append(ref.asn_cidr if in_as else None)
            rows["is_private"].append(bool(ref.is_private))
        return pl.DataFrame(rows, schema={"country": pl.String, "country_name": pl.String, "as_org": pl.String,
                                          "as_network": pl.String, "is_private": pl.Boolean})

    def lookup_v4(self, ips: np.ndarray) -> _V4Columns:
        """Columns for an array of IPv4 integers (uint64)."""
        c_idx, c_found = self.country.find_v4(ips)
        country_id = np.where(c_found, self.country.v4_id[c_idx], _NOT_FOUND_ID)
        a_idx, a_found = self.asn.find_v4(ips)
        as_id = np.where(a_found, self.asn.v4_id[a_idx], 0)
        parts = pl.DataFrame({"first": self.asn.v4_first[a_idx], "len": self.asn.v4_netlen[a_idx],
                              "found": a_found})
        octets = [(pl.col("first") // (1 << shift) % 256).cast(pl.String) for shift in (24, 16, 8, 0)]
        nets = parts.select(pl.when("found").then(
            pl.concat_str(octets, separator=".") + "/" + pl.col("len").cast(pl.String))).to_series()
        return {"country_id": country_id, "as_id": as_id, "as_network": nets}

    def lookup_v6(self, ip: int) -> tuple[int, int, str | None]:
        """(country id, AS name id, network) for one IPv6 integer."""
        ci = self.country.find_v6(ip)
        country_id = self.country.v6_id[ci] if ci is not None else _NOT_FOUND_ID
        ai = self.asn.find_v6(ip)
        if ai is None:
            return country_id, 0, None
        net = f"{ipaddress.IPv6Address(self.asn.v6_first[ai])}/{self.asn.v6_netlen[ai]}"
        return country_id, self.asn.v6_id[ai], net

    def as_prefix_counts(self) -> dict[str, int]:
        """Number of announced prefixes per AS organisation in the bundled data: how big an AS is (empty
        when geoip2fast's tables could not be copied: sizes unknown)."""
        if not self.fast:
            return {}
        if self._as_prefixes is None:
            ids = np.concatenate([self.asn.v4_id, np.array(self.asn.v6_id, dtype=np.int64)])
            counts = np.bincount(ids, minlength=len(self.as_names))
            out: dict[str, int] = {}
            for name, n in zip(self.as_names.to_list(), counts.tolist(), strict=True):
                if name:
                    out[name] = out.get(name, 0) + n
            self._as_prefixes = out
        return self._as_prefixes


_lock = threading.Lock()
_instance: OfflineGeoIP | None = None


def offline() -> OfflineGeoIP:
    """The process-wide offline tables, loaded on first use."""
    global _instance
    with _lock:
        if _instance is None:
            _instance = OfflineGeoIP()
        return _instance


def lookup_ips(ips: Iterable[str] | pl.Series, *, geoip_db: str | Path | Sequence[str | Path] | None = None,
               use_offline: bool = True) -> pl.DataFrame:
    """One ``ip_info`` row per distinct valid address in ``ips`` (names and junk are dropped)."""
    series = ips if isinstance(ips, pl.Series) else pl.Series("ip", list(ips), dtype=pl.String)
    series = series.rename("ip").drop_nulls().str.strip_chars().unique(maintain_order=True)
    # IPv4 without regexes: exactly three dots, four parts that cast to integers of at most 255
    parts = pl.DataFrame({"ip": series}).lazy().filter(
        pl.col("ip").str.count_matches(".", literal=True) == 3
    ).with_columns(
        pl.col("ip").str.split_exact(".", 3).struct.rename_fields(["a", "b", "c", "d"]).alias("p")
    ).unnest("p").with_columns(
        [pl.col(c).str.to_integer(strict=False).cast(pl.UInt64) for c in "abcd"]
    ).filter(
        pl.all_horizontal([pl.col(c).le(255) & pl.col(c).is_not_null() for c in "abcd"])
    ).select("ip", v=pl.col("a") * 16777216 + pl.col("b") * 65536 + pl.col("c") * 256 + pl.col("d")).collect()
    v4, v4_int = parts["ip"], parts["v"]
    v6_text, v6_int = _parse_v6(series.filter(series.str.contains(":")).to_list())

    if use_offline:
        frame = _offline_frame(v4, v4_int, v6_text, v6_int)
    else:
        frame = pl.DataFrame({"ip": v4.to_list() + v6_text}, schema={"ip": pl.String}).with_columns(
            [pl.lit(None, dtype=t).alias(c) for c, t in IP_INFO_SCHEMA.items() if c != "ip"])
        frame = frame.with_columns(is_private=pl.Series(
            [_special(v) for v in v4_int.to_list() + v6_int], dtype=pl.Boolean))
    if geoip_db:
        paths = [geoip_db] if isinstance(geoip_db, (str, Path)) else list(geoip_db)
        frame = _overlay_mmdb(frame, paths)
    return frame.select(list(IP_INFO_SCHEMA)).cast(IP_INFO_SCHEMA)


def _parse_v6(texts: list[str]) -> tuple[list[str], list[int]]:
    """Valid IPv6 texts and their integers (IPv4-mapped addresses as their IPv4 integer)."""
    kept, ints = [], []
    for text in texts:
        try:
            value = int.from_bytes(socket.inet_pton(socket.AF_INET6, text.split("%", 1)[0]), "big")
        except (OSError, ValueError):
            continue
        kept.append(text)
        ints.append(value - _V4_MAPPED if _V4_MAPPED <= value <= _V4_MAPPED + _MAX_V4 else value)
    return kept, ints


def _ranges(cidrs: tuple[str, ...]) -> list[tuple[int, int]]:
    nets = [ipaddress.ip_network(c) for c in cidrs]
    return [(int(n.network_address), int(n.broadcast_address)) for n in nets]


# special-use ranges (RFC 6890 and friends) the bundled data may not cover: private, documentation,
# link-local, loopback, multicast, reserved
_SPECIAL_V4 = _ranges(("0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
                       "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24", "192.168.0.0/16", "198.18.0.0/15",
                       "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4", "240.0.0.0/4"))
_SPECIAL_V6 = _ranges(("::/127", "64:ff9b:1::/48", "100::/64", "2001::/23", "2001:db8::/32", "2002::/16",
                       "3fff::/20", "fc00::/7", "fe80::/10", "ff00::/8"))


def _special(value: int) -> bool:
    table = _SPECIAL_V4 if value <= _MAX_V4 else _SPECIAL_V6
    return any(lo <= value <= hi for lo, hi in table)


def _public_country(ref) -> str | None:
    code = ref.country_code
    return None if ref.is_private or code in ("", "--") or ref.country_name == _NOT_FOUND_NAME else code


def _offline_frame(v4: pl.Series, v4_int: pl.Series, v6_text: list[str], v6_int: list[int]) -> pl.DataFrame:
    db = offline()
    if not db.fast:
        texts, values = v4.to_list() + v6_text, v4_int.to_list() + v6_int
        public = db.lookup_public(texts, values)
        n = len(texts)
        frame = pl.DataFrame({"ip": pl.Series(texts, dtype=pl.String)}).with_columns(
            public, asn=pl.lit(None, pl.Int64), city=pl.lit(None, pl.String), lat=pl.lit(None, pl.Float64),
            lon=pl.lit(None, pl.Float64))
        special = pl.Series([_special(v) for v in values], dtype=pl.Boolean) if n else pl.Series([], dtype=pl.Boolean)
        return _hide_reserved(frame.with_columns(is_private=pl.col("is_private") | special))
    cols = db.lookup_v4(v4_int.to_numpy().astype(np.uint64))
    country_id = list(cols["country_id"])
    as_id = list(cols["as_id"])
    networks = cols["as_network"].to_list()
    for ip in v6_int:
        if ip <= _MAX_V4:  # IPv4-mapped IPv6
            one = db.lookup_v4(np.array([ip], dtype=np.uint64))
            c, a, net = int(one["country_id"][0]), int(one["as_id"][0]), one["as_network"][0]
        else:
            c, a, net = db.lookup_v6(ip)
        country_id.append(c)
        as_id.append(a)
        networks.append(net)
    cid = pl.Series(country_id, dtype=pl.Int64)
    aid = pl.Series(as_id, dtype=pl.Int64)
    n = len(cid)
    frame = pl.DataFrame({
        "ip": pl.Series(v4.to_list() + v6_text, dtype=pl.String),
        "country": db.country_codes.gather(cid),
        "country_name": db.country_names.gather(cid),
        "asn": pl.Series([None] * n, dtype=pl.Int64),
        "as_org": db.as_names.gather(aid),
        "as_network": pl.Series(networks, dtype=pl.String),
        "city": pl.Series([None] * n, dtype=pl.String),
        "lat": pl.Series([None] * n, dtype=pl.Float64),
        "lon": pl.Series([None] * n, dtype=pl.Float64),
        "is_private": (cid < _PRIVATE_IDS) & (cid != _NOT_FOUND_ID),
    })
    # ranges the bundled data does not cover (documentation nets, IPv6 link-local...): ask ipaddress
    unknown = (cid == _NOT_FOUND_ID).to_numpy()
    if unknown.any():
        values = v4_int.to_list() + v6_int
        reserved = [bool(u) and _special(v) for v, u in zip(values, unknown.tolist(), strict=True)]
        frame = frame.with_columns(is_private=pl.col("is_private") | pl.Series(reserved, dtype=pl.Boolean))
    return _hide_reserved(frame)


def _hide_reserved(frame: pl.DataFrame) -> pl.DataFrame:
    """Reserved ranges carry the pseudo-AS "IANA.ORG": not an organisation anyone hosts on."""
    return frame.with_columns(
        as_org=pl.when(~pl.col("is_private")).then("as_org"),
        as_network=pl.when(~pl.col("is_private")).then("as_network"),
    )


def open_mmdb(path: str | Path):
    """A ``maxminddb`` reader for a user database, with the install command when the package is absent."""
    try:
        import maxminddb
    except ImportError:
        raise MissingDependency(
            "reading a MaxMind database (--geoip-db) needs the maxminddb package: pip install maxminddb"
        ) from None
    try:
        return maxminddb.open_database(str(path))
    except FileNotFoundError:
        raise GeoIPDatabaseError(f"{path}: no such GeoIP database file") from None
    except (maxminddb.InvalidDatabaseError, OSError, ValueError) as exc:
        raise GeoIPDatabaseError(f"{path}: not a readable MaxMind .mmdb database ({exc})") from None


def _overlay_mmdb(frame: pl.DataFrame, paths: list[str | Path]) -> pl.DataFrame:
    """Fill/override columns from user MaxMind databases (City, Country and/or ASN)."""
    rows = {c: frame[c].to_list() for c in frame.columns}
    for path in paths:
        reader = open_mmdb(path)
        try:
            for i, ip in enumerate(rows["ip"]):
                try:
                    rec = reader.get(ip)
                except ValueError:
                    continue
                if isinstance(rec, dict):
                    _apply_record(rows, i, rec)
        finally:
            reader.close()
    return pl.DataFrame(rows, schema=frame.schema)


def _apply_record(rows: dict[str, list], i: int, rec: dict) -> None:
    country = rec.get("country") or rec.get("registered_country") or {}
    if country.get("iso_code"):
        rows["country"][i] = country["iso_code"]
        rows["country_name"][i] = (country.get("names") or {}).get("en", rows["country_name"][i])
    city = (rec.get("city") or {}).get("names", {}).get("en")
    if city:
        rows["city"][i] = city
    loc = rec.get("location") or {}
    if loc.get("latitude") is not None and loc.get("longitude") is not None:
        rows["lat"][i], rows["lon"][i] = float(loc["latitude"]), float(loc["longitude"])
    if rec.get("autonomous_system_number") is not None:
        rows["asn"][i] = int(rec["autonomous_system_number"])
    if rec.get("autonomous_system_organization"):
        rows["as_org"][i] = rec["autonomous_system_organization"]

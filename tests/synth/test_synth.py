"""netsift.synth: determinism, realism of the benign traffic, the planted threats, and writers whose lines
have exactly the shapes of the real samples in ../shared/data."""

from __future__ import annotations

import bz2
import csv
import gzip
import io
import json
import lzma
import os
import re
from datetime import UTC, datetime

import polars as pl
import pytest
import tldextract
import zstandard

from netsift.schema import DNS_QUERIES
from netsift.synth import EVENT_SCHEMA, PLANTED, generate, threats, traffic, writers
from netsift.synth.scenario import FILES, LOGON_FILES, NETWORK_FILES, write_demo


@pytest.fixture(scope="module")
def events() -> pl.DataFrame:
    return generate()


@pytest.fixture(scope="module")
def written(events, tmp_path_factory) -> dict[str, list[str]]:
    """Every format written from the default frame, as lines (line endings stripped)."""
    out = {}
    base = tmp_path_factory.mktemp("written")
    for fmt in writers.FORMATS:
        path = base / f"{fmt}.log"
        writers.write(events, fmt, path)
        out[fmt] = path.read_bytes().decode("utf-8").splitlines()
    return out


def _frame(rows: list[dict]) -> pl.DataFrame:
    defaults = {"query_type": "A", "response_code": "NOERROR", "answers": None, "resolver_action": "forwarded", "label": "benign",
                "server": "192.168.50.2", "client": "192.168.50.101", "ts": datetime(2026, 5, 9, 2, 36, 2)}
    return pl.DataFrame([{**defaults, **r} for r in rows], schema=EVENT_SCHEMA)


# --- the frame -------------------------------------------------------------------------------------------

def test_same_seed_same_frame_other_seed_other_frame():
    a, b = generate(seed=3, days=1, clients=12), generate(seed=3, days=1, clients=12)
    assert a.equals(b)
    assert not a.equals(generate(seed=4, days=1, clients=12))


def test_columns_are_the_canonical_ones_plus_label_and_server(events):
    canonical = [c for c in DNS_QUERIES.column_names if c not in ("source_file_id", "source_line")]
    assert events.columns == [*canonical, "label", "server"]
    assert dict(events.schema) == EVENT_SCHEMA
    assert events["ts"].is_sorted()
    assert events.select(pl.col("query_name", "ts").null_count()).row(0) == (0, 0)


def test_window_and_size(events):
    assert events["ts"].min() >= datetime(2026, 11, 20)
    assert events["ts"].max() < datetime(2026, 11, 23)
    assert 50_000 < events.height < 90_000
    assert generate(days=1, clients=10).height < events.height / 3


@pytest.mark.parametrize("n", [8, 40, 60])
def test_population_size_keeps_threat_hosts(n):
    clients = traffic.population(n)
    ips = [c.ip for c in clients]
    assert len(ips) == max(n, 11) and len(set(ips)) == len(ips)
    assert {p["client"] for p in PLANTED.values()} <= set(ips)


def test_workstations_are_busy_afternoons_and_quiet_nights(events):
    friday = events.filter(pl.col("client").str.starts_with("10.0.0.") & (pl.col("label") == "benign")
                           & (pl.col("ts").dt.day() == 20))
    by_hour = dict(friday.group_by(pl.col("ts").dt.hour()).len().iter_rows())
    assert by_hour[14] > 10 * by_hour.get(3, 0)
    weekend = events.filter(pl.col("client").str.starts_with("10.0.0.") & (pl.col("ts").dt.day() == 21))
    assert weekend.height < friday.height / 4  # Saturday: the office is empty


def test_registered_domains_follow_a_zipf_like_popularity(events):
    extract = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)
    names = events.filter(pl.col("label") == "benign")["query_name"]
    reg = {n: extract(n).top_domain_under_public_suffix or n for n in names.unique().to_list()}
    counts = names.replace_strict(reg).value_counts(sort=True)["count"]
    assert counts.len() > 400
    assert counts[0] > 10 * counts.median()
    assert counts[:10].sum() > 0.3 * counts.sum()  # a heavy head ...
    assert (counts <= 3).sum() > 20  # ... and a long tail


@pytest.mark.parametrize("name,check", [
    ("search-suffix junk", lambda df: df.filter(pl.col("query_name").str.ends_with(".com.corp.lan"))
     ["response_code"].unique().to_list() == ["NXDOMAIN"]),
    ("AD SRV lookups", lambda df: df.filter((pl.col("query_type") == "SRV") & (pl.col("response_code") == "NOERROR"))
     .height > 100),
    ("reverse lookups, some unanswered", lambda df: set(df.filter(pl.col("query_type") == "PTR")["response_code"]
                                                          .drop_nulls()) == {"NOERROR", "NXDOMAIN"}),
    ("mDNS browsing, no reply", lambda df: df.filter(pl.col("query_name") == "_googlecast._tcp.local")
     .select(pl.col("response_code").is_null().all(), pl.col("server").is_in(["224.0.0.251", "ff02::fb"]).all())
     .row(0) == (True, True)),
    ("gravity blocking", lambda df: set(df.filter(pl.col("resolver_action") == "blocked:gravity")
                                        .filter(pl.col("query_type") == "A")["answers"].list.first()) == {"0.0.0.0"}),
    ("blocked only on the Pi-hole", lambda df: df.filter(pl.col("resolver_action").is_not_null())["server"]
     .unique().to_list() == ["192.168.50.2"]),
    ("Pi-hole cache", lambda df: df.filter(pl.col("resolver_action") == "cached").height > 200),
    ("CNAME chains", lambda df: df.filter(pl.col("query_name") == "www.microsoft.com")["answers"]
     .list.first().drop_nulls().unique().to_list() == ["www.microsoft.com-c-3.edgekey.net"]),
    ("CDN host names", lambda df: df.filter(pl.col("query_name").str.contains(
        r"^(r\d---sn-[a-z0-9]{8}\.googlevideo\.com|d[a-z0-9]{13}\.cloudfront\.net)$")).height > 50),
    ("mostly NOERROR", lambda df: df.filter(pl.col("label") == "benign")["response_code"]
     .value_counts(normalize=True).filter(pl.col("response_code") == "NOERROR")["proportion"][0] > 0.85),
    ("stable answers per name", lambda df: df.filter((pl.col("query_type") == "A") & (pl.col("label") == "benign")
                                                     & (pl.col("resolver_action") != "blocked:gravity"))
     .group_by("query_name").agg(pl.col("answers").n_unique())["answers"].max() == 1),
    ("internet-facing server resolves scanners", lambda df: df.filter(
        (pl.col("client") == "10.0.1.12") & (pl.col("query_type") == "PTR") & (pl.col("response_code") == "NXDOMAIN"))
     .height > 100),
    ("update burst", lambda df: df.filter(pl.col("query_name").str.contains(r"windowsupdate\.com$|delivery\.mp\.microsoft")
                                          & pl.col("ts").is_between(datetime(2026, 11, 20, 10), datetime(2026, 11, 20, 10, 30)))
     ["client"].n_unique() >= 12),
])
def test_benign_traffic_has_the_habits_of_a_real_network(events, name, check):
    assert check(events), name


# --- planted threats ---------------------------------------------------------------------------------------

def _threat(events, name):
    rows = events.filter(pl.col("label") == name)
    assert rows.height and rows["client"].unique().to_list() == [PLANTED[name]["client"]]
    assert rows["server"].unique().to_list() == [PLANTED[name]["resolver"]]
    return rows


def test_every_planted_threat_is_present_on_its_own_client(events):
    assert set(events["label"].unique()) == {"benign", *PLANTED}
    assert len({p["client"] for p in PLANTED.values()}) == len(PLANTED)
    for name in PLANTED:
        rows = _threat(events, name)
        assert rows["query_name"].str.ends_with(PLANTED[name]["domain"]).any()


@pytest.mark.parametrize("days", [1, 2])
def test_short_windows_still_hold_every_threat(days):
    df = generate(days=days, clients=12, scale=0.3)
    assert set(df["label"].unique()) == {"benign", *PLANTED}
    assert df.filter(pl.col("label") == "phishing")["ts"].min().day == 20 + days - 1


def test_dga_walks_its_list_until_one_name_resolves(events):
    rows = _threat(events, "dga")
    nx = rows.filter(pl.col("response_code") == "NXDOMAIN")
    assert nx["query_name"].n_unique() == 100
    assert rows.filter(pl.col("response_code") == "NOERROR")["query_name"].unique().to_list() == [PLANTED["dga"]["domain"]]
    per_hour = nx.group_by(pl.col("ts").dt.truncate("1h")).len()["len"]
    assert 3 <= per_hour.len() <= 5 and 15 <= per_hour.median() <= 45
    assert nx["query_name"].str.len_chars().n_unique() >= 6  # not one constant length
    assert {n.rsplit(".", 1)[1] for n in nx["query_name"]} == {"com", "net", "info"}


def test_tunnel_is_many_long_unique_labels_under_one_domain(events):
    rows = _threat(events, "tunnel")
    assert rows["query_name"].n_unique() == rows.height >= 500
    assert set(rows["query_type"]) == {"TXT", "CNAME", "MX", "NULL"}
    lengths = rows["query_name"].str.len_chars()
    assert lengths.min() < 60 and lengths.max() > 150
    gaps = rows["ts"].diff().dt.total_seconds(fractional=True).drop_nulls()
    assert 2.0 < gaps.median() < 4.0 and gaps.std() > 0.3


def test_beacon_has_a_jittered_period_and_sleeps_at_night(events):
    rows = _threat(events, "beacon")
    gaps = rows["ts"].diff().dt.total_seconds().drop_nulls()
    assert 280 <= gaps.median() <= 320
    assert gaps.filter(gaps < 400).std() > 20  # ±20 % jitter, not a fixed clock
    assert (gaps > 6 * 3600).sum() == 2  # asleep both nights inside the window ...
    assert rows["ts"].min().hour >= 6 and rows["ts"].max().hour >= 22  # ... and before it; awake till late
    assert ((gaps > 500) & (gaps < 800)).sum() >= 3  # missed beats
    assert rows["query_name"].unique().to_list() == [PLANTED["beacon"]["fqdn"]]


def test_phishing_domain_is_first_seen_on_the_last_day(events):
    rows = _threat(events, "phishing")
    domain = PLANTED["phishing"]["domain"]
    assert domain == "micros0ft-secure-login.com"
    assert 3 <= rows.height <= 20 and rows["ts"].min() >= datetime(2026, 11, 22)
    assert events.filter(pl.col("query_name").str.ends_with(domain))["label"].unique().to_list() == ["phishing"]


def test_nxdomain_storm_is_hundreds_of_distinct_names_in_an_hour(events):
    rows = _threat(events, "nxdomain_storm")
    assert rows["query_name"].n_unique() >= 200
    assert rows["response_code"].unique().to_list() == ["NXDOMAIN"]
    assert (rows["ts"].max() - rows["ts"].min()).total_seconds() < 3600
    assert {n.split(".", 1)[1] for n in rows["query_name"]} == set(PLANTED["nxdomain_storm"]["domains"])


@pytest.mark.parametrize("make,check", [
    (lambda r, t: threats.beacon(r, t, 2, period=60, jitter=0.1),
     lambda df: 55 <= df["ts"].diff().dt.total_seconds().median() <= 65),
    (lambda r, t: threats.nxdomain_storm(r, t, names=500, minutes=20),
     lambda df: df["query_name"].n_unique() == 500 and (df["ts"].max() - df["ts"].min()).total_seconds() <= 1200),
    (lambda r, t: threats.dga(r, t, rate_per_hour=60, resolve_at=40),
     lambda df: df.filter(pl.col("response_code") == "NXDOMAIN").height == 40),
    (lambda r, t: threats.tunnel(r, t, queries=50, qtype_mix=(("TXT", 1.0),)),
     lambda df: df.height == 50 and df["query_type"].unique().to_list() == ["TXT"]),
])
def test_threat_shapes_are_parameters(make, check):
    import random

    df = make(random.Random(1), datetime(2026, 11, 20, tzinfo=UTC))
    assert dict(df.schema) == EVENT_SCHEMA and check(df)


# --- writers: exact lines for hand-made events -------------------------------------------------------------

PIHOLE_CASES = [
    ("cname chain then addresses",
     {"query_name": "www.youtube.com", "query_type": "A",
      "answers": ["youtube-ui.l.google.com", "142.250.1.1", "142.250.1.2"]},
     ["query[A] www.youtube.com from 192.168.50.101", "forwarded www.youtube.com to 127.0.0.1#5335",
      "reply www.youtube.com is <CNAME>", "reply youtube-ui.l.google.com is 142.250.1.1",
      "reply youtube-ui.l.google.com is 142.250.1.2"]),
    ("cached chain without AAAA",
     {"query_name": "thunder.dropbox.com", "query_type": "AAAA", "answers": ["bolt.v.dropbox.com"],
      "resolver_action": "cached"},
     ["query[AAAA] thunder.dropbox.com from 192.168.50.101", "cached thunder.dropbox.com is <CNAME>",
      "cached bolt.v.dropbox.com is NODATA-IPv6"]),
    ("nxdomain", {"query_name": "gooogle.com", "query_type": "A", "response_code": "NXDOMAIN"},
     ["query[A] gooogle.com from 192.168.50.101", "forwarded gooogle.com to 127.0.0.1#5335",
      "reply gooogle.com is NXDOMAIN"]),
    ("nodata https", {"query_name": "sylvan.g.aaplimg.com", "query_type": "HTTPS"},
     ["query[HTTPS] sylvan.g.aaplimg.com from 192.168.50.101", "forwarded sylvan.g.aaplimg.com to 127.0.0.1#5335",
      "reply sylvan.g.aaplimg.com is NODATA"]),
    ("gravity A", {"query_name": "adtago.s3.amazonaws.com", "query_type": "A", "answers": ["0.0.0.0"],
                   "resolver_action": "blocked:gravity"},
     ["query[A] adtago.s3.amazonaws.com from 192.168.50.101", "gravity blocked adtago.s3.amazonaws.com is 0.0.0.0"]),
    ("gravity AAAA", {"query_name": "adtago.s3.amazonaws.com", "query_type": "AAAA", "answers": ["::"],
                      "resolver_action": "blocked:gravity"},
     ["query[AAAA] adtago.s3.amazonaws.com from 192.168.50.101", "gravity blocked adtago.s3.amazonaws.com is ::"]),
    ("gravity HTTPS", {"query_name": "adtago.s3.amazonaws.com", "query_type": "HTTPS",
                       "resolver_action": "blocked:gravity"},
     ["query[HTTPS] adtago.s3.amazonaws.com from 192.168.50.101",
      "gravity blocked adtago.s3.amazonaws.com is NODATA"]),
    ("reverse lookup", {"query_name": "8.8.8.8.in-addr.arpa", "query_type": "PTR", "answers": ["dns.google"]},
     ["query[PTR] 8.8.8.8.in-addr.arpa from 192.168.50.101", "forwarded 8.8.8.8.in-addr.arpa to 127.0.0.1#5335",
      "reply 8.8.8.8 is dns.google"]),
    ("mx", {"query_name": "example.org", "query_type": "MX", "answers": ["mx1.example.org", "mx2.example.org"]},
     ["query[MX] example.org from 192.168.50.101", "forwarded example.org to 127.0.0.1#5335",
      "reply example.org is <MX>", "reply example.org is <MX>"]),
]


@pytest.mark.parametrize("name,row,expected", PIHOLE_CASES, ids=[c[0] for c in PIHOLE_CASES])
def test_pihole_lines_are_what_dnsmasq_prints(name, row, expected, tmp_path):
    writers.write(_frame([row]), "pihole", tmp_path / "p.log")
    prefix = f"May  9 02:36:02 dnsmasq[{writers.DNSMASQ_PID}]: "
    assert (tmp_path / "p.log").read_text().splitlines() == [prefix + e for e in expected]


@pytest.mark.parametrize("row,flags,name", [
    ({"query_name": "www.google.com", "client": "10.0.0.21"}, "8081   DR  NOERROR", "(3)www(6)google(3)com(0)"),
    ({"query_name": "wpad.corp.lan", "client": "10.0.0.21", "response_code": "NXDOMAIN"}, "8385 A DR NXDOMAIN",
     "(4)wpad(4)corp(3)lan(0)"),
    ({"query_name": "dc01.corp.lan", "client": "10.0.0.21"}, "8085 A DR  NOERROR", "(4)dc01(4)corp(3)lan(0)"),
    ({"query_name": "x.example", "client": "10.0.0.21", "response_code": "NXDOMAIN"}, "8381   DR NXDOMAIN",
     "(1)x(7)example(0)"),
])
def test_windows_packet_pair(row, flags, name, tmp_path):
    writers.write(_frame([row]), "windows_dns", tmp_path / "w.log")
    raw = (tmp_path / "w.log").read_bytes()
    assert raw.count(b"\r\n") == raw.count(b"\n")  # CRLF throughout
    lines = raw.decode().split("\r\n")
    assert lines[0] == "DNS Server log file creation at 5/9/2026 2:36:02 AM"
    rcv, blank1, snd, blank2, end = lines[-5:]
    assert (blank1, blank2, end) == ("", "", "")
    assert rcv.startswith("5/9/2026 2:36:02 AM 0E24 PACKET  ") and snd.startswith("5/9/2026 2:36:02 AM 0E24 PACKET  ")
    assert re.search(r" UDP Rcv 10\.0\.0\.21       [0-9a-f]{4}   Q \[0001   D   NOERROR\] A      ", rcv)
    assert snd.endswith(f" R Q [{flags}] A      {name}") and rcv.endswith(name)
    assert rcv.split()[5] == snd.split()[5] and rcv.split()[9] == snd.split()[9]  # same packet id and xid


def test_writers_are_deterministic_and_count_lines(events, tmp_path):
    small = events.head(3000)
    for fmt in writers.FORMATS:
        n = writers.write(small, fmt, tmp_path / "a")
        writers.write(small, fmt, tmp_path / "b")
        assert (tmp_path / "a").read_bytes() == (tmp_path / "b").read_bytes(), fmt
        assert n == len((tmp_path / "a").read_bytes().splitlines()), fmt


@pytest.mark.parametrize("suffix,compress,opener", [
    (".gz", None, gzip.decompress), (".log", "gzip", gzip.decompress), (".bz2", None, bz2.decompress),
    (".xz", None, lzma.decompress), (".zst", None, lambda b: zstandard.ZstdDecompressor().stream_reader(
        io.BytesIO(b)).read()),
])
def test_compressed_output(events, tmp_path, suffix, compress, opener):
    small = events.head(500)
    writers.write(small, "zeek_tsv", tmp_path / "plain.log")
    writers.write(small, "zeek_tsv", tmp_path / f"packed{suffix}", compress=compress)
    assert opener((tmp_path / f"packed{suffix}").read_bytes()) == (tmp_path / "plain.log").read_bytes()


def test_unknown_format_or_compression_is_refused(events, tmp_path):
    with pytest.raises(ValueError, match="unknown format"):
        writers.write(events.head(1), "syslog", tmp_path / "x")
    with pytest.raises(ValueError, match="unknown compression"):
        writers.write(events.head(1), "csv", tmp_path / "x", compress="rar")


# --- writers: the shapes of the real samples ---------------------------------------------------------------

PIHOLE_LINE = re.compile(
    r"^[A-Z][a-z]{2} [ 123]\d \d\d:\d\d:\d\d dnsmasq\[\d+\]: (?:query\[[A-Z0-9]+\] \S+ from \S+|forwarded \S+ to \S+"
    r"|(?:reply|cached|cached-stale) \S+ is \S+|gravity blocked \S+ is \S+)$")
BIND_LINE = re.compile(r"^\d\d-[A-Z][a-z]{2}-\d{4} \d\d:\d\d:\d\d\.\d{3} client (@0x[0-9a-f]{12} )?\S+#\d+ \(\S+\): "
                       r"query: \S+ IN [A-Z0-9]+ [+-]\S* \(\S+\)$")
WINDOWS_PACKET = re.compile(
    r"^\d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d [AP]M [0-9A-F]{4} PACKET  [0-9A-F]{16} UDP (Rcv|Snd) (.{15}|\S{16,}) [0-9a-f]{4} "
    r"[ R] [QNU?] \[[0-9a-f]{4} [A ][T ][D ][R ] [ A-Z]{8}\] [A-Z0-9]+ +(\(\d+\)[^()]+)+\(0\)$")
ZEEK_FIELD = {
    "ts": r"\d{10}\.\d{6}", "uid": r"C[0-9A-Za-z]{15,17}", "id.orig_h": r"[0-9a-f.:]+", "id.orig_p": r"\d+",
    "id.resp_h": r"[0-9a-f.:]+", "id.resp_p": r"\d+", "proto": r"udp|tcp", "trans_id": r"\d+",
    "rtt": r"-|\d+\.\d{6}", "query": r"\S+", "qclass": r"-|\d+", "qclass_name": r"-|C_INTERNET|qclass-\d+",
    "qtype": r"-|\d+", "qtype_name": r"-|[A-Z0-9]+", "rcode": r"-|\d+", "rcode_name": r"-|[A-Z]+", "AA": "[TF]",
    "TC": "[TF]", "RD": "[TF]", "RA": "[TF]", "Z": r"\d+", "answers": r"-|[^\t]+", "TTLs": r"-|\d+\.\d{6}(,\d+\.\d{6})*",
    "rejected": "[TF]",
}


def _zeek_rows_ok(lines: list[str]) -> bool:
    rows = [line.split("\t") for line in lines if not line.startswith("#")]
    patterns = [re.compile(ZEEK_FIELD[f]) for f in writers.ZEEK_FIELDS]
    for row in rows:
        assert len(row) == 24
        assert all(p.fullmatch(v) for p, v in zip(patterns, row)), row
        if row[21] != "-":
            assert len(row[22].split(",")) == len(row[21].split(","))
    return True


def test_pihole_shapes_match_the_real_log(shared_data, written):
    real = (shared_data / "dns_logs/pihole_dnsmasq/bazmonk_pihole.0236.log").read_text().splitlines()
    assert sum(bool(PIHOLE_LINE.match(line)) for line in real) == 1611  # of 1763: not DNSSEC/special lines
    ours = written["pihole"]
    assert all(PIHOLE_LINE.match(line) for line in ours)

    def verbs(lines):
        return {re.sub(r"\[.*", "[]", line.split(": ", 1)[1].split(" ")[0]) for line in lines if PIHOLE_LINE.match(line)}
    assert verbs(ours) <= verbs(real) | {"gravity"}
    assert {"query[]", "forwarded", "reply", "cached", "gravity"} <= verbs(ours)


def test_zeek_tsv_header_and_rows_match_the_real_log(shared_data, written):
    real = (shared_data / "dns_logs/zeek_tsv/rita_proxy_dns.log").read_text().splitlines()
    ours = written["zeek_tsv"]
    assert ours[:5] == real[:5]
    assert re.fullmatch(r"#open\t\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d", ours[5]) and real[5].startswith("#open\t")
    assert ours[6:8] == real[6:8]  # #fields and #types exactly as Zeek writes them
    assert re.fullmatch(r"#close\t\d{4}-\d\d-\d\d-\d\d-\d\d-\d\d", ours[-1])
    assert sum(not line.startswith("#") for line in real) == 942
    assert _zeek_rows_ok(real) and _zeek_rows_ok(ours)


def test_zeek_json_keys_and_types_match_the_real_log(shared_data, written):
    real = [json.loads(line) for line in (shared_data / "dns_logs/zeek_json/zat_json_dns.log").read_text().splitlines()]
    assert len(real) == 50
    order = max((list(obj) for obj in real), key=len)  # a full record: every field, in order
    types = {k: type(v) for obj in real for k, v in obj.items()}
    ours = [json.loads(line) for line in written["zeek_json"]]
    seen = set()
    for obj in ours:
        keys = list(obj)
        assert keys == sorted(keys, key=order.index)  # Zeek's field order, unset fields left out
        assert all(isinstance(v, types[k]) for k, v in obj.items() if k not in ("rtt",)), obj
        seen.update(keys)
    assert seen == set(order)


def test_bind_lines_match_the_real_querylog(shared_data, written):
    real = (shared_data / "dns_logs/bind_querylog/sunilbinghamton_queries2.log").read_text().splitlines()
    assert len(real) == 623 and all(BIND_LINE.match(line) for line in real)
    assert all((m := BIND_LINE.match(line)) and m.group(1) for line in written["bind"])  # with client @0x...


def test_windows_header_and_packets_match_the_real_debug_log(shared_data, written):
    real = (shared_data / "dns_logs/windows_dns_debug/jschpp_dns-Locale_en-US-Windows2012.txt").read_text().splitlines()
    ours = written["windows_dns"]
    stamp = r"DNS Server log file creation at \d{1,2}/\d{1,2}/\d{4} \d{1,2}:\d\d:\d\d [AP]M"
    assert re.fullmatch(stamp, real[0]) and re.fullmatch(stamp, ours[0])
    assert ours[1:29] == real[1:29]  # the message logging key, blank lines included
    real_packets = [line for line in real if " PACKET " in line]
    assert len(real_packets) == 436 and all(WINDOWS_PACKET.match(line) for line in real_packets)
    body = ours[29:]
    assert all(WINDOWS_PACKET.match(line) for line in body[0::2]) and not any(body[1::2])


def test_umbrella_fields_match_the_real_export(shared_data, written):
    real = list(csv.reader((shared_data / "dns_logs/umbrella_csv/elastic_integrations_test-umbrella-dnslogs.log")
                           .read_text().splitlines(), skipinitialspace=True))
    assert [len(r) for r in real].count(13) == 14
    ours = list(csv.reader(written["umbrella_csv"]))
    for rows in (real, ours):
        assert all(re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", r[0]) for r in rows)
        assert all(r[5] in ("Allowed", "Blocked") and re.fullmatch(r"\d+ \([A-Z0-9]+\)", r[6]) for r in rows)
        assert all(r[8].endswith(".") for r in rows)
    assert all(len(r) == 13 for r in ours) and all(line.startswith('"') for line in written["umbrella_csv"])


def test_generic_csv_reads_back(events, written):
    assert written["csv"][0] == "ts,client,query_name,query_type,response_code,answers"
    back = pl.read_csv(io.StringIO("\n".join(written["csv"])), infer_schema=False)
    assert back.height == events.height
    assert back["query_name"].to_list() == events["query_name"].to_list()
    a_rows = events.with_row_index().filter(pl.col("query_type") == "A").head(200)
    assert [(back["answers"][i] or "").split("|") for i in a_rows["index"]] == a_rows["answers"].fill_null([""]).to_list()


# --- benchmark files and the demo ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["pihole", "zeek_tsv"])
def test_write_lines_fast_writes_exactly_n_lines_in_batches(fmt, tmp_path, monkeypatch):
    calls = []
    real_emit = writers._emit
    monkeypatch.setattr(writers, "BATCH", 20_000)
    monkeypatch.setattr(writers, "_emit", lambda out, text, f: (calls.append(len(text)), real_emit(out, text, f)))
    path = tmp_path / "bench.log"
    questions = writers.write_lines_fast(fmt, path, 200_000, seed=2)
    lines = path.read_text().splitlines()
    assert len(lines) == 200_000
    if fmt == "pihole":
        assert questions == sum(" query[" in line for line in lines) and all(PIHOLE_LINE.match(x) for x in lines)
    else:
        assert questions == sum(not line.startswith("#") for line in lines) == 200_000 - 9
        assert _zeek_rows_ok(lines)
    assert len(calls) >= 3 and max(calls) <= 4 * 20_000  # written batch by batch
    stamps = [line[:15] for line in lines if not line.startswith("#")] if fmt == "pihole" else \
        [float(line.split("\t")[0]) for line in lines if not line.startswith("#")]
    assert stamps == sorted(stamps)


def test_demo_scenario_splits_the_network_across_formats(tmp_path):
    paths = write_demo(tmp_path)
    assert [p.name for p in paths] == [name for name, _, _ in FILES] + list(NETWORK_FILES) + list(LOGON_FILES)
    text = {}
    for p in paths[:len(FILES)]:  # the DNS logs (the network files: tests/synth/test_network.py)
        raw = p.read_bytes()
        text[p.name] = (gzip.decompress(raw) if p.suffix == ".gz" else raw).decode()
    assert [p.suffix for p in paths].count(".gz") == 1
    total = sum(len(t.splitlines()) for t in text.values())
    assert 150_000 <= total <= 250_000
    events = generate()
    by_resolver = {"192.168.50.2": "pihole.log", "10.0.0.2": "dc01-dns.log", "10.0.0.3": "ns1-queries.log",
                   "10.0.1.2": "sensor-dns.log.gz"}
    for name, threat in PLANTED.items():
        row = events.filter(pl.col("label") == name).row(0, named=True)
        shown = row["query_name"] if by_resolver[threat["resolver"]] != "dc01-dns.log" else \
            "".join(f"({len(x)}){x}" for x in row["query_name"].split(".")) + "(0)"
        assert threat["client"] in text[by_resolver[threat["resolver"]]], name
        assert shown in text[by_resolver[threat["resolver"]]], name
    last = events.filter(pl.col("server") == "192.168.50.2")["ts"].max().replace(tzinfo=UTC).timestamp()
    assert os.path.getmtime(paths[0]) == pytest.approx(last, abs=1)

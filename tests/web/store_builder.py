"""A small store with known content for the report and dashboard tests: 3 days, 4 clients, a popular
domain, a beaconing one, a planted XSS name, answers with public addresses and (when the enrichment
tables exist) countries for them."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import polars as pl

from netsift import pipeline
from netsift.store import open_store

XSS = "<script>alert(1)</script>"
XSS_DOMAIN = f"{XSS}.com"  # registered domain of the planted name www.<script>alert(1)</script>.com
START = dt.datetime(2024, 5, 1)
CLIENTS = ["10.0.0.1", "10.0.0.2", "10.0.0.3", "10.0.0.4"]
IP_INFO = [  # ip, country, country_name, as_org
    ("142.250.1.1", "US", "United States", "GOOGLE"),
    ("185.10.10.10", "RU", "Russia", "EVIL-HOSTING"),
    ("185.10.10.11", "RU", "Russia", "EVIL-HOSTING"),
    ("91.1.1.1", "DE", "Germany", "DTAG"),
]

# an answer as long as a tunnel's CNAME: pages must wrap it, not overflow their cards
LONG_CNAME = "0123456789abcdef" * 7 + ".x.cdn-relay.example"


def rows() -> list[dict]:
    out = []

    def add(ts, client, name, answers, rcode="NOERROR", qtype="A"):
        out.append({"ts": ts, "client": client, "query_name": name, "query_type": qtype, "response_code": rcode,
                    "answers": answers, "resolver_action": "forwarded"})

    for day in range(3):
        for hour in range(8, 18):
            for i, client in enumerate(CLIENTS):
                ts = START + dt.timedelta(days=day, hours=hour, minutes=7 * i)
                add(ts, client, "www.google.com", ["142.250.1.1"])
                add(ts + dt.timedelta(minutes=1), client, "news.example-shop.de", ["91.1.1.1"])
        for minute in range(0, 24 * 60, 30):  # 10.0.0.3 beacons every 30 minutes
            add(START + dt.timedelta(days=day, minutes=minute), "10.0.0.3", "c2.bad-actor.xyz",
                [LONG_CNAME, "185.10.10.10"] if day == minute == 0 else ["185.10.10.10"])
    for k in range(6):
        add(START + dt.timedelta(days=1, hours=3, minutes=k), "10.0.0.2", f"www.{XSS}.com", ["185.10.10.11"])
        add(START + dt.timedelta(days=1, hours=4, minutes=k), "10.0.0.4", f"q{k}x9zt7kd2v.biz", None, "NXDOMAIN")
    return out


def build(path: Path) -> Path:
    pipeline.register_all_tables()
    with open_store(path) as store:
        frame = pl.DataFrame(rows(), schema_overrides={"ts": pl.Datetime("us"), "answers": pl.List(pl.String)})
        frame = frame.with_columns(source_file_id=pl.lit(1, pl.Int64),
                                   source_line=pl.int_range(1, frame.height + 1, dtype=pl.Int64))
        store.append("dns_queries", frame)
        store.con.execute("INSERT INTO ingested_files (file_id, path, format, rows, rejected, ingested_at) "
                          "VALUES (1, 'fixture.log', 'pihole', ?, 2, ?)", [frame.height, START])
        pipeline.analyze(store)
        if store.rows("SELECT count(*) FROM information_schema.tables WHERE table_name = 'ip_info'")[0][0]:
            store.con.execute("DELETE FROM ip_info")
            for ip, cc, name, org in IP_INFO:
                store.con.execute("INSERT INTO ip_info (ip, country, country_name, as_org, is_private) "
                                  "VALUES (?, ?, ?, ?, false)", [ip, cc, name, org])
    return path

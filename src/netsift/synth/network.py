"""The demo network's traffic beyond DNS: a Zeek ``conn.log`` of every client's connections (with one host
sending far more than usual) and a packet capture holding a login posted in clear text over HTTP.

Connections follow the DNS questions: each (client, hour) in which a client asked questions gets a few
connections to the addresses its answers gave (or a generic web server), with sent and received sizes drawn
around the client's own habit (log-normal), so every client has a steady history. Planted
(:data:`NETWORK_PLANTED`): ``heavy_sender`` uploads about 3 GB in one hour of the last day to one external
server (far above its own median hour), and ``cleartext_login`` posts a login form over plain HTTP
(``username`` / ``password`` fields) on the last day; the capture holds the whole TCP conversation
(handshake, request, response, close)."""

from __future__ import annotations

import datetime as dt
import random
import socket
from pathlib import Path

import dpkt
import polars as pl

HEAVY_SENDER = "10.0.0.33"
LOGIN_CLIENT = "10.0.0.44"
LOGIN_SERVER = "198.51.100.80"
LOGIN_HOST = "intranet-portal.example.net"
EXFIL_SERVER = "203.0.113.66"
NETWORK_PLANTED: dict[str, dict] = {
    "heavy_sender": {"name": "heavy_sender", "client": HEAVY_SENDER, "kind": "bandwidth", "file": "sensor-conn.log",
                     "host": EXFIL_SERVER},
    "cleartext_login": {"name": "cleartext_login", "client": LOGIN_CLIENT, "kind": "cleartext_credential",
                        "file": "sensor-http.pcap", "account": "j.doe", "host": LOGIN_HOST},
}
CONN_FIELDS = ("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "proto", "service", "duration",
               "orig_bytes", "resp_bytes", "conn_state", "missed_bytes", "history", "orig_pkts", "resp_pkts")
CONN_TYPES = ("time", "string", "addr", "port", "addr", "port", "enum", "string", "interval", "count", "count",
              "string", "count", "string", "count", "count")


def connections(events: pl.DataFrame, seed: int = 7) -> list[tuple]:
    """(ts, client, client port, server, server port, proto, service, duration, bytes out, bytes in) rows."""
    rng = random.Random(seed)
    hours = (events.filter(pl.col("client").is_not_null() & ~pl.col("client").str.contains(":"))
             .group_by("client", pl.col("ts").dt.truncate("1h").alias("hour"))
             .agg(pl.col("answers").list.explode().drop_nulls().head(8).alias("peers"))
             .sort("client", "hour"))
    habit: dict[str, float] = {}
    rows = []
    for client, hour, peers in hours.iter_rows():
        base = habit.setdefault(client, rng.uniform(11.0, 13.0))  # log of a typical connection's bytes in
        addresses = [p for p in peers if p.count(".") == 3 and p.replace(".", "").isdigit()] or ["93.184.216.34"]
        for _ in range(rng.randint(2, 6)):
            start = hour + dt.timedelta(seconds=rng.uniform(0, 3599))
            received = int(rng.lognormvariate(base, 0.6))
            sent = int(received * rng.uniform(0.03, 0.15))
            rows.append((start, client, rng.randint(49152, 65535), rng.choice(addresses), 443, "tcp", "ssl",
                         rng.uniform(0.2, 30.0), sent, received))
    last_day = max(r[0] for r in rows).replace(hour=14, minute=5, second=0, microsecond=0)
    if last_day.hour != 14:
        last_day = last_day - dt.timedelta(days=1)
    for i in range(6):  # the planted upload: ~3 GB in one hour, one server
        rows.append((last_day + dt.timedelta(minutes=9 * i), HEAVY_SENDER, 50000 + i, EXFIL_SERVER, 443, "tcp", "ssl",
                     480.0, 500_000_000 + rng.randint(0, 9_999_999), rng.randint(20_000, 90_000)))
    rows.sort(key=lambda r: r[0])
    return rows


def write_conn_log(rows: list[tuple], path: Path) -> None:
    """Zeek conn.log, TSV with its header block."""
    head = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\tconn",
            f"#open\t{rows[0][0]:%Y-%m-%d-%H-%M-%S}", "#fields\t" + "\t".join(CONN_FIELDS),
            "#types\t" + "\t".join(CONN_TYPES)]
    lines = []
    for n, (ts, client, cport, server, sport, proto, service, duration, sent, received) in enumerate(rows):
        epoch = ts.replace(tzinfo=dt.UTC).timestamp()
        lines.append("\t".join(str(v) for v in (
            f"{epoch:.6f}", f"C{n:08x}", client, cport, server, sport, proto, service, f"{duration:.6f}", sent,
            received, "SF", 0, "ShADadFf", max(1, sent // 1400), max(1, received // 1400))))
    path.write_text("\n".join(head + lines + [f"#close\t{rows[-1][0]:%Y-%m-%d-%H-%M-%S}"]) + "\n")


def _frame(src: str, dst: str, sport: int, dport: int, seq: int, flags: int, data: bytes = b"") -> bytes:
    tcp = dpkt.tcp.TCP(sport=sport, dport=dport, seq=seq, ack=1, flags=flags, win=65535, data=data)
    ip = dpkt.ip.IP(src=socket.inet_aton(src), dst=socket.inet_aton(dst), p=6, ttl=64, data=tcp)
    ip.len = len(bytes(ip))
    return bytes(dpkt.ethernet.Ethernet(src=b"\x02\0\0\0\0\x01", dst=b"\x02\0\0\0\0\x02", data=ip))


def write_login_pcap(when: dt.datetime, path: Path) -> None:
    """One HTTP login posted in clear text (form fields username / password), as a sensor captures it."""
    body = b"username=j.doe&password=Spring2026%21&submit=Sign+in"
    request = (b"POST /login HTTP/1.1\r\nHost: " + LOGIN_HOST.encode() + b"\r\nUser-Agent: Mozilla/5.0 (Windows NT 10.0)"
               b"\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: "
               + str(len(body)).encode() + b"\r\n\r\n" + body)
    response = b"HTTP/1.1 302 Found\r\nLocation: /home\r\nContent-Length: 0\r\n\r\n"
    c, s, cp = LOGIN_CLIENT, LOGIN_SERVER, 51515
    syn, ack, psh, fin = dpkt.tcp.TH_SYN, dpkt.tcp.TH_ACK, dpkt.tcp.TH_PUSH, dpkt.tcp.TH_FIN
    frames = [(c, s, cp, 80, 1000, syn, b""), (s, c, 80, cp, 9000, syn | ack, b""), (c, s, cp, 80, 1001, ack, b""),
              (c, s, cp, 80, 1001, ack | psh, request), (s, c, 80, cp, 9001, ack | psh, response),
              (c, s, cp, 80, 1001 + len(request), fin | ack, b""), (s, c, 80, cp, 9001 + len(response), fin | ack, b"")]
    start = when.replace(tzinfo=dt.UTC).timestamp()
    with open(path, "wb") as fh:
        writer = dpkt.pcap.Writer(fh, snaplen=65535)
        for i, frame in enumerate(frames):
            writer.writepkt(_frame(*frame), ts=start + 0.01 * i)


def write_network(directory: Path, events: pl.DataFrame, seed: int = 7) -> list[Path]:
    """Write ``sensor-conn.log`` and ``sensor-http.pcap`` beside the DNS logs; returns their paths."""
    rows = connections(events, seed)
    conn = directory / "sensor-conn.log"
    write_conn_log(rows, conn)
    last = rows[-1][0]
    pcap = directory / "sensor-http.pcap"
    write_login_pcap(last.replace(hour=10, minute=12, second=7, microsecond=0), pcap)
    return [conn, pcap]


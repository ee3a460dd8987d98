#!/usr/bin/env python3
"""Network formats: capture packets/s, Zeek conn.log / http.log, Squid, Suricata EVE and FortiGate lines/s,
with peak RSS, beside baselines measured in the same run.

Generates (once, in bench/out/): a Zeek conn.log and http.log (TSV), a Squid access.log, a Suricata eve.json
(DNS requests and responses, flows, HTTP, TLS, alerts), a FortiGate log (traffic, DNS filter, web filter), a
PAN-OS log (traffic, URL and threat logs) and a Cisco ASA log (Built/Teardown pairs, denies) of ``--lines``
lines, and a capture of about ``--packets`` packets (TCP conversations: HTTP requests with form logins and
Basic auth, TLS-like bulk flows, plus DNS over UDP) built with dpkt. Then times, each in a fresh process
under /usr/bin/time, ``--repeat`` times interleaved (median shown, with the spread):

- ``wc -l``                      text: the floor (reading the bytes, counting newlines)
- a plain Python split loop      text: ``for line in f: line.split(sep)`` (no conversion, no storage)
- a plain dpkt loop              capture: ``for ts, buf in dpkt.pcap.Reader(f): dpkt.ethernet.Ethernet(buf)``
                                 (decoding every frame, nothing else)
- ``netsift ingest``             detect, parse (flows, TCP reassembly, HTTP, credentials, DNS), store

Not a test: figures depend on the machine; the README quotes them.

    python bench/network.py                       # 1 M lines each, ~300 k packets, 3 runs
    python bench/network.py --lines 200000 --packets 50000 --repeat 1
    python bench/network.py --only suricata_eve,fortigate
"""

from __future__ import annotations

import argparse
import random
import socket
import statistics
import struct
import sys
import tempfile
from pathlib import Path

from ingest import timed  # bench/ is the script's directory: its sibling module

OUT = Path(__file__).resolve().parent / "out"
SPLIT_LOOP = r'''
import sys
n = f = 0
sep = sys.argv[2].encode().decode("unicode_escape")
with open(sys.argv[1], encoding="utf-8", errors="replace") as fh:
    for line in fh:
        n += 1
        f += len(line.split(sep if sep else None))
print(n, f)
'''
DPKT_LOOP = r'''
import sys, dpkt
n = 0
with open(sys.argv[1], "rb") as fh:
    for ts, buf in dpkt.pcap.Reader(fh):
        dpkt.ethernet.Ethernet(buf)
        n += 1
print(n)
'''


def _ip(n: int) -> str:
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


def write_conn(path: Path, lines: int, rng: random.Random) -> None:
    from netsift.synth.network import CONN_FIELDS, CONN_TYPES

    head = ["#separator \\x09", "#set_separator\t,", "#empty_field\t(empty)", "#unset_field\t-", "#path\tconn",
            "#fields\t" + "\t".join(CONN_FIELDS), "#types\t" + "\t".join(CONN_TYPES)]
    with open(path, "w") as fh:
        fh.write("\n".join(head) + "\n")
        t = 1_795_132_800.0
        for i in range(lines):
            t += rng.random() * 0.05
            sent, received = rng.randint(0, 90_000), rng.randint(0, 2_000_000)
            fh.write(f"{t:.6f}\tC{i:09x}\t{_ip(rng.randint(1, 400))}\t{rng.randint(1024, 65535)}\t"
                     f"{_ip(rng.randint(1000, 90000))}\t443\ttcp\tssl\t{rng.random() * 30:.6f}\t{sent}\t{received}\t"
                     f"SF\t0\tShADadFf\t{sent // 1400 + 1}\t{received // 1400 + 1}\n")


def write_http(path: Path, lines: int, rng: random.Random) -> None:
    fields = ("ts", "uid", "id.orig_h", "id.orig_p", "id.resp_h", "id.resp_p", "trans_depth", "method", "host", "uri",
              "referrer", "version", "user_agent", "request_body_len", "response_body_len", "status_code",
              "status_msg", "username", "password")
    with open(path, "w") as fh:
        fh.write("#separator \\x09\n#set_separator\t,\n#empty_field\t(empty)\n#unset_field\t-\n#path\thttp\n"
                 "#fields\t" + "\t".join(fields) + "\n")
        t = 1_795_132_800.0
        for i in range(lines):
            t += rng.random() * 0.05
            fh.write(f"{t:.6f}\tH{i:09x}\t{_ip(rng.randint(1, 400))}\t{rng.randint(1024, 65535)}\t"
                     f"{_ip(rng.randint(1000, 90000))}\t80\t1\tGET\twww{rng.randint(1, 5000)}.example.com\t"
                     f"/path/{rng.randint(1, 10**6)}?q=1\t-\t1.1\tMozilla/5.0 (X11; Linux x86_64)\t0\t"
                     f"{rng.randint(0, 500_000)}\t200\tOK\t-\t-\n")


def write_squid(path: Path, lines: int, rng: random.Random) -> None:
    with open(path, "w") as fh:
        t = 1_795_132_800.0
        for _ in range(lines):
            t += rng.random() * 0.05
            fh.write(f"{t:.3f} {rng.randint(1, 9000):6d} {_ip(rng.randint(1, 400))} TCP_MISS/200 "
                     f"{rng.randint(200, 900_000)} GET http://www{rng.randint(1, 5000)}.example.com/p/"
                     f"{rng.randint(1, 10**6)} - HIER_DIRECT/{_ip(rng.randint(1000, 90000))} text/html\n")


def write_eve(path: Path, lines: int, rng: random.Random) -> None:
    """Suricata EVE: DNS requests and their responses (half the events), flows, HTTP requests, alerts, TLS."""
    with open(path, "w") as fh:
        t, n, flow = 1_795_132_800.0, 0, 0
        while n < lines:
            t += rng.random() * 0.02
            flow += 1
            stamp = f"2026-11-20T{int(t) % 86400 // 3600:02d}:{int(t) % 3600 // 60:02d}:{t % 60:09.6f}+0000"
            client, pick = _ip(rng.randint(1, 400)), rng.random()
            head = (f'{{"timestamp":"{stamp}","flow_id":{flow},"in_iface":"eth0","src_ip":"{client}",'
                    f'"src_port":{rng.randint(1024, 65535)},')
            if pick < 0.25:
                name, dns_id = f"www{rng.randint(1, 5000)}.example.com", rng.randint(1, 65535)
                fh.write(head + f'"event_type":"dns","dest_ip":"10.0.0.1","dest_port":53,"proto":"UDP","dns":'
                         f'{{"type":"query","id":{dns_id},"rrname":"{name}","rrtype":"A","tx_id":0}}}}\n')
                fh.write(head + f'"event_type":"dns","dest_ip":"10.0.0.1","dest_port":53,"proto":"UDP","dns":'
                         f'{{"version":2,"type":"answer","id":{dns_id},"flags":"8180","qr":true,"rd":true,"ra":true,'
                         f'"rrname":"{name}","rrtype":"A","rcode":"NOERROR","answers":[{{"rrname":"{name}",'
                         f'"rrtype":"A","ttl":60,"rdata":"{_ip(rng.randint(1000, 90000))}"}}]}}}}\n')
                n += 2
                continue
            if pick < 0.75:
                fh.write(head + f'"event_type":"flow","dest_ip":"{_ip(rng.randint(1000, 90000))}","dest_port":443,'
                         f'"proto":"TCP","app_proto":"tls","flow":{{"pkts_toserver":{rng.randint(1, 90)},'
                         f'"pkts_toclient":{rng.randint(1, 90)},"bytes_toserver":{rng.randint(60, 90000)},'
                         f'"bytes_toclient":{rng.randint(60, 900000)},"start":"{stamp}","end":"{stamp}","age":0,'
                         f'"state":"closed","reason":"timeout","alerted":false}},"tcp":{{"tcp_flags":"1b"}}}}\n')
            elif pick < 0.9:
                fh.write(head + f'"event_type":"http","dest_ip":"{_ip(rng.randint(1000, 90000))}","dest_port":80,'
                         f'"proto":"TCP","tx_id":0,"http":{{"hostname":"www{rng.randint(1, 5000)}.example.com",'
                         f'"url":"/p/{rng.randint(1, 10**6)}","http_user_agent":"Mozilla/5.0","http_method":"GET",'
                         f'"protocol":"HTTP/1.1","status":200,"length":{rng.randint(0, 90000)}}}}}\n')
            elif pick < 0.95:
                fh.write(head + f'"event_type":"tls","dest_ip":"{_ip(rng.randint(1000, 90000))}","dest_port":443,'
                         f'"proto":"TCP","tls":{{"sni":"www{rng.randint(1, 5000)}.example.com","version":"TLS 1.3"}}}}\n')
            else:
                fh.write(head + f'"event_type":"alert","dest_ip":"{_ip(rng.randint(1000, 90000))}","dest_port":80,'
                         f'"proto":"TCP","alert":{{"action":"allowed","gid":1,"signature_id":{rng.randint(1, 300)},'
                         f'"rev":1,"signature":"ET POLICY rule {rng.randint(1, 300)}","category":"Policy",'
                         f'"severity":{rng.randint(1, 3)}}},"app_proto":"http"}}\n')
            n += 1


def write_fortigate(path: Path, lines: int, rng: random.Random) -> None:
    """FortiGate: traffic logs (nine in ten), DNS filter responses and web filter logs."""
    with open(path, "w") as fh:
        t = 1_795_132_800.0
        for i in range(lines):
            t += rng.random() * 0.02
            day, clock = "2026-11-20", f"{int(t) % 86400 // 3600:02d}:{int(t) % 3600 // 60:02d}:{int(t) % 60:02d}"
            head = (f'date={day} time={clock} devname="FGT60F" devid="FGT60FTK0000" eventtime={int(t * 1e9)} '
                    f'tz="+0000" ')
            client, pick = _ip(rng.randint(1, 400)), rng.random()
            if pick < 0.9:
                fh.write(head + f'logid="0000000013" type="traffic" subtype="forward" level="notice" vd="root" '
                         f'srcip={client} srcport={rng.randint(1024, 65535)} srcintf="internal" srcintfrole="lan" '
                         f'dstip={_ip(rng.randint(1000, 90000))} dstport=443 dstintf="wan1" dstintfrole="wan" '
                         f'sessionid={i} proto=6 action="close" policyid=1 policytype="policy" service="HTTPS" '
                         f'trandisp="snat" duration={rng.randint(1, 300)} sentbyte={rng.randint(60, 90000)} '
                         f'rcvdbyte={rng.randint(60, 900000)} sentpkt={rng.randint(1, 90)} '
                         f'rcvdpkt={rng.randint(1, 90)} appcat="unscanned"\n')
            elif pick < 0.97:
                fh.write(head + f'logid="1501054802" type="utm" subtype="dns" eventtype="dns-response" '
                         f'level="notice" vd="root" policyid=1 sessionid={i} srcip={client} srcport=53000 '
                         f'dstip=10.0.0.1 dstport=53 proto=17 xid={rng.randint(1, 65535)} '
                         f'qname="www{rng.randint(1, 5000)}.example.com" qtype="A" qtypeval=1 qclass="IN" '
                         f'ipaddr="{_ip(rng.randint(1000, 90000))}" msg="Domain is monitored" action="pass" '
                         f'cat=52 catdesc="Information Technology"\n')
            else:
                fh.write(head + f'logid="0317013312" type="utm" subtype="webfilter" eventtype="ftgd_allow" '
                         f'level="notice" vd="root" policyid=1 sessionid={i} srcip={client} srcport=50000 '
                         f'dstip={_ip(rng.randint(1000, 90000))} dstport=443 proto=6 service="HTTPS" '
                         f'hostname="www{rng.randint(1, 5000)}.example.com" action="passthrough" reqtype="direct" '
                         f'url="https://www.example.com/" sentbyte=512 rcvdbyte=4096 direction="outgoing" '
                         f'cat=52 catdesc="Information Technology"\n')


def write_paloalto(path: Path, lines: int, rng: random.Random) -> None:
    """PAN-OS: TRAFFIC end logs (nine in ten) and THREAT url / vulnerability logs, 110 fields each."""
    with open(path, "w") as fh:
        t = 1_795_132_800
        for i in range(lines):
            t += rng.randint(0, 1)
            stamp = f"2026/11/20 {t % 86400 // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"
            row = [""] * 110
            row[:7] = ["1", stamp, "012501002341", "TRAFFIC", "end", "2561", stamp]
            row[7], row[8] = _ip(rng.randint(1, 400)), _ip(rng.randint(1000, 90000))
            row[11], row[14], row[15], row[24], row[25], row[29], row[30] = (
                "Allow-Out", "ssl", "vsys1", str(rng.randint(1024, 65535)), "443", "tcp", "allow")
            pick = rng.random()
            if pick < 0.9:
                row[31:37] = [str(rng.randint(100, 900000)), str(rng.randint(60, 90000)), str(rng.randint(60, 900000)),
                              str(rng.randint(2, 180)), stamp, str(rng.randint(0, 300))]
                row[44], row[45], row[46] = str(rng.randint(1, 90)), str(rng.randint(1, 90)), "tcp-fin"
            else:
                row[3], row[4] = "THREAT", "url" if pick < 0.97 else "vulnerability"
                row[31] = f"www{rng.randint(1, 5000)}.example.com/p/{rng.randint(1, 10**6)}"
                row[32] = "(9999)" if row[4] == "url" else '"Generic HTTP Exploit, variant (91991)"'
                row[34], row[46], row[63] = "informational", "Mozilla/5.0", "get"
            fh.write(",".join(row) + "\n")


def write_cisco_asa(path: Path, lines: int, rng: random.Random) -> None:
    """Cisco ASA: Built and Teardown messages of the same connections, and access-group denies."""
    with open(path, "w") as fh:
        t = 1_795_132_800
        for i in range(lines):
            t += rng.randint(0, 1)
            clock = f"{t % 86400 // 3600:02d}:{t % 3600 // 60:02d}:{t % 60:02d}"
            head = f"Nov 20 {clock} fw01 : Nov 20 2026 {clock}: "
            inside, outside = _ip(rng.randint(1, 400)), _ip(rng.randint(1000, 90000))
            port, pick = rng.randint(1024, 65535), rng.random()
            if pick < 0.45:
                fh.write(head + f"%ASA-6-302013: Built outbound TCP connection {i} for outside:{outside}/443 "
                         f"({outside}/443) to inside:{inside}/{port} (198.51.100.1/{port})\n")
            elif pick < 0.9:
                fh.write(head + f"%ASA-6-302014: Teardown TCP connection {max(i - 1, 0)} for outside:{outside}/443 to "
                         f"inside:{inside}/{port} duration 0:00:{rng.randint(0, 59):02d} bytes "
                         f"{rng.randint(100, 900000)} TCP FINs\n")
            else:
                fh.write(head + f'%ASA-4-106023: Deny tcp src outside:{outside}/{port} dst inside:{inside}/22 by '
                         f'access-group "outside_in" [0x0, 0x0]\n')


def _frame(src: bytes, dst: bytes, proto: int, sport: int, dport: int, payload: bytes, seq: int = 0,
           flags: int = 0x18) -> bytes:
    if proto == 6:
        l4 = struct.pack(">HHIIBBHHH", sport, dport, seq, 1, 5 << 4, flags, 65535, 0, 0) + payload
    else:
        l4 = struct.pack(">HHHH", sport, dport, 8 + len(payload), 0) + payload
    ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(l4), 0, 0, 64, proto, 0, src, dst) + l4
    return b"\x02\0\0\0\0\x02\x02\0\0\0\0\x01\x08\x00" + ip


def write_capture(path: Path, packets: int, rng: random.Random) -> int:
    """A capture of about ``packets`` packets; returns the exact count."""
    import dpkt

    login = (b"POST /login HTTP/1.1\r\nHost: portal.example.net\r\nContent-Type: application/x-www-form-urlencoded"
             b"\r\nContent-Length: 31\r\n\r\nusername=alice&password=s3cr3t!")
    basic = b"GET /admin HTTP/1.1\r\nHost: intranet\r\nAuthorization: Basic cm9vdDp0b29y\r\n\r\n"
    page = b"HTTP/1.1 200 OK\r\nContent-Length: 1200\r\n\r\n" + b"x" * 1200
    query = bytes(dpkt.dns.DNS(id=7, qd=[dpkt.dns.DNS.Q(name="www.example.com", type=1)]))
    n = 0
    t = 1_795_132_800.0
    with open(path, "wb") as fh:
        w = dpkt.pcap.Writer(fh, snaplen=65535)
        conv = 0
        while n < packets:
            conv += 1
            c = socket.inet_aton(_ip(rng.randint(1, 400)))
            s = socket.inet_aton(_ip(rng.randint(1000, 90000)))
            cp = 1024 + conv % 60000
            kind = rng.random()
            frames = []
            if kind < 0.3:  # an HTTP exchange
                req = login if rng.random() < 0.2 else basic if rng.random() < 0.2 else \
                    b"GET /x HTTP/1.1\r\nHost: www.example.com\r\nUser-Agent: bench\r\n\r\n"
                frames = [_frame(c, s, 6, cp, 80, b"", 100, 0x02), _frame(s, c, 6, 80, cp, b"", 500, 0x12),
                          _frame(c, s, 6, cp, 80, req, 101), _frame(s, c, 6, 80, cp, page, 501),
                          _frame(c, s, 6, cp, 80, b"", 101 + len(req), 0x11),
                          _frame(s, c, 6, 80, cp, b"", 501 + len(page), 0x11)]
            elif kind < 0.8:  # a bulk TLS-like flow
                frames = [_frame(c, s, 6, cp, 443, b"", 100, 0x02), _frame(s, c, 6, 443, cp, b"", 500, 0x12)]
                seq = 501
                for _ in range(rng.randint(4, 30)):
                    frames.append(_frame(s, c, 6, 443, cp, b"\x17\x03\x03" + b"y" * 1397, seq))
                    seq += 1400
            else:  # DNS
                frames = [_frame(c, socket.inet_aton("10.0.0.2"), 17, cp, 53, query)]
            for f in frames:
                t += 0.0005
                w.writepkt(f, ts=t)
                n += 1
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--packets", type=int, default=300_000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", help="comma-separated inputs to time (zeek_conn_tsv, zeek_http_tsv, squid, "
                    "suricata_eve, fortigate, paloalto, cisco_asa, pcap); default all")
    args = ap.parse_args()
    only = set(args.only.split(",")) if args.only else None
    OUT.mkdir(exist_ok=True)
    rng = random.Random(1)
    inputs = {
        "zeek_conn_tsv": (OUT / f"conn_{args.lines}.log", write_conn, "\\t"),
        "zeek_http_tsv": (OUT / f"http_{args.lines}.log", write_http, "\\t"),
        "squid": (OUT / f"squid_{args.lines}.log", write_squid, ""),
        "suricata_eve": (OUT / f"eve_{args.lines}.json", write_eve, ""),
        "fortigate": (OUT / f"fortigate_{args.lines}.log", write_fortigate, ""),
        "paloalto": (OUT / f"paloalto_{args.lines}.log", write_paloalto, ","),
        "cisco_asa": (OUT / f"asa_{args.lines}.log", write_cisco_asa, ""),
    }
    inputs = {name: v for name, v in inputs.items() if only is None or name in only}
    for name, (path, write, _) in inputs.items():
        if not path.exists():
            print(f"generating {path.name} ...", file=sys.stderr)
            write(path, args.lines, rng)
    capture = OUT / f"capture_{args.packets}.pcap"
    with_capture = only is None or "pcap" in only
    if with_capture and not capture.exists():
        print(f"generating {capture.name} ...", file=sys.stderr)
        write_capture(capture, args.packets, rng)
    packets = int(timed([sys.executable, "-c", DPKT_LOOP, str(capture)])[2].split()[0]) if with_capture else 0

    rows = [["input", "units", "MB", "tool", "seconds (runs)", "units/s", "peak RSS"]]
    with tempfile.TemporaryDirectory() as tmp:
        def netsift(path: Path) -> list[str]:
            # a fresh store every run (the DB file is removed before each, below): never "already ingested"
            return [sys.executable, "-m", "netsift", "ingest", "-q", "--db", str(Path(tmp) / "bench.duckdb"),
                    str(path)]

        cases = [(name, path, args.lines, [("wc -l", ["wc", "-l", str(path)]),
                                           ("python split loop", [sys.executable, "-c", SPLIT_LOOP, str(path), sep]),
                                           ("**netsift ingest**", netsift(path))])
                 for name, (path, _, sep) in inputs.items()]
        if with_capture:
            cases.append(("pcap", capture, packets, [("dpkt decode loop", [sys.executable, "-c", DPKT_LOOP, str(capture)]),
                                                     ("**netsift ingest**", netsift(capture))]))
        for name, path, units, tools in cases:
            times: dict[str, list[tuple[float, float]]] = {t: [] for t, _ in tools}
            for _ in range(args.repeat):
                for tool, cmd in tools:
                    for suffix in ("", ".wal"):
                        Path(tmp, "bench.duckdb" + suffix).unlink(missing_ok=True)
                    seconds, rss, _ = timed(cmd)
                    times[tool].append((seconds, rss))
            stored = timed([sys.executable, "-m", "netsift", "files", "--json", "--db", str(Path(tmp) / "bench.duckdb")])[2]
            print(f"{name}: {stored.strip()[:300]}", file=sys.stderr)
            mb = path.stat().st_size / 1e6
            for tool, runs in times.items():
                secs = [s for s, _ in runs]
                med = statistics.median(secs)
                rows.append([name, f"{units:,}", f"{mb:,.0f}", tool,
                             f"{med:.2f} ({min(secs):.2f}–{max(secs):.2f})",
                             f"{units / med:,.0f}" if med else "-", f"{max(r for _, r in runs):,.0f} MiB"])
    print("| " + " | ".join(rows[0]) + " |")
    print("|" + "---|" * len(rows[0]))
    for r in rows[1:]:
        print("| " + " | ".join(r) + " |")


if __name__ == "__main__":
    main()

"""The demo scenario: one synthetic network, handed over as an analyst would receive it — each resolver's
own log in its own format.

=========================  ====================  ==============================================
file                       format                what it covers
=========================  ====================  ==============================================
``pihole.log``             pihole (dnsmasq)      home VLAN 192.168.50.0/24 via the Pi-hole
``dc01-dns.log``           windows_dns           AD workstations via the domain controller's DNS
``ns1-queries.log``        bind                  Mac/Linux office workstations via BIND
``sensor-dns.log.gz``      zeek_tsv, gzip        the DMZ servers, and all mDNS the sensor sees
``sensor-conn.log``        zeek_conn_tsv         every client's connections (a heavy sender)
``sensor-http.pcap``       pcap                  a login posted in clear text over HTTP
``auth.log``               linux_auth            SSH server web01 in the DMZ (``synth/logons.py``)
``dc01-security.xml``      windows_xml           the domain controller's Security log (XML export)
=========================  ====================  ==============================================

Every planted threat lands in the file of its client's resolver (see :data:`netsift.synth.PLANTED`:
``resolver``). Each file's modification time is set to its last event, so year-less syslog stamps (the
Pi-hole log) resolve to the right year.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import polars as pl

from netsift.synth import network, traffic
from netsift.synth.events import generate
from netsift.synth.logons import write_logons
from netsift.synth.writers import write

# (file name, format, which rows)
FILES: tuple[tuple[str, str, pl.Expr], ...] = (
    ("pihole.log", "pihole", pl.col("server") == traffic.RESOLVERS["home"]),
    ("dc01-dns.log", "windows_dns", pl.col("server") == traffic.RESOLVERS["ad"]),
    ("ns1-queries.log", "bind", pl.col("server") == traffic.RESOLVERS["office"]),
    ("sensor-dns.log.gz", "zeek_tsv",
     pl.col("server").is_in([traffic.RESOLVERS["dmz"], traffic.MDNS_V4, traffic.MDNS_V6])),
)

NETWORK_FILES = ("sensor-conn.log", "sensor-http.pcap")


LOGON_FILES = ("auth.log", "dc01-security.xml")


def write_demo(directory: str | Path, seed: int = 7) -> list[Path]:
    """Generate the demo network (:func:`netsift.synth.generate` defaults) and write it into
    ``directory`` as the files above. Returns their paths: the DNS logs in the order of :data:`FILES`, then
    :data:`NETWORK_FILES` (:mod:`netsift.synth.network`), then :data:`LOGON_FILES` (:mod:`netsift.synth.logons`)."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    events = generate(seed=seed)
    paths = []
    for name, fmt, rows in FILES:
        part = events.filter(rows)
        path = directory / name
        write(part, fmt, path)
        if part.height:  # naive UTC in the frame
            newest = part["ts"].max()
            assert isinstance(newest, datetime)
            last = newest.replace(tzinfo=UTC).timestamp()
            os.utime(path, (last, last))
        paths.append(path)
    paths += network.write_network(directory, events, seed)
    start, end = events["ts"].min(), events["ts"].max()
    assert isinstance(start, datetime) and isinstance(end, datetime)
    days = max(1, round((end - start).total_seconds() / 86400))
    for path in write_logons(directory, seed, start.replace(minute=0, second=0, microsecond=0), days):
        last = end.replace(tzinfo=UTC).timestamp()
        os.utime(path, (last, last))
        paths.append(path)
    return paths

"""Small generated Pi-hole logs for the watcher's tests: each question is a query line and its reply."""

from __future__ import annotations

import random
import string

from netsift.store import open_store

def pihole_lines(start: int, count: int) -> list[str]:
    """Questions ``start``..``start+count-1``: two lines each (query, reply), a stamp per question."""
    out = []
    for i in range(start, start + count):
        stamp = f"Dec  2 {10 + i // 3600 % 10:02d}:{i // 60 % 60:02d}:{i % 60:02d}"
        name = f"host{i}.example.com"
        out.append(f"{stamp} dnsmasq[7]: query[A] {name} from 10.0.0.{i % 200 + 1}\n")
        out.append(f"{stamp} dnsmasq[7]: reply {name} is 192.0.2.{i % 250 + 1}\n")
    return out


def nxdomain_storm(client: str, count: int = 300, seed: int = 1) -> list[str]:
    """One client asking ``count`` random names in a minute, every answer NXDOMAIN (an nxdomain_storm)."""
    rng = random.Random(seed)
    out = []
    for i in range(count):
        name = "".join(rng.choices(string.ascii_lowercase, k=12)) + ".storm-example.net"
        stamp = f"Dec  2 11:00:{i % 60:02d}"
        out.append(f"{stamp} dnsmasq[7]: query[A] {name} from {client}\n")
        out.append(f"{stamp} dnsmasq[7]: reply {name} is NXDOMAIN\n")
    return out


def rows(db: str, columns: str = "ts, client, query_name, query_type, response_code, resolver_action, answers"):
    """The stored questions (sorted), to compare a watched store with a batch ingest of the same lines."""
    with open_store(db, read_only=True) as store:
        return store.rows(f"SELECT {columns} FROM dns_queries ORDER BY ALL")

"""Bandwidth and credentials pages: bytes per client over time and the top talkers (``/bandwidth``, or one
client's with ``?client=``), and the credentials seen in clear text, masked (``/credentials``), from
:mod:`netsift.report.traffic`. Each answers 404 (and the navigation leaves it out) in a store without such
rows; their JSON twins return the same values."""

from __future__ import annotations

from netsift.report import traffic
from netsift.web.pages import NotFound, Page

NO_CONNECTIONS = ("No connections in this store: the bandwidth page needs a Zeek conn.log, a packet capture or a "
                  "Squid access.log.")
NO_CREDENTIALS = "No credentials seen in clear text in this store (they come from packet captures)."


def bandwidth_data(store, params) -> dict:
    client = params.get("client") or None
    d = traffic.bandwidth_data(store, client)
    if not d["available"]:
        raise NotFound(NO_CONNECTIONS if client is None else f"No connections from {client}.")
    return d


def credentials_data(store, params) -> dict:
    d = traffic.credentials_data(store)
    if not d["available"]:
        raise NotFound(NO_CREDENTIALS)
    return d


def bandwidth_available(store) -> bool:
    return traffic.available(store)


def credentials_available(store) -> bool:
    return traffic.counts(store)["credentials"] > 0


BANDWIDTH = Page("/bandwidth", "bandwidth.html.j2", "Bandwidth per client", bandwidth_data, traffic.figures,
                 nav="Bandwidth")
CREDENTIALS = Page("/credentials", "credentials.html.j2", "Credentials seen in clear text", credentials_data,
                   nav="Credentials")

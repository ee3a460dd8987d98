"""Client scope: is a client one of ours (local) or a host on the internet (external)?

A resolver that serves the internet — an authoritative server, an open or public-facing recursive
resolver — logs questions from outside addresses: scanners, crawlers, other resolvers. Their rhythms and
habits are not this network's hosts' behaviour, so beacon and behaviour_change findings are not raised for
them unless ``[network] judge_external_clients`` asks for it; every other finding about an external client
says so (a reason and the ``external_client`` sub-score).

Local: private ranges (RFC 1918), unique local IPv6 (RFC 4193, fc00::/7), link-local (169.254/16,
fe80::/10), carrier-grade NAT (100.64/10, RFC 6598), loopback, the unspecified address, plus the CIDRs of
``[network] local_networks``. A client that is not an IP address (a host name some logs give) is local:
only a local log names its clients. Classification runs once per *distinct* client (:func:`client_scopes`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable

from netsift.config import Setting, Settings
from netsift.findings import Finding

LOCAL = "local"
EXTERNAL = "external"

PRIVATE_NETWORKS = tuple(
    ipaddress.ip_network(n)
    for n in (
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",  # RFC 1918
        "100.64.0.0/10",  # carrier-grade NAT, RFC 6598
        "169.254.0.0/16",  # link-local
        "127.0.0.0/8",  # loopback
        "0.0.0.0/32",
        "fc00::/7",  # unique local, RFC 4193
        "fe80::/10",  # link-local
        "::1/128",
        "::/128",
    )
)

# Findings about a client's own behaviour, which an outside host's questions do not describe.
CLIENT_BEHAVIOUR_KINDS = ("beacon", "behaviour_change")


def _cidr_error(value) -> str | None:
    if not isinstance(value, str):
        return f"expected a CIDR string such as '203.0.113.0/24', got {value!r}"
    try:
        ipaddress.ip_network(value, strict=False)
    except ValueError as exc:
        return f"{value!r} is not a network ({exc})"
    return None


SETTINGS = (
    Setting(
        "local_networks",
        [],
        "Networks (CIDRs) that are local besides the private, link-local, CGNAT and loopback ranges "
        "(e.g. your public office range).",
        item_check=_cidr_error,
    ),
    Setting(
        "judge_external_clients",
        False,
        "Raise beacon and behaviour_change findings for clients outside the local networks too.",
    ),
)


def local_networks(extra: Iterable[str] = ()) -> tuple:
    return PRIVATE_NETWORKS + tuple(ipaddress.ip_network(n, strict=False) for n in extra)


def scope_of(client: str | None, networks: tuple) -> str:
    """``local`` or ``external`` for one client address (see the module doc)."""
    if not client:
        return LOCAL
    text = client.strip().strip("[]").split("%", 1)[0]  # [v6], fe80::1%eth0
    try:
        addr = ipaddress.ip_address(text)
    except ValueError:
        return LOCAL  # a host name: only a local log names its clients
    if isinstance(addr, ipaddress.IPv6Address) and addr.ipv4_mapped is not None:
        addr = addr.ipv4_mapped
    return LOCAL if any(addr in n for n in networks if n.version == addr.version) else EXTERNAL


def client_scopes(clients: Iterable[str | None], extra_networks: Iterable[str] = ()) -> dict[str, str]:
    """Scope of each *distinct* client (call it with a column's unique values, never per row)."""
    networks = local_networks(extra_networks)
    return {c: scope_of(c, networks) for c in set(clients) if c is not None}


def apply_scope(findings: list[Finding], s: Settings) -> list[Finding]:
    """Mark findings about external clients (reason, ``external_client`` sub-score) and drop their
    beacon/behaviour_change findings unless ``judge_external_clients``. Returns the kept findings."""
    scopes = client_scopes((f.client for f in findings if f.client), s.local_networks)
    kept = []
    for f in findings:
        if not f.client or scopes.get(f.client) != EXTERNAL:
            kept.append(f)
            continue
        if f.kind in CLIENT_BEHAVIOUR_KINDS and not s.judge_external_clients:
            continue
        f.sub_scores["external_client"] = 1.0
        f.reasons.append(
            f"External client: {f.client} is outside the local networks (private, link-local, CGNAT, "
            "loopback and [network] local_networks) — a host on the internet asking this resolver."
        )
        kept.append(f)
    return kept

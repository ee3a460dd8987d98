"""A deterministic layered layout for the domain -> IP -> AS graph: three columns, left to right, domains |
addresses | autonomous systems, each spread over the whole height, so every label sits beside its node
without touching another.

Autonomous systems are ordered with the most shared first; each AS's addresses sit together in the middle
column in that order, and each domain at the mean position of its addresses (so domains that share
infrastructure end up side by side and edges rarely cross). Addresses whose AS is unknown are grouped by
network prefix (/24 for IPv4, /48 for IPv6, computed with :mod:`ipaddress`). O(nodes log nodes), no
randomness, no dependency: the same data always draws the same picture.
"""

from __future__ import annotations

import ipaddress

COLUMNS = {"domain": 0.0, "ip": 1.0, "as": 2.0}


def network_prefix(ip: str) -> str:
    """The /24 (IPv4) or /48 (IPv6) network of an address; the text itself when it is not one."""
    try:
        addr = ipaddress.ip_address(ip.strip())
    except ValueError:
        return ip
    return str(ipaddress.ip_network(f"{addr}/{24 if addr.version == 4 else 48}", strict=False))


def as_key(edge: dict) -> tuple[str, str]:
    """(node id, label) of the AS an answer belongs to."""
    if edge.get("as_org") or edge.get("asn"):
        label = edge.get("as_org") or f"AS{edge['asn']}"
        if edge.get("asn") and edge.get("as_org"):
            label = f"AS{edge['asn']} {edge['as_org']}"
        return f"as:{label}", label
    prefix = network_prefix(edge["ip"])
    return f"as:?{prefix}", f"{prefix} (AS unknown)"


def layout_infrastructure(domains: list[dict], edges: list[dict]) -> tuple[dict[str, dict], list[dict]]:
    """Nodes (id -> {kind, label, hover, x, y, row, rows, score?, shared?}) and edges ({source, target,
    kind}). ``x`` is the column (0 domains, 1 addresses, 2 AS); ``y`` runs from 0 (bottom) to 1 (top), the
    column's nodes evenly spread with ``rows`` nodes in it."""
    nodes: dict[str, dict] = {}
    out_edges: list[dict] = []
    ips_of_as: dict[str, list[str]] = {}
    domains_of_as: dict[str, set[str]] = {}
    ips_of_domain: dict[str, list[str]] = {}
    for e in edges:
        ip_id, dom_id = f"ip:{e['ip']}", f"domain:{e['domain']}"
        as_id, as_label = as_key(e)
        if as_id not in nodes:
            nodes[as_id] = {"kind": "as", "label": as_label, "hover": as_label}
            ips_of_as[as_id] = []
            domains_of_as[as_id] = set()
        if ip_id not in nodes:
            where = ", ".join(x for x in (e.get("country"), as_label) if x)
            nodes[ip_id] = {"kind": "ip", "label": e["ip"], "hover": f"{e['ip']} ({where})", "as": as_id}
            ips_of_as[as_id].append(ip_id)
            out_edges.append({"source": ip_id, "target": as_id, "kind": "ip-as"})
        domains_of_as[nodes[ip_id]["as"]].add(dom_id)
        if ip_id not in ips_of_domain.setdefault(dom_id, []):
            ips_of_domain[dom_id].append(ip_id)
            out_edges.append({"source": dom_id, "target": ip_id, "kind": "domain-ip"})
    scores = {f"domain:{d['domain']}": d.get("score", 0.0) for d in domains}
    for dom_id, ip_ids in ips_of_domain.items():
        name = dom_id.split(":", 1)[1]
        nodes[dom_id] = {"kind": "domain", "label": name, "score": scores.get(dom_id, 0.0),
                         "hover": f"{name} (score {scores.get(dom_id, 0.0):.2f}, {len(ip_ids)} addresses)"}

    hubs = sorted(ips_of_as, key=lambda a: (-len(domains_of_as[a]), -len(ips_of_as[a]), nodes[a]["label"]))
    for as_id in hubs:
        nodes[as_id]["shared"] = len(domains_of_as[as_id]) > 1
    ip_order = [ip_id for as_id in hubs for ip_id in ips_of_as[as_id]]
    ip_rank = {ip_id: i for i, ip_id in enumerate(ip_order)}
    dom_order = sorted(ips_of_domain, key=lambda d: (sum(ip_rank[i] for i in ips_of_domain[d]) / len(ips_of_domain[d]),
                                                      nodes[d]["label"]))
    # each AS at the mean position of its addresses would crowd; keep them evenly spread in ip order
    for order in (dom_order, ip_order, hubs):
        for i, node_id in enumerate(order):
            nodes[node_id].update(x=COLUMNS[nodes[node_id]["kind"]], y=1 - (i + 0.5) / len(order), row=i,
                                  rows=len(order))
    return nodes, out_edges

"""A deterministic layout for the domain -> IP -> AS graph that clusters shared infrastructure.

Autonomous systems are hubs on a sunflower spiral (the most shared in the middle); each hub's IP addresses sit on a small
ring around it; each domain sits at the centre of its addresses, nudged by a stable per-name angle so that
domains sharing the same addresses form a visible cluster instead of one dot. Addresses whose AS is
unknown are grouped by network prefix (/24 for IPv4, /48 for IPv6). O(nodes + edges), no randomness, no
dependency: the same data always draws the same picture.
"""

from __future__ import annotations

import hashlib
import math

GOLDEN_ANGLE = math.pi * (3 - math.sqrt(5))


def as_key(edge: dict) -> tuple[str, str]:
    """(node id, label) of the AS an answer belongs to."""
    if edge.get("as_org") or edge.get("asn"):
        label = edge.get("as_org") or f"AS{edge['asn']}"
        if edge.get("asn") and edge.get("as_org"):
            label = f"AS{edge['asn']} {edge['as_org']}"
        return f"as:{label}", label
    ip = edge["ip"]
    prefix = ":".join(ip.split(":")[:3]) + "::/48" if ":" in ip else ".".join(ip.split(".")[:3]) + ".0/24"
    return f"as:?{prefix}", f"{prefix} (AS unknown)"


def _angle(name: str) -> float:
    return int(hashlib.sha1(name.encode()).hexdigest()[:8], 16) / 0xFFFFFFFF * 2 * math.pi


def layout_infrastructure(domains: list[dict], edges: list[dict]) -> tuple[dict[str, dict], list[dict]]:
    """Nodes (id -> {kind, label, hover, x, y, score?}) and edges ({source, target, kind})."""
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
        ips_of_domain.setdefault(dom_id, []).append(ip_id)
        out_edges.append({"source": dom_id, "target": ip_id, "kind": "domain-ip"})
    scores = {f"domain:{d['domain']}": d.get("score", 0.0) for d in domains}
    for dom_id, ip_ids in ips_of_domain.items():
        name = dom_id.split(":", 1)[1]
        nodes[dom_id] = {"kind": "domain", "label": name, "score": scores.get(dom_id, 0.0),
                         "hover": f"{name} (score {scores.get(dom_id, 0.0):.2f}, {len(ip_ids)} addresses)"}

    # hubs on a sunflower spiral: the most shared infrastructure in the middle, singletons outside
    hubs = sorted(ips_of_as, key=lambda a: (-len(domains_of_as[a]), -len(ips_of_as[a]), a))
    rings = {a: 1.0 + 0.08 * len(ips_of_as[a]) for a in hubs}
    spacing = 2.2 * (max(rings.values()) + 2.3) / 2
    for i, as_id in enumerate(hubs):
        theta = i * GOLDEN_ANGLE
        hx, hy = spacing * math.sqrt(i) * math.cos(theta), spacing * math.sqrt(i) * math.sin(theta)
        nodes[as_id].update(x=hx, y=hy)
        for j, ip_id in enumerate(ips_of_as[as_id]):
            phi = 2 * math.pi * j / len(ips_of_as[as_id]) + theta
            nodes[ip_id].update(x=hx + rings[as_id] * math.cos(phi), y=hy + rings[as_id] * math.sin(phi))
        nodes[as_id]["shared"] = len(domains_of_as[as_id]) > 1
    for dom_id, ip_ids in ips_of_domain.items():
        cx = sum(nodes[i]["x"] for i in ip_ids) / len(ip_ids)
        cy = sum(nodes[i]["y"] for i in ip_ids) / len(ip_ids)
        # spread around the centre of its addresses by a stable angle, so domains sharing them cluster
        phi = _angle(dom_id)
        nodes[dom_id].update(x=cx + 0.9 * math.cos(phi), y=cy + 0.9 * math.sin(phi))
    return nodes, out_edges

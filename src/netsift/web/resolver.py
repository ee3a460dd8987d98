"""Resolver page (Pi-hole's panels): questions blocked vs allowed over time, top blocked and top allowed
names, top clients, query types, upstream servers and what the resolver did, from the per-hour resolver
rollups (:mod:`netsift.report.resolver`). Only for stores with a log that carries block status (Pi-hole,
Pi-hole JSON, Infoblox RPZ, ...): elsewhere the page and its JSON twin answer 404 and the navigation
leaves it out."""

from __future__ import annotations

from netsift.report import resolver
from netsift.web.pages import NotFound, Page

ABSENT = ("No log in this store carries block status: the resolver page needs a Pi-hole log, a Pi-hole JSON "
          "export, an Infoblox/BIND log with RPZ hits or an Umbrella export.")


def resolver_data(store, params) -> dict:
    d = resolver.resolver_data(store)
    if not d["available"]:
        raise NotFound(ABSENT)
    return d


def available(store) -> bool:
    return resolver.available(store)


PAGE = Page("/resolver", "resolver.html.j2", "Resolver: blocked vs allowed", resolver_data, resolver.figures,
            nav="Resolver")

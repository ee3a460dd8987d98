"""Logins page: the logon family at a glance (counts, the busiest sources, accounts and hosts, events per
hour by kind) and, with ``?by=source|account|host&key=...``, one source's, account's or host's login
timeline and its newest events. Its JSON twin is ``/logins.json`` with the same parameters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from netsift import logins
from netsift.report import logins as report_logins
from netsift.web.pages import BadRequest, NotFound, Page, choice_param, int_param

EVENTS_SHOWN = 200


def _plain(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v.isoformat() if isinstance(v, dt.datetime) else v for k, v in r.items()} for r in rows]


def logins_data(store, params) -> dict[str, Any]:
    by = choice_param(params, "by", tuple(logins.BY), "source")
    key = (params.get("key") or "").strip() or None
    top = int_param(params, "top", report_logins.TOP, 1, 500)
    if key is None:
        section = report_logins.section(store, top)
        return {"by": by, "key": None, "counts": section["counts"], "timeline": _plain(section["timeline"]),
                **{b: _plain(section[b]) for b in logins.BY}}
    if len(key) > 1000:
        raise BadRequest("key is too long")
    rows = _plain([r for r in logins.summary(store, by, 0) if r[by] == key])
    if not rows:
        raise NotFound(f"no logon events with {by} {key!r} in this store")
    return {"by": by, "key": key, "summary": rows[0], "timeline": _plain(logins.timeline(store, by, key)),
            "events": _plain(logins.events(store, by, key, EVENTS_SHOWN))}


def logins_figures(d: dict[str, Any]) -> dict[str, Any]:
    title = (f"Logon events per hour of {d['by']} {d['key']} (UTC)" if d["key"] else "Logon events per hour (UTC)")
    return {"timeline": report_logins.timeline_figure(d["timeline"], title)}


def available(store) -> bool:
    """In the navigation only when the store holds logon events."""
    return logins.present(store)


PAGE = Page("/logins", "logins.html.j2", "Logins", logins_data, logins_figures, nav="Logins")

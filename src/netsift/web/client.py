"""Client page, "what does this host do, and when": its story across every family of logs (one timeline
of DNS questions per hour, logons from it and to it, findings: :mod:`netsift.timeline`), activity
timeline, hour × weekday heatmap, top domains (with why each is normal), findings about it, on it or on
its domains, the category timeline once categories exist, and verdict history. A client known only from
other logs than DNS (an address in an auth log) has a page too."""

from __future__ import annotations

from netsift import inputs, timeline
from netsift.baseline.verdicts import verdict_history
from netsift.detect import scope
from netsift.report import chart_data as data
from netsift.report import charts
from netsift.web.pages import NotFound, Page, required_param


def client_data(store, params) -> dict:
    client = required_param(params, "name")
    totals = store.rows("SELECT sum(queries), sum(nxdomain), min(hour), max(hour) FROM rollup_client_hour "
                        "WHERE client = ?", [client])[0]
    story = timeline.client_events(store, client)  # every family: DNS, logons from and to it, findings
    if totals[0] is None and not story:
        raise NotFound(f"nothing from or about client {client!r} in this store")
    if totals[0] is None:  # known from other logs only (an attacker's address in an auth log)
        totals = (0, 0, story[0]["ts"], story[-1]["ts"])
    bucket = data.bucket_for(store, client)  # follows this client's span
    return {
        "client": client,
        **client_scope(store, client),
        "bucket": bucket,
        "queries": int(totals[0]), "nxdomain": int(totals[1]),
        "first_hour": totals[2].isoformat(), "last_hour": totals[3].isoformat(),
        "story": timeline.as_json(story),
        "domains_count": store.rows("SELECT count(*) FROM rollup_domain_client WHERE client = ?", [client])[0][0],
        "timeline": data.timeline(store, client, bucket),
        "heatmap": data.heatmap(store, client, "weekday"),
        "top_domains": data.dicts(store, """
            SELECT r.registered_domain AS domain, r.queries, r.names, r.first_seen, r.last_seen, s.normal_reason
            FROM rollup_domain_client r LEFT JOIN domain_stats s USING (registered_domain)
            WHERE r.client = ? ORDER BY r.queries DESC, domain LIMIT 50""", [client]),
        "findings": [data.finding_row(r) for r in data.dicts(store, """
            SELECT * FROM findings WHERE client = ? OR host = ? OR (client IS NULL AND domain IN
              (SELECT registered_domain FROM rollup_domain_client WHERE client = ?))
            ORDER BY score DESC, kind, domain LIMIT 100""", [client, client, client])],
        "category_timeline": data.category_timeline(store, client, bucket),
        "verdicts": [dict(zip(("entity", "verdict", "note", "who", "ts"), (*r[:4], r[4].isoformat())))
                     for r in verdict_history(store, client)],
    }


def client_scope(store, client: str) -> dict:
    """``scope`` (local or external, :mod:`netsift.detect.scope`) of the client under the private ranges
    and the remembered settings file's ``[network] local_networks``, which ``local_networks`` lists."""
    extra = inputs.remembered_section(store, "network").get("local_networks") or []
    try:
        extra = [str(n) for n in extra]
        which = scope.client_scopes([client], extra)[client]
    except (TypeError, ValueError):  # a bad setting: analyze reports it; the page falls back to the ranges
        extra = []
        which = scope.client_scopes([client])[client]
    return {"scope": which, "local_networks": extra}


def client_figures(d: dict) -> dict:
    return {
        "timeline": charts.timeline_figure(d["timeline"], f"Activity of {d['client']}", d["bucket"]),
        "heatmap": charts.heatmap_figure(d["heatmap"], "Hour of day × weekday (UTC)"),
        "categories": charts.category_timeline_figure(d["category_timeline"], bucket=d["bucket"]),
    }


PAGE = Page("/client", "client.html.j2", "Client", client_data, client_figures)

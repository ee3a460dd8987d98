"""Findings page, the triage queue: sortable, filterable, paginated; each row expands to its reasons,
sub-scores and evidence (top clients of a domain, top domains of a client); verdict buttons POST to
``/verdict``.

A verdict is recorded on the finding's registered domain (or its client when it has no domain), so a
benign verdict explains the domain as normal at the next analysis, which the dashboard starts at once in
the background. The queue's default view, ``status=open``, leaves out findings whose entity (or id) has a
verdict, so a finding disappears from it as soon as it is judged.

The queue shows medium and worse first (``floor=medium``, unless a kind or a severity is asked for) and
counts the rest (``below_floor``; ``floor=info`` shows them). ``unexplained_domain`` rows that share a group
(``findings.group_key``: a hosting platform or an answer network) are one row, the top-scored member,
carrying ``group`` (key, count, members). ``POST /verdicts/bulk`` gives one verdict to the selected rows
(``finding_id``, ``group`` values) or to every row matching the filter (``scope=filter``), checked and
written at once, followed by one re-analysis.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from netsift.baseline.verdicts import LATEST_VERDICTS_SQL, VERDICTS, add_verdict, add_verdicts
from netsift.errors import NetsiftError
from netsift.findings import SEVERITIES
from netsift.report import chart_data as data
from netsift.web import security
from netsift.web.pages import BadRequest, Page, choice_param, int_param, json_response, render

SORTS = {  # parameter -> column
    "score": "score", "severity": "severity_rank", "kind": "kind", "client": "client", "domain": "domain",
    "first_seen": "first_seen", "last_seen": "last_seen", "evidence_count": "evidence_count",
}
STATUSES = ("open", "triaged", "all")
PER_PAGE = 50
FLOOR = "medium"  # the queue shows this severity and worse first
GROUP_MEMBERS_SHOWN = 200

QUEUE_SQL = f"""
WITH v AS ({LATEST_VERDICTS_SQL}),
f AS (
  SELECT f.*, coalesce(f.domain, f.client, f.finding_id) AS entity,
         list_position(?, f.severity) AS severity_rank
  FROM findings f
)
SELECT f.finding_id, f.kind, f.client, f.domain, f.score, f.severity, f.reasons, f.sub_scores, f.first_seen,
       f.last_seen, f.evidence_count, f.entity, f.names, f.group_key, f.account, f.host, f.severity_rank,
       coalesce(vf.verdict, ve.verdict) AS verdict, coalesce(vf.note, ve.note) AS verdict_note,
       coalesce(vf.who, ve.who) AS verdict_who, coalesce(vf.ts, ve.ts) AS verdict_ts
FROM f LEFT JOIN v vf ON vf.entity = f.finding_id LEFT JOIN v ve ON ve.entity = lower(f.entity)
"""


def entity_of(finding: dict) -> str:
    """What a verdict on this finding is recorded against."""
    return finding.get("domain") or finding.get("client") or finding["id"]


def _filters(params, floor: bool = True) -> tuple[str, list, dict]:
    """WHERE clause, its arguments and the filters applied; ``floor=False`` leaves the severity floor out."""
    status = choice_param(params, "status", STATUSES, "open")
    kind = params.get("kind") or ""
    severity = params.get("severity") or ""
    text = (params.get("q") or "").strip()
    lowest = choice_param(params, "floor", SEVERITIES, FLOOR)
    where, args = [], []
    if status == "open":
        where.append("verdict IS NULL")
    elif status == "triaged":
        where.append("verdict IS NOT NULL")
    if kind:
        where.append("kind = ?")
        args.append(kind)
    if severity:
        if severity not in SEVERITIES:
            choice_param(params, "severity", SEVERITIES, "info")  # raises BadRequest
        where.append("severity = ?")
        args.append(severity)
    elif floor and lowest != "info" and not kind:  # a kind asked for is shown whatever its severity
        where.append("severity_rank >= ?")
        args.append(SEVERITIES.index(lowest) + 1)
    if text:
        where.append("(contains(lower(coalesce(domain, '')), lower(?)) OR contains(lower(coalesce(client, '')), "
                     "lower(?)) OR contains(lower(array_to_string(reasons, ' ')), lower(?)) OR "
                     "contains(lower(coalesce(group_key, '')), lower(?)) OR "
                     "contains(lower(coalesce(account, '')), lower(?)) OR contains(lower(coalesce(host, '')), lower(?)))")
        args += [text] * 6
    sql = ("WHERE " + " AND ".join(where)) if where else ""
    floored = lowest != "info" and not kind and not severity
    return sql, args, {"status": status, "kind": kind, "severity": severity, "q": text, "floor": lowest,
                       "floored": floored}


GROUPED_SQL = """
SELECT *, count(*) OVER w AS group_size,
       row_number() OVER (PARTITION BY coalesce(group_key, finding_id) ORDER BY score DESC, finding_id) AS group_pos
FROM ({base}) WINDOW w AS (PARTITION BY coalesce(group_key, finding_id))
"""


def findings_data(store, params) -> dict:
    where, args, applied = _filters(params)
    sort = choice_param(params, "sort", tuple(SORTS), "score")
    order = choice_param(params, "order", ("asc", "desc"), "asc" if sort in ("client", "domain", "kind") else "desc")
    per_page = int_param(params, "per_page", PER_PAGE, 1, 500)
    sev = list(SEVERITIES)
    grouped = GROUPED_SQL.format(base=f"SELECT * FROM ({QUEUE_SQL}) {where}")
    total, matching = store.rows(f"SELECT count(*) FILTER (WHERE group_pos = 1), count(*) FROM ({grouped})",
                                 [sev, *args])[0]
    below = 0
    if applied["floored"]:
        all_where, all_args, _ = _filters(params, floor=False)
        below = store.rows(f"SELECT count(*) FROM ({QUEUE_SQL}) {all_where}", [sev, *all_args])[0][0] - matching
    pages = max(1, -(-total // per_page))
    page = int_param(params, "page", 1, 1, pages)
    rows = data.dicts(store, f"SELECT * FROM ({grouped}) WHERE group_pos = 1 ORDER BY {SORTS[sort]} {order} "
                             "NULLS LAST, finding_id LIMIT ? OFFSET ?", [sev, *args, per_page, (page - 1) * per_page])
    findings = [_row(r) for r in rows]
    keys = [f["group"]["key"] for f in findings if f.get("group")]
    if keys:
        members: dict[str, list] = {}
        for r in data.dicts(store, f"SELECT * FROM ({grouped}) WHERE group_key IN (SELECT unnest(?)) AND group_pos <= ? "
                                   "ORDER BY group_pos", [sev, *args, keys, GROUP_MEMBERS_SHOWN]):
            members.setdefault(r["group_key"], []).append(_row(r, member=True))
        for f in findings:
            if f.get("group"):
                f["group"]["members"] = members.get(f["group"]["key"], [])
    _attach_evidence(store, findings)
    facets = data.dicts(store, f"SELECT kind, severity, count(*) AS findings FROM ({QUEUE_SQL}) "
                               "WHERE verdict IS NULL GROUP BY ALL ORDER BY kind, severity", [sev])
    return {
        "filters": {**applied, "sort": sort, "order": order},
        "page": page, "pages": pages, "per_page": per_page, "total": int(total), "matching": int(matching),
        "below_floor": int(below),
        "open_by_kind": facets, "kinds": sorted({f["kind"] for f in facets} | ({applied["kind"]} - {""})),
        "severities": sev, "verdicts": list(VERDICTS), "findings": findings,
    }


def _row(r: dict, member: bool = False) -> dict:
    """A queue row in the shape of ``analyze --json`` (``group`` the group's key), plus, on a group's
    leading row, ``group``: key, label, count and (filled in later) members."""
    size, key = r.pop("group_size", 1), r.pop("group_key", None)
    r.pop("group_pos", None)
    r.pop("severity_rank", None)
    row = data.finding_row(r)
    row["names"] = list(row.get("names") or [])
    if member or size <= 1 or not key:
        row["group"] = key
        return row
    what, _, value = key.partition(":")
    label = f"platform {value} ({size:,} domains)" if what == "platform" else \
        f"network {value} ({size:,} domains)"
    row["group"] = {"key": key, "label": label, "count": int(size), "members": []}
    return row


def _attach_evidence(store, findings: list[dict]) -> None:
    """Top clients of each domain and top domains of each client-only finding (from the rollups)."""
    domains = sorted({f["domain"] for f in findings if f["domain"]})
    clients = sorted({f["client"] for f in findings if f["client"] and not f["domain"]})
    by_domain: dict[str, list] = {}
    by_client: dict[str, list] = {}
    if domains:
        for r in data.dicts(store, "SELECT registered_domain AS domain, client, queries FROM rollup_domain_client "
                                   "WHERE registered_domain IN (SELECT unnest(?)) QUALIFY row_number() OVER "
                                   "(PARTITION BY registered_domain ORDER BY queries DESC, client) <= 5", [domains]):
            by_domain.setdefault(r["domain"], []).append({"client": r["client"], "queries": r["queries"]})
    if clients:
        for r in data.dicts(store, "SELECT client, registered_domain AS domain, queries FROM rollup_domain_client "
                                   "WHERE client IN (SELECT unnest(?)) QUALIFY row_number() OVER "
                                   "(PARTITION BY client ORDER BY queries DESC, registered_domain) <= 5", [clients]):
            by_client.setdefault(r["client"], []).append({"domain": r["domain"], "queries": r["queries"]})
    for f in findings:
        f["top_clients"] = by_domain.get(f["domain"], []) if f["domain"] else []
        f["top_domains"] = by_client.get(f["client"], []) if f["client"] and not f["domain"] else []


PAGE = Page("/findings", "findings.html.j2", "Findings", findings_data, nav="Findings")


async def post_verdict(request: Request) -> Response:
    """Record a verdict (form fields: finding_id or entity, verdict, note, next, csrf_token)."""
    dash = request.app.state.netsift
    form, wants_json, refused = await checked_form(request)
    if refused:
        return refused
    finding_id = str(form.get("finding_id") or "").strip()
    entity = str(form.get("entity") or "").strip()
    verdict = str(form.get("verdict") or "").strip()
    note = str(form.get("note") or "").strip() or None
    store = dash.request_store()
    try:
        if finding_id:
            rows = data.dicts(store, "SELECT finding_id AS id, domain, client FROM findings WHERE finding_id = ?",
                              [finding_id])
            if not rows:
                return refuse(request, wants_json, 404,
                               f"no finding {finding_id!r} (it may have been re-analysed away)")
            entity = entity_of(rows[0])
        try:
            add_verdict(store, entity, verdict, note)
        except NetsiftError as exc:
            return refuse(request, wants_json, 400, str(exc))
    finally:
        store.close()
    dash.store_changed()  # the queue leaves the judged finding out from now on
    dash.reanalyzer.request()
    if wants_json:
        return json_response({"ok": True, "finding_id": finding_id, "entity": entity, "verdict": verdict})
    return RedirectResponse(security.safe_next(str(form.get("next") or "")), status_code=303)


async def post_bulk(request: Request) -> Response:
    """One verdict on many findings (form fields: verdict, note, csrf_token, next, and either the selected
    ``finding_id`` / ``group`` values, or ``scope=filter`` with the queue's filters: status, kind, severity, q,
    floor). Every entity is checked before anything is written; one re-analysis follows."""
    dash = request.app.state.netsift
    form, wants_json, refused = await checked_form(request)
    if refused:
        return refused
    verdict = str(form.get("verdict") or "").strip()
    note = str(form.get("note") or "").strip() or None
    store = dash.request_store()
    try:
        sev = list(SEVERITIES)
        if form.get("scope") == "filter":
            try:
                where, args, _ = _filters(form)
            except BadRequest as exc:  # an unknown status / severity / floor
                return refuse(request, wants_json, 400, str(exc))
            rows = data.dicts(store, f"SELECT finding_id AS id, domain, client FROM ({QUEUE_SQL}) {where}",
                              [sev, *args])
        else:
            ids = [str(v).strip() for v in form.getlist("finding_id") if str(v).strip()]
            groups = [str(v).strip() for v in form.getlist("group") if str(v).strip()]
            rows = data.dicts(store, f"SELECT finding_id AS id, domain, client FROM ({QUEUE_SQL}) "
                                     "WHERE finding_id IN (SELECT unnest(?)) OR (group_key IN (SELECT unnest(?)) "
                                     "AND verdict IS NULL)", [sev, ids, groups])
        if not rows:
            return refuse(request, wants_json, 400, "no finding selected (tick rows, or mark all matching the filter)")
        try:
            entities = add_verdicts(store, [entity_of(r) for r in rows], verdict, note)
        except NetsiftError as exc:
            return refuse(request, wants_json, 400, str(exc))
    finally:
        store.close()
    dash.store_changed()
    dash.reanalyzer.request()  # one re-analysis for the lot
    if wants_json:
        return json_response({"ok": True, "verdict": verdict, "findings": len(rows), "entities": entities})
    return RedirectResponse(security.safe_next(str(form.get("next") or "")), status_code=303)


async def checked_form(request: Request, title: str = "Verdict not recorded"):
    """(form, wants_json, refusal): the POSTed form, whether the caller wants JSON (a ``.json`` path or an
    Accept header), and the 403 answer when the request fails the CSRF / Origin checks (else None)."""
    form = await request.form()
    wants_json = request.url.path.endswith(".json") or "application/json" in request.headers.get("accept", "")
    token = form.get(security.CSRF_FIELD)
    problem = security.cross_site_problem(request, token if isinstance(token, str) else None,
                                          request.app.state.netsift.csrf_token)
    return form, wants_json, (refuse(request, wants_json, 403, problem, title) if problem else None)


def refuse(request: Request, wants_json: bool, status: int, message: str,
           title: str = "Verdict not recorded") -> Response:
    if wants_json:
        return json_response({"error": message}, status)
    return render(request, "error.html.j2", status, title=title, message=message)


def register_routes(app) -> None:
    app.add_api_route("/verdict", post_verdict, methods=["POST"], include_in_schema=False)
    app.add_api_route("/verdict.json", post_verdict, methods=["POST"], include_in_schema=False)
    app.add_api_route("/verdicts/bulk", post_bulk, methods=["POST"], include_in_schema=False)
    app.add_api_route("/verdicts/bulk.json", post_bulk, methods=["POST"], include_in_schema=False)

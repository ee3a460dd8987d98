"""Verdicts page: every verdict in force (entity, verdict, note, who, when), newest first, with an Undo
button per row; ``?history=1`` adds the superseded and undone ones (verdicts are never deleted: an undo marks
the row, see :mod:`netsift.baseline.verdicts`). ``POST /verdicts/undo`` (CSRF-protected like ``/verdict``)
undoes the latest verdict on each ``entity`` given and starts a re-analysis, so the finding returns to the
queue.
"""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from netsift.baseline.verdicts import list_verdicts, undo_verdicts
from netsift.errors import NetsiftError
from netsift.web import security
from netsift.web.findings import checked_form, refuse
from netsift.web.pages import Page, json_response

TITLE = "Verdict not undone"


def verdicts_data(store, params) -> dict:
    history = (params.get("history") or "") in ("1", "true", "yes")
    rows = list_verdicts(store, include_history=history)
    for r in rows:
        for k in ("ts", "undone_at"):
            r[k] = r[k].isoformat() if r[k] is not None else None
    return {"history": history, "total": len(rows), "verdicts": rows}


PAGE = Page("/verdicts", "verdicts.html.j2", "Verdicts", verdicts_data, nav="Verdicts")


async def post_undo(request: Request) -> Response:
    """Undo the latest verdict on each ``entity`` (form fields: entity (repeatable), next, csrf_token)."""
    dash = request.app.state.netsift
    form, wants_json, refused = await checked_form(request, TITLE)
    if refused:
        return refused
    entities = [str(v) for v in form.getlist("entity")]
    store = dash.request_store()
    try:
        undone = undo_verdicts(store, entities)
    except NetsiftError as exc:
        return refuse(request, wants_json, 400, str(exc), TITLE)
    finally:
        store.close()
    if undone:
        dash.store_changed()
        dash.reanalyzer.request()  # a benign verdict undone: the domain is no longer normal
    if wants_json:
        return json_response({"ok": True, "undone": [{"entity": e, "verdict": v} for e, v in undone]})
    return RedirectResponse(security.safe_next(str(form.get("next") or ""), "/verdicts"), status_code=303)


def register_routes(app) -> None:
    app.add_api_route("/verdicts/undo", post_undo, methods=["POST"], include_in_schema=False)
    app.add_api_route("/verdicts/undo.json", post_undo, methods=["POST"], include_in_schema=False)

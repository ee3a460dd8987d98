"""Escaping of log-derived values, cross-site request protection, the access token and the Host check."""

from __future__ import annotations

import re
from urllib.parse import quote

import click
import pytest
from click.testing import CliRunner

from tests.web.conftest import Client, make_app
from tests.web.store_builder import XSS, XSS_DOMAIN

ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.mark.parametrize("path", [
    "/", "/findings?floor=info", "/findings?status=all&per_page=500&floor=info", f"/domain?name={quote(XSS_DOMAIN)}",
    f"/domain?name={quote('www.' + XSS_DOMAIN)}", "/client?name=10.0.0.2", "/search?q=script", "/graph",
    f"/search?q={quote(XSS)}", f"/findings?q={quote(XSS)}&status=all",
])
def test_planted_script_renders_as_text(client, path):
    html = client.get(path).text
    assert XSS not in html
    assert "<script>alert" not in html
    # in the page's HTML, in JSON data, or as a chart label (escaped for plotly, then for the script element)
    assert ESCAPED in html or "\\u003cscript\\u003ealert(1)\\u003c" in html or \
        "\\u0026lt;script\\u0026gt;alert(1)\\u0026lt;" in html
    # the only script elements are ours: the two static files and JSON data
    for tag in re.findall(r"<script[^>]*>", html):
        assert tag in ('<script src="/static/plotly.min.js" defer>', '<script src="/static/app.js" defer>') or \
            tag.startswith('<script type="application/json" id="fig-'), tag


def test_json_twin_carries_the_raw_value(client):
    data = client.get(f"/domain.json?name={quote(XSS_DOMAIN)}").json()
    assert data["domain"] == XSS_DOMAIN
    assert client.get(f"/domain.json?name={quote(XSS_DOMAIN)}").headers["content-type"] == "application/json"


def test_security_headers(client):
    headers = client.get("/findings").headers
    assert "script-src 'self'" in headers["content-security-policy"]
    assert "unsafe-inline" not in headers["content-security-policy"].split("script-src")[1].split(";")[0]
    assert headers["x-frame-options"] == "DENY" and headers["x-content-type-options"] == "nosniff"


def _finding(client, domain="example-shop.de"):
    rows = client.get("/findings.json?per_page=500").json()["findings"]
    return next(f for f in rows if f["domain"] == domain)


def _verdicts(app):
    store = app.state.netsift.request_store()  # the main connection may be busy re-analysing
    try:
        return store.rows("SELECT entity, verdict FROM verdicts")
    finally:
        store.close()


ORIGIN = "http://127.0.0.1"


@pytest.mark.parametrize(("form_token", "headers", "why"), [
    (None, {"origin": ORIGIN}, "CSRF token"),
    ("wrong", {"origin": ORIGIN}, "CSRF token"),
    ("good", {"origin": "http://evil.example"}, "Origin"),
    ("good", {"origin": "null"}, "Origin"),
    ("good", {"referer": "http://evil.example/page"}, "Referer"),
    ("good", {"origin": ORIGIN, "sec-fetch-site": "cross-site"}, "Sec-Fetch-Site"),
])
def test_cross_site_post_is_refused(client, app, form_token, headers, why):
    finding = _finding(client)
    token = app.state.netsift.csrf_token if form_token == "good" else form_token
    form = {"finding_id": finding["id"], "verdict": "benign", **({"csrf_token": token} if token else {})}
    resp = client.post("/verdict", data=form, headers=headers)
    assert resp.status_code == 403
    assert why in resp.text
    assert _verdicts(app) == []


def test_same_origin_post_with_token_is_accepted(client, app):
    finding = _finding(client)
    form = {"finding_id": finding["id"], "verdict": "needs_review", "note": "check with the shop team",
            "csrf_token": app.state.netsift.csrf_token, "next": "/findings?status=all"}
    resp = client.post("/verdict", data=form, headers={"origin": ORIGIN})
    assert resp.status_code == 303 and resp.headers["location"] == "/findings?status=all"
    assert _verdicts(app) == [("example-shop.de", "needs_review")]
    app.state.netsift.reanalyzer.wait()


def test_csrf_header_works_for_scripts(client, app):
    finding = _finding(client)
    resp = client.post("/verdict.json", data={"finding_id": finding["id"], "verdict": "malicious"},
                       headers={"x-csrf-token": app.state.netsift.csrf_token})
    assert resp.status_code == 200 and resp.json()["entity"] == "example-shop.de"
    app.state.netsift.reanalyzer.wait()


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", ""])
def test_redirect_after_post_stays_local(client, app, target):
    finding = _finding(client)
    resp = client.post("/verdict", data={"finding_id": finding["id"], "verdict": "benign", "next": target,
                                         "csrf_token": app.state.netsift.csrf_token})
    assert resp.status_code == 303 and resp.headers["location"] == "/findings"
    app.state.netsift.reanalyzer.wait()


def test_unknown_host_is_refused(client):
    assert client.get("/", headers={"host": "rebound.evil.example"}).status_code == 400
    assert client.get("/", headers={"host": "localhost:8080"}).status_code == 200


@pytest.fixture
def token_app(store_path):
    app = make_app(store_path, token="s3cret-token", bound_host="0.0.0.0")
    yield app
    app.state.netsift.close()


def test_access_token_required_on_every_request(token_app):
    client = Client(token_app, base_url="http://192.0.2.10:8080")
    for path in ("/", "/findings.json", "/static/app.js"):
        assert client.get(path).status_code == 401
    assert client.get("/findings.json?token=wrong").status_code == 401
    assert client.get("/findings.json", headers={"authorization": "Bearer s3cret-token"}).status_code == 200
    first = client.get("/findings?token=s3cret-token&status=all")
    assert first.status_code == 303 and first.headers["location"] == "/findings?status=all"
    cookie = first.headers["set-cookie"]
    assert "netsift_token=s3cret-token" in cookie and "HttpOnly" in cookie and "SameSite=strict" in cookie
    assert client.get("/findings", headers={"cookie": "netsift_token=s3cret-token"}).status_code == 200


def test_serve_on_a_non_loopback_address_warns_and_prints_a_token(store_path, monkeypatch):
    import uvicorn

    from netsift.web.cli import serve

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kw: seen.update(app=app, host=host, port=port))
    result = CliRunner().invoke(click.Group(commands={"serve": serve}),
                                ["serve", "--db", str(store_path), "--host", "0.0.0.0", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert "WARNING" in result.stderr
    token = re.search(r"access token \(shown once\): (\S+)", result.stderr).group(1)
    assert seen["app"].state.netsift.token == token and seen["port"] == 8123
    assert f"?token={token}" in result.stderr
    seen["app"].state.netsift.close()


def test_serve_on_loopback_needs_no_token(store_path, monkeypatch):
    import uvicorn

    from netsift.web.cli import serve

    seen = {}
    monkeypatch.setattr(uvicorn, "run", lambda app, host, port, **kw: seen.update(app=app))
    result = CliRunner().invoke(click.Group(commands={"serve": serve}), ["serve", "--db", str(store_path)])
    assert result.exit_code == 0 and "WARNING" not in result.stderr
    assert seen["app"].state.netsift.token is None
    seen["app"].state.netsift.close()

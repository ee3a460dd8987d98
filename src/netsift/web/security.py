"""The dashboard's defences, in one place.

- **Host check**: only the names the server was bound to (and loopback names) are answered, so a web page
  cannot reach the dashboard through DNS rebinding.
- **Access token** (required when bound to a non-loopback address): given once as ``?token=`` (then kept
  in an HttpOnly, SameSite=Strict cookie), or as ``Authorization: Bearer``; checked on every request.
- **Cross-site requests**: every POST carries the per-process CSRF token (form field ``csrf_token`` or
  header ``X-CSRF-Token``) and, when the browser sends one, an ``Origin`` equal to the server's own.
- **Headers**: a Content-Security-Policy without inline scripts, nosniff, no framing, no referrer leaks.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets

from starlette.requests import Request

TOKEN_COOKIE = "netsift_token"
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
LOOPBACK_NAMES = ("127.0.0.1", "localhost", "::1", "[::1]")

SECURITY_HEADERS = {
    "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
                               "img-src 'self' data: blob:; connect-src 'self'; frame-ancestors 'none'; "
                               "base-uri 'none'; form-action 'self'",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cache-control": "no-store",
}


def is_loopback(host: str) -> bool:
    host = host.strip("[]")
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def new_token() -> str:
    return secrets.token_urlsafe(24)


def allowed_hosts(bound: str | None, extra: tuple[str, ...] = ()) -> set[str]:
    hosts = set(LOOPBACK_NAMES) | set(extra)
    if bound and bound not in ("0.0.0.0", "::"):
        hosts.add(bound)
        hosts.add(f"[{bound}]")
    return hosts


def host_allowed(request: Request, hosts: set[str] | None) -> bool:
    """None allows any Host (a wildcard bind: the access token is then the defence)."""
    if hosts is None:
        return True
    host = request.headers.get("host", "")
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    return name.lower() in hosts


def same(a: str | None, b: str | None) -> bool:
    return bool(a and b and hmac.compare_digest(a.encode(), b.encode()))


def presented_token(request: Request) -> str | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip()
    return request.query_params.get("token") or request.cookies.get(TOKEN_COOKIE)


def own_origin(request: Request) -> str:
    return f"{request.url.scheme}://{request.headers.get('host', '')}"


def cross_site_problem(request: Request, form_token: str | None, csrf_token: str) -> str | None:
    """Why a state-changing request must be refused, or None when it may proceed."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site in ("cross-site", "same-site"):
        return f"cross-site request refused (Sec-Fetch-Site: {fetch_site})"
    origin = request.headers.get("origin")
    if origin is not None and origin != own_origin(request):
        return "cross-site request refused (Origin does not match this server)"
    if origin is None:
        referer = request.headers.get("referer")
        if referer and not (referer == own_origin(request) or referer.startswith(own_origin(request) + "/")):
            return "cross-site request refused (Referer does not match this server)"
    if not same(form_token or request.headers.get(CSRF_HEADER), csrf_token):
        return "missing or wrong CSRF token: reload the page and try again"
    return None


def safe_next(target: str | None, default: str = "/findings") -> str:
    """A local path to redirect to after a POST (never another host)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target

"""Cisco Umbrella Investigate: domain status, categories and security scores, only when asked and only with
a token (``UMBRELLA_INVESTIGATE_TOKEN``, sent as ``Authorization: Bearer``).

Two documented requests per domain:

``GET {base}/domains/categorization/{domain}?showLabels``
    ``{"example.com": {"status": 1, "security_categories": [], "content_categories": ["Ecommerce/Shopping"]}}``
    status: -1 malicious, 0 undetermined, 1 safe. With ``showLabels`` categories are names, not ids.
``GET {base}/security/name/{domain}``
    ``{"dga_score": -3.5, "perplexity": 0.2, "entropy": 2.8, "securerank2": 10.5, "pagerank": 50.1,
    "asn_score": -0.1, "prefix_score": -0.05, "rip_score": 0, "popularity": 90.3, "geodiversity": [...],
    "attack": "", "threat_type": "", "found": true, ...}``

The default base URL is the Investigate API host (``https://investigate.api.umbrella.com``); point
``base_url`` at ``https://api.umbrella.com/investigate/v2`` to use the newer API with an OAuth access token.
Default limits follow the documented Integration tier (3 requests per second, 2000 per day); a 429 is
retried after ``Retry-After`` or, as Cisco documents, after waiting from one second up. Answers are
reused from the cache for 7 days.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from netsift.config import Setting
from netsift.enrich.online import (
    LookupResult,
    MalformedAnswer,
    OnlineService,
    ServiceFailure,
    as_number,
    failed,
)

SETTINGS = (
    Setting("investigate_per_second", 3, "Umbrella Investigate requests per second (Integration tier: 3).", 1, 1000),
    Setting("investigate_per_day", 2000, "Umbrella Investigate requests per day (Integration tier: 2000).", 1,
            10_000_000),
    Setting("investigate_max_age_days", 7.0, "Reuse a cached Investigate answer for this many days.", 0, 365),
)
STATUS_LABELS = {-1: "malicious", 0: "undetermined", 1: "safe"}
_SCORES = ("dga_score", "perplexity", "entropy", "securerank2", "pagerank", "asn_score", "prefix_score",
           "rip_score", "popularity", "ks_test", "geoscore")


class Investigate(OnlineService):
    name = "investigate"
    env_var = "UMBRELLA_INVESTIGATE_TOKEN"
    default_base_url = "https://investigate.api.umbrella.com"
    default_limits = ((3, 1.0), (2000, 86400.0))
    default_max_age_days = 7.0

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("backoff", 1.0)
        super().__init__(*args, **kwargs)

    def auth_headers(self, token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def fetch(self, domain: str) -> LookupResult:
        name = quote(domain, safe="")
        try:
            status, body = self.get_json(f"/domains/categorization/{name}?showLabels")
            if status != 200:
                return failed(self.name, domain, f"investigate: categorization answered HTTP {status}")
            data = categorization(body, domain)
            status, body = self.get_json(f"/security/name/{name}")
            if status == 404:
                data["security"] = {"found": False}
            elif status != 200:
                return failed(self.name, domain, f"investigate: security answered HTTP {status}")
            else:
                data["security"] = security(body)
        except ServiceFailure as exc:
            return failed(self.name, domain, str(exc))
        except MalformedAnswer as exc:
            return failed(self.name, domain, f"investigate: malformed answer for {domain}: {exc}")
        return LookupResult(self.name, domain, True, data)


def categorization(body: Any, domain: str) -> dict[str, Any]:
    """status, its label and both category lists; MalformedAnswer when the body is not the documented shape."""
    if not isinstance(body, dict):
        raise MalformedAnswer("categorization body is not a JSON object")
    entry = body.get(domain)
    if entry is None and len(body) == 1:
        entry = next(iter(body.values()))
    if not isinstance(entry, dict):
        raise MalformedAnswer(f"categorization body has no object for {domain}")
    status = entry.get("status")
    if isinstance(status, bool) or status not in STATUS_LABELS:
        raise MalformedAnswer(f"categorization status is not -1, 0 or 1: {status!r}")
    out: dict[str, Any] = {"status": status, "status_label": STATUS_LABELS[status]}
    for key in ("security_categories", "content_categories"):
        value = entry.get(key, [])
        if not isinstance(value, list):
            raise MalformedAnswer(f"{key} is not a list")
        out[key] = [str(v) for v in value]
    return out


def security(body: Any) -> dict[str, Any]:
    """The numeric scores and attack / threat type; MalformedAnswer when the body is not an object."""
    if not isinstance(body, dict):
        raise MalformedAnswer("security body is not a JSON object")
    out: dict[str, Any] = {"found": bool(body.get("found", True))}
    for key in _SCORES:
        if key in body:
            out[key] = as_number(body[key])
    if isinstance(body.get("fastflux"), bool):
        out["fastflux"] = body["fastflux"]
    for key in ("attack", "threat_type"):
        value = body.get(key)
        out[key] = value if isinstance(value, str) and value else None
    return out


def verdict(data: dict[str, Any]) -> str:
    """One line for a finding's reasons."""
    parts = [f"Umbrella Investigate: {data.get('status_label', 'unknown')}"]
    if data.get("security_categories"):
        parts.append("security " + ", ".join(data["security_categories"]))
    if data.get("content_categories"):
        parts.append("content " + ", ".join(data["content_categories"][:3]))
    sec = data.get("security") or {}
    if sec.get("attack") or sec.get("threat_type"):
        parts.append(f"attack {sec.get('attack') or '-'} ({sec.get('threat_type') or '-'})")
    return "; ".join(parts)

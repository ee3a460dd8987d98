"""VirusTotal v3 domain reports, only when asked and only with a key.

``GET {base}/api/v3/domains/{domain}`` with the key in the ``x-apikey`` header, read from ``VT_API_KEY``.
The documented answer is a domain object::

    {"data": {"id": "example.com", "type": "domain", "attributes": {
        "last_analysis_stats": {"harmless": 66, "malicious": 0, "suspicious": 0, "undetected": 8, "timeout": 0},
        "reputation": 0, "categories": {"Forcepoint ThreatSeeker": "information technology", ...},
        "last_analysis_date": 1700000000, "tags": [...], ...}}}

and errors are ``{"error": {"code": "NotFoundError" | "WrongCredentialsError" | "QuotaExceededError" ...,
"message": "..."}}`` with HTTP 404 / 401 / 429. A 404 is an answer ("VirusTotal has never seen it"),
cached like any other.

Defaults follow the public API: 4 lookups per minute and 500 per day (``limits=`` for a premium key);
answers are reused from the cache for 7 days.
"""

from __future__ import annotations

import datetime as dt
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
    Setting("virustotal_per_minute", 4, "VirusTotal lookups allowed per minute (public API: 4).", 1, 10000),
    Setting("virustotal_per_day", 500, "VirusTotal lookups allowed per day (public API: 500).", 1, 10_000_000),
    Setting("virustotal_max_age_days", 7.0, "Reuse a cached VirusTotal answer for this many days.", 0, 365),
)
_STATS = ("malicious", "suspicious", "harmless", "undetected", "timeout")


class VirusTotal(OnlineService):
    name = "virustotal"
    env_var = "VT_API_KEY"
    default_base_url = "https://www.virustotal.com"
    default_limits = ((4, 60.0), (500, 86400.0))
    default_max_age_days = 7.0

    def auth_headers(self, token: str) -> dict[str, str]:
        return {"x-apikey": token, "Accept": "application/json"}

    def fetch(self, domain: str) -> LookupResult:
        try:
            status, body = self.get_json(f"/api/v3/domains/{quote(domain, safe='')}")
        except ServiceFailure as exc:
            return failed(self.name, domain, str(exc))
        if status == 404:
            return LookupResult(self.name, domain, True, {"found": False})
        if status != 200:
            return failed(self.name, domain, f"virustotal: HTTP {status}{_error_text(body)}")
        try:
            return LookupResult(self.name, domain, True, summarise(body))
        except MalformedAnswer as exc:
            return failed(self.name, domain, f"virustotal: malformed answer for {domain}: {exc}")


def summarise(body: Any) -> dict[str, Any]:
    """The parts of a domain object netsift uses; MalformedAnswer when the body is not a domain object."""
    if not isinstance(body, dict):
        raise MalformedAnswer("the body is not a JSON object")
    data = body.get("data")
    attrs = data.get("attributes") if isinstance(data, dict) else None
    if not isinstance(attrs, dict):
        raise MalformedAnswer("no data.attributes object")
    stats = attrs.get("last_analysis_stats")
    if not isinstance(stats, dict):
        raise MalformedAnswer("no data.attributes.last_analysis_stats object")
    out: dict[str, Any] = {"found": True}
    for key in _STATS:
        value = stats.get(key, 0)
        if as_number(value) is None:
            raise MalformedAnswer(f"last_analysis_stats.{key} is not a number: {value!r}")
        out[key] = int(value)
    reputation = as_number(attrs.get("reputation"))
    out["reputation"] = int(reputation) if reputation is not None else None
    cats = attrs.get("categories")
    out["categories"] = sorted({str(v) for v in cats.values()}) if isinstance(cats, dict) else []
    tags = attrs.get("tags")
    out["tags"] = [str(t) for t in tags] if isinstance(tags, list) else []
    when = as_number(attrs.get("last_analysis_date"))
    out["last_analysis_date"] = (dt.datetime.fromtimestamp(when, dt.UTC).isoformat() if when is not None else None)
    return out


def verdict(summary: dict[str, Any]) -> str:
    """One line for a finding's reasons."""
    if not summary.get("found", True):
        return "VirusTotal: not known"
    text = f"VirusTotal: {summary.get('malicious', 0)} engines malicious, {summary.get('suspicious', 0)} suspicious"
    if summary.get("categories"):
        text += f"; categories {', '.join(summary['categories'][:4])}"
    return text


def _error_text(body: Any) -> str:
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return f" {err.get('code', '')}: {err.get('message', '')}".rstrip(": ")
    return ""

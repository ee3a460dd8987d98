"""What every online lookup service shares: the key from the environment, the cache, the rate limiter,
retries on 429 / 5xx / transport errors, and results that carry an error message instead of raising.

A service (:mod:`netsift.enrich.virustotal`, :mod:`netsift.enrich.investigate`) subclasses
:class:`OnlineService`, names its environment variable, base URL and limits, and turns JSON into a small
summary dict. The key is sent in a header, never put in a URL, message, log line or repr.

Failure discipline:

* no key -> every lookup returns ``ok=False`` with "set <ENV VAR> ..." (nothing is sent);
* 401/403 -> ``ok=False`` "refused the key"; later lookups in the same run are not sent;
* 429 -> wait for ``Retry-After`` (seconds or HTTP date) or exponential backoff, then retry, up to
  ``max_retries``; a wait longer than ``max_wait`` gives up with a message saying when to retry;
* 5xx and transport errors -> backoff and retry, then ``ok=False``;
* a body that is not the documented JSON -> ``ok=False`` "malformed answer", never an exception.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from netsift.enrich.cache import EnrichmentCache
from netsift.enrich.ratelimit import RateLimiter


@dataclass
class LookupResult:
    service: str
    key: str
    ok: bool
    data: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    cached: bool = False


class MalformedAnswer(ValueError):
    """The service answered, but not with the documented JSON shape."""


class OnlineService:
    name = "service"
    env_var = "SERVICE_TOKEN"
    default_base_url = "https://example.invalid"
    default_limits: tuple[tuple[int, float], ...] = ((1, 1.0),)
    default_max_age_days = 7.0

    def __init__(self, token: str | None = None, *, base_url: str | None = None, client: httpx.Client | None = None,
                 cache: EnrichmentCache | None = None, limiter: RateLimiter | None = None,
                 limits: Iterable[tuple[int, float]] | None = None, max_age_days: float | None = None,
                 max_wait: float = 120.0, max_retries: int = 3, backoff: float = 2.0,
                 clock: Callable[[], float] = time.time, sleep: Callable[[float], None] = time.sleep,
                 timeout: float = 30.0):
        self._token = token if token is not None else os.environ.get(self.env_var) or None
        self.base_url = (base_url or self.default_base_url).rstrip("/")
        self.cache = cache
        self.max_age = dt.timedelta(days=self.default_max_age_days if max_age_days is None else max_age_days)
        self.max_wait = max_wait
        self.max_retries = max_retries
        self.backoff = backoff
        self.clock = clock
        self.sleep = sleep
        self.limiter = limiter or RateLimiter(tuple(limits or self.default_limits), clock=clock, sleep=sleep)
        self._client = client
        self._own_client = client is None
        self._timeout = timeout
        self.refused = False  # the service refused the key: stop sending
        self.requests_sent = 0
        if cache is not None:
            self._seed_limiter(cache)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(base_url={self.base_url!r}, key={'set' if self._token else 'missing'})"

    @property
    def configured(self) -> bool:
        return bool(self._token)

    def close(self) -> None:
        if self._client is not None and self._own_client:
            self._client.close()
            self._client = None

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # --- what a service defines -------------------------------------------------------------------
    def auth_headers(self, token: str) -> dict[str, str]:
        raise NotImplementedError

    def fetch(self, domain: str) -> LookupResult:
        """Ask the service about one domain (requests through :meth:`get_json`)."""
        raise NotImplementedError

    # --- shared ------------------------------------------------------------------------------------
    def lookup(self, domain: str) -> LookupResult:
        """Cached answer if fresh, else ask the service; never raises for service or network trouble."""
        domain = domain.strip().lower().rstrip(".")
        if self.cache is not None:
            hit = self.cache.get(self.name, domain, self.max_age)
            if hit is not None:
                return LookupResult(self.name, domain, True, hit, cached=True)
        if not self._token:
            return LookupResult(self.name, domain, False, error=f"{self.name}: no API key; set {self.env_var} "
                                "to look domains up (nothing was sent)")
        if self.refused:
            return LookupResult(self.name, domain, False, error=f"{self.name}: not sent, the service refused "
                                f"the key in {self.env_var} earlier in this run")
        result = self.fetch(domain)
        if result.ok and self.cache is not None:
            self.cache.put(self.name, domain, result.data)
        return result

    def lookup_many(self, domains: Iterable[str]) -> list[LookupResult]:
        return [self.lookup(d) for d in domains]

    def get_json(self, path: str, params: dict[str, Any] | None = None) -> tuple[int, Any]:
        """(HTTP status, decoded JSON or None) for a GET, after rate limiting and retries. Raises
        :class:`ServiceFailure` with a message fit for the user (never containing the key)."""
        url = self.base_url + path
        last = "no attempt made"
        for attempt in range(self.max_retries + 1):
            if not self.limiter.acquire(self.max_wait):
                wait = self.limiter.wait_time()
                raise ServiceFailure(f"{self.name}: client-side rate limit reached ({self._limits_text()}); "
                                     f"next request possible in {wait:.0f} s")
            try:
                resp = self._http().get(url, params=params, headers=self.auth_headers(self._token or ""))
                self.requests_sent += 1
            except httpx.HTTPError as exc:
                last = f"{type(exc).__name__}"
                self._pause(self._backoff(attempt), last)
                continue
            if resp.status_code == 429:
                wait = _retry_after(resp, self.clock) or self._backoff(attempt)
                self.limiter.block_for(wait)
                last = f"HTTP 429 (rate limited, retry after {wait:.0f} s)"
                if wait > self.max_wait:
                    raise ServiceFailure(f"{self.name}: rate limited by the service; retry after {wait:.0f} s")
                continue  # the limiter sleeps until the block ends
            if resp.status_code >= 500:
                last = f"HTTP {resp.status_code}"
                self._pause(self._backoff(attempt), last)
                continue
            if resp.status_code in (401, 403):
                self.refused = True
                raise ServiceFailure(f"{self.name}: the service refused the key in {self.env_var} "
                                     f"(HTTP {resp.status_code}{_error_code(resp)})")
            return resp.status_code, _decode(resp)
        raise ServiceFailure(f"{self.name}: gave up after {self.max_retries + 1} attempts (last: {last})")

    def _http(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(timeout=self._timeout)
        return self._client

    def _backoff(self, attempt: int) -> float:
        return self.backoff * (2**attempt)

    def _pause(self, seconds: float, why: str) -> None:
        if seconds > self.max_wait:
            raise ServiceFailure(f"{self.name}: giving up ({why}); a retry would wait {seconds:.0f} s")
        self.sleep(seconds)

    def _limits_text(self) -> str:
        return ", ".join(f"{c} per {_seconds_text(s)}" for c, s in self.limiter.limits)

    def _seed_limiter(self, cache: EnrichmentCache) -> None:
        """Count today's cached fetches against the limits, so a new run does not exceed a daily quota."""
        longest = max(s for _, s in self.limiter.limits)
        now_wall = cache.clock()
        since = now_wall - dt.timedelta(seconds=longest)
        offset = self.clock() - now_wall.replace(tzinfo=dt.UTC).timestamp()
        for fetched in cache.fetched_since(self.name, since):
            self.limiter.record(fetched.replace(tzinfo=dt.UTC).timestamp() + offset)


class ServiceFailure(Exception):
    """A lookup that could not be completed; the message is meant for the user."""


def _decode(resp: httpx.Response) -> Any:
    try:
        return json.loads(resp.content)
    except ValueError:
        return None


def _error_code(resp: httpx.Response) -> str:
    body = _decode(resp)
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        code = body["error"].get("code")
        if isinstance(code, str):
            return f" {code}"
    return ""


def _retry_after(resp: httpx.Response, clock: Callable[[], float]) -> float | None:
    value = resp.headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, when.timestamp() - clock())


def _seconds_text(seconds: float) -> str:
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds == size:
            return unit
    return f"{seconds:g} s"


def as_number(value: Any) -> float | None:
    """A JSON number, or None (booleans and strings are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value


def failed(service: str, domain: str, message: str) -> LookupResult:
    return LookupResult(service, domain, False, error=message)

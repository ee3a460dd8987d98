"""Client-side rate limiting for online services: never send more than a service allows.

:class:`RateLimiter` holds one token bucket per window (e.g. 4 per 60 s and 500 per 86 400 s for the
VirusTotal public API). A request takes one token from every bucket; a token comes back one full window
after it was taken, so no window of that length ever holds more requests than the limit (a classic
refill-by-rate bucket would let 2N-1 through in the first window). After a 429 the service's own
``Retry-After`` blocks every bucket until then.

The clock (seconds, wall time so that usage recorded in the cache can seed it) and the sleep function are
injectable: tests drive a fake clock and never sleep.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Sequence


class RateLimiter:
    def __init__(self, limits: Sequence[tuple[int, float]], *, clock: Callable[[], float] = time.time,
                 sleep: Callable[[float], None] = time.sleep):
        for count, seconds in limits:
            if count < 1 or seconds <= 0:
                raise ValueError(f"rate limit {count} per {seconds} s is not positive")
        self.limits = tuple((int(c), float(s)) for c, s in limits)
        self.clock = clock
        self.sleep = sleep
        self._taken: list[deque[float]] = [deque() for _ in self.limits]
        self._blocked_until = 0.0

    def wait_time(self) -> float:
        """Seconds until a request may be sent (0 when one may be sent now)."""
        now = self.clock()
        wait = max(0.0, self._blocked_until - now)
        for (count, seconds), taken in zip(self.limits, self._taken, strict=True):
            while taken and taken[0] <= now - seconds:
                taken.popleft()
            if len(taken) >= count:
                wait = max(wait, taken[len(taken) - count] + seconds - now)
        return wait

    def try_acquire(self) -> float:
        """Take a token now if possible (returns 0), else the seconds to wait (nothing taken)."""
        wait = self.wait_time()
        if wait > 0:
            return wait
        self.record(self.clock())
        return 0.0

    def acquire(self, max_wait: float | None = None) -> bool:
        """Wait (with the injected sleep) for a token and take it; False when the wait would exceed
        ``max_wait`` seconds (nothing taken, nothing slept)."""
        while True:
            wait = self.try_acquire()
            if wait == 0:
                return True
            if max_wait is not None and wait > max_wait:
                return False
            self.sleep(wait)

    def record(self, when: float) -> None:
        """Count a request sent at ``when`` (also used to seed the limiter with earlier usage)."""
        for taken in self._taken:
            taken.append(when)
            if len(taken) > 1 and taken[-2] > when:  # keep order when seeding out of order
                ordered = sorted(taken)
                taken.clear()
                taken.extend(ordered)

    def block_for(self, seconds: float) -> None:
        """Send nothing for ``seconds`` (the service said 429 / Retry-After)."""
        self._blocked_until = max(self._blocked_until, self.clock() + max(0.0, seconds))

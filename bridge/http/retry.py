"""One retry loop for every HTTP client of the bridge (`Retrying.run`), with the policy each client sets.

Before retry n the loop waits the server's `Retry-After` (delta-seconds or an HTTP date, read on the injected
wall clock; at most `retry_after_cap_s`), else an exponential backoff of `base_s * 2**(n-1)` seconds (at most
`cap_s`), drawn uniformly from [0, that] with full jitter. Sleep and clock are injected, so tests wait for
nothing. A terminal failure ends the loop at once; a transient one when `max_retries` retries were made.
Each attempt is bounded by the session's total deadline (`bridge.http.session`); each retry is one warning
line, its reason redacted.
"""

from __future__ import annotations

import logging
import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timezone
from email.utils import parsedate_to_datetime
from typing import TypeVar

from bridge.http.failures import Failure
from bridge.redact import Redactor

logger = logging.getLogger(__name__)

T = TypeVar("T")
Sleep = Callable[[float], None]
Clock = Callable[[], float]


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    max_retries: int
    base_s: float
    cap_s: float
    retry_after_cap_s: float
    jitter: bool = True

    def delay(self, retry: int, retry_after_s: float | None, rng: random.Random) -> float:
        """Seconds to wait before retry number `retry` (1 for the first)."""
        if retry_after_s is not None:
            return min(retry_after_s, self.retry_after_cap_s)
        ceiling = min(self.cap_s, self.base_s * 2 ** (retry - 1))
        return rng.uniform(0, ceiling) if self.jitter else ceiling


def retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds, or an HTTP date counted from `now` (epoch
    seconds; the wall clock when not given). None when there is no header or it cannot be read."""
    if value is None or not value.strip():
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            moment = parsedate_to_datetime(value.strip())
        except (TypeError, ValueError, IndexError, OverflowError):
            return None
        moment = moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
        seconds = moment.timestamp() - (time.time() if now is None else now)
    return max(0.0, seconds) if math.isfinite(seconds) else None


class RequestFailedError(Exception):
    """The attempts ended without success: `failure` is the last one, terminal, or transient with no retry left
    (`gave_up`). Each client turns it into its own error, naming its settings."""

    def __init__(self, failure: Failure, attempts: int) -> None:
        super().__init__(failure.reason)
        self.failure = failure
        self.attempts = attempts

    @property
    def gave_up(self) -> bool:
        return self.failure.transient


@dataclass
class Retrying:
    policy: RetryPolicy
    sleep: Sleep = time.sleep
    wall_clock: Clock = time.time
    rng: random.Random = field(default_factory=random.Random)

    def run(self, attempt: Callable[[], T | Failure], what: str, redact: Redactor) -> T:
        """`attempt()` until it returns something that is not a `Failure`; RequestFailedError when it cannot."""
        attempts = self.policy.max_retries + 1
        number = 1
        while True:
            outcome = attempt()
            if not isinstance(outcome, Failure):
                return outcome
            if not outcome.transient or number >= attempts:
                raise RequestFailedError(outcome, number)
            delay = self.policy.delay(number, retry_after(outcome.retry_after, self.wall_clock()), self.rng)
            logger.warning("%s failed (%s) at attempt %d of %d; retrying in %.2f s", what, redact(outcome.reason),
                           number, attempts, delay)  # fmt: skip
            self.sleep(delay)
            number += 1

"""PURE: what each answer of a receiver means, and when the next attempt is.

- 2xx: delivered.
- 410 Gone: the receiver says the endpoint is gone for good. The endpoint is disabled
  and its deliveries wait (none is lost); an admin re-enabling it sends them, in order.
  Deliveries of a disabled endpoint are dead-lettered at max_age_s.
- 408, 409, 425, 429, any 5xx, a redirect (never followed), no connection, no answer in
  timeout_s: a failure, retried with exponential backoff and jitter; a Retry-After header
  is honoured (up to retry_max_s).
- any other 4xx: the receiver refuses this request. Retried like a failure (a deploy may
  be half done), but after max_rejected_attempts refusals the delivery is dead-lettered,
  so an event the receiver will not take does not hold up the rest of its conversation.
- a delivery still failing max_age_s after it was queued (or replayed) is dead-lettered;
  its last attempt is made at that age, not earlier.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime

RETRYABLE_4XX = frozenset({408, 409, 425, 429})
GONE = 410


class Verdict(enum.StrEnum):
    """What one answer (or its absence) says."""

    OK = "ok"  # 2xx
    FAILED = "failed"  # retry: 5xx, 3xx, 408/409/425/429, no connection, timeout
    REJECTED = "rejected"  # another 4xx
    GONE = "gone"  # 410


class Outcome(enum.StrEnum):
    """What became of a delivery after an attempt (kept on each attempt row)."""

    DELIVERED = "delivered"
    RETRY = "retry"
    DISABLED = "disabled"  # 410: the endpoint was disabled, the delivery waits
    DEAD = "dead"
    INTERRUPTED = "interrupted"  # smsgw stopped mid-request: tried again at start


def classify(status_code: int | None) -> Verdict:
    """The verdict of an HTTP status (None: no answer at all)."""
    if status_code is None:
        return Verdict.FAILED
    if 200 <= status_code < 300:
        return Verdict.OK
    if status_code == GONE:
        return Verdict.GONE
    if 400 <= status_code < 500 and status_code not in RETRYABLE_4XX:
        return Verdict.REJECTED
    return Verdict.FAILED


def backoff_s(attempt: int, *, base_s: float, max_s: float, jitter: float) -> float:
    """Wait after failed attempt number `attempt` (1-based): base_s doubling per attempt,
    capped at max_s, then "equal jitter": a uniform pick in [half, all] of it by `jitter`
    in [0, 1), so receivers coming back are not stampeded and no wait collapses to 0."""
    exponent = min(max(attempt - 1, 0), 62)
    ceiling = min(max_s, base_s * 2.0**exponent)
    return ceiling / 2 + ceiling / 2 * min(max(jitter, 0.0), 1.0)


def parse_retry_after(value: str | None, now: datetime) -> float | None:
    """Seconds a Retry-After header asks for (delta-seconds or an HTTP date), or None."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max((when - now).total_seconds(), 0.0)


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_s: float
    max_s: float
    max_age_s: float
    max_rejected_attempts: int


@dataclass(frozen=True, slots=True)
class Decision:
    outcome: Outcome
    next_attempt_at: datetime | None = None  # RETRY and DISABLED: when to try again
    reason: str | None = None  # DEAD: why


def decide(
    policy: RetryPolicy,
    verdict: Verdict,
    *,
    attempts: int,
    rejections: int,
    queued_at: datetime,
    now: datetime,
    jitter: float,
    retry_after_s: float | None = None,
    status_code: int | None = None,
) -> Decision:
    """The fate of a delivery after attempt number `attempts` (which had `verdict`);
    `rejections` counts this one when it was REJECTED."""
    if verdict is Verdict.OK:
        return Decision(Outcome.DELIVERED)
    if verdict is Verdict.GONE:
        return Decision(Outcome.DISABLED, next_attempt_at=now)
    if verdict is Verdict.REJECTED and rejections >= policy.max_rejected_attempts:
        return Decision(
            Outcome.DEAD,
            reason=f"refused {rejections} time(s), last with HTTP {status_code}",
        )
    deadline = queued_at + timedelta(seconds=policy.max_age_s)
    if now >= deadline:
        return Decision(
            Outcome.DEAD,
            reason=f"still failing {policy.max_age_s:g} s after it was queued",
        )
    wait = backoff_s(attempts, base_s=policy.base_s, max_s=policy.max_s, jitter=jitter)
    if retry_after_s is not None:
        wait = max(wait, min(retry_after_s, policy.max_s))
    return Decision(
        Outcome.RETRY, next_attempt_at=min(now + timedelta(seconds=wait), deadline)
    )

"""PURE retry schedule for outbound parts: exponential backoff, capped, limited by attempts
and by the message's age."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.config import OutboundSettings

# 2**60 times any base is far past any cap; larger exponents only risk overflow.
_MAX_EXPONENT = 60


@dataclass(frozen=True, slots=True)
class Decision:
    """Retry at `retry_at`, or give up (`retry_at` None) for `reason`."""

    retry_at: datetime | None
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    base_s: float
    max_s: float
    max_attempts: int
    max_age_s: float

    @classmethod
    def from_settings(cls, outbound: OutboundSettings) -> RetryPolicy:
        return cls(
            base_s=outbound.retry_base_s,
            max_s=outbound.retry_max_s,
            max_attempts=outbound.max_attempts,
            max_age_s=outbound.max_age_s,
        )

    def delay_s(self, attempts: int) -> float:
        """The wait after `attempts` failed attempts (1-based): base, 2 x base, ... up to max."""
        exponent = min(max(attempts, 1) - 1, _MAX_EXPONENT)
        return float(min(self.base_s * 2**exponent, self.max_s))

    def decide(self, *, attempts: int, queued_at: datetime, now: datetime) -> Decision:
        """After a transient failure: when to try again, or why not to."""
        if attempts >= self.max_attempts:
            return Decision(None, f"gave up after {attempts} attempts")
        retry_at = now + timedelta(seconds=self.delay_s(attempts))
        if retry_at - queued_at > timedelta(seconds=self.max_age_s):
            return Decision(
                None, f"gave up: not sent within {self.max_age_s:g} s of being queued"
            )
        return Decision(retry_at)

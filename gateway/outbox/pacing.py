"""PURE per-SIM pacing: a token bucket of parts per minute (operators block SIMs that send
in floods, so a burst is short and the average holds)."""

from __future__ import annotations

# A multipart text may go out as a short burst; beyond that, parts are spaced evenly.
PACING_BURST_PARTS = 4


class TokenBucket:
    """`rate_per_minute` tokens a minute, at most `burst` saved up; times are monotonic s."""

    def __init__(self, rate_per_minute: float, burst: int, now: float) -> None:
        if rate_per_minute <= 0 or burst < 1:
            raise ValueError(f"rate {rate_per_minute}/min, burst {burst}")
        self.rate_per_s = rate_per_minute / 60.0
        self.burst = burst
        self._tokens = float(burst)
        self._at = now

    @classmethod
    def for_parts_per_minute(cls, parts_per_minute: float, now: float) -> TokenBucket:
        """The bucket for a SIM paced at `parts_per_minute`."""
        burst = max(1, min(int(parts_per_minute), PACING_BURST_PARTS))
        return cls(parts_per_minute, burst, now)

    def _refill(self, now: float) -> None:
        if now > self._at:
            self._tokens = min(
                self.burst, self._tokens + (now - self._at) * self.rate_per_s
            )
            self._at = now

    def wait_s(self, now: float) -> float:
        """Seconds until a token is there (0.0: one is there now)."""
        self._refill(now)
        if self._tokens >= 1.0:
            return 0.0
        return (1.0 - self._tokens) / self.rate_per_s

    def take(self, now: float) -> None:
        """Spend a token (a part went to the modem); a debt when there was none."""
        self._refill(now)
        self._tokens -= 1.0

"""The simulated world's clock and timers, injectable so tests can move time by hand."""

from __future__ import annotations

import asyncio
import heapq
import itertools
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

_LOGGER = logging.getLogger(__name__)


@dataclass(order=True, slots=True)
class Timer:
    """A pending call; `cancel()` keeps it from running."""

    when: float
    seq: int
    callback: Callable[[], None] = field(compare=False)
    cancelled: bool = field(default=False, compare=False)

    def cancel(self) -> None:
        self.cancelled = True


class Scheduler:
    """Timers on an injectable clock: `advance()` runs what is due, `run()` does it forever."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        self.clock = clock
        self._timers: list[Timer] = []
        self._seq = itertools.count()
        self._wakeup: asyncio.Event | None = None

    def now(self) -> float:
        return self.clock()

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> Timer:
        """Run `callback` once `delay_s` seconds of the clock have passed."""
        timer = Timer(self.clock() + max(delay_s, 0.0), next(self._seq), callback)
        heapq.heappush(self._timers, timer)
        if self._wakeup is not None:
            self._wakeup.set()
        return timer

    @property
    def next_deadline(self) -> float | None:
        """When the earliest live timer is due, or None."""
        while self._timers and self._timers[0].cancelled:
            heapq.heappop(self._timers)
        return self._timers[0].when if self._timers else None

    def advance(self) -> int:
        """Run every timer that is due now; returns how many ran."""
        ran = 0
        now = self.clock()
        while True:
            deadline = self.next_deadline
            if deadline is None or deadline > now:
                return ran
            timer = heapq.heappop(self._timers)
            ran += 1
            timer.callback()

    async def run(self) -> None:
        """Run timers as they fall due until cancelled (one task per world)."""
        self._wakeup = asyncio.Event()
        try:
            while True:
                try:
                    self.advance()
                except Exception:
                    # one broken timer must not stop the simulated world
                    _LOGGER.exception("simulator timer failed")
                deadline = self.next_deadline
                timeout = (
                    None if deadline is None else max(deadline - self.clock(), 0.0)
                )
                self._wakeup.clear()
                try:
                    async with asyncio.timeout(timeout):
                        await self._wakeup.wait()
                except TimeoutError:
                    pass
        finally:
            self._wakeup = None

"""Business seconds per queue: the seam between the metrics and the queues' schedules.

The metrics never compute business hours themselves: they ask a `BusinessHours` for a
function of (queue, start, end) that holds the schedules as they are now, once per pass
of MetricsService. `Schedules` builds one from any schedule type and its measure (the
automation's `gateway.automation.schedule.business_seconds`, which counts what the clock
really ran across DST changes and closes holidays' whole local dates); `AlwaysOpen` is
the box without schedules, where a business second is a second.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

S = TypeVar("S")

# Business seconds between two instants for a queue (None: no queue).
QueueSeconds = Callable[[str | None, datetime, datetime], float]


class BusinessHours(Protocol):
    """Where business seconds come from."""

    async def load(self) -> QueueSeconds:
        """The schedules as they stand now, as one function."""
        ...


def wall_seconds(start: datetime, end: datetime) -> float:
    """Real elapsed seconds (0 when end <= start)."""
    return max(0.0, (end - start).total_seconds())


class AlwaysOpen:
    """No schedules: every second is a business second."""

    async def load(self) -> QueueSeconds:
        return lambda queue, start, end: wall_seconds(start, end)


@dataclass(frozen=True, slots=True)
class Schedules(Generic[S]):
    """Schedules per queue from `fetch`, measured by `measure`; a queue without one uses
    `default` (None: always open)."""

    fetch: Callable[[], Awaitable[Mapping[str, S]]]
    measure: Callable[[S, datetime, datetime], float]
    default: S | None = None

    async def load(self) -> QueueSeconds:
        schedules = dict(await self.fetch())
        default = self.default
        measure = self.measure

        def seconds(queue: str | None, start: datetime, end: datetime) -> float:
            schedule = schedules.get(queue, default) if queue is not None else default
            if schedule is None:
                return wall_seconds(start, end)
            return measure(schedule, start, end)

        return seconds

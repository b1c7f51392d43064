"""Business hours for the metrics from the queues' own opening hours.

The automation's queues (the Automation page, or the API) carry weekly hours, holidays
and a time zone; `QueueHours` reads them once per measuring pass of MetricsService and
measures with `gateway.automation.schedule.business_seconds` (what the clock really ran
across DST changes; holidays' whole local dates closed). A queue without hours, and a
conversation in no queue, count every second.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import tzinfo
from typing import TYPE_CHECKING

from gateway.automation import ruleset
from gateway.automation.schedule import Schedule, business_seconds
from gateway.metrics.hours import QueueSeconds, Schedules
from gateway.storage import automation_queries

if TYPE_CHECKING:
    from gateway.storage.db import Store


class QueueHours:
    """A BusinessHours over the stored queues."""

    def __init__(self, store: Store, default_timezone: tzinfo) -> None:
        self._store = store
        self._timezone = default_timezone  # a queue without a zone: [gateway] timezone

    async def schedules(self) -> Mapping[str, Schedule]:
        """Each queue with hours, by name, as the automation reads it."""
        snapshot = await self._store.read(automation_queries.rules_snapshot)
        found: dict[str, Schedule] = {}
        for queue in snapshot.queues:
            rules, _ = ruleset.queue_rules(queue, self._timezone)
            if rules.schedule is not None:
                found[queue.name] = rules.schedule
        return found

    async def load(self) -> QueueSeconds:
        return await Schedules(fetch=self.schedules, measure=business_seconds).load()

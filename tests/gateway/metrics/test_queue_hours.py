"""Business seconds from the queues as stored (the Automation page's hours, holidays and
time zone), as the daemon measures its events - scenario B's first response of the
metrics must-show, over the Easter holidays: Thu 2 Apr 15:30Z -> Tue 7 Apr 08:30Z is
Thu 16:30-17:00 BST (0.5 h) + Tue 09:00-09:30 BST (0.5 h) = 3600 s."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway.automation.records import QueueRecord
from gateway.daemon import Daemon
from gateway.metrics.queue_hours import QueueHours
from gateway.storage import automation_queries
from gateway.storage.db import Store, open_database
from tests.gateway.gwhelpers import settings_for

START = datetime(2026, 4, 2, 15, 30, tzinfo=UTC)
END = datetime(2026, 4, 7, 8, 30, tzinfo=UTC)
WALL_S = (END - START).total_seconds()


def queue(
    name: str, hours: str | None, holidays: str = "", tz: str | None = None
) -> QueueRecord:
    return QueueRecord(
        id=0,
        name=name,
        description="",
        assignment="none",
        timezone=tz,
        hours=hours,
        holidays=holidays,
        ack_text="",
        after_hours_text="",
        last_assigned_id=None,
        members=(),
    )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_database(settings_for(tmp_path))
    for q in (
        queue(
            "support",
            "mon-fri 09:00-17:00",
            "2026-04-03 Good Friday\n2026-04-06 Easter Monday\n",
            "Europe/London",
        ),
        queue("london-default", "mon-fri 09:00-17:00"),  # [gateway] timezone
        queue("always", None),
    ):
        await store.run(lambda q=q: automation_queries.save_queue(q, now=START))
    yield store
    await store.close()


async def test_each_queue_is_measured_by_its_own_hours(store: Store) -> None:
    seconds = await QueueHours(store, UTC).load()
    assert seconds("support", START, END) == 3600
    # no zone of its own: the default (UTC here): Thu 15:30-17:00 (1.5 h), Fri 8 h,
    # Mon 8 h (no holidays), Tue 08:30 is before opening: 17.5 h
    assert seconds("london-default", START, END) == 17.5 * 3600
    # no hours, an unknown queue, no queue: every second counts
    for name in ("always", "gone", None):
        assert seconds(name, START, END) == WALL_S


async def test_the_daemon_measures_with_the_queues_hours(tmp_path: Path) -> None:
    daemon = Daemon(settings_for(tmp_path))
    services = await daemon.start()
    try:
        assert daemon.store is not None
        await daemon.store.run(
            lambda: automation_queries.save_queue(
                queue("support", "mon-fri 09:00-17:00", tz="Europe/London"), now=START
            )
        )
        hours = services.metrics.hours
        assert isinstance(hours, QueueHours)
        assert (await hours.schedules()).keys() == {"support"}
    finally:
        await daemon.stop()

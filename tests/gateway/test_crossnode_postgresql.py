"""Boxes on one PostgreSQL database hear each other's events through LISTEN/NOTIFY: what
happens on box B reaches box A's bus (marked remote, never back to B, never twice), and a
lost connection comes back. Run by the PostgreSQL pass (SMSGW_TEST_DATABASE_URL)."""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path

import psycopg
import pytest

from gateway import crossnode, events
from gateway.config import Settings
from gateway.crossnode import CrossNodeEvents
from gateway.errors import StorageError
from gateway.events import EventBus
from tests.gateway.gwhelpers import settings_for
from tests.pgtest import TEST_DATABASE_URL_ENV

pytestmark = pytest.mark.skipif(
    not os.environ.get(TEST_DATABASE_URL_ENV),
    reason=f"PostgreSQL only: set {TEST_DATABASE_URL_ENV}",
)

AT = datetime(2026, 11, 28, 9, 0, tzinfo=UTC)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return settings_for(tmp_path)  # the test's database, from the environment


@asynccontextmanager
async def box(settings: Settings, node: str) -> AsyncIterator[CrossNodeEvents]:
    assert settings.database.url is not None
    bridge = CrossNodeEvents(settings.database.url, EventBus(), node=node, where="db")
    await bridge.start()
    try:
        yield bridge
    finally:
        await bridge.stop()


async def next_event(sub: events.Subscription) -> events.DomainEvent:
    async with asyncio.timeout(5):
        async for event in sub:
            return event
    raise AssertionError("subscription ended")


async def test_a_text_on_box_b_reaches_box_a_once(settings: Settings) -> None:
    async with box(settings, "pi-a") as a, box(settings, "pi-b") as b:
        bus_a, bus_b = a._bus, b._bus
        heard_on_a = bus_a.subscribe(events.MessageReceived)
        local_on_a = bus_a.subscribe(events.MessageReceived, local_only=True)
        on_b = bus_b.subscribe()

        received = events.MessageReceived(41, 7, 3, "b-modem", AT)
        bus_b.publish(received)
        assert await next_event(heard_on_a) == received
        assert await next_event(on_b) == received  # B's own subscribers, as always

        # A answers: B hears it; A's own event does not come back to A
        assigned = events.ConversationAssigned(7, 2, AT)
        bus_a.publish(assigned)
        assert await next_event(on_b) == assigned
        await asyncio.sleep(0.3)
        assert heard_on_a.queue.empty()  # no echo of B's event, not A's own either
        assert local_on_a.queue.empty()  # what B did is not A's to forward again
        assert (a.forwarded, a.heard, b.forwarded, b.heard) == (1, 1, 1, 1)


async def test_a_dropped_listener_reconnects(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(crossnode, "RECONNECT_MIN_S", 0.05)
    async with box(settings, "pi-a") as a, box(settings, "pi-b") as b:
        assert settings.database.url is not None
        page_on_a = a._bus.subscribe(events.MessageReceived, resyncs=True)
        with psycopg.connect(settings.database.url, autocommit=True) as admin:
            # what a database restart or a cut network does to the listening session
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE query LIKE 'LISTEN%%' AND pid <> pg_backend_pid()"
            )
        sub = a._bus.subscribe(events.ConversationStatusChanged)
        changed = events.ConversationStatusChanged(5, "resolved", AT)

        async def heard() -> bool:
            b._bus.publish(changed)
            await asyncio.sleep(0.2)
            return not sub.queue.empty()

        async with asyncio.timeout(10):
            while not await heard():
                pass
        assert await next_event(sub) == changed
        # what B published while A was not listening never reached A's page: it resyncs
        assert page_on_a.lagged
        assert [e async for e in page_on_a] == []


async def test_a_box_that_could_not_tell_the_others_makes_their_pages_resync(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(crossnode, "RECONNECT_MIN_S", 0.05)
    async with box(settings, "pi-a") as a, box(settings, "pi-b") as b:
        assert settings.database.url is not None
        page_on_b = b._bus.subscribe(events.ConversationStatusChanged, resyncs=True)
        relay_on_b = b._bus.subscribe(events.ConversationStatusChanged)
        first = events.ConversationStatusChanged(5, "pending", AT)
        a._bus.publish(first)
        assert await next_event(relay_on_b) == first
        assert a._sender is not None
        with psycopg.connect(settings.database.url, autocommit=True) as admin:
            admin.execute(
                "SELECT pg_terminate_backend(%s)", (a._sender.info.backend_pid,)
            )
        lost = events.ConversationStatusChanged(5, "resolved", AT)
        a._bus.publish(lost)  # its NOTIFY fails: B never hears it
        async with asyncio.timeout(10):  # the page's stream ends: the page resyncs
            assert [e async for e in page_on_b] == [first]
        assert page_on_b.lagged
        assert b.gaps == 1
        later = events.ConversationStatusChanged(6, "open", AT)
        a._bus.publish(later)
        assert await next_event(relay_on_b) == later
        assert relay_on_b.queue.empty()  # the lost one is not replayed; no gap either


async def test_an_unreachable_database_is_a_clear_error() -> None:
    bridge = CrossNodeEvents(
        "postgresql://nobody@127.0.0.1:1/none?connect_timeout=2",
        EventBus(),
        node="pi-a",
        where="postgresql://127.0.0.1:1/none",
    )
    with pytest.raises(StorageError, match="cannot listen for the other boxes' events"):
        await bridge.start()

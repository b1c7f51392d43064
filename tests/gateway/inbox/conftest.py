"""The inbox services over a real SQLite file per test (peewee is never mocked)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from inboxhelpers import Clock, Inbox

from gateway.config import Settings, parse_settings
from gateway.events import EventBus
from gateway.inbox.contacts import ContactsService
from gateway.inbox.service import InboxService
from gateway.outbox.service import OutboundService
from gateway.storage.db import open_database


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    text = "[gateway]\ndefault_region = GB\n[web]\nenabled = no\n[simulator]\nenabled = no\n"
    return parse_settings(text, base_dir=tmp_path, source=str(tmp_path / "gateway.ini"))


@pytest.fixture
async def rig(settings: Settings) -> AsyncIterator[Inbox]:
    store = await open_database(settings)
    bus = EventBus()
    clock = Clock()
    # every modem "healthy", so sends never read the modems table
    outbound = OutboundService(
        store, bus, settings=settings, health=lambda: ["usb0"], clock=clock
    )
    inbox = InboxService(store, bus, outbound, settings=settings, clock=clock)
    contacts = ContactsService(
        store, bus, default_region=settings.gateway.default_region, clock=clock
    )
    rig = Inbox(store, bus, outbound, inbox, contacts, clock, bus.subscribe())
    try:
        yield rig
    finally:
        await store.close()

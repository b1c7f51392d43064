"""The inbox's schema steps: a file from before them comes out as a new file is born, with
what it already held indexed for search."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from inboxhelpers import Clock

from gateway.config import Settings
from gateway.events import EventBus
from gateway.inbox.service import InboxService
from gateway.outbox.service import OutboundService
from gateway.storage import migrations
from gateway.storage.db import open_database

pytestmark = pytest.mark.sqlite_only  # the SQLite file itself: header, schema text

# what steps 5 and 6 add, dropped to make a version 4 file
_INBOX_OBJECTS = (
    "DROP TABLE messages_fts_terms",
    "DROP TABLE messages_fts",
    "DROP TABLE contacts_fts",
    "DROP TABLE conversation_reads",
    "DROP INDEX conversations_updated_at",
    "DROP INDEX messages_id_conversation_id",
    "DROP TRIGGER IF EXISTS messages_fts_insert",
    "DROP TRIGGER IF EXISTS messages_fts_delete",
    "DROP TRIGGER IF EXISTS messages_fts_update",
    "DROP TRIGGER IF EXISTS contacts_fts_insert",
    "DROP TRIGGER IF EXISTS contacts_fts_delete",
    "DROP TRIGGER IF EXISTS contacts_fts_update",
)


def _schema(path: Path) -> set[tuple[str, str]]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute("SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL")
        return {(name, sql) for name, sql in rows}


def _step_of(function: object) -> int:
    return migrations.STEPS.index(function) + 1  # type: ignore[arg-type]


async def test_a_version_4_file_is_migrated_to_what_a_new_file_is(
    settings: Settings,
) -> None:
    path = settings.database.path
    store = await open_database(settings)
    await store.close()
    fresh = _schema(path)
    assert {"messages_fts", "contacts_fts", "conversation_reads"} <= {
        n for n, _ in fresh
    }

    with sqlite3.connect(path) as raw:
        for statement in _INBOX_OBJECTS:
            raw.execute(statement)
        # rows an older smsgw stored, with no trigger to index them
        raw.execute(
            "INSERT INTO contacts (id, number, kind, name, attributes, created_at, "
            "updated_at) VALUES (1, '+447700900123', 'e164', 'Ada Lovelace', "
            "'{\"region\":\"north\"}', '2026-01-01 10:00:00', '2026-01-01 10:00:00')"
        )
        raw.execute(
            "INSERT INTO conversations (id, contact_id, number, status, priority, "
            "context, created_at, updated_at, reopen_count) VALUES (1, 1, "
            "'+447700900123', 'open', 'normal', '{}', '2026-01-01 10:00:00', "
            "'2026-01-01 10:00:00', 0)"
        )
        raw.execute(
            "INSERT INTO messages (id, conversation_id, direction, status, origin, number, "
            "body, parts_count, context, consent_exempt, created_at, updated_at) VALUES "
            "(1, 1, 'inbound', 'received', 'customer', '+447700900123', 'my parcel is "
            "late', 1, '{}', 0, '2026-01-01 10:00:00', '2026-01-01 10:00:00')"
        )
        raw.execute(f"PRAGMA user_version = {_step_of(migrations._step_5_inbox) - 1}")

    store = await open_database(settings)
    try:
        assert store.schema_version == len(migrations.STEPS)
        bus = EventBus()
        outbound = OutboundService(store, bus, settings=settings, health=lambda: [])
        inbox = InboxService(store, bus, outbound, settings=settings, clock=Clock())
        for text in ("parcel", "lovelace", "north", "900123"):
            page = await inbox.list_conversations(search=text)
            assert [row.id for row in page.rows] == [1], text
    finally:
        await store.close()
    assert _schema(path) == fresh


async def test_the_inbox_steps_may_run_again(settings: Settings) -> None:
    store = await open_database(settings)
    await store.close()
    path = settings.database.path
    fresh = _schema(path)
    with sqlite3.connect(path) as raw:
        raw.execute(f"PRAGMA user_version = {_step_of(migrations._step_5_inbox) - 1}")
    store = await open_database(settings)
    await store.close()
    assert _schema(path) == fresh

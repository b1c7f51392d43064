"""Schema versions: new databases are born current, old ones move forward, newer ones are
refused, and a failed step leaves the database as it was."""

from __future__ import annotations

import sqlite3
from typing import Any

import pytest
from playhouse.migrate import migrate as run_operations
from storehelpers import T0

from gateway.config import Settings
from gateway.domain import NumberKind
from gateway.errors import SchemaTooNew
from gateway.storage import migrations, models, queries, webhook_queries
from gateway.storage.db import open_database

pytestmark = pytest.mark.sqlite_only  # the SQLite file itself: header, schema text


def _tables(path: str) -> set[str]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'"
        ).fetchall()
    return {name for (name,) in rows}


def _user_version(path: str) -> int:
    with sqlite3.connect(path) as raw:
        return int(raw.execute("PRAGMA user_version").fetchone()[0])


def _columns(path: str, table: str) -> set[str]:
    with sqlite3.connect(path) as raw:
        return {row[1] for row in raw.execute(f"PRAGMA table_info({table})")}


async def test_a_new_database_is_created_at_the_latest_version(
    settings: Settings,
) -> None:
    store = await open_database(settings)
    await store.close()
    path = str(settings.database.path)
    assert _user_version(path) == len(migrations.STEPS)
    assert store.schema_version == len(migrations.STEPS)
    assert {m._meta.table_name for m in models.MODELS} <= _tables(path)


async def test_an_older_database_is_migrated_forward(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await open_database(settings)
    await store.run(queries.upsert_contact, "+447700900123", NumberKind.E164, now=T0)
    await store.close()
    path = str(settings.database.path)

    def step_2(db: Any, migrator: Any) -> None:
        import peewee

        run_operations(
            migrator.add_column("contacts", "language", peewee.TextField(null=True))
        )

    latest = len(migrations.STEPS) + 1
    monkeypatch.setattr(migrations, "STEPS", (*migrations.STEPS, step_2))
    store = await open_database(settings)
    try:
        assert store.schema_version == latest
        assert await store.run(queries.find_contact, "+447700900123") is not None
    finally:
        await store.close()
    assert _user_version(path) == latest
    assert "language" in _columns(path, "contacts")


async def test_a_failing_step_leaves_the_old_version(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await open_database(settings)
    await store.close()
    path = str(settings.database.path)

    def broken_step(db: Any, migrator: Any) -> None:
        db.execute_sql("CREATE TABLE half_done (id INTEGER)")
        raise RuntimeError("the last step fails midway")

    current = len(migrations.STEPS)
    monkeypatch.setattr(migrations, "STEPS", (*migrations.STEPS, broken_step))
    with pytest.raises(RuntimeError, match="midway"):
        await open_database(settings)
    assert _user_version(path) == current
    assert "half_done" not in _tables(path)


async def test_a_newer_database_is_refused(settings: Settings) -> None:
    store = await open_database(settings)
    await store.close()
    path = str(settings.database.path)
    with sqlite3.connect(path) as raw:
        raw.execute("PRAGMA user_version = 99")

    with pytest.raises(SchemaTooNew) as info:
        await open_database(settings)
    assert (info.value.found, info.value.known) == (99, len(migrations.STEPS))
    assert "refusing to open" in str(info.value)
    assert _user_version(path) == 99  # untouched


def _schema(path: str) -> set[tuple[str, str]]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"
        ).fetchall()
    return {(name, sql) for name, sql in rows}


async def test_version_1_files_get_the_undecodable_table_as_new_files_have_it(
    settings: Settings, tmp_path: Any
) -> None:
    store = await open_database(settings)
    await store.close()
    path = str(settings.database.path)
    fresh = _schema(path)
    # Turn the file into what schema version 1 created: no undecodable_pdus table (nor
    # the sign-in tables of version 3).
    with sqlite3.connect(path) as raw:
        for table in ("undecodable_pdus", "web_sessions", "login_failures"):
            raw.execute(f'DROP TABLE "{table}"')
        raw.execute("PRAGMA user_version = 1")
    assert "undecodable_pdus" not in _tables(path)

    store = await open_database(settings)
    await store.close()
    assert _user_version(path) == len(migrations.STEPS)
    assert _schema(path) == fresh


async def test_version_10_files_get_the_nodes_table_as_new_files_have_it(
    settings: Settings,
) -> None:
    store = await open_database(settings)
    await store.close()
    path = str(settings.database.path)
    fresh = _schema(path)
    with sqlite3.connect(path) as raw:  # what schema version 10 was: no nodes table
        raw.execute('DROP TABLE "nodes"')
        raw.execute("PRAGMA user_version = 10")

    store = await open_database(settings)
    await store.close()
    assert _user_version(path) == len(migrations.STEPS)
    assert _schema(path) == fresh


def _pending_delivery(now: Any) -> int:
    """ON THE DB THREAD: an endpoint and one pending delivery to it; the delivery's id."""
    endpoint = models.WebhookEndpoint.create(
        url="http://127.0.0.1:9/hook",
        secret="whsec_" + "A" * 44,
        events=[],
        active=True,
        created_at=now,
        updated_at=now,
    )
    webhook_queries.record_event("x.y", {}, conversation_id=1, now=now)
    delivery = models.WebhookDelivery.get(models.WebhookDelivery.endpoint == endpoint)
    return int(delivery.id)


def _lease(delivery_id: int) -> tuple[Any, Any]:
    row = models.WebhookDelivery.get_by_id(delivery_id)
    return row.claimed_by, row.claimed_until


async def test_version_11_files_get_the_webhook_leases_as_new_files_have_them(
    settings: Settings,
) -> None:
    store = await open_database(settings)
    delivery = await store.run(_pending_delivery, T0)
    await store.close()
    path = str(settings.database.path)
    fresh = _schema(path)
    with sqlite3.connect(path) as raw:  # what schema version 11 was: no lease columns
        for column in ("claimed_until", "claimed_by"):
            raw.execute(f'ALTER TABLE "webhook_deliveries" DROP COLUMN "{column}"')
        raw.execute("PRAGMA user_version = 11")
        (table,) = raw.execute(
            "SELECT sql FROM sqlite_master WHERE name = 'webhook_deliveries'"
        ).fetchone()
    assert table in migrations._STEP_4_SQL  # the table as step 4 wrote it, to the byte

    store = await open_database(settings)
    try:
        assert await store.run(_lease, delivery) == (None, None)  # kept, claimable
    finally:
        await store.close()
    assert _user_version(path) == len(migrations.STEPS)
    assert _schema(path) == fresh

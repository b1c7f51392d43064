"""Schema versions on PostgreSQL: a new database is created from the one definition at the
latest version, later steps run there too, a failed step leaves the version as it was,
and a newer database is refused. Run by the PostgreSQL pass (SMSGW_TEST_DATABASE_URL)."""

from __future__ import annotations

import dataclasses
import os
from typing import Any

import pytest
from playhouse.migrate import migrate as run_operations
from storehelpers import T0

from gateway.config import DATABASE_URL_ENV, Settings
from gateway.domain import NumberKind
from gateway.errors import SchemaTooNew
from gateway.storage import migrations, models, queries, webhook_queries
from gateway.storage.db import Store, open_database
from tests.pgtest import TEST_DATABASE_URL_ENV, fresh_database

pytestmark = pytest.mark.skipif(
    not os.environ.get(TEST_DATABASE_URL_ENV),
    reason=f"PostgreSQL only: set {TEST_DATABASE_URL_ENV}",
)


def _settings(settings: Settings) -> Settings:
    """`settings` with the url the environment names now (fresh_database changes it)."""
    url = os.environ[DATABASE_URL_ENV]
    return dataclasses.replace(
        settings, database=dataclasses.replace(settings.database, url=url)
    )


def _sql(sql: str, *params: object) -> list[tuple[Any, ...]]:
    return list(models.DB.execute_sql(sql, params or None).fetchall())


async def _rows(store: Store, sql: str, *params: object) -> list[tuple[Any, ...]]:
    return await store.run(_sql, sql, *params)


async def _version(store: Store) -> int:
    return int((await _rows(store, 'SELECT "version" FROM "smsgw_schema"'))[0][0])


async def _columns(store: Store, table: str) -> set[str]:
    rows = await _rows(
        store,
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s",
        table,
    )
    return {name for (name,) in rows}


async def test_a_new_database_is_created_from_the_definition(
    settings: Settings,
) -> None:
    with fresh_database(empty=True):
        store = await open_database(_settings(settings))
        try:
            assert store.engine == "postgresql"
            assert store.schema_version == len(migrations.STEPS)
            assert await _version(store) == len(migrations.STEPS)
            for model in migrations.ALL_MODELS:
                columns = {f.column_name for f in model._meta.sorted_fields}
                assert columns == await _columns(store, model._meta.table_name)
            indexes = {
                name
                for (name,) in await _rows(
                    store,
                    "SELECT indexname FROM pg_indexes "
                    "WHERE schemaname = current_schema()",
                )
            }
            assert {
                "messages_body_search",
                "metric_events_unmeasured",
                "conversations_one_active_per_contact",
            } <= indexes
        finally:
            await store.close()


async def test_a_later_step_runs_on_postgresql(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = await open_database(settings)  # the per-test database: at the latest
    await store.run(queries.upsert_contact, "+447700900123", NumberKind.E164, now=T0)
    await store.close()

    def step(db: Any, migrator: Any) -> None:
        import peewee

        run_operations(
            migrator.add_column("contacts", "language", peewee.TextField(null=True))
        )

    latest = len(migrations.STEPS) + 1
    monkeypatch.setattr(migrations, "STEPS", (*migrations.STEPS, step))
    store = await open_database(settings)
    try:
        assert store.schema_version == latest
        assert await _version(store) == latest
        assert "language" in await _columns(store, "contacts")
        assert await store.run(queries.find_contact, "+447700900123") is not None
    finally:
        await store.close()


async def test_a_failing_step_leaves_the_old_version(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(db: Any, migrator: Any) -> None:
        db.execute_sql("CREATE TABLE half_done (id INTEGER)")
        raise RuntimeError("the last step fails midway")

    current = len(migrations.STEPS)
    monkeypatch.setattr(migrations, "STEPS", (*migrations.STEPS, broken))
    with pytest.raises(RuntimeError, match="midway"):
        await open_database(settings)
    monkeypatch.undo()
    store = await open_database(settings)
    try:
        assert await _version(store) == current
        assert not await _columns(store, "half_done")  # DDL is transactional here
    finally:
        await store.close()


async def test_a_newer_database_is_refused(settings: Settings) -> None:
    store = await open_database(settings)
    await store.run(
        lambda: models.DB.execute_sql('UPDATE "smsgw_schema" SET "version" = 99')
    )
    await store.close()
    with pytest.raises(SchemaTooNew) as info:
        await open_database(settings)
    assert (info.value.found, info.value.known) == (99, len(migrations.STEPS))


async def _definition(store: Store, table: str) -> list[tuple[Any, ...]]:
    """The table's columns in order: name, type, nullable, default."""
    return await _rows(
        store,
        "SELECT column_name, data_type, is_nullable, column_default "
        "FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND table_name = %s "
        "ORDER BY ordinal_position",
        table,
    )


def _pending_delivery() -> int:
    """ON THE DB THREAD: an endpoint and one pending delivery to it; the delivery's id."""
    endpoint = models.WebhookEndpoint.create(
        url="http://127.0.0.1:9/hook",
        secret="whsec_" + "A" * 44,
        events=[],
        active=True,
        created_at=T0,
        updated_at=T0,
    )
    webhook_queries.record_event("x.y", {}, conversation_id=1, now=T0)
    delivery = models.WebhookDelivery.get(models.WebhookDelivery.endpoint == endpoint)
    return int(delivery.id)


def _to_version_11() -> None:
    """ON THE DB THREAD: the database as schema version 11 had it (no lease columns)."""
    for column in ("claimed_until", "claimed_by"):
        models.DB.execute_sql(
            f'ALTER TABLE "webhook_deliveries" DROP COLUMN "{column}"'
        )
    models.DB.execute_sql('UPDATE "smsgw_schema" SET "version" = 11')


def _lease(delivery_id: int) -> tuple[Any, Any]:
    row = models.WebhookDelivery.get_by_id(delivery_id)
    return row.claimed_by, row.claimed_until


async def test_version_11_databases_get_the_webhook_leases_as_new_ones_have_them(
    settings: Settings,
) -> None:
    store = await open_database(settings)  # the per-test database: at the latest
    fresh = await _definition(store, "webhook_deliveries")
    delivery = await store.run(_pending_delivery)
    await store.run(_to_version_11)
    assert "claimed_by" not in await _columns(store, "webhook_deliveries")
    await store.close()

    store = await open_database(settings)
    try:
        assert await _version(store) == len(migrations.STEPS)
        assert await _definition(store, "webhook_deliveries") == fresh
        assert await store.run(_lease, delivery) == (None, None)  # kept, claimable
    finally:
        await store.close()

"""Store: one db thread, SQLite pragmas, group commit, and failures that stay contained."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from datetime import datetime
from pathlib import Path
from typing import Any

import peewee
import pytest
from storehelpers import T0, Gate

from gateway.config import Settings, parse_settings
from gateway.domain import NumberKind
from gateway.errors import StorageError
from gateway.storage import db, models, queries
from gateway.storage.db import Store, open_database


def _pragma(name: str) -> Any:
    return models.DB.execute_sql(f"PRAGMA {name}").fetchone()[0]


@pytest.mark.sqlite_only
async def test_pragmas_are_set(store: Store) -> None:
    assert await store.run(_pragma, "journal_mode") == "wal"
    assert await store.run(_pragma, "synchronous") == 2  # FULL
    assert await store.run(_pragma, "foreign_keys") == 1
    assert await store.run(_pragma, "busy_timeout") == 5000


async def test_units_run_on_the_db_thread(store: Store) -> None:
    name = await store.run(lambda: threading.current_thread().name)
    assert name.startswith("db")
    assert name != threading.current_thread().name


async def test_models_cannot_be_used_on_the_event_loop(store: Store) -> None:
    with pytest.raises(AttributeError, match=r"store\.run"):
        models.Contact.select().count()


async def test_the_loop_runs_while_a_unit_works(store: Store) -> None:
    gate = Gate()
    held = await gate.hold(store)
    ticks = 0
    for _ in range(20):
        await asyncio.sleep(0)
        ticks += 1
    assert ticks == 20
    assert not held.done()
    gate.release.set()
    assert await held == "gate"


async def test_results_and_errors_come_back(store: Store) -> None:
    contact = await store.run(
        queries.upsert_contact, "+447700900123", NumberKind.E164, now=T0
    )
    assert contact.number == "+447700900123"

    def boom() -> None:
        raise KeyError("boom")

    with pytest.raises(KeyError, match="boom"):
        await store.run(boom)


async def test_a_failing_unit_rolls_back_its_own_writes(store: Store) -> None:
    def write_then_fail() -> None:
        queries.upsert_contact("+447700900001", NumberKind.E164, now=T0)
        raise RuntimeError("after the write")

    with pytest.raises(RuntimeError):
        await store.run(write_then_fail)
    assert await store.run(queries.find_contact, "+447700900001") is None


async def test_a_burst_is_committed_in_few_transactions(store: Store) -> None:
    before = store.stats.snapshot()
    contacts = await asyncio.gather(
        *(
            store.run(
                queries.upsert_contact, f"+4477009{i:05d}", NumberKind.E164, now=T0
            )
            for i in range(200)
        )
    )
    assert len({c.id for c in contacts}) == 200
    commits = store.stats.commits - before.commits
    assert store.stats.units - before.units == 200
    assert commits <= 10, f"200 units took {commits} commits"
    assert store.stats.largest_batch > 1


async def test_batches_respect_the_configured_size(settings: Settings) -> None:
    import dataclasses

    small = dataclasses.replace(
        settings, database=dataclasses.replace(settings.database, batch_max_units=10)
    )
    store = await open_database(small)
    try:
        gate = Gate()
        held = await gate.hold(store)
        runs = [
            asyncio.ensure_future(
                store.run(
                    queries.upsert_contact, f"+4477009{i:05d}", NumberKind.E164, now=T0
                )
            )
            for i in range(50)
        ]
        await asyncio.sleep(0)
        gate.release.set()
        await held
        await asyncio.gather(*runs)
        assert store.stats.largest_batch == 10
    finally:
        await store.close()


async def test_one_failing_unit_does_not_take_its_batch_down(store: Store) -> None:
    commits_before = store.stats.commits
    gate = Gate()
    held = await gate.hold(store)

    def unit(i: int) -> int:
        queries.upsert_contact(f"+4477009{i:05d}", NumberKind.E164, now=T0)
        if i == 7:
            raise ValueError("unit 7 fails")
        return i

    def duplicate_key() -> None:
        # An IntegrityError inside the batch: rolled back to its savepoint only.
        models.Contact.create(
            number="+447700900002", kind=NumberKind.E164, created_at=T0, updated_at=T0
        )

    runs = [asyncio.ensure_future(store.run(unit, i)) for i in range(20)]
    runs.append(asyncio.ensure_future(store.run(duplicate_key)))
    await asyncio.sleep(0)
    gate.release.set()
    await held
    results = await asyncio.gather(*runs, return_exceptions=True)

    assert isinstance(results[7], ValueError)
    assert isinstance(results[20], Exception)
    assert [r for i, r in enumerate(results[:20]) if i != 7] == [
        i for i in range(20) if i != 7
    ]
    assert store.stats.commits - commits_before == 2  # the gate's, and one for all 21
    assert await store.run(queries.find_contact, "+447700900007") is None
    survivors = await store.run(queries.list_contacts, limit=100)
    assert len(survivors) == 19


async def test_a_unit_that_breaks_the_transaction_fails_alone(store: Store) -> None:
    gate = Gate()
    held = await gate.hold(store)

    def rogue() -> None:
        models.DB.execute_sql("ROLLBACK")  # ends the shared transaction under everyone

    def good(i: int) -> int:
        queries.upsert_contact(f"+4477009{i:05d}", NumberKind.E164, now=T0)
        return i

    runs = [asyncio.ensure_future(store.run(good, i)) for i in range(3)]
    runs.insert(1, asyncio.ensure_future(store.run(rogue)))
    await asyncio.sleep(0)
    gate.release.set()
    await held
    results = await asyncio.gather(*runs, return_exceptions=True)

    assert isinstance(results[1], Exception)
    assert [results[0], results[2], results[3]] == [0, 1, 2]
    assert store.stats.split_batches == 1
    assert len(await store.run(queries.list_contacts)) == 3


async def test_a_cancelled_caller_does_not_cancel_the_unit(store: Store) -> None:
    gate = Gate()
    held = await gate.hold(store)
    run = asyncio.ensure_future(
        store.run(queries.upsert_contact, "+447700900009", NumberKind.E164, now=T0)
    )
    await asyncio.sleep(0)
    run.cancel()
    gate.release.set()
    await held
    with pytest.raises(asyncio.CancelledError):
        await run
    assert await store.run(queries.find_contact, "+447700900009") is not None


async def test_a_closed_store_refuses_work(settings: Settings) -> None:
    store = await open_database(settings)
    await store.close()
    await store.close()  # idempotent
    with pytest.raises(StorageError, match="closed"):
        await store.run(lambda: None)


async def test_close_finishes_queued_units_first(settings: Settings) -> None:
    store = await open_database(settings)
    runs = [
        asyncio.ensure_future(
            store.run(
                queries.upsert_contact, f"+4477009{i:05d}", NumberKind.E164, now=T0
            )
        )
        for i in range(30)
    ]
    await asyncio.sleep(0)
    await store.close()
    assert len(await asyncio.gather(*runs)) == 30


@pytest.mark.sqlite_only
async def test_committed_data_survives_reopening(settings: Settings) -> None:
    store = await open_database(settings)
    await store.run(queries.upsert_contact, "+447700900123", NumberKind.E164, now=T0)
    await store.close()
    # Another process (sqlite3 itself) sees the committed row.
    with sqlite3.connect(settings.database.path) as raw:
        assert raw.execute("SELECT number FROM contacts").fetchall() == [
            ("+447700900123",)
        ]
    store = await open_database(settings)
    try:
        assert await store.run(queries.find_contact, "+447700900123") is not None
    finally:
        await store.close()


async def test_naive_datetimes_are_refused(store: Store) -> None:
    naive = datetime(2026, 3, 1, 9, 0)  # naive: the point of the test
    with pytest.raises(ValueError, match="aware datetime"):
        await store.run(
            queries.upsert_contact, "+447700900123", NumberKind.E164, now=naive
        )


async def test_times_come_back_aware_utc(store: Store) -> None:
    from datetime import timedelta, timezone

    paris = T0.astimezone(timezone(timedelta(hours=1)))
    contact = await store.run(
        queries.upsert_contact, "+447700900123", NumberKind.E164, now=paris
    )
    assert contact.created_at == T0
    assert contact.created_at.utcoffset() == timedelta(0)


async def test_an_unreachable_postgresql_is_a_storage_error_without_the_password(
    settings: Settings,
) -> None:
    import dataclasses

    # Port 1 on the loopback: refused at once, no server needed.
    url = "postgresql://u:s3cret@127.0.0.1:1/x?connect_timeout=2"
    pg = dataclasses.replace(
        settings, database=dataclasses.replace(settings.database, url=url)
    )
    with pytest.raises(StorageError) as info:
        await open_database(pg)
    assert "127.0.0.1" in str(info.value)
    assert "s3cret" not in str(info.value)


@pytest.mark.sqlite_only
async def test_two_stores_in_one_process_keep_to_their_own_files(
    settings: Settings, tmp_path: Path
) -> None:
    other_settings = parse_settings(
        "[gateway]\ndefault_region = GB\ndata_dir = other\n", base_dir=tmp_path
    )
    first = await open_database(settings)
    second = await open_database(other_settings)
    try:
        await first.run(
            queries.upsert_contact, "+447700900001", NumberKind.E164, now=T0
        )
        await second.run(
            queries.upsert_contact, "+447700900002", NumberKind.E164, now=T0
        )
        assert [c.number for c in await first.run(queries.list_contacts)] == [
            "+447700900001"
        ]
        assert [c.number for c in await second.run(queries.list_contacts)] == [
            "+447700900002"
        ]
    finally:
        await first.close()
        await second.close()


class _LostRace(Exception):
    """What psycopg raises when PostgreSQL cancels a transaction to keep it serializable."""

    sqlstate = "40001"


async def test_a_unit_that_loses_a_race_runs_again_after_a_growing_pause(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    pauses: list[float] = []
    monkeypatch.setattr(db.time, "sleep", pauses.append)
    monkeypatch.setattr(db.random, "random", lambda: 1.0)  # the longest pause drawn
    attempts = []

    def unit() -> str:
        attempts.append(1)
        if len(attempts) <= 3:
            raise _LostRace("could not serialize access")
        return "committed"

    assert await store.run(unit) == "committed"
    assert pauses == [db.RETRY_PAUSE_BASE_S * 2**n for n in (1, 2, 3)]
    assert store.stats.retries == 3
    assert db.retry_pause_s(30, draw=lambda: 1.0) == db.RETRY_PAUSE_MAX_S


async def test_a_unit_that_keeps_losing_fails_with_a_warning(
    store: Store, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(db.time, "sleep", lambda s: None)

    def hopeless() -> None:
        raise _LostRace("could not serialize access")

    with pytest.raises(_LostRace):
        await store.run(hopeless)
    assert store.stats.retries == db.PG_RETRIES
    assert f"lost {db.PG_RETRIES + 1} serialization races in a row" in caplog.text


async def test_a_batch_that_loses_a_race_runs_again_whole(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(db.time, "sleep", lambda s: None)
    gate = Gate()
    held = await gate.hold(store)
    losses = []

    def loses_once(i: int) -> int:
        queries.upsert_contact(f"+4477009{i:05d}", NumberKind.E164, now=T0)
        if not losses:
            losses.append(i)
            lost = peewee.OperationalError("could not serialize access")
            lost.sqlstate = "40001"  # type: ignore[attr-defined]  # as psycopg's
            raise lost
        return i

    runs = [asyncio.ensure_future(store.run(loses_once, i)) for i in range(4)]
    await asyncio.sleep(0)
    gate.release.set()
    await held
    assert await asyncio.gather(*runs) == [0, 1, 2, 3]
    assert store.stats.split_batches == 0  # one transaction again, not four
    assert store.stats.retries == 1
    assert len(await store.run(queries.list_contacts)) == 4

"""Store readers: `read` units run on read-only connections beside the one writer, each
in one snapshot; a "read" that writes is refused by the engine and changes nothing."""

from __future__ import annotations

import asyncio
import os
import threading
from pathlib import Path

import pytest
from storehelpers import T0, Gate

from gateway.config import Settings, parse_settings
from gateway.domain import NumberKind
from gateway.errors import NotFound, StorageError
from gateway.storage import models, queries
from gateway.storage.db import Store, open_database
from tests.gateway.gwhelpers import eventually, rig
from tests.pgtest import TEST_DATABASE_URL_ENV

WAIT_S = 10.0


def _contacts() -> int:
    return int(models.Contact.select().count())


async def test_the_default_pool_is_one_writer_and_two_readers(store: Store) -> None:
    assert store.reader_connections == 2
    writer = await store.run(lambda: threading.current_thread().name)
    reader = await store.read(lambda: threading.current_thread().name)
    assert writer.startswith("db-write")
    assert reader.startswith("db-read")


async def test_a_read_is_answered_while_the_writer_is_busy(store: Store) -> None:
    await store.run(queries.upsert_contact, "+447700900001", NumberKind.E164, now=T0)
    gate = Gate()
    held = await gate.hold(store)  # the writer is inside a unit and stays there
    try:
        found = await asyncio.wait_for(
            store.read(queries.find_contact, "+447700900001"), WAIT_S
        )
        assert found is not None
        assert not held.done()
    finally:
        gate.release.set()
    assert await held == "gate"


async def test_reads_run_side_by_side(store: Store) -> None:
    # Each read waits inside its unit until the other is inside too: one at a time,
    # the barrier would break.
    barrier = threading.Barrier(2, timeout=WAIT_S)

    def meet() -> int:
        barrier.wait()
        return _contacts()

    assert list(await asyncio.gather(store.read(meet), store.read(meet))) == [0, 0]
    assert store.stats.most_reads_in_flight == 2
    assert store.stats.reads == 2


async def test_a_read_that_writes_is_refused_and_changes_nothing(store: Store) -> None:
    with pytest.raises(StorageError, match=r"upsert_contact was run as a read"):
        await store.read(
            queries.upsert_contact, "+447700900002", NumberKind.E164, now=T0
        )
    assert await store.run(queries.find_contact, "+447700900002") is None
    assert store.stats.failed_reads == 1
    # the reader is still good for reads
    assert await store.read(_contacts) == 0


async def test_a_read_sees_every_write_committed_before_it(store: Store) -> None:
    for i in range(5):
        await store.run(
            queries.upsert_contact, f"+44770090010{i}", NumberKind.E164, now=T0
        )
        assert await store.read(_contacts) == i + 1


async def test_a_read_is_one_snapshot(store: Store) -> None:
    inside = threading.Event()
    written = threading.Event()

    def count_twice() -> tuple[int, int]:
        before = _contacts()
        inside.set()
        if not written.wait(WAIT_S):
            raise TimeoutError("the write never came")
        return before, _contacts()

    loop = asyncio.get_running_loop()
    reading = asyncio.ensure_future(store.read(count_twice))
    await loop.run_in_executor(None, inside.wait, WAIT_S)
    await store.run(queries.upsert_contact, "+447700900003", NumberKind.E164, now=T0)
    written.set()
    assert await reading == (0, 0)  # the write came after the read began
    assert await store.read(_contacts) == 1


async def test_a_failing_read_hands_back_its_error(store: Store) -> None:
    with pytest.raises(NotFound):
        await store.read(queries.get_contact, 999)


async def test_close_waits_for_reads_in_flight(settings: Settings) -> None:
    store = await open_database(settings)
    inside = threading.Event()
    release = threading.Event()

    def slow() -> int:
        inside.set()
        release.wait(WAIT_S)
        return _contacts()

    loop = asyncio.get_running_loop()
    reading = asyncio.ensure_future(store.read(slow))
    await loop.run_in_executor(None, inside.wait, WAIT_S)
    closing = asyncio.ensure_future(store.close())
    await asyncio.sleep(0.05)
    assert not closing.done()
    release.set()
    await closing
    assert await reading == 0
    with pytest.raises(StorageError, match="closed"):
        await store.read(_contacts)


async def test_with_a_pool_of_one_reads_queue_on_the_writer(tmp_path: Path) -> None:
    settings = parse_settings(
        "[gateway]\ndefault_region = GB\n[database]\npool_size = 1\n", base_dir=tmp_path
    )
    store = await open_database(settings)
    try:
        assert store.reader_connections == 0
        name = await store.read(lambda: threading.current_thread().name)
        assert name.startswith("db-write")
        gate = Gate()
        held = await gate.hold(store)
        reading = asyncio.ensure_future(store.read(_contacts))
        await asyncio.sleep(0.05)
        assert not reading.done()  # behind the writer's unit
        gate.release.set()
        assert await held == "gate"
        assert await reading == 0
    finally:
        await store.close()


async def test_the_inbox_list_is_served_while_the_writer_is_busy(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        r.text("is my order coming?")
        gate = Gate()

        async def stored() -> object:
            return (await r.services.inbox.list_conversations()).rows

        await eventually(stored)  # the text is stored; then the writer is held
        held = await gate.hold(r.store)
        try:
            page = await asyncio.wait_for(
                r.services.inbox.list_conversations(search="order"), WAIT_S
            )
            counts = await asyncio.wait_for(r.services.inbox.counts(), WAIT_S)
        finally:
            gate.release.set()
        await held
        assert len(page.rows) == 1
        assert counts.open == 1


def _isolation() -> str:
    return str(models.DB.execute_sql("SHOW transaction_isolation").fetchone()[0])


@pytest.mark.skipif(
    not os.environ.get(TEST_DATABASE_URL_ENV),
    reason=f"PostgreSQL only: set {TEST_DATABASE_URL_ENV}",
)
async def test_postgresql_reads_are_snapshots_that_take_no_ssi_locks(
    store: Store,
) -> None:
    # REPEATABLE READ: a read never makes a writer lose a serialization race
    assert await store.read(_isolation) == "repeatable read"
    assert await store.run(_isolation) == "serializable"

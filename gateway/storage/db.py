"""The store: every database operation runs on dedicated db threads, committed in groups.

`await store.run(fn, *args, **kwargs)` queues a synchronous unit of work (a function of
gateway.storage.queries, or a service's own function that calls several of them) and
returns its result once it is committed. The event loop never touches the disk.

One writer: every `run` unit goes through ONE db thread, in the order it was asked for,
on both engines. The modem paths rely on that order (a status report read right after
its part's acceptance must find the part accepted), and SQLite has one writer anyway.
On PostgreSQL the writer's transactions are SERIALIZABLE, so it and other boxes' writers
behave as if run one at a time; a unit that loses a serialization race is rolled back
and run again (`PG_RETRIES`), which is why a unit must do database work only.

Readers: `await store.read(fn, ...)` is for units that only read (the pages, the API's
lists, reports). The pool (`[database] pool_size`) is the writer's connection plus
`pool_size - 1` read-only ones, each on a db thread of its own, which run reads side by
side with each other and with the writer: a slow report or search never holds up an
incoming text. Each read is one transaction (a consistent snapshot: REPEATABLE READ on
PostgreSQL, which takes no SSI locks, so reads never make a writer lose a serialization
race) on a connection the engine itself keeps read-only
(`default_transaction_read_only` on PostgreSQL, `PRAGMA query_only` on SQLite), so a
"read" that writes fails, with a StorageError that names it, instead of slipping past the
writer's order. A read sees everything committed before it started, never a write still
queued: a caller that needs its own write awaits `run` first. With `pool_size = 1`, reads
queue behind the writes on the writer.

Group commit: the writer takes every unit queued while the previous transaction was
committing and runs them all in ONE transaction (`BEGIN IMMEDIATE` on SQLite), each
inside its own savepoint. A unit that raises is rolled back to its savepoint and gets its
exception; the others commit. A burst of N units therefore costs a few fsyncs instead of
N, and nothing waits on a timer: an idle store commits a lone unit at once. Results are
handed back only after the commit, so a caller never acknowledges something that a power
cut could still take away.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ParamSpec, TypeVar
from urllib.parse import urlsplit, urlunsplit

import peewee
from psycopg.pq import TransactionStatus

from gateway.config import Settings
from gateway.errors import StorageError
from gateway.storage import migrations, models

_LOGGER = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

BUSY_TIMEOUT_MS = 5000
# An appliance loses power: FULL fsyncs the WAL on every commit, which is what makes a
# committed message survive a pulled plug. Group commit is what keeps that affordable.
SQLITE_PRAGMAS: tuple[tuple[str, object], ...] = (
    ("journal_mode", "wal"),
    ("synchronous", "full"),
    ("foreign_keys", 1),
    ("busy_timeout", BUSY_TIMEOUT_MS),
)
# A unit that loses a serialization race on PostgreSQL runs again, up to this many times,
# after a random pause up to RETRY_PAUSE_BASE_S * 2**attempt (at most RETRY_PAUSE_MAX_S):
# run again at once, it meets the same transactions of the other box that it lost to
# (two boxes queueing and claiming at full speed lost 20 immediate retries in a row).
PG_RETRIES = 20
# A batch (group commit) that lost a race runs again whole this many times before its units
# are run one by one, each with PG_RETRIES of its own.
BATCH_RETRIES = 3
RETRY_PAUSE_BASE_S = 0.002
RETRY_PAUSE_MAX_S = 0.25
# SQLSTATEs that mean "run the whole transaction again": serialization failure, deadlock.
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})
# SQLSTATE of a write in a read-only transaction (a reader connection).
_READ_ONLY_SQLSTATE = "25006"
# A reader's SQLite connection: WAL lets it read beside the writer; query_only makes the
# engine refuse any write on it.
SQLITE_READER_PRAGMAS: tuple[tuple[str, object], ...] = (
    ("query_only", 1),
    ("foreign_keys", 1),
    ("busy_timeout", BUSY_TIMEOUT_MS),
)


@dataclass(slots=True)
class StoreStats:
    """Counters for tests and benchmarks. The writer's are written by its one thread;
    the `reads` ones by the reader threads, under the store's lock."""

    units: int = 0  # units of work run
    failed_units: int = 0  # units that raised (rolled back, the exception handed back)
    commits: int = 0  # transactions committed: at most one WAL fsync each
    rollbacks: int = 0  # whole transactions rolled back
    batches: int = 0  # transactions started for units (commits + rollbacks)
    largest_batch: int = 0
    # batches re-run one transaction per unit after the batch's own failure
    split_batches: int = 0
    retries: int = 0  # PostgreSQL transactions run again after a serialization failure
    reads: int = 0  # read units run on a reader connection
    failed_reads: int = 0  # read units that raised
    most_reads_in_flight: int = 0  # the most read units asked for and not yet done

    def snapshot(self) -> StoreStats:
        return replace(self)


@dataclass(slots=True)
class _Unit:
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    future: asyncio.Future[Any]
    loop: asyncio.AbstractEventLoop


@dataclass(frozen=True, slots=True)
class _Outcome:
    value: Any = None
    error: BaseException | None = None


class _BatchFailed(Exception):
    """The batch's transaction itself failed (BEGIN, COMMIT or a savepoint)."""


def _must_retry(exc: BaseException) -> bool:
    """Whether `exc` is PostgreSQL asking for the transaction to be run again."""
    errors = (exc, exc.__cause__ or exc.__context__)
    return any(getattr(e, "sqlstate", None) in _RETRY_SQLSTATES for e in errors)


def retry_pause_s(attempt: int, *, draw: Callable[[], float] | None = None) -> float:
    """How long to wait before running a unit again after its `attempt`-th lost race
    (`draw`: a number in [0, 1), random by default, so two boxes do not collide again)."""
    fraction = random.random() if draw is None else draw()
    return fraction * min(RETRY_PAUSE_BASE_S * 2.0**attempt, RETRY_PAUSE_MAX_S)


def _settle(future: asyncio.Future[Any], outcome: _Outcome) -> None:
    if future.done():  # the caller was cancelled; the unit ran (and committed) anyway
        return
    if outcome.error is not None:
        future.set_exception(outcome.error)
    else:
        future.set_result(outcome.value)


class Store:
    """One database: its writer thread (group commit), its reader threads. Create it with
    `open_database()`."""

    def __init__(
        self,
        database: Any,
        *,
        path: str,
        begin_args: Sequence[str] = (),
        max_batch_units: int = 256,
        readers: Sequence[Any] = (),
    ) -> None:
        """`database` is the writer's; each of `readers` (read-only) serves a reader thread."""
        self._db = database
        self._databases = [database, *readers]
        self._sqlite = isinstance(database, peewee.SqliteDatabase)
        self.engine = "sqlite" if self._sqlite else "postgresql"
        self.path = path
        self._begin_args = tuple(begin_args)
        self._max_batch = max_batch_units
        self._local = threading.local()
        self._writer = ThreadPoolExecutor(
            max_workers=1,
            thread_name_prefix="db-write",
            initializer=self._bind_thread,
            initargs=(database,),
        )
        # Each reader thread takes one as it starts.
        self._free_readers = list(readers)
        self._reader_pool = (
            ThreadPoolExecutor(
                max_workers=len(readers),
                thread_name_prefix="db-read",
                initializer=self._bind_reader,
            )
            if readers
            else None
        )
        # Guards _pending, _draining, _reading, _free_readers and the read stats (the
        # loop thread and the db threads share them).
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending: collections.deque[_Unit] = collections.deque()
        self._draining = False  # the writer is draining the queue now
        self._reading = 0  # read units submitted and not yet finished
        self._closed = False
        self.stats = StoreStats()
        self.schema_version = 0

    @property
    def reader_connections(self) -> int:
        """How many read-only connections serve `read` (0: reads queue on the writer)."""
        return len(self._databases) - 1

    # ------------------------------------------------------------ the event loop side

    async def run(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run `fn(*args, **kwargs)` on the writer in a transaction; its committed result.

        Units run (and commit) in the order they were asked for. Cancelling the caller
        does not cancel the unit: it may already be committed.
        """
        if self._closed:
            raise StorageError(f"the store for {self.path} is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        unit = _Unit(fn, args, kwargs, future, loop)
        with self._lock:
            self._pending.append(unit)
            start = not self._draining
            self._draining = True
        if start:
            self._writer.submit(self._drain)
        return await future

    async def read(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run `fn(*args, **kwargs)`, which only reads, on a reader connection; its result.

        Side by side with the writer and other reads, in one read-only transaction that
        sees what was committed before it began. A unit that writes fails with a
        StorageError naming it. Without reader connections, the same as `run`.
        """
        if self._reader_pool is None:
            return await self.run(fn, *args, **kwargs)
        if self._closed:
            raise StorageError(f"the store for {self.path} is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        with self._lock:
            self._reading += 1
        self._reader_pool.submit(self._read_one, _Unit(fn, args, kwargs, future, loop))
        return await future

    async def close(self) -> None:
        """Finish the queued units and reads, then close the database and its threads."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._wait_idle)
        await loop.run_in_executor(self._writer, self._close_sync)
        self._writer.shutdown(wait=False)
        if self._reader_pool is not None:
            self._reader_pool.shutdown(wait=False)

    def _wait_idle(self) -> None:
        with self._idle:
            self._idle.wait_for(
                lambda: not self._draining and not self._pending and not self._reading
            )

    async def _open(self) -> None:
        await asyncio.get_running_loop().run_in_executor(self._writer, self._open_sync)

    # ------------------------------------------------------------ the db thread side

    def _bind_thread(self, database: Any) -> None:
        """A db thread starts: it holds `database` (one connection) for good."""
        self._local.db = database
        models.DB.initialize(database)  # for this (a db) thread only

    def _bind_reader(self) -> None:
        with self._lock:
            database = self._free_readers.pop()
        self._bind_thread(database)

    def _database(self) -> Any:
        return self._local.db

    def _open_sync(self) -> None:
        if self._sqlite:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db.connect()
        if self._sqlite:
            mode = self._db.execute_sql("PRAGMA journal_mode").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StorageError(
                    f"{self.path}: SQLite refused WAL mode (journal_mode is {mode}); put "
                    "data_dir on a local file system"
                )
        before, after = migrations.migrate(
            self._db, path=self.path, begin_args=self._begin_args
        )
        self.schema_version = after
        _LOGGER.info(
            "database %s open at schema version %d%s",
            self.path,
            after,
            f" (migrated from {before})" if 0 < before < after else "",
        )

    def _close_sync(self) -> None:
        # Reader databases are thread_safe=False (one connection each, shared state; SQLite
        # ones opened with check_same_thread=False), so the writer may close them too.
        try:
            for database in self._databases:
                if not database.is_closed():
                    database.close()
        finally:
            models.DB.initialize(None)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._draining = False
                    self._idle.notify_all()
                    return
                size = min(len(self._pending), self._max_batch)
                batch = [self._pending.popleft() for _ in range(size)]
            try:
                outcomes = self._run_batch(batch)
            # KeyboardInterrupt, SystemExit: answer every caller, then stop.
            except BaseException as exc:
                with self._lock:
                    self._draining = False
                    self._idle.notify_all()
                self._deliver(batch, [_Outcome(error=exc)] * len(batch))
                raise
            self._deliver(batch, outcomes)

    def _run_batch(self, batch: list[_Unit]) -> list[_Outcome]:
        if len(batch) == 1:
            return [self._run_alone(batch[0])]
        attempt = 0
        while True:
            attempt += 1
            try:
                return self._run_together(batch)
            except _BatchFailed as exc:
                cause = exc.__cause__ or exc
                if _must_retry(cause) and attempt <= BATCH_RETRIES:
                    # a lost race is nobody's fault: the batch runs again, whole
                    self.stats.retries += 1
                    time.sleep(retry_pause_s(attempt))
                    continue
                # Not any unit's fault as far as we can tell: give each its own
                # transaction, so a unit that breaks the batch fails alone.
                _LOGGER.warning(
                    "a transaction of %d units failed (%s); retrying them one by one",
                    len(batch),
                    cause,
                )
                self.stats.split_batches += 1
                return [self._run_alone(unit) for unit in batch]

    def _run_alone(self, unit: _Unit) -> _Outcome:
        db = self._database()
        self.stats.units += 1
        self.stats.largest_batch = max(self.stats.largest_batch, 1)
        attempt = 0
        while True:
            attempt += 1
            self.stats.batches += 1
            try:
                with db.atomic(*self._begin_args):
                    value = unit.fn(*unit.args, **unit.kwargs)
                    self._require_transaction(unit)
            except Exception as exc:  # noqa: BLE001 - handed to the caller, who raises it
                self.stats.rollbacks += 1
                if _must_retry(exc):
                    if attempt <= PG_RETRIES:
                        self.stats.retries += 1
                        time.sleep(retry_pause_s(attempt))
                        continue
                    _LOGGER.warning(
                        "%s lost %d serialization races in a row; giving up on it: %s",
                        _name(unit),
                        attempt,
                        exc,
                    )
                self.stats.failed_units += 1
                return _Outcome(error=exc)
            self.stats.commits += 1
            return _Outcome(value=value)

    def _run_together(self, batch: list[_Unit]) -> list[_Outcome]:
        self.stats.batches += 1
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        outcomes: list[_Outcome] = []
        failed = 0
        try:
            with self._database().atomic(*self._begin_args):
                for unit in batch:
                    outcomes.append(self._run_in_savepoint(unit))
                    failed += outcomes[-1].error is not None
        except (peewee.DatabaseError, peewee.InterfaceError) as exc:
            self.stats.rollbacks += 1
            raise _BatchFailed(str(exc)) from exc
        self.stats.commits += 1
        self.stats.units += len(batch)
        self.stats.failed_units += failed
        return outcomes

    def _run_in_savepoint(self, unit: _Unit) -> _Outcome:
        savepoint = self._database().atomic()  # nested: a SAVEPOINT inside the batch
        try:
            with savepoint:
                value = unit.fn(*unit.args, **unit.kwargs)
        except (peewee.DatabaseError, peewee.InterfaceError) as exc:
            if _must_retry(exc):
                raise  # the whole transaction lost a race: the batch runs again, apart
            if self._transaction_alive():
                return _Outcome(error=exc)
            # The engine rolled the whole transaction back under us (disk full, I/O, a
            # ROLLBACK): the units before this one are undone too.
            raise
        except Exception as exc:  # noqa: BLE001 - handed to the caller, who raises it
            return _Outcome(error=exc)
        return _Outcome(value=value)

    def _read_one(self, unit: _Unit) -> None:
        """A reader thread runs one read unit and hands its outcome back."""
        with self._lock:
            self.stats.most_reads_in_flight = max(
                self.stats.most_reads_in_flight, self._reading
            )
        try:
            outcome = self._run_read(unit)
        except BaseException as exc:  # KeyboardInterrupt, SystemExit: answer, then stop
            self._finish_read(unit, _Outcome(error=exc), failed=True)
            raise
        self._finish_read(unit, outcome, failed=outcome.error is not None)

    def _run_read(self, unit: _Unit) -> _Outcome:
        # No retries: a read-only snapshot (REPEATABLE READ on PostgreSQL, a deferred
        # transaction on SQLite) takes no locks, so it never loses a race.
        try:
            with self._database().atomic():
                value = unit.fn(*unit.args, **unit.kwargs)
                self._require_transaction(unit)
        except Exception as exc:  # noqa: BLE001 - handed to the caller, who raises it
            if _refused_write(exc):
                refused = StorageError(
                    f"{_name(unit)} was run as a read but writes to the database "
                    "(store.read is for units that only read; use store.run)"
                )
                refused.__cause__ = exc
                return _Outcome(error=refused)
            return _Outcome(error=exc)
        return _Outcome(value=value)

    def _finish_read(self, unit: _Unit, outcome: _Outcome, *, failed: bool) -> None:
        with self._lock:
            self._reading -= 1
            self.stats.reads += 1
            self.stats.failed_reads += failed
            self._idle.notify_all()
        self._deliver([unit], [outcome])

    def _require_transaction(self, unit: _Unit) -> None:
        # A unit that ended its own transaction: PostgreSQL would take the COMMIT after it
        # as a no-op, and the unit's writes would not be the unit of work they claim to be.
        if not self._transaction_alive():
            raise StorageError(
                f"{_name(unit)} ended its own transaction (COMMIT or ROLLBACK)"
            )

    def _transaction_alive(self) -> bool:
        connection = self._database().connection()
        if self._sqlite:
            return bool(connection.in_transaction)
        # psycopg: IDLE is outside any transaction (its statements would autocommit)
        return bool(connection.info.transaction_status != TransactionStatus.IDLE)

    def _deliver(self, batch: list[_Unit], outcomes: list[_Outcome]) -> None:
        for unit, outcome in zip(batch, outcomes, strict=True):
            try:
                unit.loop.call_soon_threadsafe(_settle, unit.future, outcome)
            except RuntimeError:  # the caller's loop is closed: nobody is waiting
                _LOGGER.debug("result of %s dropped: its event loop is closed", unit.fn)


def _name(unit: _Unit) -> str:
    return str(getattr(unit.fn, "__qualname__", unit.fn))


def _refused_write(exc: BaseException) -> bool:
    """Whether `exc` is the engine refusing a write on a read-only connection."""
    for error in (exc, exc.__cause__ or exc.__context__):
        if getattr(error, "sqlstate", None) == _READ_ONLY_SQLSTATE:
            return True
        if "attempt to write a readonly database" in str(error):  # SQLite query_only
            return True
    return False


def _masked(url: str) -> str:
    """The URL without its password, for logs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


class _ReadOnlyPostgresqlDatabase(peewee.PostgresqlDatabase):
    """A reader's connection: PostgreSQL refuses any write on it (SQLSTATE 25006)."""

    def _initialize_connection(self, conn: Any) -> None:
        conn.execute("SET default_transaction_read_only = on")


def _postgresql(url: str, *, read_only: bool = False) -> Any:
    # psycopg 3 (peewee's Psycopg3Adapter), which takes the URL as libpq conninfo: any
    # libpq parameter (sslmode, options, connect_timeout) may ride in its query string.
    # thread_safe=False: each db thread has a database object (one connection) of its
    # own, and close() must reach every one of them from one thread.
    # A reader's transaction is REPEATABLE READ: one snapshot, read-only, and no SSI
    # predicate locks, so a page being read never makes a writer (this box's or another
    # box's) lose a serialization race; it cannot lose one itself either.
    kind = _ReadOnlyPostgresqlDatabase if read_only else peewee.PostgresqlDatabase
    return kind(
        url,
        prefer_psycopg3=True,
        isolation_level="REPEATABLE READ" if read_only else "SERIALIZABLE",
        thread_safe=False,
        autoconnect=True,
    )


async def open_database(settings: Settings) -> Store:
    """Open (creating or migrating) the configured database; its Store, ready for `run`."""
    cfg = settings.database
    readers = cfg.pool_size - 1
    if cfg.url is not None:
        store = Store(
            _postgresql(cfg.url),
            path=_masked(cfg.url),
            max_batch_units=cfg.batch_max_units,
            readers=[_postgresql(cfg.url, read_only=True) for _ in range(readers)],
        )
    else:
        database = peewee.SqliteDatabase(
            str(cfg.path),
            pragmas=SQLITE_PRAGMAS,
            timeout=BUSY_TIMEOUT_MS / 1000,
        )
        store = Store(
            database,
            path=str(cfg.path),
            begin_args=("IMMEDIATE",),
            max_batch_units=cfg.batch_max_units,
            readers=[
                # opened on a reader thread, closed by the writer's (see _close_sync)
                peewee.SqliteDatabase(
                    str(cfg.path),
                    pragmas=SQLITE_READER_PRAGMAS,
                    timeout=BUSY_TIMEOUT_MS / 1000,
                    thread_safe=False,
                    check_same_thread=False,
                )
                for _ in range(readers)
            ],
        )
    try:
        await store._open()
    except peewee.OperationalError as exc:
        await store.close()
        raise StorageError(f"cannot open the database {store.path}: {exc}") from exc
    except BaseException:
        await store.close()
        raise
    return store

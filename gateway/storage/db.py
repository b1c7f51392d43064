"""The store: every database operation runs on dedicated db threads, committed in groups.

`await store.run(fn, *args, **kwargs)` queues a synchronous unit of work (a function of
gateway.storage.queries, or a service's own function that calls several of them) and
returns its result once it is committed. The event loop never touches the disk.

SQLite has one db thread (one writer: no `database is locked`). PostgreSQL may have a
pool (`[database] pool_size`): each thread holds its own connection and drains the same
queue. Its transactions are SERIALIZABLE, so units running side by side (on this node's
threads or on other nodes) behave as if run one at a time, as on SQLite; a unit that
loses a serialization race is rolled back and run again (`PG_RETRIES`), which is why a
unit must do database work only. One thread keeps what the single SQLite thread gives:
units commit in the order they were asked for. Several do not (serializable means *some*
serial order), and the modem paths rely on that order today, so the pool defaults to one.

Group commit: the db thread takes every unit queued while the previous transaction was
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


@dataclass(slots=True)
class StoreStats:
    """Counters for tests and benchmarks; written by the db threads (exact with one)."""

    units: int = 0  # units of work run
    failed_units: int = 0  # units that raised (rolled back, the exception handed back)
    commits: int = 0  # transactions committed: at most one WAL fsync each
    rollbacks: int = 0  # whole transactions rolled back
    batches: int = 0  # transactions started for units (commits + rollbacks)
    largest_batch: int = 0
    # batches re-run one transaction per unit after the batch's own failure
    split_batches: int = 0
    retries: int = 0  # PostgreSQL transactions run again after a serialization failure

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
    """One database, its db threads, group commit. Create it with `open_database()`."""

    def __init__(
        self,
        database: Any,
        *,
        path: str,
        begin_args: Sequence[str] = (),
        max_batch_units: int = 256,
        connections: Sequence[Any] = (),
    ) -> None:
        """`database` serves the first db thread; each of `connections` one more."""
        self._databases = [database, *connections]
        self._db = database  # the first thread's: migrations run there
        self._sqlite = isinstance(database, peewee.SqliteDatabase)
        if self._sqlite and connections:
            raise StorageError("SQLite has one writer: a store has one SQLite thread")
        self.engine = "sqlite" if self._sqlite else "postgresql"
        self.path = path
        self._begin_args = tuple(begin_args)
        self._max_batch = max_batch_units
        self._threads = len(self._databases)
        # Each db thread takes one as it starts (first the first: it migrates).
        self._free = list(reversed(self._databases))
        self._local = threading.local()
        self._executor = ThreadPoolExecutor(
            max_workers=self._threads,
            thread_name_prefix="db",
            initializer=self._bind_thread,
        )
        # Guards _pending, _draining and _free (the loop thread and db threads share them).
        self._lock = threading.Lock()
        self._idle = threading.Condition(self._lock)
        self._pending: collections.deque[_Unit] = collections.deque()
        self._draining = 0  # db threads draining the queue now
        self._closed = False
        self.stats = StoreStats()
        self.schema_version = 0

    # ------------------------------------------------------------ the event loop side

    async def run(self, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs) -> R:
        """Run `fn(*args, **kwargs)` on the db thread in a transaction; its committed result.

        Cancelling the caller does not cancel the unit: it may already be committed.
        """
        if self._closed:
            raise StorageError(f"the store for {self.path} is closed")
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        unit = _Unit(fn, args, kwargs, future, loop)
        with self._lock:
            self._pending.append(unit)
            # Another drainer only when the ones at work have more queued than they hold.
            start = self._draining < min(self._threads, len(self._pending))
            if start:
                self._draining += 1
        if start:
            self._executor.submit(self._drain)
        return await future

    async def close(self) -> None:
        """Finish the queued units, then close the database and stop the threads."""
        if self._closed:
            return
        self._closed = True
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, self._wait_idle)
        await loop.run_in_executor(self._executor, self._close_sync)
        self._executor.shutdown(wait=False)

    def _wait_idle(self) -> None:
        with self._idle:
            self._idle.wait_for(lambda: not self._draining and not self._pending)

    async def _open(self) -> None:
        await asyncio.get_running_loop().run_in_executor(
            self._executor, self._open_sync
        )

    # ------------------------------------------------------------ the db thread side

    def _bind_thread(self) -> None:
        """A db thread starts: it takes a database (connection) of its own for good."""
        with self._lock:
            database = self._free.pop()
        self._local.db = database
        models.DB.initialize(database)  # for this (a db) thread only

    def _database(self) -> Any:
        return self._local.db

    def _open_sync(self) -> None:
        if self._sqlite:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        self._db = self._database()  # the thread that migrates is the first thread
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
        # PostgreSQL databases are made thread_safe=False (one connection each, shared
        # state), so this thread may close the other threads' connections too.
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
                    self._draining -= 1
                    self._idle.notify_all()
                    return
                size = min(len(self._pending), self._max_batch)
                batch = [self._pending.popleft() for _ in range(size)]
            try:
                outcomes = self._run_batch(batch)
            # KeyboardInterrupt, SystemExit: answer every caller, then stop.
            except BaseException as exc:
                with self._lock:
                    self._draining -= 1
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
                        getattr(unit.fn, "__qualname__", unit.fn),
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

    def _require_transaction(self, unit: _Unit) -> None:
        # A unit that ended its own transaction: PostgreSQL would take the COMMIT after it
        # as a no-op, and the unit's writes would not be the unit of work they claim to be.
        if not self._transaction_alive():
            raise StorageError(
                f"{unit.fn!r} ended its own transaction (COMMIT or ROLLBACK)"
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


def _masked(url: str) -> str:
    """The URL without its password, for logs and errors."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@", 1)
    return urlunsplit(parts._replace(netloc=netloc))


def _postgresql(url: str) -> Any:
    # psycopg 3 (peewee's Psycopg3Adapter), which takes the URL as libpq conninfo: any
    # libpq parameter (sslmode, options, connect_timeout) may ride in its query string.
    # thread_safe=False: each db thread has a database object (one connection) of its
    # own, and close() must reach every one of them from one thread.
    return peewee.PostgresqlDatabase(
        url,
        prefer_psycopg3=True,
        isolation_level="SERIALIZABLE",
        thread_safe=False,
        autoconnect=True,
    )


async def open_database(settings: Settings) -> Store:
    """Open (creating or migrating) the configured database; its Store, ready for `run`."""
    cfg = settings.database
    if cfg.url is not None:
        store = Store(
            _postgresql(cfg.url),
            path=_masked(cfg.url),
            max_batch_units=cfg.batch_max_units,
            connections=[_postgresql(cfg.url) for _ in range(cfg.pool_size - 1)],
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

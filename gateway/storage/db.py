"""The store: every database operation runs on one dedicated thread, committed in groups.

`await store.run(fn, *args, **kwargs)` queues a synchronous unit of work (a function of
gateway.storage.queries, or a service's own function that calls several of them) and
returns its result once it is committed. The event loop never touches the disk.

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
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

import peewee

from gateway.config import Settings
from gateway.errors import ConfigError, ConfigProblem, StorageError
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


@dataclass(slots=True)
class StoreStats:
    """Counters for tests and benchmarks; written by the db thread only."""

    units: int = 0  # units of work run
    failed_units: int = 0  # units that raised (rolled back, the exception handed back)
    commits: int = 0  # transactions committed: at most one WAL fsync each
    rollbacks: int = 0  # whole transactions rolled back
    batches: int = 0  # transactions started for units (commits + rollbacks)
    largest_batch: int = 0
    # batches re-run one transaction per unit after the batch's own failure
    split_batches: int = 0

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


def _settle(future: asyncio.Future[Any], outcome: _Outcome) -> None:
    if future.done():  # the caller was cancelled; the unit ran (and committed) anyway
        return
    if outcome.error is not None:
        future.set_exception(outcome.error)
    else:
        future.set_result(outcome.value)


class Store:
    """One database, one thread, group commit. Create it with `open_database()`."""

    def __init__(
        self,
        database: Any,
        *,
        path: str,
        begin_args: Sequence[str] = (),
        max_batch_units: int = 256,
    ) -> None:
        self._db = database
        self._sqlite = isinstance(database, peewee.SqliteDatabase)
        self.path = path
        self._begin_args = tuple(begin_args)
        self._max_batch = max_batch_units
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="db")
        # Guards _pending and _draining (the loop thread and the db thread share them).
        self._lock = threading.Lock()
        self._pending: collections.deque[_Unit] = collections.deque()
        self._draining = False
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
            start = not self._draining
            self._draining = True
        if start:
            self._executor.submit(self._drain)
        return await future

    async def close(self) -> None:
        """Finish the queued units, then close the database and stop the thread."""
        if self._closed:
            return
        self._closed = True
        # The executor runs jobs in order: this one comes after any drain in progress.
        await asyncio.get_running_loop().run_in_executor(
            self._executor, self._close_sync
        )
        self._executor.shutdown(wait=False)

    async def _open(self) -> None:
        await asyncio.get_running_loop().run_in_executor(
            self._executor, self._open_sync
        )

    # ------------------------------------------------------------ the db thread side

    def _open_sync(self) -> None:
        if self._sqlite:
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        models.DB.initialize(self._db)  # for this (the db) thread only
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
        try:
            if not self._db.is_closed():
                self._db.close()
        finally:
            models.DB.initialize(None)

    def _drain(self) -> None:
        while True:
            with self._lock:
                if not self._pending:
                    self._draining = False
                    return
                size = min(len(self._pending), self._max_batch)
                batch = [self._pending.popleft() for _ in range(size)]
            try:
                outcomes = self._run_batch(batch)
            # KeyboardInterrupt, SystemExit: answer every caller, then stop.
            except BaseException as exc:
                with self._lock:
                    self._draining = False
                self._deliver(batch, [_Outcome(error=exc)] * len(batch))
                raise
            self._deliver(batch, outcomes)

    def _run_batch(self, batch: list[_Unit]) -> list[_Outcome]:
        if len(batch) == 1:
            return [self._run_alone(batch[0])]
        try:
            outcomes = self._run_together(batch)
        except _BatchFailed as exc:
            # Not any unit's fault as far as we can tell: give each its own transaction,
            # so a unit that breaks the batch fails alone.
            _LOGGER.warning(
                "a transaction of %d units failed (%s); retrying them one by one",
                len(batch),
                exc.__cause__,
            )
            self.stats.split_batches += 1
            return [self._run_alone(unit) for unit in batch]
        return outcomes

    def _run_alone(self, unit: _Unit) -> _Outcome:
        self.stats.units += 1
        self.stats.batches += 1
        self.stats.largest_batch = max(self.stats.largest_batch, 1)
        try:
            with self._db.atomic(*self._begin_args):
                value = unit.fn(*unit.args, **unit.kwargs)
        except Exception as exc:  # noqa: BLE001 - handed to the caller, who raises it
            self.stats.failed_units += 1
            self.stats.rollbacks += 1
            return _Outcome(error=exc)
        self.stats.commits += 1
        return _Outcome(value=value)

    def _run_together(self, batch: list[_Unit]) -> list[_Outcome]:
        self.stats.batches += 1
        self.stats.largest_batch = max(self.stats.largest_batch, len(batch))
        outcomes: list[_Outcome] = []
        failed = 0
        try:
            with self._db.atomic(*self._begin_args):
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
        savepoint = self._db.atomic()  # nested: a SAVEPOINT inside the batch
        try:
            with savepoint:
                value = unit.fn(*unit.args, **unit.kwargs)
        except (peewee.OperationalError, peewee.InterfaceError) as exc:
            if self._transaction_alive():
                return _Outcome(error=exc)
            raise  # the engine rolled the whole transaction back under us (disk full, I/O)
        except Exception as exc:  # noqa: BLE001 - handed to the caller, who raises it
            return _Outcome(error=exc)
        return _Outcome(value=value)

    def _transaction_alive(self) -> bool:
        connection = self._db.connection()
        return bool(getattr(connection, "in_transaction", True))

    def _deliver(self, batch: list[_Unit], outcomes: list[_Outcome]) -> None:
        for unit, outcome in zip(batch, outcomes, strict=True):
            try:
                unit.loop.call_soon_threadsafe(_settle, unit.future, outcome)
            except RuntimeError:  # the caller's loop is closed: nobody is waiting
                _LOGGER.debug("result of %s dropped: its event loop is closed", unit.fn)


async def open_database(settings: Settings) -> Store:
    """Open (creating or migrating) the configured database; its Store, ready for `run`."""
    cfg = settings.database
    if cfg.url is not None:
        raise ConfigError(
            [
                ConfigProblem(
                    "database",
                    "url",
                    cfg.url.split("@")[-1],
                    "empty for now: PostgreSQL support arrives with multi-box mode "
                    "(issue 8); remove url to use the SQLite file at [database] path",
                )
            ],
            source=settings.source,
        )
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
    except BaseException:
        await store.close()
        raise
    return store

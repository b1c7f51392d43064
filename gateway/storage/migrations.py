"""Schema versions: `PRAGMA user_version` plus numbered forward steps.

Step N takes a database at version N-1 to version N, in one transaction with the version
bump, so a crash mid-migration leaves the old version intact. A new (empty) database is
created from the current models and stamped with the latest version at once: later steps
exist to bring *older files* forward, and each must leave a database identical to one
created fresh. Steps therefore use `playhouse.migrate` operations or plain SQL, never the
models (which describe the latest version, not the one the step starts from).

Opening a database whose version is newer than the last step is refused (SchemaTooNew):
an older smsgw writing to a newer schema could corrupt it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Any

import peewee
from playhouse.migrate import SchemaMigrator

from gateway.errors import SchemaTooNew, StorageError
from gateway.storage.auth_models import AUTH_MODELS
from gateway.storage.models import MODELS

_LOGGER = logging.getLogger(__name__)

# A step gets the database and a playhouse.migrate migrator for it.
Step = Callable[[Any, Any], None]


def _step_1_create_tables(db: Any, migrator: Any) -> None:
    db.create_tables((*MODELS, *AUTH_MODELS))


# Plain SQL, as peewee 4 writes it for models.UndecodablePdu, so a migrated file and a new
# one are identical (tests/gateway/storage/test_migrations.py compares them).
_STEP_2_SQL = (
    'CREATE TABLE "undecodable_pdus" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"modem" TEXT NOT NULL, "pdu_hex" TEXT NOT NULL, "error" TEXT NOT NULL, '
    '"dedupe_key" TEXT NOT NULL, "received_at" DATETIME NOT NULL)',
    'CREATE UNIQUE INDEX "undecodable_pdus_dedupe_key" ON "undecodable_pdus" '
    '("dedupe_key")',
    'CREATE INDEX "undecodable_pdus_received_at" ON "undecodable_pdus" ("received_at")',
)


def _step_2_undecodable_pdus(db: Any, migrator: Any) -> None:
    """Keep PDUs that do not decode, for the operator, instead of only logging them."""
    for statement in _STEP_2_SQL:
        db.execute_sql(statement)


# Plain SQL, as peewee 4 writes it for auth_models.WebSession and LoginFailure.
_STEP_3_SQL = (
    'CREATE TABLE "web_sessions" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"token_hash" TEXT NOT NULL, "user_id" INTEGER NOT NULL, '
    '"created_at" DATETIME NOT NULL, "last_seen_at" DATETIME NOT NULL, '
    '"expires_at" DATETIME NOT NULL, "address" TEXT, "user_agent" TEXT, '
    'FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "web_sessions_token_hash" ON "web_sessions" ("token_hash")',
    'CREATE INDEX "web_sessions_user_id" ON "web_sessions" ("user_id")',
    'CREATE INDEX "web_sessions_expires_at" ON "web_sessions" ("expires_at")',
    'CREATE TABLE "login_failures" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"username" TEXT NOT NULL, "address" TEXT NOT NULL, "at" DATETIME NOT NULL)',
    'CREATE INDEX "login_failures_username_at" ON "login_failures" ("username", "at")',
    'CREATE INDEX "login_failures_address_at" ON "login_failures" ("address", "at")',
)


def _step_3_sign_in(db: Any, migrator: Any) -> None:
    """Server-side sessions and failed sign-ins (login throttling that survives restarts)."""
    for statement in _STEP_3_SQL:
        db.execute_sql(statement)


STEPS: tuple[Step, ...] = (
    _step_1_create_tables,
    _step_2_undecodable_pdus,
    _step_3_sign_in,
)


# The version lives in the SQLite header (PRAGMA user_version), the only SQLite-only
# statements of the schema code; PostgreSQL (issue 8) will keep it in a table instead.


def _require_sqlite(db: Any) -> None:
    if not isinstance(db, peewee.SqliteDatabase):
        raise StorageError(
            f"schema versions are not implemented for {type(db).__name__}"
        )


def schema_version(db: Any) -> int:
    """The database's schema version (0 for a new database)."""
    _require_sqlite(db)
    return int(db.execute_sql("PRAGMA user_version").fetchone()[0])


def _set_schema_version(db: Any, version: int) -> None:
    _require_sqlite(db)
    db.execute_sql(f"PRAGMA user_version = {int(version)}")


def migrate(
    db: Any,
    *,
    path: str,
    begin_args: Sequence[str] = (),
    steps: Sequence[Step] | None = None,
) -> tuple[int, int]:
    """Bring the database to the latest version; returns (version before, version after)."""
    steps = STEPS if steps is None else steps
    latest = len(steps)
    found = schema_version(db)
    if found > latest:
        raise SchemaTooNew(path, found, latest)
    if found == latest:
        return found, found
    migrator = SchemaMigrator.from_database(db)
    if found == 0:
        _LOGGER.info("creating database %s at schema version %d", path, latest)
        with db.atomic(*begin_args):
            steps[0](db, migrator)
            _set_schema_version(db, latest)
        return found, latest
    for version in range(found + 1, latest + 1):
        _LOGGER.info("migrating database %s to schema version %d", path, version)
        with db.atomic(*begin_args):
            steps[version - 1](db, migrator)
            _set_schema_version(db, version)
    return found, latest

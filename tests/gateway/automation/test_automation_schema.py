"""The automation tables: the migration step's SQL is what peewee writes for the models,
and a file from before the step comes out as a new file is born."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import peewee
import pytest

from gateway.storage import migrations, models
from gateway.storage.automation_models import AUTOMATION_MODELS
from gateway.storage.db import open_database
from tests.gateway.gwhelpers import settings_for

TABLES = tuple(m._meta.table_name for m in AUTOMATION_MODELS)


def _schema(path: Path | str, prefix: str = "automation_") -> set[tuple[str, str]]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL AND "
            "tbl_name LIKE ?",
            (f"{prefix}%",),
        )
        return {(name, sql) for name, sql in rows}


def test_the_steps_sql_is_what_peewee_writes_for_the_models(tmp_path: Path) -> None:
    path = tmp_path / "models.db"
    db = peewee.SqliteDatabase(str(path))
    models.DB.initialize(db)
    try:
        db.connect()
        db.create_tables((*models.MODELS, *AUTOMATION_MODELS))
        db.close()
        from_models = _schema(path)
        fresh = tmp_path / "sql.db"
        with sqlite3.connect(fresh) as raw:
            for statement in migrations._AUTOMATION_SQL:
                raw.execute(statement.replace("IF NOT EXISTS ", ""))
        from_sql = _schema(fresh)
    finally:
        models.DB.initialize(None)
    assert {n for n, _ in from_models} >= set(TABLES)
    normalise = {(n, s.replace("IF NOT EXISTS ", "")) for n, s in from_models}
    assert from_sql == normalise


@pytest.mark.sqlite_only
async def test_a_file_from_before_the_step_is_migrated_to_a_new_files_schema(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    path = settings.database.path
    store = await open_database(settings)
    await store.close()
    fresh = _schema(path)
    assert {n for n, _ in fresh} >= set(TABLES)
    step = migrations.STEPS.index(migrations._step_9_automation) + 1
    with sqlite3.connect(path) as raw:
        for table in TABLES:
            raw.execute(f'DROP TABLE "{table}"')
        raw.execute(f"PRAGMA user_version = {step - 1}")
    store = await open_database(settings)
    await store.close()
    assert _schema(path) == fresh

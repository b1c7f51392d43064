"""Schema version 3: files of version 2 get the sign-in tables exactly as new files have them."""

from __future__ import annotations

import sqlite3

import pytest

from gateway.config import Settings
from gateway.storage import migrations
from gateway.storage.db import open_database


def _schema(path: str) -> set[tuple[str, str]]:
    with sqlite3.connect(path) as raw:
        rows = raw.execute(
            "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"
        ).fetchall()
    return {(name, sql) for name, sql in rows}


@pytest.mark.sqlite_only
async def test_version_2_files_get_the_sign_in_tables_as_new_files_have_them(
    settings: Settings,
) -> None:
    store = await open_database(settings)
    await store.close()
    path = str(settings.database.path)
    fresh = _schema(path)
    assert {"web_sessions", "login_failures"} <= {name for name, _ in fresh}
    with sqlite3.connect(path) as raw:
        raw.execute('DROP TABLE "web_sessions"')
        raw.execute('DROP TABLE "login_failures"')
        raw.execute("PRAGMA user_version = 2")

    store = await open_database(settings)
    await store.close()
    assert store.schema_version == len(migrations.STEPS) >= 3
    assert _schema(path) == fresh

"""PostgreSQL runs of the suite (SMSGW_TEST_DATABASE_URL): the server tests/conftest.py
found, and a fresh database for a block of a test that needs several in turn."""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

TEST_DATABASE_URL_ENV = "SMSGW_TEST_DATABASE_URL"
DATABASE_URL_ENV = "SMSGW_DATABASE_URL"  # gateway.config.DATABASE_URL_ENV


@dataclass(frozen=True, slots=True)
class Server:
    conn: Any  # an autocommit psycopg connection to the base database
    base: str  # SMSGW_TEST_DATABASE_URL
    template: str  # a database migrated to the latest schema, copied for each test


SERVER: list[Server] = []  # set for the session by tests/conftest.py (PostgreSQL runs)


def database_url(url: str, database: str) -> str:
    """`url` pointing at another database of the same server."""
    return urlunsplit(urlsplit(url)._replace(path=f"/{database}"))


def create_database(server: Server, *, empty: bool = False) -> str:
    """A new database, a file copy of the template (or `empty`: no schema); its name."""
    name = f"smsgw_test_{uuid.uuid4().hex[:16]}"
    template = "template0" if empty else server.template
    server.conn.execute(
        f'CREATE DATABASE "{name}" TEMPLATE "{template}" STRATEGY FILE_COPY'
    )
    return name


def drop_database(server: Server, name: str) -> None:
    # FORCE: a daemon the test killed may not have closed its connections yet.
    server.conn.execute(f'DROP DATABASE "{name}" WITH (FORCE)')


@contextlib.contextmanager
def fresh_database(*, empty: bool = False) -> Iterator[None]:
    """A database of its own for the block on PostgreSQL runs, as a new data_dir is on
    SQLite (where this does nothing); `empty`: not even the schema."""
    if not SERVER:
        yield
        return
    server = SERVER[0]
    name = create_database(server, empty=empty)
    before = os.environ.get(DATABASE_URL_ENV)
    os.environ[DATABASE_URL_ENV] = database_url(server.base, name)
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(DATABASE_URL_ENV, None)
        else:
            os.environ[DATABASE_URL_ENV] = before
        drop_database(server, name)


def dump_database(path: Any, url: str | None) -> list[str]:
    """Every committed row of every table, as text, on either engine (a second
    connection): tests compare two dumps to show that something wrote nothing. `path`:
    the SQLite file ([database] path); `url`: the PostgreSQL database, when set."""
    if not url:
        import sqlite3

        with contextlib.closing(sqlite3.connect(path)) as db:
            return list(db.iterdump())
    import psycopg

    with psycopg.connect(url) as conn:
        tables = [
            row[0]
            for row in conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                "ORDER BY tablename"
            )
        ]
        rows: list[str] = []
        for table in tables:
            found = conn.execute(f'SELECT * FROM "{table}"').fetchall()
            rows += sorted(f"{table} {row!r}" for row in found)
        return rows

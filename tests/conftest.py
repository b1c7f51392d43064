"""Shared test helpers: where the shared test data lives, and tool requirements."""

from __future__ import annotations

import dataclasses
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import hypothesis
import pytest

from tests import pgtest
from tests.pgtest import TEST_DATABASE_URL_ENV

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = ROOT / "tests" / "data"  # a copy of ../shared/testdata (see its README)

# Hypothesis's per-example deadline (200 ms) measures the machine, not the code: the
# suite runs on two loaded cores, twice over (SQLite, then PostgreSQL), and a pure
# property test once failed there at 343 ms that takes 0.25 ms when the machine is idle.
# Correctness is what the properties check; the benchmarks in bench/ measure speed.
hypothesis.settings.register_profile("suite", deadline=None)
hypothesis.settings.load_profile("suite")


def require_tool(*names: str) -> None:
    """Skip unless every named program is on PATH; under CI (SMSGW_REQUIRE_TOOLS) fail instead."""
    missing = [n for n in names if shutil.which(n) is None]
    if not missing:
        return
    reason = f"needs {', '.join(missing)} (run `make system-deps`)"
    if os.environ.get("SMSGW_REQUIRE_TOOLS"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def testdata() -> Path:
    """Real-world PDUs and modem transcripts from public projects (tests/data/README.md)."""
    if not TESTDATA.is_dir():
        pytest.skip(f"shared test data not found at {TESTDATA}")
    return TESTDATA


# ------------------------------------------------------------------ PostgreSQL runs
#
# SMSGW_TEST_DATABASE_URL=postgresql://USER:PASSWORD@HOST/DB runs every test against
# PostgreSQL: each test gets a database of its own, dropped afterwards, and
# SMSGW_DATABASE_URL (which takes the place of [database] url) points at it, so every
# store the test opens, in this process or in a `python -m gateway.cli` it starts, uses
# it. The role needs CREATEDB; DB is only where the fixture connects to create the
# others. Each test's database is a file copy of a template migrated once per pytest
# worker (tens of milliseconds, where creating the schema takes half a second).
# Without the variable nothing changes: SQLite files in tmp_path.


def pytest_runtest_setup(item: pytest.Item) -> None:
    if os.environ.get(TEST_DATABASE_URL_ENV) and item.get_closest_marker("sqlite_only"):
        pytest.skip("checks the SQLite file itself; this run is on PostgreSQL")


@pytest.fixture(scope="session")
def _postgresql_server() -> Iterator[pgtest.Server | None]:
    """The server and a migrated template, or None (not a PostgreSQL run)."""
    base = os.environ.get(TEST_DATABASE_URL_ENV)
    if not base:
        yield None
        return
    import asyncio
    import uuid

    import psycopg

    from gateway.config import parse_settings
    from gateway.storage.db import open_database

    template = f"smsgw_template_{uuid.uuid4().hex[:12]}"
    conn = psycopg.connect(base, autocommit=True)
    conn.execute(f'CREATE DATABASE "{template}"')
    try:
        settings = parse_settings("[gateway]\ndefault_region = GB\n", base_dir=ROOT)
        url = pgtest.database_url(base, template)
        settings = dataclasses.replace(
            settings, database=dataclasses.replace(settings.database, url=url)
        )

        async def migrate() -> None:
            store = await open_database(settings)
            await store.close()

        asyncio.run(migrate())
        server = pgtest.Server(conn, base, template)
        pgtest.SERVER.append(server)
        yield server
    finally:
        pgtest.SERVER.clear()
        conn.execute(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)')
        conn.close()


@pytest.fixture(autouse=True)
def _postgresql_database(
    _postgresql_server: pgtest.Server | None, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    if _postgresql_server is None:
        yield
        return
    name = pgtest.create_database(_postgresql_server)
    url = pgtest.database_url(_postgresql_server.base, name)
    monkeypatch.setenv(pgtest.DATABASE_URL_ENV, url)
    try:
        yield
    finally:
        pgtest.drop_database(_postgresql_server, name)

"""Shared test helpers: where the shared test data lives, and tool requirements."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TESTDATA = ROOT / "tests" / "data"  # a copy of ../shared/testdata (see its README)


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
# PostgreSQL: each test gets a schema of its own in that database, dropped afterwards,
# and SMSGW_DATABASE_URL (which takes the place of [database] url) points at it, so every
# store the test opens, in this process or in a `python -m gateway.cli` it starts, uses
# it. Without the variable nothing changes: SQLite files in tmp_path.
TEST_DATABASE_URL_ENV = "SMSGW_TEST_DATABASE_URL"


def _schema_url(url: str, schema: str) -> str:
    """`url` with libpq's search_path option set to `schema` (and nothing else)."""
    from urllib.parse import quote, urlsplit, urlunsplit

    parts = urlsplit(url)
    option = "options=" + quote(f"-csearch_path={schema}", safe="")
    query = f"{parts.query}&{option}" if parts.query else option
    return urlunsplit(parts._replace(query=query))


@pytest.fixture(autouse=True)
def _postgresql_schema(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    base = os.environ.get(TEST_DATABASE_URL_ENV)
    if not base:
        yield
        return
    import uuid

    import psycopg

    schema = f"t_{uuid.uuid4().hex[:16]}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'CREATE SCHEMA "{schema}"')
    monkeypatch.setenv("SMSGW_DATABASE_URL", _schema_url(base, schema))
    try:
        yield
    finally:
        with psycopg.connect(base, autocommit=True) as conn:
            conn.execute(f'DROP SCHEMA "{schema}" CASCADE')

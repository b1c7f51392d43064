"""A real SQLite file per test (peewee is never mocked)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.config import Settings, parse_settings
from gateway.storage.db import Store, open_database


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return parse_settings("[gateway]\ndefault_region = GB\n", base_dir=tmp_path)


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    store = await open_database(settings)
    yield store
    await store.close()

"""AuthService over a real SQLite file per test, a hand-moved clock and cheap argon2."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from authhelpers import Clock, cheap_argon2

from gateway.auth.service import AuthService
from gateway.config import Settings, parse_settings
from gateway.storage.db import Store, open_database


@pytest.fixture(autouse=True)
def _cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_argon2(monkeypatch)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    text = "[gateway]\ndefault_region = GB\n[web]\nenabled = no\n[simulator]\nenabled = no\n"
    (tmp_path / "gateway.ini").write_text(text, encoding="utf-8")
    return parse_settings(text, base_dir=tmp_path, source=str(tmp_path / "gateway.ini"))


@pytest.fixture
async def store(settings: Settings) -> AsyncIterator[Store]:
    store = await open_database(settings)
    yield store
    await store.close()


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def auth(store: Store, settings: Settings, clock: Clock) -> AuthService:
    return AuthService(store, settings.auth, clock=clock)

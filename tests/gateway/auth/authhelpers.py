"""Helpers for auth tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gateway.auth import passwords

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"


class Clock:
    """A clock the test moves by hand."""

    def __init__(self, start: datetime = T0) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


def cheap_argon2(monkeypatch: pytest.MonkeyPatch) -> None:
    """argon2 at its cheapest: tests check the logic, not the cost (about 1 ms a hash)."""
    monkeypatch.setattr(passwords, "TIME_COST", 1)
    monkeypatch.setattr(passwords, "MEMORY_COST_KIB", 8)
    monkeypatch.setattr(passwords, "PARALLELISM", 1)

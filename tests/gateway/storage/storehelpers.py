"""Helpers for storage tests (imported by name: tests/ has no packages)."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime

from gateway.storage.db import Store

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


class Gate:
    """Holds the db thread inside a unit until released, so units queued meanwhile are
    committed together: group commit made deterministic."""

    def __init__(self) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()

    def unit(self) -> str:
        self.entered.set()
        if not self.release.wait(10):
            raise TimeoutError("gate never released")
        return "gate"

    async def hold(self, store: Store) -> asyncio.Future[str]:
        """Start the gate unit and wait until the db thread is inside it."""
        task = asyncio.ensure_future(store.run(self.unit))
        await asyncio.get_running_loop().run_in_executor(None, self.entered.wait, 10)
        return task

"""This box's heartbeat in the shared database (issue 8: several boxes, one database).

Every node (gateway.node_name) writes its row in `nodes` at start and then every
HEARTBEAT_INTERVAL_S (more often when [gateway] node_timeout_s is short: three beats fit in
it), so the others and `smsgw status` can tell which boxes are alive. A box silent for
node_timeout_s is taken as gone: the others' dispatchers send what waits on its modems
(gateway.outbox.dispatcher).
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable
from datetime import datetime

from gateway.storage import queries
from gateway.storage.db import Store

_LOGGER = logging.getLogger(__name__)

HEARTBEAT_INTERVAL_S = 10.0


class NodeHeartbeat:
    """Writes this node's heartbeat: once at start (committed), then on a timer."""

    def __init__(
        self,
        store: Store,
        node: str,
        *,
        clock: Callable[[], datetime],
        timeout_s: float | None = None,
    ) -> None:
        """`timeout_s`: after how long the others take this node as gone."""
        self._store = store
        self._node = node
        self._interval_s = HEARTBEAT_INTERVAL_S
        if timeout_s is not None:
            self._interval_s = min(HEARTBEAT_INTERVAL_S, timeout_s / 3)
        self._clock = clock
        self._started_at = clock()
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Beat once (a start-up that cannot write to the database fails here), then go on."""
        await self._beat()
        self._task = asyncio.create_task(self._run(), name=f"heartbeat {self._node}")

    async def stop(self) -> None:
        """Stop beating (the row stays: its age tells the others this node is gone)."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _beat(self) -> None:
        await self._store.run(
            queries.heartbeat,
            self._node,
            pid=os.getpid(),
            started_at=self._started_at,
            now=self._clock(),
        )

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._interval_s)
            try:
                await self._beat()
            except Exception:  # the task's boundary: the next beat tries again
                _LOGGER.exception("node %s: heartbeat failed", self._node)

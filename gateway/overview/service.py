"""OverviewService: the modems and their queues, health, and recent conversations."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Mapping
from datetime import datetime

from gateway.domain import ModemRecord, NodeRecord, utcnow
from gateway.errors import InvalidInput
from gateway.overview.records import ConversationRow, Health, ModemView, NodeView
from gateway.storage import overview_queries, queries
from gateway.storage.db import Store

_LOGGER = logging.getLogger(__name__)

# /healthz answers within this even when the store is stuck (a wedged disk is "not ok").
HEALTH_STORE_TIMEOUT_S = 2.0
MAX_CONVERSATIONS = 200


class OverviewService:
    """Read-only views over what the daemon records."""

    def __init__(
        self,
        store: Store,
        *,
        node: str | None = None,
        node_timeout_s: float = 120.0,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        """`node`: this box's name; `node_timeout_s`: when the others take a box as gone."""
        self._store = store
        self._node = node
        self._node_timeout_s = node_timeout_s
        self._clock = clock

    async def modems(self) -> list[ModemView]:
        """Every modem the daemon knows, by name, with its queued parts."""
        records = await self._store.read(queries.list_modems)
        depths = await self._store.read(queries.outbound_queue_depths)
        return [_view(m, depths) for m in records]

    async def nodes(self) -> list[NodeView]:
        """Every box that ever ran on this database, with its modems, by name."""
        nodes, modems = await self._store.read(_nodes_and_modems)
        now = self._clock()
        return [
            NodeView(
                name=n.name,
                this_box=n.name == self._node,
                alive=n.alive(now, self._node_timeout_s),
                heartbeat_at=n.heartbeat_at,
                started_at=n.started_at,
                modems=tuple(m.name for m in modems if m.node == n.name),
            )
            for n in nodes
        ]

    async def modem(self, name: str) -> ModemView:
        """One modem with its queued parts; NotFound if the daemon never recorded it."""
        record = await self._store.read(queries.get_modem, name)
        depths = await self._store.read(queries.outbound_queue_depths)
        return _view(record, depths)

    async def health(self) -> Health:
        """Whether the store answers in time, and each modem's state; never raises."""
        try:
            async with asyncio.timeout(HEALTH_STORE_TIMEOUT_S):
                records = await self._store.read(queries.list_modems)
                depths = await self._store.read(queries.outbound_queue_depths)
        except Exception:  # the health check's boundary: any failure is "not ok"
            _LOGGER.exception("health check: the store did not answer")
            return Health(store_ok=False, modems=(), unassigned_queue=0)
        return Health(
            store_ok=True,
            modems=tuple((m.name, m.state) for m in records),
            unassigned_queue=depths.get(None, 0),
        )

    async def recent_conversations(self, *, limit: int = 50) -> list[ConversationRow]:
        """The latest conversations, newest activity first."""
        if not 1 <= limit <= MAX_CONVERSATIONS:
            raise InvalidInput(
                "limit", f"{limit} is not between 1 and {MAX_CONVERSATIONS}"
            )
        return await self._store.read(
            overview_queries.recent_conversations, limit=limit
        )


def _nodes_and_modems() -> tuple[list[NodeRecord], list[ModemRecord]]:
    return queries.list_nodes(), queries.list_modems()


def _view(modem: ModemRecord, depths: Mapping[str | None, int]) -> ModemView:
    return ModemView(
        name=modem.name,
        node=modem.node,
        state=modem.state,
        signal_dbm=modem.signal_dbm,
        operator=modem.operator,
        registration=modem.registration,
        own_number=modem.own_number,
        model=modem.model,
        queue_depth=depths.get(modem.name, 0),
        last_error=modem.last_error,
        updated_at=modem.updated_at,
    )

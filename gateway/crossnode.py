"""Events across boxes that share one PostgreSQL database: LISTEN/NOTIFY (issue 8).

Each box forwards the events that happen on it (`EventBus.subscribe(local_only=True)`) as
`pg_notify('smsgw_events', payload)`, and listens on that channel for the other boxes':
those are published on its own bus with `remote=True`, so an agent whose browser is on
box A sees, live, a text that arrived on box B's modem. The payload is
gateway.eventwire's JSON; a box skips its own.

Like the bus, this is for live views: an event missed while a connection was down is not
replayed (webhooks go through the durable outbox, claimed by one box). Instead the live
views resync: a box whose listener reconnects ends its pages' event streams
(`EventBus.missed`), and a box that could not tell the others everything (its sending
connection dropped, or its forwarding fell behind) sends them a gap notice, on which
they do the same; a page whose stream ends reconnects and fetches its list and thread.

The connections are psycopg's async ones, on the event loop: a NOTIFY is a round trip on
an otherwise idle connection, never database work queued behind the store's units.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import psycopg

from gateway import eventwire
from gateway.errors import StorageError
from gateway.events import EventBus, Subscription

_LOGGER = logging.getLogger(__name__)

CHANNEL = "smsgw_events"
# PostgreSQL refuses a payload of 8000 bytes or more.
MAX_PAYLOAD_BYTES = 7999
RECONNECT_MIN_S = 0.5
RECONNECT_MAX_S = 30.0


class CrossNodeEvents:
    """This box's two connections: one forwards its events, one hears the others'."""

    def __init__(self, url: str, bus: EventBus, *, node: str, where: str) -> None:
        """`where`: the database as logs may name it (no password)."""
        self._url = url
        self._bus = bus
        self._node = node
        self._where = where
        self._listener: psycopg.AsyncConnection[Any] | None = None
        self._sender: psycopg.AsyncConnection[Any] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self.forwarded = 0  # events sent to the other boxes
        self.heard = 0  # events of other boxes published here
        self.gaps = 0  # gap notices heard from other boxes
        self._owe_gap = False  # the other boxes missed some of ours: tell them

    async def start(self) -> None:
        """Connect and LISTEN (StorageError if the database cannot be reached), then
        forward and listen until stopped."""
        try:
            self._listener = await self._listen()
            self._sender = await self._connect()
        except psycopg.Error as exc:
            await self.stop()
            raise StorageError(
                f"cannot listen for the other boxes' events on {self._where}: {exc}"
            ) from exc
        # subscribed now, so nothing published after start() returns is missed
        subscription = self._bus.subscribe(local_only=True)
        self._tasks = [
            asyncio.create_task(self._hear_forever(), name="crossnode-listen"),
            asyncio.create_task(
                self._forward_forever(subscription), name="crossnode-forward"
            ),
        ]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        for conn in (self._listener, self._sender):
            if conn is not None:
                with contextlib.suppress(psycopg.Error):
                    await conn.close()
        self._listener = self._sender = None

    # ---------------------------------------------------------------- connections

    async def _connect(self) -> psycopg.AsyncConnection[Any]:
        return await psycopg.AsyncConnection.connect(self._url, autocommit=True)

    async def _listen(self) -> psycopg.AsyncConnection[Any]:
        conn = await self._connect()
        await conn.execute(f"LISTEN {CHANNEL}")
        return conn

    async def _reconnect(self, what: str, exc: BaseException, attempt: int) -> None:
        pause = min(RECONNECT_MIN_S * 2**attempt, RECONNECT_MAX_S)
        _LOGGER.warning(
            "node %s: %s the other boxes' events on %s failed (%s); events are "
            "missed until it reconnects, trying again in %g s",
            self._node,
            what,
            self._where,
            exc,
            pause,
        )
        await asyncio.sleep(pause)

    # ---------------------------------------------------------------- the two loops

    async def _hear_forever(self) -> None:
        attempt = 0
        while True:
            try:
                if self._listener is None or self._listener.closed:
                    self._listener = await self._listen()
                    _LOGGER.info("node %s: listening for events again", self._node)
                    self._bus.missed("the other boxes' events were missed meanwhile")
                attempt = 0
                async for notify in self._listener.notifies():
                    self._heard(notify.payload)
            except psycopg.Error as exc:
                self._listener = None
                await self._reconnect("listening for", exc, attempt)
                attempt += 1

    def _heard(self, payload: str) -> None:
        try:
            envelope = eventwire.decode(payload)
        except eventwire.WireError as exc:
            _LOGGER.warning("ignored a notification on %s: %s", CHANNEL, exc)
            return
        if envelope.node == self._node:
            return  # our own, already published here
        if isinstance(envelope, eventwire.Gap):
            self.gaps += 1
            self._bus.missed(f"node {envelope.node} could not tell this box everything")
            return
        self.heard += 1
        self._bus.publish(envelope.event, remote=True)

    async def _forward_forever(self, subscription: Subscription) -> None:
        attempt = 0
        while True:
            try:
                if self._owe_gap:
                    await self._notify(eventwire.encode_gap(self._node))
                    self._owe_gap = False
                async for event in subscription:
                    payload = eventwire.encode(self._node, event)
                    if len(payload.encode()) > MAX_PAYLOAD_BYTES:
                        _LOGGER.warning(
                            "%s too large to tell the other boxes (%d bytes)",
                            type(event).__name__,
                            len(payload.encode()),
                        )
                        continue
                    await self._notify(payload)
                    self.forwarded += 1
                    attempt = 0
                if subscription.lagged:
                    _LOGGER.warning(
                        "node %s: forwarding fell behind; the other boxes missed events",
                        self._node,
                    )
                    self._owe_gap = True
            except psycopg.Error as exc:
                self._sender = None
                self._owe_gap = True
                await self._reconnect("telling", exc, attempt)
                attempt += 1
            finally:
                subscription.close()
            # a subscription that fell behind ended; take a new one (those are lost)
            subscription = self._bus.subscribe(local_only=True)

    async def _notify(self, payload: str) -> None:
        if self._sender is None or self._sender.closed:
            self._sender = await self._connect()
        await self._sender.execute("SELECT pg_notify(%s, %s)", (CHANNEL, payload))

"""A scripted modem behind an in-memory asyncio transport, for AtEngine tests.

Replies are canned per command line (or per PDU body); each reply is cut by a splitter and its
chunks are delivered in order, one per loop iteration, the way a serial port hands them over.
"""

from __future__ import annotations

import asyncio
import random
from collections import deque
from collections.abc import Callable, Mapping
from typing import Any

from modem.at.engine import AtEngine

Splitter = Callable[[bytes], list[bytes]]
Reply = bytes | None | Callable[[str], bytes | None]  # None: the modem never answers
ESC_UNIT = "<ESC>"


def whole(data: bytes) -> list[bytes]:
    return [data]


def one_byte(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def random_split(seed: int) -> Splitter:
    rng = random.Random(seed)

    def split(data: bytes) -> list[bytes]:
        chunks = []
        while data:
            size = rng.randint(1, 7)
            chunks.append(data[:size])
            data = data[size:]
        return chunks

    return split


SPLITS: dict[str, Splitter] = {
    "whole": whole,
    "one_byte": one_byte,
    "random": random_split(1234),
}


class FakeModem(asyncio.Transport):
    """The far end: answers what the engine writes from `replies`, records everything."""

    def __init__(
        self,
        engine: AtEngine,
        replies: Mapping[str, Reply],
        *,
        echo: bool = False,
        split: Splitter = whole,
    ) -> None:
        super().__init__()
        self.engine = engine
        self.replies = dict(replies)
        self.echo = echo
        self.split = split
        self.written = bytearray()
        self.units: list[str] = []  # command lines, bodies and ESCs, in order
        self.log: list[tuple[str, str]] = []  # ("write", unit) / ("answered", unit)
        self.unexpected: list[str] = []
        self._rx = bytearray()
        self._queue: deque[tuple[bytes, str | None]] = deque()
        self._pumping = False
        self._closing = False
        self._drained = asyncio.Event()
        self._drained.set()
        self._seen: dict[str, asyncio.Event] = {}
        self._loop = asyncio.get_running_loop()
        engine.connection_made(self)

    # -- what the engine calls ------------------------------------------------------------

    def write(self, data: bytes | bytearray | memoryview) -> None:  # type: ignore[override]
        self.written += data
        self._rx += data
        while (unit := self._next_unit()) is not None:
            self._answer(unit)

    def close(self) -> None:
        if not self._closing:
            self._closing = True
            self._loop.call_soon(self.engine.connection_lost, None)

    def is_closing(self) -> bool:
        return self._closing

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return default

    # -- what tests call ------------------------------------------------------------------

    def inject(self, data: bytes) -> None:
        """Send unsolicited bytes, cut by the splitter."""
        self._deliver(data, None)

    def lose(self, exc: Exception) -> None:
        """The port vanishes (USB unplugged)."""
        self._closing = True
        self._loop.call_soon(self.engine.connection_lost, exc)

    async def wrote(self, unit: str) -> None:
        """Wait until the engine has written `unit`."""
        if unit not in self.units:
            await self._seen.setdefault(unit, asyncio.Event()).wait()

    async def drained(self) -> None:
        """Wait until every queued chunk was handed to the engine."""
        await self._drained.wait()

    @property
    def idle(self) -> bool:
        return not self._queue

    # -- internals ------------------------------------------------------------------------

    def _next_unit(self) -> str | None:
        for index, byte in enumerate(self._rx):
            if byte in (0x0D, 0x1A, 0x1B):
                raw = bytes(self._rx[:index])
                del self._rx[: index + 1]
                if byte == 0x1B:
                    return ESC_UNIT + raw.decode()
                return raw.decode()
        return None

    def _answer(self, unit: str) -> None:
        self.units.append(unit)
        self.log.append(("write", unit))
        if unit in self._seen:
            self._seen[unit].set()
        if self.echo and not unit.startswith(ESC_UNIT):
            self._deliver(unit.encode() + b"\r", None)
        if unit not in self.replies:
            self.unexpected.append(unit)
            self._deliver(b"\r\nERROR\r\n", unit)
            return
        reply = self.replies[unit]
        if callable(reply):
            reply = reply(unit)
        if reply is not None:
            self._deliver(reply, unit)

    def _deliver(self, data: bytes, unit: str | None) -> None:
        chunks = self.split(data) or [b""]
        for i, chunk in enumerate(chunks):
            self._queue.append((chunk, unit if i == len(chunks) - 1 else None))
        self._drained.clear()
        if not self._pumping:
            self._pumping = True
            self._loop.call_soon(self._pump)

    def _pump(self) -> None:
        chunk, answered = self._queue.popleft()
        if not self._closing and chunk:
            self.engine.data_received(chunk)
        if answered is not None:
            self.log.append(("answered", answered))
        if self._queue:
            self._loop.call_soon(self._pump)
        else:
            self._pumping = False
            self._drained.set()

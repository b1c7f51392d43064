"""Helpers for the simulator's tests: a recording host, a hand-moved clock, bounded waits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import cast

from modem.sim.device import SimModem
from modem.sim.server import Manipulator, loopback_opener

WAIT_S = 5.0  # generous bound for anything that should happen within a few loop turns
T0 = 1_795_801_318.0


class FakeClock:
    """A clock the test moves by hand."""

    def __init__(self, start: float = T0) -> None:
        self.t = start

    def __call__(self) -> float:
        return self.t

    def move(self, seconds: float) -> None:
        self.t += seconds


class Host(asyncio.Protocol):
    """The host side of a connection: records every read."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.data = bytearray()
        self.reads: list[bytes] = []
        self.read_times: list[float] = []
        self._changed = asyncio.Event()
        self._made = asyncio.Event()
        self.lost: asyncio.Future[Exception | None] = (
            asyncio.get_running_loop().create_future()
        )

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # pyserial-asyncio-fast's transport is not an asyncio.Transport subclass
        self.transport = cast(asyncio.Transport, transport)
        self._made.set()

    def data_received(self, data: bytes) -> None:
        self.data += data
        self.reads.append(data)
        self.read_times.append(asyncio.get_running_loop().time())
        self._changed.set()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(exc)

    def send(self, data: bytes | str) -> None:
        assert self.transport is not None
        self.transport.write(data.encode() if isinstance(data, str) else data)

    async def wait_for(self, needle: bytes, within: float = WAIT_S) -> bytes:
        """Wait until `needle` was received; returns everything so far and clears it."""
        async with asyncio.timeout(within):
            while needle not in self.data:
                self._changed.clear()
                await self._changed.wait()
        out = bytes(self.data)
        self.data.clear()
        return out

    async def command(self, line: str, final: bytes = b"OK\r\n") -> bytes:
        # serial transports call connection_made on a later loop turn
        async with asyncio.timeout(WAIT_S):
            await self._made.wait()
        self.send(line + "\r")
        return await self.wait_for(final)

    async def idle(self) -> bytes:
        """What arrived after a few loop turns (for asserting that nothing came)."""
        for _ in range(20):
            await asyncio.sleep(0)
        out = bytes(self.data)
        self.data.clear()
        return out


async def connect(modem: SimModem, manipulator: Manipulator | None = None) -> Host:
    """A host joined to the modem in memory, echo off."""
    opener = loopback_opener(modem, manipulator)
    _, protocol = await opener(Host)
    assert isinstance(protocol, Host)
    await protocol.command("ATE0")
    protocol.data.clear()
    return protocol


async def wait_until(
    predicate: Callable[[], bool], within: float = 30.0, step: float = 0.05
) -> None:
    """Poll a condition (files, another process) without blocking the loop, within a bound."""
    async with asyncio.timeout(within):
        while not predicate():  # noqa: ASYNC110 - nothing to await: the change happens elsewhere
            await asyncio.sleep(step)

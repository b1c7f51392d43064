"""Byte transports for a simulated modem: TCP, a PTY that real tools open, and in-memory."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import os
import random
import tty
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from modem.errors import PortClosed
from modem.sim.device import SimModem

_LOGGER = logging.getLogger(__name__)

LINE_MAX_BYTES = 4096  # longer input without CR is noise; real modems drop it too
READ_SIZE_BYTES = 4096
CTRL_Z = 0x1A
ESC = 0x1B
CR = 0x0D
LF = 0x0A
BACKSPACE = 0x08


class SimProtocol(asyncio.Protocol):
    """The modem's side of any byte stream: assembles host lines, shapes output by faults."""

    def __init__(self, modem: SimModem) -> None:
        self.modem = modem
        self._transport: asyncio.BaseTransport | None = None
        self._buf = bytearray()
        self._queue: deque[tuple[float, bytes]] = deque()
        self._writer: asyncio.Task[None] | None = None

    @property
    def connected(self) -> bool:
        return self._transport is not None

    # ---------------------------------------------------------------- asyncio.Protocol

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport
        self.modem.attach(self)
        _LOGGER.debug("%s: host connected", self.modem.log_name)

    def connection_lost(self, exc: Exception | None) -> None:
        self.modem.detach(self)
        self._transport = None
        self._queue.clear()
        if self._writer is not None:
            self._writer.cancel()
            self._writer = None
        _LOGGER.debug("%s: host gone (%s)", self.modem.log_name, exc)

    def data_received(self, data: bytes) -> None:
        for byte in data:
            if self.modem.state.pending_submit is not None:
                self._body_byte(byte)
            else:
                self._line_byte(byte)

    def _line_byte(self, byte: int) -> None:
        if byte == CR:
            line = self._buf.decode("utf-8", "replace")
            self._buf.clear()
            self.modem.process_line(self, line)
        elif byte == LF:
            return
        elif byte == ESC:
            # gammu opens with ESC CR to leave a prompt that might still be pending
            self._buf.clear()
        elif byte == BACKSPACE:
            del self._buf[-1:]
        elif len(self._buf) < LINE_MAX_BYTES:
            self._buf.append(byte)

    def _body_byte(self, byte: int) -> None:
        if byte in (CTRL_Z, ESC):
            body = self._buf.decode("utf-8", "replace")
            self._buf.clear()
            self.modem.process_body(self, body, cancel=byte == ESC)
        elif len(self._buf) < LINE_MAX_BYTES:
            self._buf.append(byte)

    # ---------------------------------------------------------------- HostLink

    def write_reply(self, data: bytes) -> None:
        self._output(data, reply=True)

    def write_urc(self, data: bytes) -> None:
        self._output(data, reply=False)

    def reset_input(self) -> None:
        self._buf.clear()

    def close(self) -> None:
        if self._transport is not None:
            self._transport.close()

    # ---------------------------------------------------------------- output shaping

    def _output(self, data: bytes, *, reply: bool) -> None:
        transport = self._transport
        if not isinstance(transport, asyncio.WriteTransport) or transport.is_closing():
            return
        faults = self.modem.faults
        if not faults.shapes_output and not self._queue and self._writer is None:
            transport.write(data)
            return
        delay = 0.0
        if reply:
            if faults.garbage_count > 0:
                faults.garbage_count -= 1
                data = bytes.fromhex(faults.garbage_hex) + data
            if faults.urc_mid_response and data.count(b"\r\n") >= 4:
                cut = data.index(b"\r\n", data.index(b"\r\n") + 2) + 2
                urc = b"\r\n" + faults.urc_mid_response.encode() + b"\r\n"
                data = data[:cut] + urc + data[cut:]
                faults.urc_mid_response = ""
            delay = faults.latency_ms / 1000.0
        self._queue.append((delay, data))
        if self._writer is None:
            self._writer = asyncio.get_running_loop().create_task(self._drain())

    async def _drain(self) -> None:
        faults = self.modem.faults
        rng = self.modem.rng
        try:
            while self._queue:
                delay, data = self._queue.popleft()
                if delay:
                    await asyncio.sleep(delay)
                if faults.merge_ms:
                    await asyncio.sleep(faults.merge_ms / 1000.0)
                    while self._queue:
                        data += self._queue.popleft()[1]
                if faults.drop_rate:
                    data = bytes(b for b in data if rng.random() >= faults.drop_rate)
                for i, chunk in enumerate(
                    _split(data, faults.chunk_size, faults.random_split, rng)
                ):
                    if i and faults.chunk_delay_ms:
                        await asyncio.sleep(faults.chunk_delay_ms / 1000.0)
                    transport = self._transport
                    if not isinstance(transport, asyncio.WriteTransport):
                        return
                    transport.write(chunk)
        finally:
            self._writer = None


def _split(data: bytes, size: int, at_random: bool, rng: random.Random) -> list[bytes]:
    if at_random and len(data) > 1:
        cuts = sorted(
            rng.sample(range(1, len(data)), k=min(len(data) - 1, rng.randint(1, 4)))
        )
        bounds = [0, *cuts, len(data)]
        return [data[a:b] for a, b in itertools.pairwise(bounds)]
    if size > 0:
        return [data[i : i + size] for i in range(0, len(data), size)]
    return [data]


# ---------------------------------------------------------------- TCP


class TcpPort:
    """A TCP listener for one modem; every connection is a host."""

    def __init__(self, modem: SimModem, host: str, port: int) -> None:
        self.modem = modem
        self.host = host
        self.port = port
        self._server: asyncio.Server | None = None
        self._protocols: list[SimProtocol] = []
        self._return: asyncio.Task[None] | None = None

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._server = await loop.create_server(
            self._make_protocol, self.host, self.port, reuse_address=True
        )
        if self.port == 0:
            self.port = self._server.sockets[0].getsockname()[1]
        self.modem.add_port(self)
        _LOGGER.info(
            "%s: listening on tcp %s:%s", self.modem.log_name, self.host, self.port
        )

    def _make_protocol(self) -> SimProtocol:
        protocol = SimProtocol(self.modem)
        self._protocols = [p for p in self._protocols if p.connected]
        self._protocols.append(protocol)
        return protocol

    @property
    def url(self) -> str:
        """What `modem.transport.open_port` takes."""
        return f"socket://{self.host}:{self.port}"

    def _drop(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for protocol in self._protocols:
            protocol.close()
        self._protocols.clear()

    def vanish(self, seconds: float) -> None:
        """Close every connection and refuse new ones for `seconds`."""
        self._drop()
        if self._return is not None:
            self._return.cancel()
        self._return = asyncio.get_running_loop().create_task(self._come_back(seconds))

    async def _come_back(self, seconds: float) -> None:
        await asyncio.sleep(seconds)
        loop = asyncio.get_running_loop()
        try:
            self._server = await loop.create_server(
                self._make_protocol, self.host, self.port, reuse_address=True
            )
        except OSError:
            # someone took the port meanwhile: an operator must free it
            _LOGGER.exception(
                "%s: tcp port %s cannot come back", self.modem.log_name, self.port
            )
            return
        _LOGGER.info("%s: tcp %s:%s is back", self.modem.log_name, self.host, self.port)

    async def close(self) -> None:
        if self._return is not None:
            self._return.cancel()
            self._return = None
        server = self._server
        self._drop()
        self.modem.remove_port(self)
        if server is not None:
            await server.wait_closed()


async def serve_tcp(modem: SimModem, host: str, port: int) -> TcpPort:
    """Listen for hosts on TCP (port 0 picks a free one: see `.port`)."""
    tcp = TcpPort(modem, host, port)
    await tcp.start()
    return tcp


# ---------------------------------------------------------------- PTY


class _PtyTransport(asyncio.Transport):
    """The master side of a PTY as an asyncio transport (reads by add_reader)."""

    def __init__(
        self, loop: asyncio.AbstractEventLoop, fd: int, protocol: asyncio.Protocol
    ) -> None:
        super().__init__()
        self._loop = loop
        self._fd = fd
        self._protocol = protocol
        self._closing = False
        self._pending = bytearray()
        os.set_blocking(fd, False)
        loop.add_reader(fd, self._read)
        protocol.connection_made(self)

    def _read(self) -> None:
        try:
            data = os.read(self._fd, READ_SIZE_BYTES)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            # EIO only when no slave fd is open; we keep one, so this is a real failure
            self._shutdown(exc)
            return
        if data:
            self._protocol.data_received(data)

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._closing:
            return
        if self._pending:
            self._pending += data
            return
        try:
            written = os.write(self._fd, data)
        except (BlockingIOError, InterruptedError):
            written = 0
        except OSError as exc:
            self._shutdown(exc)
            return
        if written < len(data):
            self._pending += bytes(data)[written:]
            self._loop.add_writer(self._fd, self._flush)

    def _flush(self) -> None:
        try:
            written = os.write(self._fd, self._pending)
        except (BlockingIOError, InterruptedError):
            return
        except OSError as exc:
            self._shutdown(exc)
            return
        del self._pending[:written]
        if not self._pending:
            self._loop.remove_writer(self._fd)

    def is_closing(self) -> bool:
        return self._closing

    def close(self) -> None:
        self._shutdown(None)

    def abort(self) -> None:
        self._shutdown(None)

    def _shutdown(self, exc: Exception | None) -> None:
        if self._closing:
            return
        self._closing = True
        self._loop.remove_reader(self._fd)
        self._loop.remove_writer(self._fd)
        self._loop.call_soon(self._protocol.connection_lost, exc)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"fd": self._fd}.get(name, default)

    def get_write_buffer_size(self) -> int:
        return len(self._pending)


class PtyPort:
    """A PTY for one modem with a stable symlink, so gammu or smsd can open it like a tty."""

    def __init__(self, modem: SimModem, link_path: Path) -> None:
        self.modem = modem
        self.link_path = link_path
        self.slave_path = ""
        self._master = -1
        self._slave = -1
        self._transport: _PtyTransport | None = None
        self._return: asyncio.TimerHandle | None = None

    def open(self) -> None:
        """Create the PTY and point the symlink at it."""
        master, slave = os.openpty()
        # raw at once: no echo, no CR/LF translation by the line discipline
        tty.setraw(slave)
        self._master, self._slave = master, slave
        self.slave_path = os.ttyname(slave)
        tmp = self.link_path.with_name(f".{self.link_path.name}.{os.getpid()}.tmp")
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        tmp.symlink_to(self.slave_path)
        if self.link_path.exists() and not self.link_path.is_symlink():
            tmp.unlink()
            self._close_fds()
            raise FileExistsError(f"{self.link_path} exists and is not a symlink")
        tmp.replace(self.link_path)
        loop = asyncio.get_running_loop()
        self._transport = _PtyTransport(loop, master, SimProtocol(self.modem))
        self.modem.add_port(self)
        _LOGGER.info(
            "%s: pty %s -> %s", self.modem.log_name, self.link_path, self.slave_path
        )

    def _close_fds(self) -> None:
        for fd in (self._master, self._slave):
            if fd >= 0:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = -1

    def _drop(self) -> None:
        if self._transport is not None:
            self._transport.close()
            self._transport = None
        self._close_fds()
        if self.link_path.is_symlink():
            self.link_path.unlink()

    def vanish(self, seconds: float) -> None:
        """Close the PTY and remove the symlink; recreate both after `seconds`."""
        self._drop()
        self.modem.remove_port(self)
        loop = asyncio.get_running_loop()
        self._return = loop.call_later(seconds, self._come_back)

    def _come_back(self) -> None:
        self._return = None
        self.open()

    def close(self) -> None:
        if self._return is not None:
            self._return.cancel()
            self._return = None
        self._drop()
        self.modem.remove_port(self)


async def open_pty(modem: SimModem, link_path: Path | str) -> PtyPort:
    """Serve the modem on a new PTY reachable at `link_path` (a symlink)."""
    port = PtyPort(modem, Path(link_path))
    port.open()
    return port


# ---------------------------------------------------------------- in memory


class Manipulator(Protocol):
    """Turns bytes on their way to the host into (delay before, chunk) reads."""

    def chunks(self, data: bytes) -> list[tuple[float, bytes]]: ...


@dataclass(frozen=True, slots=True)
class Whole:
    """Every write arrives as one read."""

    def chunks(self, data: bytes) -> list[tuple[float, bytes]]:
        return [(0.0, data)]


@dataclass(frozen=True, slots=True)
class OneByte:
    """One byte per read."""

    def chunks(self, data: bytes) -> list[tuple[float, bytes]]:
        return [(0.0, data[i : i + 1]) for i in range(len(data))]


@dataclass(slots=True)
class RandomSplit:
    """Reads cut at random points (seeded, so a failure can be replayed)."""

    seed: int = 0
    rng: random.Random | None = None

    def chunks(self, data: bytes) -> list[tuple[float, bytes]]:
        if self.rng is None:
            self.rng = random.Random(self.seed)
        return [(0.0, c) for c in _split(data, 0, True, self.rng)]


@dataclass(frozen=True, slots=True)
class Delayed:
    """Each read arrives after a delay, in chunks of `chunk_size` bytes (0: whole)."""

    delay_s: float = 0.01
    chunk_size: int = 0

    def chunks(self, data: bytes) -> list[tuple[float, bytes]]:
        size = self.chunk_size or len(data) or 1
        return [(self.delay_s, data[i : i + size]) for i in range(0, len(data), size)]


@dataclass(slots=True)
class Lossy:
    """Each byte is lost with probability `rate` (seeded)."""

    rate: float = 0.01
    seed: int = 0
    rng: random.Random | None = None

    def chunks(self, data: bytes) -> list[tuple[float, bytes]]:
        if self.rng is None:
            self.rng = random.Random(self.seed)
        rng = self.rng
        kept = bytes(b for b in data if rng.random() >= self.rate)
        return [(0.0, kept)] if kept else []


class _MemoryTransport(asyncio.Transport):
    """One end of an in-memory pair: writes reach the peer protocol on later loop turns."""

    def __init__(
        self,
        pair: LoopbackPair,
        peer: Callable[[], asyncio.Protocol],
        manipulator: Manipulator,
    ) -> None:
        super().__init__()
        self._pair = pair
        self._peer = peer
        self._manipulator = manipulator
        self._queue: deque[tuple[float, bytes]] = deque()
        self._task: asyncio.Task[None] | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if self._pair.closed:
            return
        self._queue.extend(self._manipulator.chunks(bytes(data)))
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._pump())

    async def _pump(self) -> None:
        try:
            while self._queue and self._pair.is_open():
                delay, chunk = self._queue.popleft()
                # a real port hands data over on a later loop turn, never re-entrantly
                await asyncio.sleep(delay)
                if chunk and self._pair.is_open():
                    self._peer().data_received(chunk)
        finally:
            self._task = None

    def is_closing(self) -> bool:
        return self._pair.closed

    def close(self) -> None:
        self._pair.close(None)

    def abort(self) -> None:
        self._pair.close(None)

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"peername": "loopback"}.get(name, default)

    def get_write_buffer_size(self) -> int:
        return 0

    def cancel(self) -> None:
        self._queue.clear()
        if self._task is not None:
            self._task.cancel()
            self._task = None


class LoopbackPair:
    """A host protocol joined to a SimProtocol in memory (both see connection_made/lost)."""

    def __init__(
        self,
        host: asyncio.Protocol,
        sim: SimProtocol,
        manipulator: Manipulator | None = None,
    ) -> None:
        self.host = host
        self.sim = sim
        self.closed = False
        # bytes to the host go through the manipulator; the host's bytes arrive whole
        self.host_transport = _MemoryTransport(self, lambda: self.sim, Whole())
        self.sim_transport = _MemoryTransport(
            self, lambda: self.host, manipulator or Whole()
        )

    def is_open(self) -> bool:
        return not self.closed

    def connect(self) -> None:
        self.sim.connection_made(self.sim_transport)
        self.host.connection_made(self.host_transport)

    def close(self, exc: Exception | None) -> None:
        if self.closed:
            return
        self.closed = True
        self.host_transport.cancel()
        self.sim_transport.cancel()
        loop = asyncio.get_running_loop()
        loop.call_soon(self.sim.connection_lost, None)
        loop.call_soon(self.host.connection_lost, exc)


class LoopbackPort:
    """A PortOpener for in-memory tests; vanishing closes the pair and refuses opens."""

    def __init__(self, modem: SimModem, manipulator: Manipulator | None = None) -> None:
        self.modem = modem
        self.manipulator = manipulator
        self.pairs: list[LoopbackPair] = []
        self.gone_until = 0.0
        modem.add_port(self)

    async def __call__(
        self, protocol_factory: Callable[[], asyncio.Protocol]
    ) -> tuple[asyncio.Transport, asyncio.Protocol]:
        loop = asyncio.get_running_loop()
        if loop.time() < self.gone_until:
            raise PortClosed("loopback", "has vanished")
        host = protocol_factory()
        pair = LoopbackPair(host, SimProtocol(self.modem), self.manipulator)
        self.pairs = [p for p in self.pairs if not p.closed]
        self.pairs.append(pair)
        pair.connect()
        return pair.host_transport, host

    def vanish(self, seconds: float) -> None:
        self.gone_until = asyncio.get_running_loop().time() + seconds
        for pair in self.pairs:
            pair.close(ConnectionResetError("simulated modem port vanished"))
        self.pairs.clear()


def loopback_opener(
    modem: SimModem, manipulator: Manipulator | None = None
) -> LoopbackPort:
    """A PortOpener joining a host protocol to the simulated modem in memory."""
    return LoopbackPort(modem, manipulator)

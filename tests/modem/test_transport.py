"""open_port: one code path for TCP sockets, PTYs and serial devices."""

from __future__ import annotations

import asyncio
import os
import tty

import pytest

from modem.errors import PortClosed
from modem.transport import open_port, url_opener


class Recorder(asyncio.Protocol):
    def __init__(self) -> None:
        self.data = bytearray()
        self.got_data = asyncio.Event()
        self.lost: asyncio.Future[Exception | None] = (
            asyncio.get_running_loop().create_future()
        )

    def data_received(self, data: bytes) -> None:
        self.data += data
        self.got_data.set()

    def connection_lost(self, exc: Exception | None) -> None:
        if not self.lost.done():
            self.lost.set_result(exc)


async def test_socket_url_round_trip() -> None:
    async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write((await reader.readuntil(b"\r")).upper())
        await writer.drain()
        writer.close()

    server = await asyncio.start_server(echo, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    async with server:
        transport, proto = await url_opener(f"socket://127.0.0.1:{port}")(Recorder)
        assert isinstance(proto, Recorder)
        transport.write(b"at\r")
        await asyncio.wait_for(proto.lost, 5)
        assert bytes(proto.data) == b"AT\r"


async def test_pty_path_round_trip() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    try:
        transport, proto = await open_port(path, Recorder)
        assert isinstance(proto, Recorder)
        transport.write(b"AT\r")
        loop = asyncio.get_running_loop()
        got = await loop.run_in_executor(None, os.read, master, 16)
        assert got == b"AT\r"
        os.write(master, b"\r\nOK\r\n")
        await asyncio.wait_for(proto.got_data.wait(), 5)
        assert bytes(proto.data) == b"\r\nOK\r\n"
        transport.close()
        assert await asyncio.wait_for(proto.lost, 5) is None
    finally:
        os.close(master)
        os.close(slave)


async def test_pty_vanishing_reports_connection_lost_with_the_error() -> None:
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    os.close(slave)  # only our port holds the slave: closing the master hangs it up
    transport, proto = await open_port(path, Recorder)
    assert isinstance(proto, Recorder)
    os.close(master)
    exc = await asyncio.wait_for(proto.lost, 5)
    assert exc is not None  # the modem vanished: an error, not a clean close
    assert transport.is_closing()


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("/dev/does-not-exist-smsgw", "cannot be opened"),
        ("socket://127.0.0.1", "socket://HOST:PORT"),
        ("rfc2217://127.0.0.1:1", "unsupported scheme"),
        ("socket://127.0.0.1:notaport", "socket://HOST:PORT"),
    ],
)
async def test_bad_urls_raise_port_closed_naming_the_port(url: str, words: str) -> None:
    with pytest.raises(PortClosed) as info:
        await open_port(url, Recorder)
    assert url in str(info.value)
    assert words in str(info.value)


async def test_refused_socket_is_port_closed() -> None:
    server = await asyncio.start_server(lambda r, w: None, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    server.close()
    await server.wait_closed()
    with pytest.raises(PortClosed, match="cannot be opened"):
        await open_port(f"socket://127.0.0.1:{port}", Recorder)

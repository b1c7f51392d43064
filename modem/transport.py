"""One way to open a modem port, whatever it is: a serial device, a PTY or a TCP socket."""

from __future__ import annotations

import asyncio
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Protocol

import serial
import serial_asyncio_fast

from modem.errors import PortClosed

DEFAULT_BAUDRATE = 115200
OPEN_TIMEOUT_S = 10.0


class PortOpener(Protocol):
    """Opens the port and joins it to a protocol; raises PortClosed when it cannot."""

    def __call__(
        self, protocol_factory: Callable[[], asyncio.Protocol]
    ) -> Awaitable[tuple[asyncio.Transport, asyncio.Protocol]]: ...


def _parse(url: str) -> tuple[str, str, int]:
    """("socket", host, port) or ("serial", path, 0); PortClosed for anything else."""
    parsed = urllib.parse.urlsplit(url)
    if parsed.scheme == "socket":
        try:
            port = parsed.port
        except ValueError:
            port = None
        if not parsed.hostname or port is None:
            raise PortClosed(url, "is not socket://HOST:PORT")
        return "socket", parsed.hostname, port
    if parsed.scheme == "file":
        return "serial", parsed.path, 0
    if parsed.scheme:
        raise PortClosed(url, f"has an unsupported scheme {parsed.scheme!r}")
    return "serial", url, 0


async def open_port(
    url: str,
    protocol_factory: Callable[[], asyncio.Protocol],
    *,
    baudrate: int = DEFAULT_BAUDRATE,
) -> tuple[asyncio.Transport, asyncio.Protocol]:
    """Open `url` (/dev/..., a PTY path, or socket://host:port) and connect the protocol."""
    kind, where, port = _parse(url)
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(OPEN_TIMEOUT_S):
            if kind == "socket":
                return await loop.create_connection(protocol_factory, where, port)
            # exclusive: a second process (ModemManager, another smsgw) must not share the modem
            return await serial_asyncio_fast.create_serial_connection(
                loop, protocol_factory, where, baudrate=baudrate, exclusive=True
            )
    except TimeoutError as exc:
        raise PortClosed(url, f"did not open within {OPEN_TIMEOUT_S:g} s") from exc
    except (OSError, serial.SerialException) as exc:
        raise PortClosed(url, f"cannot be opened: {exc}") from exc


def url_opener(url: str, *, baudrate: int = DEFAULT_BAUDRATE) -> PortOpener:
    """A PortOpener for a URL, for `Modem`."""

    def opener(
        protocol_factory: Callable[[], asyncio.Protocol],
    ) -> Awaitable[tuple[asyncio.Transport, asyncio.Protocol]]:
        return open_port(url, protocol_factory, baudrate=baudrate)

    return opener

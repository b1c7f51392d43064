"""A webhook receiver for tests: a local aiohttp app (the aiohttp fake_server pattern)
that can be down (connection refused) or up answering 2xx, 400, 410, 503, hanging
past the relay's deadline, or holding requests until the test lets them through; it
verifies every request's signature as a receiver would."""

from __future__ import annotations

import asyncio
import json
import socket
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from gateway.webhooks import signing


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Request:
    headers: dict[str, str]
    body: bytes
    answered: int | None  # the status it got; None while hanging (or cut short)
    verified: bool

    @property
    def json(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(self.body)
        return value

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]


@dataclass
class Receiver:
    """Set `mode` to "ok", "hang", "hold" (answered 2xx once `let_through()`), or an
    HTTP status ("400", "410", "503"...)."""

    secrets: list[str] = field(default_factory=list)
    mode: str = "ok"
    port: int = field(default_factory=free_port)
    requests: list[Request] = field(default_factory=list)
    _runner: web.AppRunner | None = None
    _release: asyncio.Event = field(default_factory=asyncio.Event)
    _changed: asyncio.Event = field(default_factory=asyncio.Event)
    _gate: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/smsgw?source=test"

    async def up(self) -> None:
        app = web.Application()
        app.router.add_post("/hooks/smsgw", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def down(self) -> None:
        """Stop listening: the relay's connections are refused."""
        self._release.set()  # hanging handlers end
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self._release = asyncio.Event()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        verified = False
        for secret in self.secrets:
            try:
                signing.verify(secret, dict(request.headers), body, now=time.time())
            except signing.InvalidSignature:
                continue
            verified = True
        entry = Request(dict(request.headers), body, None, verified)
        self.requests.append(entry)
        self._changed.set()
        if self.mode == "hang":
            await self._release.wait()
            return web.Response(status=504)
        if self.mode == "hold":
            await self._gate.wait()
            entry.answered = 204
            return web.Response(status=204)
        status = 204 if self.mode == "ok" else int(self.mode)
        entry.answered = status
        return web.Response(status=status, text="" if status == 204 else "nope " * 200)

    def let_through(self) -> None:
        """Answer the held requests 2xx, and the later ones at once ("hold" mode)."""
        self._gate.set()

    def accepted(self) -> list[Request]:
        """Requests answered 2xx, in the order they came."""
        return [r for r in self.requests if r.answered is not None and r.answered < 300]

    def answered(self, status: int) -> list[Request]:
        return [r for r in self.requests if r.answered == status]

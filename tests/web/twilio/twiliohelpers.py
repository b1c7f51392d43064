"""Helpers for the Twilio API tests: the daemon's services over simulated modems, served
on a real port, a `twilio.rest.Client` (the real package) pointed at it, and a local
receiver of Twilio-style webhooks.

The twilio client is synchronous (requests), so tests call it in a worker thread
(`call`) while the box runs on the test's event loop.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
from aiohttp import web
from twilio.http.http_client import TwilioHttpClient
from twilio.request_validator import RequestValidator
from twilio.rest import Client

from gateway import daemon as daemon_module
from gateway.twilio.records import AccountToken
from gateway.webhooks import relay as relay_module
from gateway.webhooks.relay import WebhookRelay
from tests.gateway.gwhelpers import Rig, rig
from tests.gateway.webhooks.receiver import free_port
from tests.gateway.webhooks.test_webhook_relay import FAST
from web.app import create_app

T = TypeVar("T")

FAST_OUTBOUND = """
[outbound]
parts_per_minute = 600
"""


def fast_relay(monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon's webhook relay with short timings (the settings' floors are for
    operators)."""
    monkeypatch.setattr(relay_module, "POLL_INTERVAL_S", 0.02)
    monkeypatch.setattr(relay_module, "SHUTDOWN_GRACE_S", 0.2)

    def fast(store: Any, bus: Any, settings: Any, **kwargs: Any) -> WebhookRelay:
        return WebhookRelay(store, bus, FAST, **kwargs)

    monkeypatch.setattr(daemon_module, "WebhookRelay", fast)


async def call(work: Callable[[], T]) -> T:
    """Run a (blocking) twilio client call in a thread; the box answers on this loop."""
    return await asyncio.to_thread(work)


def twilio_client(made: AccountToken, base_url: str) -> Client:
    """The real twilio.rest.Client, its API base URL changed to the box's."""
    http = TwilioHttpClient()
    assert http.session is not None
    http.session.trust_env = False  # no proxy from the environment for 127.0.0.1
    client = Client(made.account.sid, made.auth_token, http_client=http)
    client.api.base_url = base_url
    return client


@dataclass
class Box:
    rig: Rig
    base_url: str
    account: AccountToken
    client: Client
    requests: list[tuple[str, str]]  # (method, path and query) of every request served

    def listed(self) -> list[str]:
        """The Messages list requests served, in order (path and query)."""
        return [
            path
            for method, path in self.requests
            if method == "GET" and path.split("?")[0].endswith("/Messages.json")
        ]

    def client_for(self, made: AccountToken) -> Client:
        return twilio_client(made, self.base_url)


@asynccontextmanager
async def twilio_box(
    tmp_path: Path, ini: str = FAST_OUTBOUND, *, modems: int = 1, **account: Any
) -> AsyncIterator[Box]:
    """The box over simulated modems, its web app on a free port, one Twilio account
    (`account` are create_account's options) and a client for it."""
    async with rig(tmp_path, ini, modems=modems) as r:
        app = create_app(r.services, r.daemon.settings)
        requests: list[tuple[str, str]] = []

        async def note(request: web.Request, response: web.StreamResponse) -> None:
            requests.append((request.method, request.path_qs))

        app.on_response_prepare.append(note)
        runner = web.AppRunner(app, shutdown_timeout=0.5)
        await runner.setup()
        try:
            await web.TCPSite(runner, "127.0.0.1", 0).start()
            base_url = f"http://127.0.0.1:{runner.addresses[0][1]}"
            made = await r.services.twilio.create_account(
                "helpdesk", actor="test", **account
            )
            yield Box(r, base_url, made, twilio_client(made, base_url), requests)
        finally:
            await runner.cleanup()


@dataclass
class Hook:
    """One webhook request as the receiver got it."""

    url: str  # as configured: what Twilio-style signatures are computed over
    params: dict[str, str]
    signature: str
    headers: dict[str, str]

    def valid(self, token: str) -> bool:
        return bool(
            RequestValidator(token).validate(self.url, self.params, self.signature)
        )


@dataclass
class HookReceiver:
    """A local aiohttp app taking Twilio-style form POSTs on any path; `refuse` answers
    that many requests 503 first."""

    port: int = field(default_factory=free_port)
    hooks: list[Hook] = field(default_factory=list)
    refused: list[Hook] = field(default_factory=list)
    refuse: int = 0
    _runner: web.AppRunner | None = None

    def url(self, path_qs: str) -> str:
        return f"http://127.0.0.1:{self.port}{path_qs}"

    async def up(self) -> None:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, shutdown_timeout=0.1)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()

    async def down(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _handle(self, request: web.Request) -> web.Response:
        form = await request.post()
        hook = Hook(
            url=self.url(request.path_qs),
            params={k: str(v) for k, v in form.items()},
            signature=request.headers.get("X-Twilio-Signature", ""),
            headers=dict(request.headers),
        )
        if self.refuse > 0:
            self.refuse -= 1
            self.refused.append(hook)
            return web.Response(status=503)
        self.hooks.append(hook)
        # a TwiML answer, as a Twilio app would give; the box does not act on it
        return web.Response(
            text="<Response><Message>Thanks!</Message></Response>",
            content_type="text/xml",
        )

    def at(self, path: str) -> list[Hook]:
        """The requests taken on `path` (without the query), in order."""
        return [h for h in self.hooks if h.url.split("?")[0].endswith(path)]

"""schemathesis against the served OpenAPI document and the real app: a live server on a
random port over real services (a temporary database with seeded data), a real API
token; every operation, generated inputs valid and invalid. No 5xx; every answer's
status, content type and body are the documented ones."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from aiohttp import web
from apihelpers import CUSTOMER, OTHER, inbound, modem
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from webhelpers import PASSWORD, T0, web_settings

from gateway.daemon import Daemon
from gateway.domain import utcnow
from gateway.inbox.records import SYSTEM
from web.api.openapi import document
from web.app import create_app
from web.routes import ROUTES

pytestmark = pytest.mark.slow

CHECKS = [
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
    content_type_conformance,
]
# Per operation: enough to reach the odd corners of each parser, bounded so the whole
# run stays near a minute on the CI machine.
MAX_EXAMPLES = 40
START_TIMEOUT_S = 30.0


@dataclass
class Live:
    url: str
    token: str


async def _seed(daemon: Daemon) -> str:
    """Users, a token, modems, texts both ways: something for ids 1, 2... to find."""
    services = daemon.services
    assert services is not None
    assert daemon.store is not None
    await services.auth.add_user("admin", PASSWORD, role="admin", actor="test")
    token = await services.auth.create_token("admin", "schemathesis", actor="test")
    now = utcnow()
    await modem(daemon.store, "usb0", now=now, state="ready", signal_dbm=-71)
    await modem(daemon.store, "usb1", now=now, state="offline", last_error="gone")
    for i in range(3):
        await services.outbound.send(CUSTOMER, f"notification {i}", context={"i": i})
    await inbound(daemon.store, "a reply", now=now)
    await inbound(daemon.store, "hello", sender=OTHER, now=now + timedelta(seconds=1))
    await services.contacts.create(
        "+447700900777", name="Ada", attributes={"tier": "gold"}, actor=SYSTEM
    )
    await services.inbox.add_note(1, "a note", actor=SYSTEM)
    await services.inbox.add_tags(1, ["vip"], actor=SYSTEM)
    return token.token


@pytest.fixture(scope="module")
def live(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Live]:
    """The daemon's services and the web app on 127.0.0.1:<random>, in a thread of its
    own (schemathesis calls over real HTTP, synchronously)."""
    tmp_path: Path = tmp_path_factory.mktemp("schemathesis")
    found: dict[str, Any] = {}
    ready = threading.Event()
    loop = asyncio.new_event_loop()
    stop = asyncio.Event()

    async def serve() -> None:
        settings_ = web_settings(tmp_path)
        daemon = Daemon(settings_, clock=lambda: T0)
        services = await daemon.start()
        try:
            found["token"] = await _seed(daemon)
            runner = web.AppRunner(create_app(services, settings_))
            await runner.setup()
            site = web.TCPSite(runner, "127.0.0.1", 0)
            await site.start()
            server = site._server
            assert isinstance(server, asyncio.base_events.Server)
            found["port"] = server.sockets[0].getsockname()[1]
            ready.set()
            await stop.wait()
            await runner.cleanup()
        finally:
            ready.set()
            await daemon.stop()

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(serve())
        except BaseException as exc:  # shown by the fixture below
            found["error"] = exc

    thread = threading.Thread(target=run, name="live-api", daemon=True)
    thread.start()
    assert ready.wait(START_TIMEOUT_S), "the live server did not start"
    if "error" in found:
        raise found["error"]
    yield Live(f"http://127.0.0.1:{found['port']}", found["token"])
    loop.call_soon_threadsafe(stop.set)
    thread.join(START_TIMEOUT_S)
    loop.close()


def _schema() -> Any:
    # The document as the app serves it (test_api_openapi.py checks they are equal),
    # loaded at import: schemathesis makes one test per operation from it.
    access = {route.name: route.access for route in ROUTES}
    config = schemathesis.Config.from_dict(
        {"generation": {"max-examples": MAX_EXAMPLES, "mode": "all"}}
    )
    return schemathesis.openapi.from_dict(document(access), config=config)


schema = _schema()


@schema.parametrize()
@settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_keeps_to_its_document(case: Any, live: Live) -> None:
    case.call_and_validate(
        base_url=live.url,
        headers={"Authorization": f"Bearer {live.token}"},
        checks=CHECKS,
    )

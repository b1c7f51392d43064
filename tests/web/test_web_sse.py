"""web.sse: a route streams bus events to the browser; the app's shutdown ends streams."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient
from webhelpers import T0, AiohttpClient, sign_in

from gateway.config import Settings
from gateway.events import ConversationAssigned, DomainEvent
from gateway.services import Services
from web import keys
from web.access import Access
from web.app import create_app
from web.routes import ROUTES, Route
from web.sse import close_streams

WITHIN_S = 5.0


def _encode(event: DomainEvent) -> tuple[str, Any] | None:
    if isinstance(event, ConversationAssigned):
        return "conversation.assigned", {"id": event.conversation_id}
    return None


async def _events(request: web.Request) -> web.StreamResponse:
    from web.sse import event_stream

    sub = request.app[keys.BUS].subscribe()
    return await event_stream(request, sub, _encode)


@pytest.fixture
async def sse_client(
    services: Services, settings: Settings, aiohttp_client: AiohttpClient, users: None
) -> TestClient[Any, Any]:
    route = Route("GET", "/events", _events, "test.events", Access.USER)
    return await aiohttp_client(create_app(services, settings, routes=(*ROUTES, route)))


async def test_events_reach_the_browser_and_shutdown_ends_the_stream(
    sse_client: TestClient[Any, Any], services: Services
) -> None:
    await sign_in(sse_client, "agent")
    response = await sse_client.get("/events")
    assert response.status == 200
    assert response.content_type == "text/event-stream"
    services.bus.publish(ConversationAssigned(7, None, T0))
    async with asyncio.timeout(WITHIN_S):
        assert await response.content.readline() == b"event: conversation.assigned\n"
        assert await response.content.readline() == b'data: {"id": 7}\n'
        assert await response.content.readline() == b"\n"
    assert len(sse_client.app[keys.STREAMS]) == 1

    await close_streams(sse_client.app)
    async with asyncio.timeout(WITHIN_S):
        assert await response.content.read() == b""  # the stream ended
    assert not sse_client.app[keys.STREAMS]


async def test_a_stream_needs_a_session(sse_client: TestClient[Any, Any]) -> None:
    response = await sse_client.get("/events", allow_redirects=False)
    assert response.status == 303

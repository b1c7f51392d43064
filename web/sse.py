"""Server-sent events: a route streams domain events from the bus to a browser.

A stream is registered in `app[keys.STREAMS]`, so the app's shutdown ends it at once
instead of waiting for the browser to leave.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable

from aiohttp import web

from gateway.domain import JsonValue
from gateway.events import DomainEvent, Subscription
from web import keys

HEARTBEAT_S = (
    15.0  # a comment line this often keeps proxies from closing an idle stream
)

# (event name, JSON data) for the browser, or None to skip the event
Encoder = Callable[[DomainEvent], tuple[str, JsonValue] | None]


async def event_stream(
    request: web.Request,
    sub: Subscription,
    encode: Encoder,
    *,
    hello: JsonValue = None,
) -> web.StreamResponse:
    """Send `sub`'s events as `event: NAME` / `data: JSON` until the browser or the app
    goes away; the subscription is closed either way. `hello`, when given, goes first
    as `event: hello` (what the page needs to know it missed nothing)."""
    streams = request.app[keys.STREAMS]
    streams.add(sub)
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "X-Accel-Buffering": "no"}
    )
    try:
        await response.prepare(request)
        if hello is not None:
            await response.write(_frame("hello", hello))
        while True:
            try:
                async with asyncio.timeout(HEARTBEAT_S):
                    event = await sub.queue.get()
            except TimeoutError:
                await response.write(b": keep-alive\n\n")
                continue
            if event is None:  # closed, or fell too far behind: the browser reconnects
                break
            message = encode(event)
            if message is not None:
                await response.write(_frame(*message))
    except ConnectionResetError:
        pass  # the browser left
    finally:
        streams.discard(sub)
        sub.close()
    return response


def _frame(name: str, data: JsonValue) -> bytes:
    return f"event: {name}\ndata: {json.dumps(data)}\n\n".encode()


async def close_streams(app: web.Application) -> None:
    """on_shutdown: end every open stream."""
    streams = app[keys.STREAMS]
    for sub in list(streams):
        sub.close()

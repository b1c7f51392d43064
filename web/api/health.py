"""GET /healthz: no sign-in; the store answers, and each modem's state."""

from __future__ import annotations

from aiohttp import web

from web import keys
from web.schemas import health_out


async def healthz(request: web.Request) -> web.Response:
    health = await request.app[keys.OVERVIEW].health()
    return web.json_response(health_out(health), status=200 if health.ok else 503)

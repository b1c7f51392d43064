"""GET /api/v1/openapi.json: the API's OpenAPI document (public: it is documentation)."""

from __future__ import annotations

from aiohttp import web

from web import keys
from web.api.objects import respond
from web.api.openapi import document


async def openapi(request: web.Request) -> web.Response:
    return respond(document(request.app[keys.ACCESS]))

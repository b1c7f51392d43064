"""REST API v1: who am I, modems, users and the audit log (JSON; one error shape)."""

from __future__ import annotations

from aiohttp import web

from gateway.auth.records import Identity
from web import keys
from web.schemas import (
    audit_out,
    identity_out,
    modem_out,
    path_int,
    query_int,
    user_out,
)


def _identity(request: web.Request) -> Identity:
    identity = request[keys.IDENTITY]
    if identity is None:  # only public routes lack one, and these are not public
        raise web.HTTPUnauthorized
    return identity


async def me(request: web.Request) -> web.Response:
    return web.json_response({"ok": True, "data": identity_out(_identity(request))})


async def modems(request: web.Request) -> web.Response:
    views = await request.app[keys.OVERVIEW].modems()
    return web.json_response({"ok": True, "data": [modem_out(m) for m in views]})


async def users(request: web.Request) -> web.Response:
    rows = await request.app[keys.AUTH].list_users()
    return web.json_response({"ok": True, "data": [user_out(u) for u in rows]})


async def user(request: web.Request) -> web.Response:
    found = await request.app[keys.AUTH].get_user(path_int(request, "id"))
    return web.json_response({"ok": True, "data": user_out(found)})


async def audit(request: web.Request) -> web.Response:
    limit = query_int(request, "limit", default=100, maximum=500) or 100
    before = query_int(request, "before", default=None)
    rows = await request.app[keys.AUDIT].list(limit=limit, before_id=before)
    return web.json_response({"ok": True, "data": [audit_out(e) for e in rows]})

"""REST API v1: who am I, users and the audit log (JSON; one error shape)."""

from __future__ import annotations

from aiohttp import web

from web import keys
from web.api.common import identity
from web.api.objects import page, respond, whole_list
from web.api.schemas import USER_ID, AuditList
from web.schemas import audit_out, identity_out, user_out


async def me(request: web.Request) -> web.Response:
    return respond(identity_out(identity(request)))


async def users(request: web.Request) -> web.Response:
    rows = await request.app[keys.AUTH].list_users()
    return respond(whole_list(rows, user_out))


async def user(request: web.Request) -> web.Response:
    found = await request.app[keys.AUTH].get_user(USER_ID.read(request))
    return respond(user_out(found))


async def audit(request: web.Request) -> web.Response:
    listing = AuditList.parse(request.query)
    rows = await request.app[keys.AUDIT].list(
        limit=listing.limit + 1, before_id=listing.before_id
    )
    return respond(page(rows, listing.limit, audit_out, listing.cursor_after))

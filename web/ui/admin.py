"""Admins' pages: users, API tokens, the audit log."""

from __future__ import annotations

from aiohttp import web

from web import keys
from web.render import render, url_for
from web.schemas import form_fields, path_int, query_int
from web.ui.session import redirect

AUDIT_PAGE = 100


async def users(request: web.Request) -> web.Response:
    rows = await request.app[keys.AUTH].list_users()
    return render(request, "users.html", users=rows)


async def add_user(request: web.Request) -> web.Response:
    form = await form_fields(request)
    await request.app[keys.AUTH].add_user(
        form.get("username", ""),
        form.get("password", ""),
        role=form.get("role", ""),
        display_name=form.get("display_name") or None,
        actor=_actor(request),
    )
    return redirect(url_for(request, "users"))


async def disable_user(request: web.Request) -> web.Response:
    return await _set_active(request, active=False)


async def enable_user(request: web.Request) -> web.Response:
    return await _set_active(request, active=True)


async def _set_active(request: web.Request, *, active: bool) -> web.Response:
    username = request.match_info["username"]
    await request.app[keys.AUTH].set_active(username, active, actor=_actor(request))
    return redirect(url_for(request, "users"))


async def tokens(request: web.Request) -> web.Response:
    rows = await request.app[keys.AUTH].list_tokens()
    return render(request, "tokens.html", tokens=rows)


async def revoke_token(request: web.Request) -> web.Response:
    token_id = path_int(request, "id")
    await request.app[keys.AUTH].revoke_token(token_id, actor=_actor(request))
    return redirect(url_for(request, "tokens"))


async def audit(request: web.Request) -> web.Response:
    before = query_int(request, "before", default=None)
    rows = await request.app[keys.AUDIT].list(limit=AUDIT_PAGE, before_id=before)
    older = rows[-1].id if len(rows) == AUDIT_PAGE else None
    return render(request, "audit.html", events=rows, older=older)


def _actor(request: web.Request) -> str:
    identity = request[keys.IDENTITY]
    if identity is None:  # admin routes always have one; this keeps mypy and us honest
        raise web.HTTPUnauthorized
    return identity.actor

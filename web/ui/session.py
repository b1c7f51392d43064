"""Signing in and out."""

from __future__ import annotations

from aiohttp import web

from gateway.auth.errors import LoginThrottled, NotAuthenticated
from web import keys
from web.middleware import safe_next
from web.render import render
from web.schemas import form_fields


def client_address(request: web.Request) -> str:
    """The peer's address, which login throttling counts failures against."""
    return request.remote or "unknown"


def redirect(location: str) -> web.Response:
    """303 See Other: after a form, the browser GETs `location`."""
    return web.Response(status=303, headers={"Location": location})


async def login_form(request: web.Request) -> web.Response:
    target = safe_next(request.query.get("next"))
    if request[keys.IDENTITY] is not None:
        return redirect(target)
    first_run = not await request.app[keys.AUTH].has_users()
    return render(
        request, "login.html", next=target, username="", error=None, first_run=first_run
    )


async def login_submit(request: web.Request) -> web.Response:
    form = await form_fields(request)
    username, target = form.get("username", ""), safe_next(form.get("next"))
    try:
        new = await request.app[keys.AUTH].login(
            username,
            form.get("password", ""),
            address=client_address(request),
            user_agent=request.headers.get("User-Agent"),
        )
    except (NotAuthenticated, LoginThrottled) as exc:
        page = render(
            request,
            "login.html",
            status=exc.http_status,
            next=target,
            username=username,
            error=str(exc),
            first_run=False,
        )
        if isinstance(exc, LoginThrottled):
            page.headers["Retry-After"] = str(exc.details()["retry_after_s"])
        return page
    response = redirect(target)
    request.app[keys.COOKIE].set_session(response, new.token)
    return response


async def logout(request: web.Request) -> web.Response:
    identity = request[keys.IDENTITY]
    if identity is not None:
        await request.app[keys.AUTH].logout(identity)
    response = redirect("/login")
    request.app[keys.COOKIE].clear_session(response)
    return response

"""The router, enumerated: every route but the pinned public ones requires signing in, and
admin routes refuse agents; the Twilio API's routes answer Twilio's 401 (code 20003)."""

from __future__ import annotations

import re
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from webhelpers import PASSWORD, assert_error_shape, sign_in

from gateway.services import Services
from web.access import Access
from web.keys import ACCESS

# Changing this set is a security decision: review it as one. The OpenAPI document is
# public: it is documentation, and says nothing a caller could not learn by calling.
PUBLIC = {"login", "login.submit", "healthz", "static", "api.openapi"}
TWILIO_401 = {
    "code": 20003,
    "message": "Authenticate",
    "more_info": "https://www.twilio.com/docs/errors/20003",
    "status": 401,
}


def _path(route: web.AbstractRoute) -> str:
    """A concrete path for a route: placeholders filled, a real file for static."""
    info = route.resource.get_info() if route.resource is not None else {}
    if "directory" in info:
        return f"{info['prefix']}/app.css"
    canonical = route.resource.canonical if route.resource is not None else "/"
    return re.sub(r"\{[^}]+\}", "1", canonical)


def _routes(app: web.Application) -> list[tuple[str, str, str]]:
    """(name, method, path) of every route the router has."""
    found = [(r.name or "", r.method, _path(r)) for r in app.router.routes()]
    assert len(found) > 10
    return found


def test_only_the_pinned_routes_are_public(app: web.Application) -> None:
    access = app[ACCESS]
    assert {name for name, a in access.items() if a is Access.PUBLIC} == PUBLIC
    # Every route is declared in the table (none added around it, none nameless).
    assert {name for name, _, _ in _routes(app)} == set(access)


async def test_every_other_route_requires_sign_in(client: TestClient[Any, Any]) -> None:
    for name, method, path in _routes(client.app):
        response = await client.request(method, path, allow_redirects=False)
        where = f"{method} {path} ({name})"
        if name == "login.submit":  # its handler answered: an empty form is no sign-in
            assert response.status == 401, where
            assert "wrong username or password" in await response.text()
            continue
        if name in PUBLIC:
            assert response.status == 200, where
            continue
        if path.startswith("/api/"):
            await assert_error_shape(response, 401, "unauthorized")
            assert response.headers["WWW-Authenticate"].startswith("Bearer"), where
        elif client.app[ACCESS][name] is Access.SCRAPE:
            # no session needed: a loopback client through no proxy, without a
            # [metrics] scrape_token (tests/web/test_web_prometheus.py has the rest)
            assert response.status == 200, where
        elif client.app[ACCESS][name] is Access.TWILIO:
            assert response.status == 401, where
            assert await response.json() == TWILIO_401, where
            assert response.headers["WWW-Authenticate"].startswith("Basic"), where
        else:
            assert response.status == 303, where
            assert response.headers["Location"].startswith("/login"), where


async def test_a_bad_session_cookie_or_bearer_token_is_no_sign_in(
    client: TestClient[Any, Any],
) -> None:
    client.session.cookie_jar.update_cookies({"smsgw_session": "forged"})
    response = await client.get("/modems", allow_redirects=False)
    assert response.status == 303
    assert response.headers["Location"] == "/login?next=%2Fmodems"
    assert (
        'smsgw_session=""' in response.headers["Set-Cookie"]
    )  # the stale one is cleared
    for header in ("Bearer forged", "Basic YWRtaW46eA==", "Bearer "):
        response = await client.get("/api/v1/me", headers={"Authorization": header})
        await assert_error_shape(response, 401, "unauthorized")


async def test_the_twilio_api_takes_no_session_or_token(
    client: TestClient[Any, Any], services: Services
) -> None:
    """A console session or an API token is no Twilio account: 401 20003, no redirect."""
    await sign_in(client, "admin")
    token = (await services.auth.create_token("admin", "t", actor="test")).token
    path = "/2010-04-01/Accounts/AC00000000000000000000000000000000/Messages.json"
    for headers in ({}, {"Authorization": f"Bearer {token}"}):
        response = await client.get(path, headers=headers, allow_redirects=False)
        assert response.status == 401
        assert await response.json() == TWILIO_401
    # a path under the prefix that no route has: still Twilio's answer, never a redirect
    response = await client.get("/2010-04-01/Accounts/AC1/Calls.json")
    assert (response.status, (await response.json())["code"]) == (401, 20003)


async def test_admin_routes_refuse_agents(
    client: TestClient[Any, Any], services: Services
) -> None:
    token = (await services.auth.create_token("agent", "t", actor="test")).token
    csrf = await sign_in(client, "agent")
    admin_routes = [
        (name, method, path)
        for name, method, path in _routes(client.app)
        if client.app[ACCESS][name] is Access.ADMIN
    ]
    assert {name for name, _, _ in admin_routes} >= {"users", "audit", "api.users"}
    for name, method, path in admin_routes:
        if path.startswith("/api/"):
            response = await client.request(
                method, path, headers={"Authorization": f"Bearer {token}"}
            )
            await assert_error_shape(response, 403, "forbidden")
            continue
        response = await client.request(
            method, path, data={"csrf_token": csrf}, allow_redirects=False
        )
        assert response.status == 403, name
        assert "admins only" in await response.text(), name


async def test_agents_do_not_see_admin_links(client: TestClient[Any, Any]) -> None:
    await sign_in(client, "agent")
    page = await (await client.get("/")).text()
    assert 'href="/modems"' in page
    assert 'href="/users"' not in page
    assert 'href="/audit"' not in page
    await sign_in(client, "admin")
    page = await (await client.get("/")).text()
    assert 'href="/users"' in page
    assert 'href="/audit"' in page


async def test_signing_in_returns_to_the_page_asked_for(
    client: TestClient[Any, Any],
) -> None:
    response = await client.get("/audit?before=5", allow_redirects=False)
    assert response.headers["Location"] == "/login?next=%2Faudit%3Fbefore%3D5"
    form = {"username": "admin", "password": PASSWORD, "next": "/audit?before=5"}
    response = await client.post("/login", data=form, allow_redirects=False)
    assert response.headers["Location"] == "/audit?before=5"
    for evil in ("//evil.example/x", "https://evil.example/", "/\\evil.example", "x"):
        client.session.cookie_jar.clear()
        form["next"] = evil
        response = await client.post("/login", data=form, allow_redirects=False)
        assert response.headers["Location"] == "/", evil

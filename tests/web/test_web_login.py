"""Signing in and out through the forms: the cookie, throttling, first run, disabled users."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient
from webhelpers import PASSWORD, AiohttpClient, Clock, web_settings

from gateway.daemon import Daemon
from gateway.services import Services
from web.app import create_app

WRONG = "wrong username or password"


async def _login(
    client: TestClient[Any, Any], password: str, username: str = "agent"
) -> tuple[int, str, Any]:
    client.session.cookie_jar.clear()  # a fresh browser: no session, so no CSRF token
    response = await client.post(
        "/login",
        data={"username": username, "password": password},
        allow_redirects=False,
    )
    return response.status, await response.text(), response


async def test_signing_in_sets_a_hardened_session_cookie(
    client: TestClient[Any, Any],
) -> None:
    status, _, response = await _login(client, PASSWORD)
    assert status == 303
    assert response.headers["Location"] == "/"
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("smsgw_session=")
    for flag in ("HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=604800"):
        assert flag in cookie
    assert "Secure" not in cookie  # http://: a Secure cookie would never come back
    page = await (await client.get("/")).text()
    assert "Sign out" in page


async def test_the_cookie_is_secure_behind_https(
    tmp_path: Path, aiohttp_client: AiohttpClient
) -> None:
    settings = web_settings(tmp_path, web="base_url = https://sms.example.com\n")
    daemon = Daemon(settings)
    services = await daemon.start()
    try:
        await services.auth.add_user("agent", PASSWORD, role="agent", actor="t")
        client = await aiohttp_client(create_app(services, settings))
        response = await client.post(
            "/login",
            data={"username": "agent", "password": PASSWORD},
            allow_redirects=False,
        )
        assert "Secure" in response.headers["Set-Cookie"]
    finally:
        await daemon.stop()


async def test_a_wrong_password_shows_the_form_again(
    client: TestClient[Any, Any],
) -> None:
    status, page, response = await _login(client, "not it")
    assert status == 401
    assert WRONG in page
    assert 'value="agent"' in page  # the username is kept
    assert "Set-Cookie" not in response.headers


async def test_login_throttling_refuses_even_the_right_password_then_lets_go(
    client: TestClient[Any, Any], services: Services, clock: Clock
) -> None:
    limit = services.auth.settings.login_failure_limit
    for _ in range(limit):
        status, page, _ = await _login(client, "guess")
        assert (status, WRONG in page) == (401, True)
        clock.advance(1)
    status, page, response = await _login(client, PASSWORD)
    assert status == 429
    assert "too many failed sign-ins for this username; try again in 15 minutes" in page
    assert int(response.headers["Retry-After"]) == 900 - limit
    assert "Set-Cookie" not in response.headers
    clock.advance(600)
    assert (await _login(client, PASSWORD))[0] == 429  # still within the window
    clock.advance(300)
    assert (await _login(client, PASSWORD))[0] == 303


async def test_a_success_resets_the_count(
    client: TestClient[Any, Any], services: Services
) -> None:
    limit = services.auth.settings.login_failure_limit
    for _ in range(3):
        for _ in range(limit - 1):
            assert (await _login(client, "guess"))[0] == 401
        assert (await _login(client, PASSWORD))[0] == 303


async def test_logout_ends_the_session_for_good(client: TestClient[Any, Any]) -> None:
    await _login(client, PASSWORD)
    cookie = client.session.cookie_jar.filter_cookies(client.make_url("/"))
    stolen = cookie["smsgw_session"].value
    page = await (await client.get("/")).text()
    csrf = page.split('name="csrf-token" content="')[1].split('"')[0]
    response = await client.post(
        "/logout", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert response.status == 303
    assert response.headers["Location"] == "/login"
    client.session.cookie_jar.update_cookies({"smsgw_session": stolen})
    response = await client.get("/", allow_redirects=False)
    assert response.status == 303  # the old cookie is worth nothing now


async def test_a_disabled_account_is_told_so_after_the_right_password(
    client: TestClient[Any, Any], services: Services
) -> None:
    await services.auth.set_active("agent", False, actor="test")
    status, page, _ = await _login(client, PASSWORD)
    assert status == 401
    assert "the account agent is disabled; ask an admin" in page
    status, page, _ = await _login(client, "guess")
    assert WRONG in page


async def test_the_login_page_says_how_to_create_the_first_admin(
    services: Services, settings: Any, aiohttp_client: AiohttpClient
) -> None:
    client = await aiohttp_client(create_app(services, settings))
    page = await (await client.get("/login")).text()
    assert "smsgw user add admin --role admin" in page
    await services.auth.add_user("admin", PASSWORD, role="admin", actor="t")
    page = await (await client.get("/login")).text()
    assert "smsgw user add" not in page


async def test_a_signed_in_user_going_to_login_goes_home(
    client: TestClient[Any, Any],
) -> None:
    await _login(client, PASSWORD)
    response = await client.get("/login?next=/modems", allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/modems")

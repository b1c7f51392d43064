"""The console's pages over real services: each nav link works, untrusted text is escaped,
every response carries the security headers, static files come from the package."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient
from webhelpers import PASSWORD, T0, sign_in

from gateway.config import Settings
from gateway.services import Services
from gateway.storage import queries
from web.middleware import CONTENT_SECURITY_POLICY

SCRIPT = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


async def test_every_nav_link_leads_to_a_page(client: TestClient[Any, Any]) -> None:
    await sign_in(client, "admin")
    for path, heading in (
        ("/", "Inbox"),
        ("/contacts", "Contacts"),
        ("/modems", "Modems"),
        ("/webhooks", "Webhooks"),
        ("/users", "Users"),
        ("/tokens", "API tokens"),
        ("/audit", "Audit log"),
    ):
        response = await client.get(path)
        assert response.status == 200, path
        page = await response.text()
        assert f"<h1>{heading}</h1>" in page, path
        assert 'aria-current="page"' in page or path == "/tokens", path


async def test_with_several_boxes_the_modems_page_says_which_box_and_which_are_gone(
    client: TestClient[Any, Any], services: Services, settings: Settings
) -> None:
    store = services.outbound._store
    here = settings.gateway.node_name
    await sign_in(client, "agent")
    page = await (await client.get("/modems")).text()
    assert "Boxes on this database" not in page  # one box: nothing to tell apart

    # the clock stands at T0; this box beat at start, pi-b 30 s ago, pi-c 10 min ago
    for node, ago, modem in (("pi-b", 30, "b-usb0"), ("pi-c", 600, "c-usb0")):
        beat = T0 - timedelta(seconds=ago)
        await store.run(queries.heartbeat, node, pid=9, started_at=beat, now=beat)
        await store.run(queries.upsert_modem, modem, now=beat, node=node, state="ready")
    page = await (await client.get("/modems")).text()
    assert "Boxes on this database" in page
    rows = {}
    for name in (here, "pi-b", "pi-c"):
        found = re.search(rf'<tr data-node="{name}">(.*?)</tr>', page, re.S)
        assert found is not None, name
        rows[name] = found[1]
    assert "(this box)" in rows[here]
    assert ">alive<" in rows["pi-b"]
    assert "b-usb0" in rows["pi-b"]
    assert ">gone<" in rows["pi-c"]  # silent for over node_timeout_s (120 s)
    assert "<td>pi-c</td>" in page  # the modem table names each modem's box


async def test_the_modems_page_shows_state_signal_operator_queue_and_error(
    client: TestClient[Any, Any], services: Services
) -> None:
    store = services.outbound._store  # the test writes what a running modem would
    await store.run(
        queries.upsert_modem,
        "usb0",
        now=T0,
        state="ready",
        signal_dbm=-71,
        operator="EE",
        registration="home",
    )
    await store.run(
        queries.upsert_modem,
        "usb1",
        now=T0,
        state="sim_locked",
        last_error="SIM PIN required",
    )
    await sign_in(client, "agent")
    page = await (await client.get("/modems")).text()
    for text in (
        "usb0",
        "ready",
        "-71 dBm",
        "EE",
        "(home)",
        "usb1",
        "SIM PIN required",
    ):
        assert text in page
    response = await client.get("/api/v1/modems")
    listed = await response.json()
    assert (listed["object"], listed["has_more"]) == ("list", False)
    data = listed["data"]
    assert [(m["name"], m["state"], m["queue_depth"]) for m in data] == [
        ("usb0", "ready", 0),
        ("usb1", "sim_locked", 0),
    ]


async def test_untrusted_text_is_escaped_everywhere_it_is_shown(
    client: TestClient[Any, Any], services: Services
) -> None:
    await services.auth.add_user(
        "mallory", PASSWORD, role="admin", display_name=SCRIPT, actor="test"
    )
    contact = await services.contacts.upsert("+447700900123", name=SCRIPT)
    await services.outbound.send(contact.number, "hello")
    await sign_in(client, "mallory")
    for path in ("/", "/contacts", "/users", "/audit"):
        page = await (await client.get(path)).text()
        assert SCRIPT not in page, path
        assert ESCAPED in page, path


async def test_the_inbox_lists_conversations(
    client: TestClient[Any, Any], services: Services
) -> None:
    await services.contacts.upsert("+447700900123", name="Ada")
    await services.outbound.send("+447700900123", "hello")
    await services.outbound.send("+447700900456", "hi")
    await sign_in(client, "agent")
    # texts the box started are pending (waiting on the customer), not open
    page = await (await client.get("/?status=all")).text()
    assert page.index("+447700900456") < page.index("Ada")  # newest first
    assert page.count('<li class="row') == 2


async def test_admins_manage_users_and_tokens_from_the_console(
    client: TestClient[Any, Any], services: Services
) -> None:
    csrf = await sign_in(client, "admin")
    form = {
        "csrf_token": csrf,
        "username": "Carol",
        "display_name": "Carol C.",
        "role": "agent",
        "password": PASSWORD,
    }
    response = await client.post("/users", data=form, allow_redirects=False)
    assert (response.status, response.headers["Location"]) == (303, "/users")
    assert "Carol C." in await (await client.get("/users")).text()

    form["password"] = "short"
    form["username"] = "dave"
    response = await client.post("/users", data=form)
    assert response.status == 400
    assert "password: at least 10 characters" in await response.text()

    response = await client.post(
        "/users/carol/disable", data={"csrf_token": csrf}, allow_redirects=False
    )
    assert response.status == 303
    assert not next(
        u for u in await services.auth.list_users() if u.username == "carol"
    ).active

    token = await services.auth.create_token("carol", "crm", actor="test")
    page = await (await client.get("/tokens")).text()
    assert token.record.prefix in page
    assert token.token not in page
    response = await client.post(
        f"/tokens/{token.record.id}/revoke",
        data={"csrf_token": csrf},
        allow_redirects=False,
    )
    assert response.status == 303
    actions = [e.action for e in await services.audit.list()]
    for action in ("user.create", "user.disable", "token.revoke"):
        assert action in actions
    audit_page = await (await client.get("/audit")).text()
    assert "user:admin" in audit_page
    assert "token.revoke" in audit_page


async def test_security_headers_on_pages_errors_api_and_static(
    client: TestClient[Any, Any],
) -> None:
    for path in ("/login", "/nope", "/api/v1/me", "/healthz", "/static/app.css"):
        response = await client.get(path, allow_redirects=False)
        headers = response.headers
        assert headers["Content-Security-Policy"] == CONTENT_SECURITY_POLICY, path
        assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
        assert "unsafe-inline" not in CONTENT_SECURITY_POLICY
        assert headers["X-Content-Type-Options"] == "nosniff", path
        assert headers["Referrer-Policy"] == "same-origin", path
        if not path.startswith("/static/"):
            assert headers["Cache-Control"] == "no-store", path


async def test_static_files_come_from_the_package_with_a_version(
    client: TestClient[Any, Any],
) -> None:
    page = await (await client.get("/login")).text()
    assert '<script src="/static/app.js?v=' in page
    assert '<link rel="stylesheet" href="/static/app.css?v=' in page
    assert "<script>" not in page  # no inline script: the CSP forbids it anyway
    assert "style=" not in page
    js = await client.get("/static/app.js")
    assert js.status == 200
    assert "X-CSRF-Token" in await js.text()
    css = await client.get("/static/app.css")
    assert css.content_type == "text/css"
    assert ":focus-visible" in await css.text()
    assert (await client.get("/static/missing.css")).status == 404


async def test_healthz_needs_no_sign_in(
    client: TestClient[Any, Any], services: Services
) -> None:
    await services.outbound.send("+447700900123", "hello")
    response = await client.get("/healthz")
    assert response.status == 200
    assert await response.json() == {
        "ok": True,
        "store": {"ok": True},
        "modems": {"total": 0, "ready": 0, "states": {}},
        "queue": {"unassigned": 1},
    }


async def test_the_api_says_who_is_calling(
    client: TestClient[Any, Any], services: Services
) -> None:
    token = await services.auth.create_token("agent", "crm", actor="test")
    response = await client.get(
        "/api/v1/me", headers={"Authorization": f"Bearer {token.token}"}
    )
    body = await response.json()
    assert body["object"] == "identity"
    assert body["user"]["username"] == "agent"
    assert body["method"] == "token"
    assert body["actor"] == f"token:crm#{token.record.id}"
    await sign_in(client, "admin")
    body = await (await client.get("/api/v1/me")).json()
    assert (body["method"], body["actor"]) == ("session", "user:admin")

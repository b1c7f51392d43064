"""The template API over real services: CRUD (admins), preview and render (everyone),
each answer checked against the OpenAPI document; every template operation shows a
success and an error."""

from __future__ import annotations

from typing import Any

from apihelpers import CheckedClient, inbound
from webhelpers import T0, assert_error_shape

from gateway.services import Services
from gateway.storage.db import Store
from web.api import template_docs

TEMPLATES = "/api/v1/templates"
LATE = {
    "name": "Delivery late",
    "shortcut": "Late Delivery",
    "body": 'Hi {{ contact.first_name | default("there") }}, order '
    "{{ conversation.context.order_id }} is late. {{ agent.name }}",
}


async def test_templates_crud_preview_and_render(
    api: CheckedClient, agent: CheckedClient, store: Store, services: Services
) -> None:
    made = await api.post(TEMPLATES, json=LATE)
    assert made.status == 201
    template = await made.json()
    assert template["shortcut"] == "late-delivery"
    assert made.headers["Location"] == f"{TEMPLATES}/{template['id']}"
    one = f"{TEMPLATES}/{template['id']}"
    listed = await (await agent.get(TEMPLATES)).json()
    assert [t["id"] for t in listed["data"]] == [template["id"]]
    assert (await (await agent.get(one)).json())["name"] == "Delivery late"

    # the composer's render: THIS conversation's customer, the caller as agent
    threaded = await inbound(store, "where is my parcel", now=T0)
    cid = threaded.conversation.id
    await services.contacts.update(
        threaded.contact.id, name="Jamie Lee", actor=_system()
    )
    missing = await agent.post(f"{one}/render", json={"conversation_id": cid})
    body = await assert_error_shape(missing, 400, "template_variable_missing", "body")
    assert "conversation.context.order_id" in body["error"]
    await services.outbound.send(
        threaded.contact.number, "Shipped", context={"order_id": "4839201"}
    )
    rendered = await (
        await agent.post(f"{one}/render", json={"conversation_id": cid})
    ).json()
    assert rendered["text"] == "Hi Jamie, order 4839201 is late. agent"
    assert rendered["segments"]["parts"] == 1
    by_number = await agent.post(
        f"{one}/render",
        json={"to": "+447700900999", "context": {"order_id": "9"}},
    )
    assert by_number.status == 400  # no agent for a number: agent.name is missing

    preview = await (
        await agent.post(f"{TEMPLATES}/preview", json={"body": LATE["body"]})
    ).json()
    assert preview["text"] == "Hi Jamie, order 4839201 is late. Alex"
    assert preview["template_id"] is None
    bad = await agent.post(
        f"{TEMPLATES}/preview", json={"body": "Hi\n{{ contact.first_name }"}
    )
    error = await assert_error_shape(bad, 400, "invalid_template", "body")
    assert "line 2, column 23" in error["error"]  # the stray }
    escape = await agent.post(
        f"{TEMPLATES}/preview", json={"body": "{{ ''.__class__ }}"}
    )
    await assert_error_shape(escape, 400, "invalid_template", "body")

    changed = await api.patch(
        one, json={"body": "Hi {{ contact.number }}", "description": "x"}
    )
    assert (await changed.json())["description"] == "x"
    cleared = await api.patch(one, json={"description": None})
    assert (await cleared.json())["description"] is None
    gone = await api.delete(one)
    assert (await gone.json()) == {
        "object": "template",
        "id": template["id"],
        "deleted": True,
    }
    await assert_error_shape(await agent.get(one), 404, "not_found")


async def test_every_template_operation_answers_as_documented(
    api: CheckedClient, agent: CheckedClient, store: Store
) -> None:
    plain = {**LATE, "shortcut": "late", "body": "Hi {{ contact.number }}"}
    made = await (await api.post(TEMPLATES, json=plain)).json()
    one = f"{TEMPLATES}/{made['id']}"
    cid = (await inbound(store, "hello", now=T0)).conversation.id
    successes = [
        (agent, "GET", TEMPLATES, {}),
        (api, "POST", TEMPLATES, {"json": {**LATE, "shortcut": "other"}}),
        (agent, "POST", f"{TEMPLATES}/preview", {"json": {"body": "Hi"}}),
        (agent, "GET", one, {}),
        (api, "PATCH", one, {"json": {"name": "Late"}}),
        (agent, "POST", f"{one}/render", {"json": {"conversation_id": cid}}),
        (api, "DELETE", one, {}),
    ]
    errors = [
        (
            agent,
            "GET",
            TEMPLATES,
            {"headers": {"Authorization": "Bearer x"}},
            401,
            "unauthorized",
            None,
        ),
        (agent, "POST", TEMPLATES, {"json": LATE}, 403, "forbidden", None),
        (
            api,
            "POST",
            TEMPLATES,
            {"json": {**LATE, "shortcut": "other"}},
            409,
            "conflict",
            None,
        ),
        (
            agent,
            "POST",
            f"{TEMPLATES}/preview",
            {"json": {"body": "{% set x %}"}},
            400,
            "invalid_template",
            "body",
        ),
        (agent, "GET", f"{TEMPLATES}/999", {}, 404, "not_found", None),
        (
            api,
            "PATCH",
            f"{TEMPLATES}/999",
            {"json": {"name": "x"}},
            404,
            "not_found",
            None,
        ),
        (api, "DELETE", f"{TEMPLATES}/999", {}, 404, "not_found", None),
        (
            agent,
            "POST",
            f"{TEMPLATES}/999/render",
            {"json": {"conversation_id": cid}},
            404,
            "not_found",
            None,
        ),
    ]
    for caller, method, path, kwargs in successes:
        response = await caller.request(method, path, **kwargs)
        assert response.status < 300, (method, path, await response.text())
    for caller, method, path, kwargs, status, code, field in errors:
        response = await caller.request(method, path, **kwargs)
        await assert_error_shape(response, status, code, field)
    seen = api.seen | agent.seen
    for op in template_docs.OPERATIONS:
        if op.tag != "templates":
            continue
        name = f"{op.method} {op.path}"
        statuses = {status for operation, status in seen if operation == name}
        assert any(s < 300 for s in statuses), f"{name}: no success checked"
        assert any(s >= 400 for s in statuses), f"{name}: no error checked"


def _system() -> Any:
    from gateway.inbox.records import SYSTEM

    return SYSTEM

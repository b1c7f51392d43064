"""/api/v1/contacts: CRUD, search, cursors and lookup by number (normalised in the
default region); each contact says whether its number is opted out."""

from __future__ import annotations

from apihelpers import CUSTOMER, OTHER, CheckedClient, inbound
from webhelpers import T0, assert_error_shape

from gateway.domain import ConsentSource
from gateway.services import Services
from gateway.storage.db import Store


async def test_create_get_update_delete(
    agent: CheckedClient, api: CheckedClient
) -> None:
    response = await agent.post(
        "/api/v1/contacts",
        json={"number": "07700 900123", "name": "Ada", "attributes": {"tier": "gold"}},
    )
    assert response.status == 201
    contact = await response.json()
    assert (contact["object"], contact["number"], contact["name"]) == (
        "contact",
        CUSTOMER,
        "Ada",
    )
    assert (contact["attributes"], contact["opted_out"]) == ({"tier": "gold"}, False)
    assert response.headers["Location"] == f"/api/v1/contacts/{contact['id']}"
    url = f"/api/v1/contacts/{contact['id']}"
    assert (await (await agent.get(url)).json()) == contact

    renamed = await (
        await agent.patch(url, json={"name": "Ada King", "attributes": {"vip": True}})
    ).json()
    assert (renamed["name"], renamed["attributes"]) == (
        "Ada King",
        {"tier": "gold", "vip": True},
    )
    kept = await (await agent.patch(url, json={"attributes": {"tier": None}})).json()
    assert (kept["name"], kept["attributes"]) == ("Ada King", {"vip": True})
    cleared = await (await agent.patch(url, json={"name": None})).json()
    assert cleared["name"] is None

    duplicate = await agent.post("/api/v1/contacts", json={"number": CUSTOMER})
    await assert_error_shape(duplicate, 409, "conflict")

    gone = await agent.delete(url)
    assert await gone.json() == {
        "object": "contact",
        "id": contact["id"],
        "deleted": True,
    }
    await assert_error_shape(await agent.get(url), 404, "not_found")
    await assert_error_shape(await agent.delete(url), 404, "not_found")
    actions = [
        e["action"]
        for e in (await (await api.get("/api/v1/audit")).json())["data"]
        if e["subject"] == f"contact:{contact['id']}"
    ]
    assert actions == [
        "contact.delete",
        "contact.update",
        "contact.update",
        "contact.update",
        "contact.create",
    ]


async def test_a_contact_with_history_is_not_deleted(
    agent: CheckedClient, store: Store
) -> None:
    threaded = await inbound(store, "hi", now=T0)
    response = await agent.delete(f"/api/v1/contacts/{threaded.contact.id}")
    await assert_error_shape(response, 409, "conflict")


async def test_bad_input_names_the_field(agent: CheckedClient) -> None:
    for payload, field in (
        ({}, "number"),
        ({"number": "call me"}, "number"),
        ({"number": CUSTOMER, "name": 5}, "name"),
        ({"number": CUSTOMER, "name": "a\u0007b"}, "name"),
        ({"number": CUSTOMER, "attributes": {"Bad Key": 1}}, "attributes"),
        ({"number": CUSTOMER, "attributes": {"list": [1]}}, "attributes.list"),
        ({"number": CUSTOMER, "email": "x@example.com"}, "email"),
    ):
        response = await agent.post("/api/v1/contacts", json=payload)
        await assert_error_shape(response, 400, "invalid_input", field=field)
    response = await agent.patch("/api/v1/contacts/1", json={"number": OTHER})
    await assert_error_shape(response, 400, "invalid_input", field="number")
    response = await agent.patch("/api/v1/contacts/999", json={"name": "x"})
    await assert_error_shape(response, 404, "not_found")


async def test_list_search_and_pages(agent: CheckedClient) -> None:
    for i, name in enumerate(("Ada Lovelace", "Grace Hopper", "Alan Turing")):
        await agent.post(
            "/api/v1/contacts", json={"number": f"+44770090010{i}", "name": name}
        )
    everyone = await (await agent.get("/api/v1/contacts")).json()
    assert [c["name"] for c in everyone["data"]] == [
        "Ada Lovelace",
        "Grace Hopper",
        "Alan Turing",
    ]
    found = await (await agent.get("/api/v1/contacts?q=hopper")).json()
    assert [c["name"] for c in found["data"]] == ["Grace Hopper"]
    by_number = await (await agent.get("/api/v1/contacts?q=07700900102")).json()
    assert [c["name"] for c in by_number["data"]] == ["Alan Turing"]
    page = await (await agent.get("/api/v1/contacts?limit=2")).json()
    assert page["has_more"] is True
    rest = await (
        await agent.get(f"/api/v1/contacts?limit=2&cursor={page['next_cursor']}")
    ).json()
    assert [c["name"] for c in rest["data"]] == ["Alan Turing"]
    assert rest["has_more"] is False
    for query, field in (("cursor=zzz", "cursor"), ("limit=0", "limit"), ("x=1", "x")):
        response = await agent.get(f"/api/v1/contacts?{query}")
        await assert_error_shape(response, 400, "invalid_input", field=field)


async def test_lookup_by_number_in_any_form(
    agent: CheckedClient, services: Services
) -> None:
    created = await (
        await agent.post("/api/v1/contacts", json={"number": CUSTOMER, "name": "Ada"})
    ).json()
    for form in ("07700900123", "+44 7700 900123", "%2B447700900123"):
        found = await (await agent.get(f"/api/v1/contacts/lookup?number={form}")).json()
        assert found["id"] == created["id"]
    await services.compliance.set_consent(
        CUSTOMER, opted_out=True, source=ConsentSource.KEYWORD, actor="customer"
    )
    found = await (await agent.get(f"/api/v1/contacts/lookup?number={CUSTOMER}")).json()
    assert found["opted_out"] is True
    response = await agent.get(f"/api/v1/contacts/lookup?number={OTHER}")
    await assert_error_shape(response, 404, "not_found")
    response = await agent.get("/api/v1/contacts/lookup")
    await assert_error_shape(response, 400, "invalid_input", field="number")
    # a sender's name is looked up as stored ("AMAZON")
    response = await agent.get("/api/v1/contacts/lookup?number=AMAZON")
    await assert_error_shape(response, 404, "not_found")
    response = await agent.get(f"/api/v1/contacts/lookup?number={'1' * 41}")
    await assert_error_shape(response, 400, "invalid_input", field="number")

"""POST/GET /api/v1/messages: send with context and idempotency, read with each part's
delivery state, list with filters and keyset pages."""

from __future__ import annotations

from apihelpers import CUSTOMER, OTHER, CheckedClient, inbound
from webhelpers import T0, Clock, assert_error_shape

from gateway.domain import ConsentSource
from gateway.services import Services
from gateway.storage.db import Store


async def test_send_queues_and_answers_the_committed_message(
    api: CheckedClient, services: Services
) -> None:
    response = await api.post(
        "/api/v1/messages",
        json={
            "to": "07700 900123",
            "body": "Your order shipped",
            "context": {"order": "A-1"},
        },
    )
    assert response.status == 201
    message = await response.json()
    assert message["object"] == "message"
    assert (message["number"], message["status"], message["origin"]) == (
        CUSTOMER,
        "queued",
        "api",
    )
    assert message["context"] == {"order": "A-1"}
    assert message["created_at"] == "2026-03-01T09:00:00Z"
    assert [p["status"] for p in message["parts"]] == ["queued"]
    assert response.headers["Location"] == f"/api/v1/messages/{message['id']}"
    stored = await services.messages.get(message["id"])  # committed before the answer
    assert stored.message.body == "Your order shipped"
    me = (await (await api.get("/api/v1/me")).json())["user"]["id"]
    assert message["user_id"] == me


async def test_the_same_idempotency_key_returns_the_first_message(
    api: CheckedClient,
) -> None:
    send = {"to": CUSTOMER, "body": "Once only"}
    headers = {"Idempotency-Key": "order-1-shipped"}
    first = await api.post("/api/v1/messages", json=send, headers=headers)
    assert first.status == 201
    again = await api.post("/api/v1/messages", json=send, headers=headers)
    assert again.status == 200
    assert again.headers["Idempotent-Replayed"] == "true"
    assert (await again.json())["id"] == (await first.json())["id"]
    # the body field is the same key
    body_key = await api.post(
        "/api/v1/messages", json={**send, "idempotency_key": "order-1-shipped"}
    )
    assert body_key.status == 200
    listed = await (await api.get("/api/v1/messages")).json()
    assert len(listed["data"]) == 1  # one text, not three


async def test_an_idempotency_key_reused_for_another_text_is_a_conflict(
    api: CheckedClient,
) -> None:
    headers = {"Idempotency-Key": "k-1"}
    await api.post(
        "/api/v1/messages", json={"to": CUSTOMER, "body": "A"}, headers=headers
    )
    response = await api.post(
        "/api/v1/messages", json={"to": CUSTOMER, "body": "B"}, headers=headers
    )
    body = await assert_error_shape(response, 409, "conflict")
    assert "k-1" in body["error"]
    response = await api.post(
        "/api/v1/messages", json={"to": OTHER, "body": "A"}, headers=headers
    )
    await assert_error_shape(response, 409, "conflict")


async def test_header_and_body_keys_must_agree(api: CheckedClient) -> None:
    response = await api.post(
        "/api/v1/messages",
        json={"to": CUSTOMER, "body": "A", "idempotency_key": "one"},
        headers={"Idempotency-Key": "two"},
    )
    await assert_error_shape(response, 400, "invalid_input", field="idempotency_key")


async def test_send_refuses_bad_input_naming_the_field(api: CheckedClient) -> None:
    cases = [
        ({"body": "x"}, "to"),
        ({"to": CUSTOMER}, "body"),
        ({"to": "not a number", "body": "x"}, "to"),
        ({"to": CUSTOMER, "body": "   "}, "body"),
        ({"to": CUSTOMER, "body": 5}, "body"),
        ({"to": CUSTOMER, "body": "x", "context": [1]}, "context"),
        ({"to": CUSTOMER, "body": "x", "context": {"a": "b" * 9000}}, "context"),
        ({"to": CUSTOMER, "body": "x" * 1531 + "y" * 10}, "body"),  # 11 parts > 10
        ({"to": CUSTOMER, "body": "x", "colour": "red"}, "colour"),
        ({"to": CUSTOMER, "body": "x", "idempotency_key": ""}, "idempotency_key"),
        ({"to": CUSTOMER, "body": "x\u0000"}, "body"),
    ]
    for payload, field in cases:
        response = await api.post("/api/v1/messages", json=payload)
        await assert_error_shape(response, 400, "invalid_input", field=field)


async def test_send_refuses_what_is_not_a_json_object(api: CheckedClient) -> None:
    for data in (b"[1, 2]", b'"text"', b"", b"{", b'{"to": NaN}', b"\xff\xfe"):
        response = await api.post(
            "/api/v1/messages", data=data, headers={"Content-Type": "application/json"}
        )
        await assert_error_shape(response, 400, "invalid_json")
    response = await api.post("/api/v1/messages", data={"to": CUSTOMER, "body": "x"})
    body = await assert_error_shape(response, 415, "unsupported_media_type")
    assert "application/json" in body["error"]


async def test_nothing_is_sent_to_an_opted_out_number(
    api: CheckedClient, services: Services
) -> None:
    await services.compliance.set_consent(
        CUSTOMER, opted_out=True, source=ConsentSource.API, actor="t"
    )
    response = await api.post("/api/v1/messages", json={"to": CUSTOMER, "body": "Hi"})
    await assert_error_shape(response, 409, "opted_out")


async def test_get_a_message_with_its_parts(api: CheckedClient, store: Store) -> None:
    long = "Sentence of a long notification. " * 8
    sent = await (
        await api.post("/api/v1/messages", json={"to": CUSTOMER, "body": long})
    ).json()
    message = await (await api.get(f"/api/v1/messages/{sent['id']}")).json()
    assert message["parts_count"] == 2
    assert [(p["seq"], p["status"]) for p in message["parts"]] == [
        (1, "queued"),
        (2, "queued"),
    ]
    received = await inbound(store, "Thanks!", now=T0)
    message = await (await api.get(f"/api/v1/messages/{received.message.id}")).json()
    assert (message["direction"], message["status"], message["parts"]) == (
        "inbound",
        "received",
        [],
    )
    response = await api.get("/api/v1/messages/999")
    await assert_error_shape(response, 404, "not_found")
    for bad in ("0", "abc", "99999999999999999999"):
        response = await api.get(f"/api/v1/messages/{bad}")
        await assert_error_shape(response, 400, "invalid_input", field="id")


async def test_list_filters_and_pages(
    api: CheckedClient, store: Store, clock: Clock
) -> None:
    for i in range(5):
        await api.post("/api/v1/messages", json={"to": CUSTOMER, "body": f"out {i}"})
        clock.advance(60)
    await inbound(store, "in 1", now=clock.now)
    await api.post("/api/v1/messages", json={"to": OTHER, "body": "other"})

    everything = await (await api.get("/api/v1/messages")).json()
    assert [m["body"] for m in everything["data"]] == [
        "other",
        "in 1",
        "out 4",
        "out 3",
        "out 2",
        "out 1",
        "out 0",
    ]
    assert (everything["has_more"], everything["next_cursor"]) == (False, None)

    inbound_only = await (await api.get("/api/v1/messages?direction=inbound")).json()
    assert [m["body"] for m in inbound_only["data"]] == ["in 1"]
    by_number = await (await api.get("/api/v1/messages?number=07700900456")).json()
    assert [m["body"] for m in by_number["data"]] == ["other"]
    since = await (
        await api.get("/api/v1/messages?since=2026-03-01T09:03:00Z&direction=outbound")
    ).json()
    assert [m["body"] for m in since["data"]] == ["other", "out 4", "out 3"]

    bodies: list[str] = []
    url = f"/api/v1/messages?number={CUSTOMER}&direction=outbound&limit=2"
    pages = 0
    cursor = None
    while True:
        page = await (
            await api.get(url + (f"&cursor={cursor}" if cursor else ""))
        ).json()
        pages += 1
        bodies += [m["body"] for m in page["data"]]
        if not page["has_more"]:
            assert page["next_cursor"] is None
            break
        cursor = page["next_cursor"]
    assert (pages, bodies) == (3, ["out 4", "out 3", "out 2", "out 1", "out 0"])


async def test_a_cursor_is_bound_to_its_list_and_filters(api: CheckedClient) -> None:
    for i in range(3):
        await api.post("/api/v1/messages", json={"to": CUSTOMER, "body": f"m {i}"})
    page = await (await api.get("/api/v1/messages?limit=1")).json()
    cursor = page["next_cursor"]
    assert (await api.get(f"/api/v1/messages?limit=1&cursor={cursor}")).status == 200
    for query in (
        f"direction=outbound&cursor={cursor}",  # other filters
        f"cursor={cursor[:-2]}",  # cut short
        f"cursor={cursor[:-1]}{'A' if cursor[-1] != 'A' else 'B'}",  # edited
        "cursor=bm90IGEgY3Vyc29y",  # not ours
    ):
        response = await api.get(f"/api/v1/messages?{query}")
        await assert_error_shape(response, 400, "invalid_input", field="cursor")
    response = await api.get(f"/api/v1/audit?cursor={cursor}")  # another list's
    await assert_error_shape(response, 400, "invalid_input", field="cursor")


async def test_list_refuses_bad_parameters_naming_them(api: CheckedClient) -> None:
    for query, field in (
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=ten", "limit"),
        ("direction=sideways", "direction"),
        ("status=lost", "status"),
        ("number=abc", "number"),
        ("conversation_id=-1", "conversation_id"),
        ("since=yesterday", "since"),
        ("since=2026-03-01T09:00:00", "since"),  # no zone
        ("since=0001-01-01T00:00:00%2B01:00", "since"),  # before year 1 in UTC
        ("limit=1&limit=2", "limit"),
        ("colour=red", "colour"),
    ):
        response = await api.get(f"/api/v1/messages?{query}")
        await assert_error_shape(response, 400, "invalid_input", field=field)

"""/api/v1/conversations: the shared inbox for integrations - list with filters and
search, the thread, and every action, as the token's user."""

from __future__ import annotations

from apihelpers import CUSTOMER, OTHER, CheckedClient, inbound
from webhelpers import T0, Clock, assert_error_shape

from gateway.domain import ConsentSource
from gateway.services import Services
from gateway.storage.db import Store


async def _me(caller: CheckedClient) -> int:
    body = await (await caller.get("/api/v1/me")).json()
    return int(body["user"]["id"])


async def test_list_filters_search_and_pages(
    agent: CheckedClient, store: Store, clock: Clock
) -> None:
    first = await inbound(store, "Where is my parcel?", now=clock.now)
    clock.advance(60)
    second = await inbound(store, "Refund please", sender=OTHER, now=clock.now)
    listed = await (await agent.get("/api/v1/conversations")).json()
    assert [c["id"] for c in listed["data"]] == [
        second.conversation.id,
        first.conversation.id,
    ]
    row = listed["data"][1]
    assert (row["object"], row["status"], row["contact"]["number"]) == (
        "conversation",
        "open",
        CUSTOMER,
    )
    assert row["last_message"]["body"] == "Where is my parcel?"
    assert row["awaiting_reply"] is True

    found = await (await agent.get("/api/v1/conversations?q=parcel")).json()
    assert [c["id"] for c in found["data"]] == [first.conversation.id]
    page = await (await agent.get("/api/v1/conversations?limit=1")).json()
    assert page["has_more"] is True
    rest = await (
        await agent.get(f"/api/v1/conversations?limit=1&cursor={page['next_cursor']}")
    ).json()
    assert [c["id"] for c in rest["data"]] == [first.conversation.id]
    assert (rest["has_more"], rest["next_cursor"]) == (False, None)

    cid = first.conversation.id
    await agent.post(
        f"/api/v1/conversations/{cid}/assign", json={"assignee_id": await _me(agent)}
    )
    mine = await (await agent.get("/api/v1/conversations?assignee=me")).json()
    assert [c["id"] for c in mine["data"]] == [cid]
    by_id = await (
        await agent.get(f"/api/v1/conversations?assignee={await _me(agent)}")
    ).json()
    assert [c["id"] for c in by_id["data"]] == [cid]
    nobody = await (await agent.get("/api/v1/conversations?assignee=unassigned")).json()
    assert [c["id"] for c in nobody["data"]] == [second.conversation.id]
    resolved = await (await agent.get("/api/v1/conversations?status=resolved")).json()
    assert resolved["data"] == []

    for query, field in (
        ("assignee=someone", "assignee"),
        ("status=closed", "status"),
        ("priority=meh", "priority"),
        ("tag=%21%21", "tag"),
        ("cursor=nonsense", "cursor"),
        ("q=" + "x" * 201, "q"),
        ("q=a%07b", "q"),
        ("limit=500", "limit"),
    ):
        response = await agent.get(f"/api/v1/conversations?{query}")
        await assert_error_shape(response, 400, "invalid_input", field=field)


async def test_the_thread_has_parts_notes_context_and_the_customer(
    agent: CheckedClient, store: Store, clock: Clock
) -> None:
    sent = await (
        await agent.post(
            "/api/v1/messages",
            json={
                "to": CUSTOMER,
                "body": "Order A-1 shipped",
                "context": {"order": "A-1"},
            },
        )
    ).json()
    clock.advance(60)
    reply = await inbound(store, "Thanks, when does it arrive?", now=clock.now)
    cid = reply.conversation.id
    assert sent["conversation_id"] == cid
    await agent.post(f"/api/v1/conversations/{cid}/notes", json={"body": "VIP"})
    thread = await (await agent.get(f"/api/v1/conversations/{cid}")).json()
    assert thread["object"] == "conversation"
    assert thread["context"] == {"order": "A-1"}
    kinds = [(i["object"], i.get("direction")) for i in thread["items"]]
    assert kinds == [
        ("thread_message", "outbound"),
        ("thread_message", "inbound"),
        ("note", None),
    ]
    outbound, inbound_, note = thread["items"]
    assert [p["status"] for p in outbound["parts"]] == ["queued"]
    assert inbound_["replying_to"]["context"] == {"order": "A-1"}
    assert note["author"]["username"] == "agent"
    assert thread["customer"]["number"] == CUSTOMER
    assert thread["customer"]["consent"]["opted_out"] is False
    older = await (await agent.get(f"/api/v1/conversations/{cid}?limit=1")).json()
    assert [i["id"] for i in older["items"] if i["object"] == "thread_message"] == [
        reply.message.id
    ]
    assert older["older_before"] == reply.message.id
    before = await (
        await agent.get(f"/api/v1/conversations/{cid}?before={older['older_before']}")
    ).json()
    assert [i["body"] for i in before["items"]] == ["Order A-1 shipped"]
    await assert_error_shape(
        await agent.get("/api/v1/conversations/999"), 404, "not_found"
    )
    await assert_error_shape(
        await agent.get(f"/api/v1/conversations/{cid}?before=x"),
        400,
        "invalid_input",
        "before",
    )


async def test_actions_answer_with_the_conversation_and_are_audited(
    agent: CheckedClient, api: CheckedClient, store: Store, services: Services
) -> None:
    cid = (await inbound(store, "Help", now=T0)).conversation.id
    url = f"/api/v1/conversations/{cid}"
    me = await _me(agent)
    assigned = await (
        await agent.post(f"{url}/assign", json={"assignee_id": me})
    ).json()
    assert assigned["assignee"]["username"] == "agent"
    # schemathesis: 12.0 is an integer to JSON Schema, so the API takes it as one
    again = await (
        await agent.post(f"{url}/assign", json={"assignee_id": float(me)})
    ).json()
    assert again["assignee"]["id"] == me
    unassigned = await (
        await agent.post(f"{url}/assign", json={"assignee_id": None})
    ).json()
    assert unassigned["assignee"] is None
    pending = await (
        await agent.post(f"{url}/status", json={"status": "pending"})
    ).json()
    assert pending["status"] == "pending"
    urgent = await (
        await agent.post(f"{url}/priority", json={"priority": "urgent"})
    ).json()
    assert urgent["priority"] == "urgent"
    tagged = await (
        await agent.post(f"{url}/tags", json={"tags": ["VIP Customer", "refund"]})
    ).json()
    assert tagged["tags"] == ["refund", "vip-customer"]
    untagged = await (
        await agent.request("DELETE", f"{url}/tags", json={"tags": ["refund", "nope"]})
    ).json()
    assert untagged["tags"] == ["vip-customer"]
    note = await agent.post(f"{url}/notes", json={"body": "called back"})
    assert note.status == 201
    assert (await note.json())["object"] == "note"
    actions = [
        e["action"]
        for e in (await (await api.get("/api/v1/audit?limit=100")).json())["data"]
        if e["subject"] == f"conversation:{cid}"
    ]
    assert actions == [
        "conversation.note",
        "conversation.untag",
        "conversation.tag",
        "conversation.priority",
        "conversation.status",
        "conversation.assign",
        "conversation.assign",
    ]
    token_id = (await (await agent.get("/api/v1/me")).json())["actor"]
    audit = (await (await api.get("/api/v1/audit?limit=1")).json())["data"][0]
    assert audit["actor"] == token_id  # token:crm#N, the token that did it

    for path, payload, field in (
        ("assign", {"assignee_id": "me"}, "assignee_id"),
        ("assign", {}, "assignee_id"),
        ("status", {"status": "closed"}, "status"),
        ("priority", {"priority": 9}, "priority"),
        ("tags", {"tags": []}, "tags"),
        ("tags", {"tags": ["!!"]}, "tags"),
        ("notes", {"body": ""}, "body"),
        ("notes", {"body": "x", "private": True}, "private"),
    ):
        response = await agent.post(f"{url}/{path}", json=payload)
        await assert_error_shape(response, 400, "invalid_input", field=field)
    response = await agent.post(f"{url}/assign", json={"assignee_id": 999})
    await assert_error_shape(response, 404, "not_found")
    disabled = await services.auth.set_active("admin", False, actor="test")
    response = await agent.post(f"{url}/assign", json={"assignee_id": disabled.id})
    await assert_error_shape(response, 400, "invalid_input", field="assignee_id")
    response = await agent.post(
        "/api/v1/conversations/999/status", json={"status": "open"}
    )
    await assert_error_shape(response, 404, "not_found")


async def test_reply_as_the_tokens_user_with_an_idempotency_key(
    agent: CheckedClient, store: Store, services: Services
) -> None:
    cid = (await inbound(store, "Hello?", now=T0)).conversation.id
    url = f"/api/v1/conversations/{cid}/reply"
    headers = {"Idempotency-Key": "reply-1"}
    first = await agent.post(url, json={"body": "Hi! How can I help?"}, headers=headers)
    assert first.status == 201
    message = await first.json()
    assert (message["origin"], message["status"], message["conversation_id"]) == (
        "agent",
        "queued",
        cid,
    )
    assert message["user_id"] == await _me(agent)
    again = await agent.post(url, json={"body": "Hi! How can I help?"}, headers=headers)
    assert again.status == 200
    assert (await again.json())["id"] == message["id"]
    other = await agent.post(url, json={"body": "Something else"}, headers=headers)
    await assert_error_shape(other, 409, "conflict")
    await assert_error_shape(
        await agent.post(url, json={"body": "  "}), 400, "invalid_input", "body"
    )
    await services.compliance.set_consent(
        CUSTOMER, opted_out=True, source=ConsentSource.KEYWORD, actor="customer"
    )
    await assert_error_shape(
        await agent.post(url, json={"body": "Still there?"}), 409, "opted_out"
    )
    named = (await inbound(store, "Your code", sender="AMAZON", now=T0)).conversation.id
    response = await agent.post(
        f"/api/v1/conversations/{named}/reply", json={"body": "hi"}
    )
    await assert_error_shape(response, 400, "invalid_input", "conversation_id")
    response = await agent.post("/api/v1/conversations/999/reply", json={"body": "x"})
    await assert_error_shape(response, 404, "not_found")

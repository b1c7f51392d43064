"""The inbox pages over real services: the list and its filters, a thread (parts, notes,
the reply context, the customer panel), every action as a plain form (303 back with the
filters kept) and as the page script's fragment request, the opted-out refusal, CSRF, and
escaping of everything a customer or an agent wrote."""

from __future__ import annotations

import html
from typing import Any

from aiohttp.test_utils import TestClient
from markupsafe import escape
from uihelpers import (
    CUSTOMER,
    IMG,
    PAYLOADS,
    SCRIPT,
    SVG,
    inbound,
    open_thread_id,
    send_parts,
    store_of,
)
from webhelpers import T0, Clock

from gateway.domain import ConsentSource, ConversationStatus, Priority
from gateway.inbox.records import Actor
from gateway.services import Services

OTHER = "+447700900456"
FRAGMENT = {"X-Smsgw-Fragment": "thread"}


async def _conversation(services: Services, text: str = "hello", **kw: Any) -> int:
    return (await inbound(services, text, now=T0, **kw)).conversation.id


async def test_the_list_shows_each_conversation_with_its_markers(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    await services.contacts.upsert(CUSTOMER, name="Ada Lovelace")
    cid = await _conversation(services, "Where is my parcel?")
    admin = Actor("user:admin", 1)
    await services.inbox.assign(cid, 1, actor=admin)
    await services.inbox.add_tags(cid, ["vip", "billing"], actor=admin)
    await services.inbox.set_priority(cid, "urgent", actor=admin)
    await _conversation(services, "hi", sender=OTHER)
    await services.compliance.set_consent(
        OTHER, opted_out=True, source=ConsentSource.AGENT, actor="test"
    )

    page = await (await client.get("/")).text()
    assert "<h1>Inbox</h1>" in page
    assert page.count('<li class="row') == 2
    ada = page[page.index(f'data-id="{cid}"') :]
    ada = ada[: ada.index("</li>")]
    for text in (
        "Ada Lovelace",
        "Where is my parcel?",
        '1<span class="sr-only"> unread</span>',
        "awaiting reply",
        "admin",  # the assignee
        "badge-urgent",
        '<span class="tag">vip</span>',
        '<span class="tag">billing</span>',
    ):
        assert text in ada, text
    assert "opted out" in page[page.index(OTHER) :]
    # the tabs count open conversations: mine (agent's: none), nobody's, all
    tabs = page[page.index("data-tabs") :]
    assert '>Mine <span class="tab-count" title="0 open">0</span>' in tabs
    assert '>Unassigned <span class="tab-count" title="1 open">1</span>' in tabs
    # the page's script and the stream it listens to
    assert 'src="/static/inbox.js?v=' in page
    assert 'data-events="/events/inbox"' in page


async def test_filters_and_search_narrow_the_list(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    mine = await _conversation(services, "the blue parcel")
    await _conversation(services, "a red umbrella", sender=OTHER)
    await services.inbox.assign(mine, 2, actor=Actor("user:agent", 2))

    async def listed(query: str) -> list[int]:
        page = await (await client.get(f"/inbox/list?{query}")).text()
        return [int(i) for i in _ids(page)]

    assert len(await listed("")) == 2
    assert await listed("who=mine") == [mine]
    assert len(await listed("who=unassigned")) == 1
    assert await listed("q=blue") == [mine]
    assert await listed("q=parc") == [mine]  # a word prefix
    assert await listed("status=resolved") == []
    assert await listed("tag=nothing") == []
    assert len(await listed("limit=1")) == 1
    # the list links carry the filters, and the open conversation is marked
    page = await (await client.get(f"/inbox/list?who=mine&open={mine}")).text()
    assert f'href="/conversations/{mine}?who=mine"' in page
    assert 'aria-current="true"' in page
    # a bad filter is the service's InvalidInput, shown as a page
    response = await client.get("/?status=sleeping")
    assert response.status == 400
    assert "status" in await response.text()


def _ids(page: str) -> list[str]:
    import re

    return re.findall(r'<li class="row[^"]*" data-id="(\d+)"', page)


async def test_a_thread_shows_parts_notes_context_and_the_customer(
    client: TestClient[Any, Any], services: Services, clock: Clock, csrf: str
) -> None:
    await services.contacts.upsert(CUSTOMER, name="Ada")
    await services.contacts.update(
        (await services.contacts.lookup(CUSTOMER)).contact.id,
        attributes={"plan": "gold", "orders": 12},
        actor=Actor("test"),
    )
    notice = await services.outbound.send(
        CUSTOMER, "Your order A-1042 ships today", context={"order_id": "A-1042"}
    )
    clock.advance(60)
    cid = (await inbound(services, "Can it come Friday?", now=clock())).conversation.id
    agent = Actor("user:agent", 2)
    await services.inbox.add_note(cid, "ask the courier", actor=agent)
    await services.inbox.reply(cid, "Looking into it. " * 12, actor=agent)  # two parts
    await store_of(services).run(send_parts, "usb0", clock(), 0x00)

    response = await client.get(f"/conversations/{cid}")
    assert response.status == 200
    page = await response.text()
    assert open_thread_id(page) == cid
    assert "Can it come Friday?" in page
    assert 'class="note-item"' in page
    assert "ask the courier" in page
    # the reply context: the notification the customer answers, shown prominently
    assert "Replying to" in page
    assert '<span class="pair-key">order_id</span>' in page
    assert '<span class="pair-value">A-1042</span>' in page
    assert "Your order A-1042 ships today" in page
    assert notice.conversation_id is not None
    # per part: part 1 delivered, part 2 sent (no report yet)
    assert 'data-part="1" data-status="delivered"' in page
    assert 'data-part="2" data-status="sent"' in page
    assert "Part 2 of 2: sent" in page
    # the customer panel
    for text in ("gold", "orders", "may be texted", "Edit contact"):
        assert text in page, text
    # the same thread as a fragment: no page around it
    fragment = await (await client.get(f"/conversations/{cid}/thread")).text()
    assert fragment.lstrip().startswith('<article class="thread"')
    assert "<html" not in fragment
    assert 'data-part="1" data-status="delivered"' in fragment


async def test_older_messages_page_back(
    client: TestClient[Any, Any], services: Services, clock: Clock, csrf: str
) -> None:
    cid = 0
    for i in range(103):
        clock.advance(1)
        cid = (await inbound(services, f"message {i:03}", now=clock())).conversation.id
    page = await (await client.get(f"/conversations/{cid}")).text()
    assert '<p class="msg-body">message 102</p>' in page
    assert '<p class="msg-body">message 002</p>' not in page
    link = page[page.index('<li class="older"><a href="') + 27 :]
    href = html.unescape(link[: link.index('"')])
    assert href.startswith(f"/conversations/{cid}?before=")
    older = await (await client.get(href)).text()
    assert '<p class="msg-body">message 002</p>' in older
    assert '<p class="msg-body">message 102</p>' not in older


async def test_every_action_works_as_a_plain_form(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    cid = await _conversation(services)
    view = "who=all&status=all"

    async def post(action: str, **fields: str) -> None:
        form = {"csrf_token": csrf, "view": view, **fields}
        response = await client.post(
            f"/conversations/{cid}/{action}", data=form, allow_redirects=False
        )
        assert response.status == 303, await response.text()
        assert response.headers["Location"] == f"/conversations/{cid}?status=all"

    await post("assign", assignee="me")
    assert (await services.inbox.get(cid)).assignee.id == 2  # type: ignore[union-attr]
    await post("assign", assignee="1")
    assert (await services.inbox.get(cid)).assignee.id == 1  # type: ignore[union-attr]
    await post("assign", assignee="none")
    assert (await services.inbox.get(cid)).assignee is None
    await post("priority", priority="high")
    assert (await services.inbox.get(cid)).priority is Priority.HIGH
    await post("tags", tags="VIP, late delivery")
    assert set((await services.inbox.get(cid)).tags) == {"vip", "late", "delivery"}
    await post("tags/remove", tag="late")
    assert set((await services.inbox.get(cid)).tags) == {"vip", "delivery"}
    await post("notes", body="called them")
    await post("read")
    assert (await services.inbox.get(cid)).unread_count == 0
    await post("status", status="pending")
    await post("status", status="resolved")
    assert (await services.inbox.get(cid)).status is ConversationStatus.RESOLVED
    await post("reply", body="All sorted.", idempotency_key="k1")
    await post("reply", body="All sorted.", idempotency_key="k1")  # a double submit
    thread = await services.inbox.thread(cid)
    assert [m.body for m in thread.messages] == ["hello", "All sorted."]
    assert [n.body for n in thread.notes] == ["called them"]
    actions = {e.action for e in await services.audit.list()}
    assert {"conversation.assign", "conversation.tag", "conversation.note"} <= actions


async def test_the_script_gets_the_thread_fragment_after_an_action(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    cid = await _conversation(services)
    form = {"csrf_token": csrf, "view": "who=mine", "assignee": "me"}
    response = await client.post(
        f"/conversations/{cid}/assign", data=form, headers=FRAGMENT
    )
    assert response.status == 200
    assert str(response.url).endswith(f"/conversations/{cid}/thread?who=mine")
    fragment = await response.text()
    assert fragment.lstrip().startswith('<article class="thread"')
    assert 'data-mine="yes"' in fragment
    # nothing at all when the script asks for nothing (marking read)
    response = await client.post(
        f"/conversations/{cid}/read",
        headers={"X-Smsgw-Fragment": "none", "X-CSRF-Token": csrf},
    )
    assert response.status == 204


async def test_a_reply_to_an_opted_out_number_is_refused_with_the_reason(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    cid = await _conversation(services)
    await services.compliance.set_consent(
        CUSTOMER, opted_out=True, source=ConsentSource.KEYWORD, actor="test"
    )
    page = await (await client.get(f"/conversations/{cid}")).text()
    assert "data-opted-out" in page  # said before anyone types

    form = {"csrf_token": csrf, "view": "", "body": "Are you still there?"}
    response = await client.post(f"/conversations/{cid}/reply", data=form)
    assert response.status == 409
    page = await response.text()
    assert "Not sent: recipient" in page
    assert "has opted out" in page
    assert ">Are you still there?</textarea>" in page  # the draft is kept
    response = await client.post(
        f"/conversations/{cid}/reply", data=form, headers=FRAGMENT
    )
    assert response.status == 409
    fragment = await response.text()
    assert fragment.lstrip().startswith('<article class="thread"')
    assert "data-composer-error" in fragment
    assert [m.body for m in (await services.inbox.thread(cid)).messages] == ["hello"]
    # an empty note is refused the same way, its draft going back to the note box
    form = {"csrf_token": csrf, "view": "", "body": "   "}
    response = await client.post(f"/conversations/{cid}/notes", data=form)
    assert response.status == 400
    assert "Not saved: body: the note is empty" in await response.text()


async def test_actions_need_the_csrf_token(
    client: TestClient[Any, Any], services: Services, csrf: str
) -> None:
    cid = await _conversation(services)
    for action, fields in (
        ("reply", {"body": "hi"}),
        ("notes", {"body": "hi"}),
        ("assign", {"assignee": "me"}),
        ("status", {"status": "resolved"}),
        ("priority", {"priority": "high"}),
        ("tags", {"tags": "x"}),
        ("tags/remove", {"tag": "x"}),
        ("read", {}),
    ):
        for token in (None, "forged"):
            form = fields if token is None else {**fields, "csrf_token": token}
            response = await client.post(f"/conversations/{cid}/{action}", data=form)
            assert response.status == 403, action
            assert "security token" in await response.text()
    summary = await services.inbox.get(cid)
    assert (summary.assignee, summary.status.value, summary.tags) == (None, "open", ())
    assert len((await services.inbox.thread(cid)).items) == 1


async def test_everything_people_wrote_is_escaped(
    client: TestClient[Any, Any], services: Services, clock: Clock, csrf: str
) -> None:
    contact = await services.contacts.upsert(CUSTOMER, name=SCRIPT)
    await services.contacts.update(
        contact.id, attributes={"note": IMG, "ref": SVG}, actor=Actor("test")
    )
    await services.outbound.send(CUSTOMER, "ok", context={"order_id": SVG})
    clock.advance(1)
    cid = (
        await inbound(services, f"{IMG} {SVG} {SCRIPT}", now=clock())
    ).conversation.id
    await services.auth.add_user(
        "mallory", "correct horse battery", role="agent", display_name=IMG, actor="t"
    )
    mallory = Actor("user:mallory", 3)
    await services.inbox.add_note(cid, SCRIPT + SVG, actor=mallory)
    await services.inbox.assign(cid, 3, actor=mallory)
    for path in (
        "/",
        f"/conversations/{cid}",
        f"/conversations/{cid}/thread",
        "/inbox/list",
        f"/?q={SCRIPT}",
    ):
        page = await (await client.get(path)).text()
        for payload in PAYLOADS:
            assert payload not in page, (path, payload)
        assert str(escape(SCRIPT)) in page, path
    page = await (await client.get(f"/conversations/{cid}")).text()
    for payload in PAYLOADS:
        assert str(escape(payload)) in page, payload


async def test_unknown_conversations_are_not_found(
    client: TestClient[Any, Any], csrf: str
) -> None:
    assert (await client.get("/conversations/999")).status == 404
    assert (await client.get("/conversations/999/thread")).status == 404
    response = await client.post(
        "/conversations/999/status", data={"csrf_token": csrf, "status": "open"}
    )
    assert response.status == 404

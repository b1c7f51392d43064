"""MUST SHOW (issue 5), the flows test_automation_scenarios.py and test_notifications.py
leave out, through the real daemon (real drivers over simulated modems, simulated phones
as customers) and, where a client would use it, its real web server:

- a reschedule through reply option "2" of a notification POSTed to
  /api/v1/notifications: reply.option_selected reaches a receiver with the context, the
  confirmation reaches the phone;
- a reply to a one-way broadcast (no options) lands in the inbox with its context;
- a notification scheduled into quiet hours (through the API) goes at their end;
- routing by keyword, by contact attribute (VIP, region, account owner), sticky to the
  agent who last handled the customer; round-robin and least-busy auto-assignment among
  the agents online in a queue;
- the business-hours acknowledgement: once per conversation, and not when an agent
  replied recently;
- the seed's example ending as an agent sees it in the console: the collected order
  number in the customer panel, the agent's reply through the console reaching the phone;
- the README's notification example, run as written, against the payload it documents.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import aiohttp
import pytest

from gateway.domain import (
    Direction,
    MessageOrigin,
    utcnow,
)
from gateway.inbox.records import SYSTEM
from tests.gateway.gwhelpers import (
    CUSTOMER,
    eventually,
)
from tests.gateway.webhooks.receiver import Receiver
from tests.integration.daemonbox import (
    PASSWORD,
    Clock,
    api_client,
    box,
    fast_daemon,  # noqa: F401 (the fixture the tests use)
    post_json,
)
from tests.integration.test_automation_scenarios import (
    ASK_ORDER,
    CONNECTING,
    triage_with_order_flow,
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fast_daemon")]

NEW_YORK_PHONE = "+12125550123"  # America/New_York to phonenumbers
APPOINTMENT = {"appointment_id": "APT-123", "when": "Tuesday 10:00"}
NOTICE = "Your technician comes Tuesday 10:00. Reply 1 to confirm, 2 to reschedule."
RESCHEDULE = "OK - someone from bookings will text you to find a new time."
ACK = "We typically reply within 10 minutes."


# ---------------------------------------------------------------- notifications


async def test_a_reschedule_through_option_2_of_a_notification_posted_to_the_api(
    tmp_path: Path,
) -> None:
    async with box(tmp_path, "[automation]\nenabled = no\n", web=True) as b:
        receiver = Receiver()
        await receiver.up()
        try:
            made = await b.services.webhooks.create_endpoint(
                receiver.url,
                description="crm",
                events=("reply.option_selected",),
                actor="test",
            )
            receiver.secrets.append(made.secret)
            async with api_client(b) as api:
                sent = await post_json(
                    api,
                    "/api/v1/notifications",
                    {
                        "to": CUSTOMER,
                        "body": NOTICE,
                        "context": APPOINTMENT,
                        "reply_options": {
                            "1": {"value": "confirm", "reply": "Thanks, see you then."},
                            "2": {
                                "value": "reschedule",
                                "action": "handover",
                                "queue": "bookings",
                                "reply": RESCHEDULE,
                            },
                        },
                        "ttl_s": 86400,
                        "quiet_hours": False,
                    },
                )
            assert sent["object"] == "notification"
            assert sent["context"] == APPOINTMENT
            assert await b.phone_gets(1) == [NOTICE]

            b.text("2")
            assert (await b.phone_gets(2))[1] == RESCHEDULE
            (hook,) = await eventually(lambda: receiver.accepted(), what="the webhook")
            assert hook.verified
            event = hook.json
            assert event["type"] == "reply.option_selected"
            data = event["data"]
            assert data["notification"]["id"] == sent["id"]
            assert data["option"]["key"] == "2"
            assert data["option"]["value"] == "reschedule"
            assert data["context"] == APPOINTMENT
            assert data["message"]["body"] == "2"
            assert data["contact"]["number"] == CUSTOMER
            # bookings has it, with the appointment in view
            (row,) = (await b.services.inbox.list_conversations(queue="bookings")).rows
            thread = await b.services.inbox.thread(row.id)
            assert thread.context["appointment_id"] == "APT-123"
            await b.settle()
            assert len(b.phone()) == 2  # nothing more was sent
        finally:
            await receiver.down()


async def test_a_reply_to_a_one_way_broadcast_lands_in_the_inbox_with_its_context(
    tmp_path: Path,
) -> None:
    async with box(tmp_path, web=True) as b:
        outage = {"outage_id": "OUT-9", "area": "Leeds LS1"}
        text = "Power cut in Leeds LS1: engineers on site, back by 6pm."
        async with api_client(b) as api:
            await post_json(
                api,
                "/api/v1/notifications",
                {"to": CUSTOMER, "body": text, "context": outage, "quiet_hours": False},
            )
        assert await b.phone_gets(1) == [text]
        b.text("Will my freezer be OK until then?")
        (question,) = await b.inbound(1)
        thread = await b.services.inbox.thread(question.conversation_id)
        (reply,) = [m for m in thread.messages if m.direction is Direction.INBOUND]
        assert reply.body == "Will my freezer be OK until then?"
        assert reply.replying_to is not None
        assert dict(reply.replying_to.context) == outage
        assert reply.replying_to.body == text
        assert thread.context["outage_id"] == "OUT-9"
        summary = await b.services.inbox.get(question.conversation_id)
        assert summary.awaiting_reply  # waiting for a person, not a dead end


def new_york(*args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)


async def test_a_notification_scheduled_in_quiet_hours_goes_at_their_end(
    tmp_path: Path,
) -> None:
    clock = Clock(new_york(2026, 3, 2, 20, 0))
    async with box(tmp_path, web=True, clock=clock) as b:
        reminder = "Reminder: your technician comes tomorrow at 9am."
        async with api_client(b) as api:
            sent = await post_json(
                api,
                "/api/v1/notifications",
                {
                    "to": NEW_YORK_PHONE,
                    "body": reminder,
                    "context": {"appointment_id": "APT-5"},
                    "scheduled_at": "2026-03-03T03:30:00Z",  # 22:30 in New York
                },
            )
        assert sent["timezones"] == ["America/New_York"]
        assert sent["send_after"] == "2026-03-03T13:00:00Z"  # 08:00 in New York
        assert sent["status"] == "queued"
        # 22:30 there: due, but quiet; a text that is no notification still goes
        clock.now = new_york(2026, 3, 2, 22, 30)
        await b.services.outbound.send(NEW_YORK_PHONE, "first")
        assert await b.phone_gets(1, NEW_YORK_PHONE) == ["first"]
        clock.now = new_york(2026, 3, 3, 7, 59)
        await b.services.outbound.send(NEW_YORK_PHONE, "second")
        assert await b.phone_gets(2, NEW_YORK_PHONE) == ["first", "second"]
        # 08:00 there: the end of quiet hours, and it goes
        clock.now = new_york(2026, 3, 3, 8, 0)
        texts = await b.phone_gets(3, NEW_YORK_PHONE)
        assert texts == ["first", "second", reminder]
        (message,) = [m for m in await b.messages(NEW_YORK_PHONE) if m.body == reminder]
        assert message.sent_at is not None
        assert message.sent_at >= new_york(2026, 3, 3, 8, 0)


# ---------------------------------------------------------------- routing


async def test_routing_by_keyword_and_contact_attributes(tmp_path: Path) -> None:
    async with box(tmp_path) as b:
        automation = b.services.automation
        north = await b.agent("nora")
        owner = await b.agent("olga")
        await automation.save_routing_rule(
            None, name="Billing words", kind="keyword", key="",
            value="invoice, refund, charged twice", queue="billing", tags="billing",
            priority=None, assignee_id=None, actor="test",
        )  # fmt: skip
        await automation.save_routing_rule(
            None, name="VIP", kind="attribute", key="tier", value="vip",
            queue="vip", tags="vip", priority="high", assignee_id=None, actor="test",
        )  # fmt: skip
        await automation.save_routing_rule(
            None, name="The north", kind="attribute", key="region", value="north",
            queue="north", tags="", priority=None, assignee_id=north.user_id,
            actor="test",
        )  # fmt: skip
        contacts = b.services.contacts
        vip, northern, owned = "+447700900301", "+447700900302", "+447700900303"
        await contacts.create(vip, attributes={"tier": "VIP"}, actor=SYSTEM)
        await contacts.create(northern, attributes={"region": "north"}, actor=SYSTEM)
        await contacts.create(owned, attributes={"account_owner": "olga"}, actor=SYSTEM)

        b.text("I was charged twice for my order")
        b.text("Hello, a question about my parcel", vip)
        b.text("Hi there", northern)
        b.text("Can someone call me?", owned)

        async def conversation_of(number: str) -> Any:
            (first,) = await b.inbound(1, number)
            return await b.services.inbox.get(first.conversation_id)

        billing = await conversation_of(CUSTOMER)
        assert billing.queue == "billing"
        assert "billing" in billing.tags
        vip_one = await conversation_of(vip)
        assert vip_one.queue == "vip"
        assert vip_one.priority.value == "high"
        northern_one = await conversation_of(northern)
        assert northern_one.queue == "north"
        assert northern_one.assignee is not None
        assert northern_one.assignee.id == north.user_id
        owned_one = await conversation_of(owned)
        assert owned_one.assignee is not None
        assert owned_one.assignee.id == owner.user_id


async def test_sticky_agent_and_auto_assignment_among_agents_online(
    tmp_path: Path,
) -> None:
    ini = "[automation]\ndefault_queue = support\n[inbound]\nreopen_window_s = 0\n"
    async with box(tmp_path, ini) as b:
        ann, ben = await b.agent("ann"), await b.agent("ben")
        cat = await b.agent("cat", online=False)
        await b.services.automation.save_queue(
            None,
            name="support",
            assignment="round_robin",
            members=[ann.user_id or 0, ben.user_id or 0, cat.user_id or 0],
            actor="test",
        )
        # round robin among those online: ann, ben, ann again (cat is not signed in)
        numbers = ("+447700900311", "+447700900312", "+447700900313")
        assignees = []
        for number in numbers:
            b.text("Hello, I need help with my order", number)
            (first,) = await b.inbound(1, number)
            summary = await b.services.inbox.get(first.conversation_id)
            assert summary.queue == "support"
            assert summary.assignee is not None
            assignees.append(summary.assignee.id)
        assert assignees == [ann.user_id, ben.user_id, ann.user_id]

        # sticky: ben answers the first customer and resolves; when they come back in a
        # new conversation it goes to ben, not to the next in the rotation
        (first,) = await b.inbound(1, numbers[0])
        await b.services.inbox.reply(first.conversation_id, "On its way!", actor=ben)
        await b.services.inbox.set_status(first.conversation_id, "resolved", actor=ben)
        await b.phone_gets(1, numbers[0])
        b.text("Hi again, another question", numbers[0])
        (_, again) = await b.inbound(2, numbers[0])
        assert again.conversation_id != first.conversation_id
        back = await b.services.inbox.get(again.conversation_id)
        assert back.assignee is not None
        assert back.assignee.id == ben.user_id

        # least busy: ann holds 1 open conversation (her first one was resolved), ben
        # 2 (his own and the sticky one), dan none but he is offline: ann gets the next
        for who, holds in ((ann, 1), (ben, 2)):
            mine = await b.services.inbox.list_conversations(
                status="open", ownership="mine", user_id=who.user_id
            )
            assert len(mine.rows) == holds
        dan = await b.agent("dan", online=False)
        await b.services.automation.save_queue(
            None,
            name="returns",
            assignment="least_busy",
            members=[ann.user_id or 0, ben.user_id or 0, dan.user_id or 0],
            actor="test",
        )
        await b.services.automation.save_routing_rule(
            None, name="Returns", kind="keyword", key="", value="return, returns",
            queue="returns", tags="", priority=None, assignee_id=None, actor="test",
        )  # fmt: skip
        b.text("I want to return a jumper", "+447700900314")
        (returning,) = await b.inbound(1, "+447700900314")
        summary = await b.services.inbox.get(returning.conversation_id)
        assert summary.queue == "returns"
        assert summary.assignee is not None
        assert summary.assignee.id == ann.user_id


# ---------------------------------------------------------------- business hours


async def test_the_acknowledgement_goes_once_and_not_after_an_agent_replied(
    tmp_path: Path,
) -> None:
    ini = f"[automation]\nack_text = {ACK}\nagent_recent_s = 30m\n"
    clock = Clock(utcnow())
    async with box(tmp_path, ini, clock=clock) as b:
        agent = await b.agent("amy")
        b.text("Hi, where is my parcel?")
        assert await b.phone_gets(1) == [ACK]
        b.text("It was due yesterday")
        await b.inbound(2)
        await b.settle()
        assert b.phone() == [ACK]  # once per conversation

        # an agent answers and resolves; the customer writes again 5 minutes later:
        # the conversation reopens (the automation starts afresh there) but a person
        # is already talking to them, so no acknowledgement
        (first, _) = await b.inbound(2)
        cid = first.conversation_id
        await b.services.inbox.reply(cid, "Hi, Amy here - it comes today.", actor=agent)
        await b.phone_gets(2)
        await b.services.inbox.set_status(cid, "resolved", actor=agent)
        clock.now += timedelta(minutes=5)
        b.text("Thanks! One more thing")
        (*_, again) = await b.inbound(3)
        assert again.conversation_id == cid  # reopened
        await b.settle()
        assert b.phone() == [ACK, "Hi, Amy here - it comes today."]

        # 31 minutes after the agent's reply, resolved and reopened again: nobody has
        # been talking to them for a while, so the acknowledgement goes
        await b.services.inbox.set_status(cid, "resolved", actor=agent)
        clock.now += timedelta(minutes=26)
        b.text("Hello? Still there?")
        assert (await b.phone_gets(3))[2] == ACK
        automated = [
            m.body for m in await b.messages() if m.origin is MessageOrigin.AUTOMATION
        ]
        assert automated == [ACK, ACK]


# ---------------------------------------------------------------- the seed, in the console


_CSRF = re.compile(r'<meta name="csrf-token" content="([^"]*)">')


async def test_the_seed_ends_with_an_agent_replying_with_the_order_in_view(
    tmp_path: Path,
) -> None:
    async with box(tmp_path, web=True) as b:
        bob = await b.agent("bob")
        await triage_with_order_flow(b.services, (bob.user_id or 0,))
        b.text("My delivery is late")
        assert await b.phone_gets(1) == [ASK_ORDER]
        b.text("4839201")
        assert (await b.phone_gets(2))[1].startswith(CONNECTING)
        (first, _) = await b.inbound(2)
        cid = first.conversation_id

        jar = aiohttp.CookieJar(unsafe=True)  # the session cookie of 127.0.0.1
        async with aiohttp.ClientSession(base_url=b.url, cookie_jar=jar) as browser:
            signed = await browser.post(
                "/login",
                data={"username": "bob", "password": PASSWORD},
                allow_redirects=False,
            )
            assert signed.status == 303
            async with browser.get(f"/conversations/{cid}") as page:
                assert page.status == 200
                text = await page.text()
            # the order number in view: the panel's summary, what the automation
            # collected, why it handed over, and the conversation is bob's
            assert "collected order_number 4839201" in text
            collected = re.search(r"<dl[^>]*data-collected[^>]*>(.*?)</dl>", text, re.S)
            assert collected is not None
            assert "<dt>order_number</dt><dd>4839201</dd>" in collected[1]
            assert "Order number: details collected" in text
            assert "selected>Bob (me)</option>" in text
            csrf = _CSRF.search(text)
            assert csrf is not None

            reply = (
                "Hi Jamie, I see your order 4839201 is delayed due to weather. New "
                "ETA is 4-6pm. Want to keep it or reschedule?"
            )
            async with browser.post(
                f"/conversations/{cid}/reply",
                data={"csrf_token": csrf[1], "body": reply, "idempotency_key": "k1"},
                allow_redirects=False,
            ) as answer:
                assert answer.status == 303
        assert (await b.phone_gets(3))[2] == reply
        (sent,) = [m for m in await b.messages() if m.origin is MessageOrigin.AGENT]
        assert sent.body == reply
        assert sent.user_id == bob.user_id


# ---------------------------------------------------------------- the README's example

README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_example() -> tuple[dict[str, Any], dict[str, Any]]:
    """README "Notifications and templates": the curl request's body, and the
    reply.option_selected example with its elisions ("...") dropped."""
    text = README.read_text(encoding="utf-8")
    section = text.split("## Notifications and templates\n", 1)[1].split("\n## ", 1)[0]
    request = re.search(r"-d '(\{.*?\})'\n", section, re.S)
    assert request is not None, "the README's curl example"
    event = re.search(r"```json\n(.*?)```", section, re.S)
    assert event is not None, "the README's webhook example"
    cleaned = re.sub(r',\s*"?\.\.\."?', "", event[1])
    cleaned = cleaned.replace('"evt_019ca8a0..."', '"evt"')
    return json.loads(request[1]), json.loads(cleaned)


async def test_the_readmes_notification_example_works_as_written(
    tmp_path: Path,
) -> None:
    request, documented = _readme_example()
    async with box(tmp_path, "[automation]\nenabled = no\n", web=True) as b:
        receiver = Receiver()
        await receiver.up()
        try:
            made = await b.services.webhooks.create_endpoint(
                receiver.url, description="crm", events=(), actor="test"
            )
            receiver.secrets.append(made.secret)
            await b.services.contacts.create(
                request["to"], name="Jamie Lee", actor=SYSTEM
            )
            async with api_client(b) as api:
                answer = await api.post(
                    "/api/v1/notifications",
                    json={**request, "quiet_hours": False},  # whatever the hour now
                    headers={"Idempotency-Key": "apt-77-reminder"},
                )
                assert answer.status == 201, await answer.text()
                sent = await answer.json()
            assert await b.phone_gets(1, request["to"]) == [request["body"]]
            b.text("2", request["to"])
            option = request["reply_options"]["2"]
            assert (await b.phone_gets(2, request["to"]))[1] == option["reply"]

            async def selected() -> list[Any]:
                return [
                    r
                    for r in receiver.accepted()
                    if r.json["type"] == "reply.option_selected"
                ]

            (hook,) = await eventually(selected, what="reply.option_selected")
            event = hook.json
            assert set(event) == set(documented)
            data, shown = event["data"], documented["data"]
            assert set(data) == set(shown)
            for key in ("notification", "option", "conversation", "contact"):
                assert set(shown[key]) <= set(data[key]), key
            assert data["option"] == shown["option"]
            assert data["context"] == shown["context"] == request["context"]
            assert data["notification"]["id"] == sent["id"]
            assert data["contact"]["name"] == shown["contact"]["name"]
            assert data["confirmation_message_id"] is not None
        finally:
            await receiver.down()

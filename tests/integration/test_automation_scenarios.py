"""Support automation through the real daemon (real drivers over simulated modems, a
simulated phone as the customer), one scenario per flow: the seed's "My delivery is
late" end to end, STOP in the middle of a flow, an unmatched reply, after hours (a fixed
clock), a frustration escalation, and a takeover word and HELP bringing a human."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway import events
from gateway.automation.rules import FieldKind, FieldSpec
from gateway.domain import MessageOrigin, MessageRecord, Priority, utcnow
from gateway.services import Services
from gateway.storage import queries
from tests.integration.daemonbox import (
    Box,
    box,
    fast_daemon,  # noqa: F401 (the fixture the tests use)
)

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fast_daemon")]

CONNECTING = "Thanks - one moment while I connect you to an agent."
ASK_ORDER = "Sorry about that. Reply with your order number."
ORDER = FieldSpec(
    "order_number",
    "order number",
    ASK_ORDER,
    FieldKind.PATTERN,
    r"\b(\d{6,10})\b",
)


async def triage_with_order_flow(services: Services, members: tuple[int, ...]) -> None:
    """The seed's rules: 1 billing, 2 delivery (which asks for the order number)."""
    automation = services.automation
    flow = await automation.save_flow(
        None, name="Order number", fields=[ORDER], done_text="", actor="test"
    )
    await automation.save_triage_option(
        None,
        key="1",
        label="billing",
        keywords="invoice, payment, refund",
        queue="billing",
        tags="",
        assignee_id=None,
        flow_id=None,
        actor="test",
    )
    await automation.save_triage_option(
        None,
        key="2",
        label="delivery",
        keywords="late, parcel, courier",
        queue="delivery",
        tags="delivery",
        assignee_id=None,
        flow_id=flow.id,
        actor="test",
    )
    await automation.save_queue(
        None,
        name="delivery",
        assignment="round_robin",
        members=list(members),
        actor="test",
    )


async def automated(b: Box) -> list[MessageRecord]:
    return [m for m in await b.messages() if m.origin is MessageOrigin.AUTOMATION]


# ---------------------------------------------------------------- the seed's example


async def test_my_delivery_is_late_end_to_end(
    tmp_path: Path,
) -> None:
    async with box(tmp_path) as b:
        jamie_agent = await b.agent("bob")
        await triage_with_order_flow(b.services, (jamie_agent.user_id or 0,))

        b.text("My delivery is late")
        assert await b.phone_gets(1) == [ASK_ORDER]
        b.text("4839201")
        texts = await b.phone_gets(2)
        assert texts[1].startswith(CONNECTING)
        assert "connect you to an agent" in texts[1]

        # the agent's view: the order number in the thread, the conversation theirs
        (first, _) = await b.inbound(2)
        thread = await b.services.inbox.thread(first.conversation_id)
        assert thread.context["order_number"] == "4839201"
        assert thread.customer.contact.attributes["order_number"] == "4839201"
        assert thread.conversation.queue == "delivery"
        assert thread.conversation.assignee is not None
        assert thread.conversation.assignee.username == "bob"
        assert "delivery" in thread.conversation.tags
        (note,) = thread.notes
        assert note.body == (
            "Automation handed this conversation over: Order number: details "
            "collected. Collected: order_number 4839201."
        )
        assert [m.origin for m in thread.messages] == [
            MessageOrigin.CUSTOMER,
            MessageOrigin.AUTOMATION,
            MessageOrigin.CUSTOMER,
            MessageOrigin.AUTOMATION,
        ]

        # the agent answers with the order in view; the customer's next text is theirs
        reply = (
            "Hi Jamie, I see your order 4839201 is delayed due to weather. New ETA "
            "is 4-6pm. Want to keep it or reschedule?"
        )
        await b.services.inbox.reply(first.conversation_id, reply, actor=jamie_agent)
        assert (await b.phone_gets(3))[2] == reply
        b.text("Keep it, thanks")
        await b.inbound(3)
        await b.settle()
        assert len(b.phone()) == 3  # no automated text once a person is in the loop
        handed = b.recorder.of(events.AutomationHandedOver)
        assert [(h.reason, h.escalated) for h in handed] == [
            ("Order number: details collected", False)
        ]
        assigned = b.recorder.of(events.ConversationAssigned)
        assert [a.assignee_id for a in assigned] == [jamie_agent.user_id]


# ---------------------------------------------------------------- STOP mid-flow


async def test_stop_in_the_middle_of_a_flow(
    tmp_path: Path,
) -> None:
    async with box(tmp_path) as b:
        await triage_with_order_flow(b.services, ())
        b.text("My parcel is late")
        assert await b.phone_gets(1) == [ASK_ORDER]
        b.text("STOP")
        texts = await b.phone_gets(2)
        assert "unsubscribed" in texts[1]  # the opt-out confirmation, alone
        b.text("4839201")
        b.text("agent please!!!")
        await b.inbound(4)
        await b.settle()
        assert len(b.phone()) == 2  # nothing more, ever
        assert [m.body for m in await automated(b)] == [ASK_ORDER]
        state = await b.services.automation.state(
            (await b.inbound(1))[0].conversation_id
        )
        assert state is not None
        assert state.handed_over
        assert state.fields == {}  # the order number sent after STOP was not collected


# ---------------------------------------------------------------- an unmatched reply


async def test_an_unmatched_reply_is_asked_again_then_a_human(
    tmp_path: Path,
) -> None:
    ini = "[automation]\nmax_prompts = 1\n"
    async with box(tmp_path, ini) as b:
        await triage_with_order_flow(b.services, ())
        b.text("hello")
        menu = "Thanks for your message. Reply 1 for billing, 2 for delivery."
        assert await b.phone_gets(1) == [menu]
        b.text("what?")
        again = "Sorry, I didn't catch that. Reply 1 for billing, 2 for delivery."
        assert (await b.phone_gets(2))[1] == again
        b.text("banana")
        assert (await b.phone_gets(3))[2] == CONNECTING
        b.text("banana!")
        await b.inbound(4)
        await b.settle()
        assert len(b.phone()) == 3
        (first, *_) = await b.inbound(1)
        thread = await b.services.inbox.thread(first.conversation_id)
        assert [n.body for n in thread.notes] == [
            "Automation handed this conversation over: no triage option fits after "
            "2 tries."
        ]


# ---------------------------------------------------------------- after hours


async def test_after_hours_the_reply_says_when_a_human_answers(
    tmp_path: Path,
) -> None:
    # Thursday 26 November 2026, 21:00 in London (GMT); the clock runs on from there
    fixed = datetime(2026, 11, 26, 21, 0, tzinfo=UTC)
    started = utcnow()

    def clock() -> datetime:
        return fixed + (utcnow() - started)

    async with box(
        tmp_path, "[automation]\ndefault_queue = support\n", clock=clock) as b:  # fmt: skip
        await b.services.automation.save_queue(
            None,
            name="support",
            hours="mon-fri 08:00-18:00",
            holidays="2026-12-25",
            actor="test",
        )
        b.text("Hello, is anyone there?")
        (text,) = await b.phone_gets(1)
        assert text == (
            "Thanks for your message. We're closed right now; we'll reply tomorrow at "
            "8am."
        )
        b.text("ok")
        await b.inbound(2)
        await b.settle()
        assert len(b.phone()) == 1  # once per closed spell
        (first, _) = await b.inbound(2)
        conversation = await b.store.run(
            queries.get_conversation, first.conversation_id
        )
        assert conversation.queue == "support"


# ---------------------------------------------------------------- frustration


async def test_a_frustration_escalation(
    tmp_path: Path,
) -> None:
    ini = "[automation]\nack_text = We typically reply within 10 minutes.\n"
    async with box(tmp_path, ini) as b:
        lead = await b.agent("erin")
        await b.services.automation.save_queue(
            None,
            name="escalations",
            assignment="least_busy",
            members=[lead.user_id or 0],
            actor="test",
        )
        b.text("Where is my parcel?")
        assert await b.phone_gets(1) == ["We typically reply within 10 minutes."]
        b.text("THIS IS RIDICULOUS, THIRD TIME I ASK!!!")
        texts = await b.phone_gets(2)
        assert texts[1] == CONNECTING
        (first, _) = await b.inbound(2)
        cid = first.conversation_id
        summary = await b.services.inbox.get(cid)
        assert summary.priority is Priority.HIGH
        assert summary.queue == "escalations"
        assert "escalated" in summary.tags
        assert summary.assignee is not None
        assert summary.assignee.id == lead.user_id
        await b.settle()
        (flagged,) = b.recorder.of(events.ConversationFlagged)
        assert flagged.conversation_id == cid
        assert "written in capitals" in flagged.reason
        assert "!!!" in flagged.reason
        assert "said 'third time'" in flagged.reason
        (handed,) = b.recorder.of(events.AutomationHandedOver)
        assert handed.escalated
        assert handed.assignee_id == lead.user_id
        audit = await b.store.run(queries.list_audit, subject=f"conversation:{cid}")
        actions = {a.action for a in audit if a.actor == "automation"}
        assert {"automation.escalate", "automation.handover", "conversation.priority",
                "conversation.assign", "conversation.tag"} <= actions  # fmt: skip
        # calmer now, but escalated once is enough: nothing more is sent
        b.text("hello??")
        await b.inbound(3)
        await b.settle()
        assert len(b.phone()) == 2


# ---------------------------------------------------------------- takeover words, HELP


async def test_a_takeover_word_brings_a_human_at_once(
    tmp_path: Path,
) -> None:
    async with box(tmp_path) as b:
        await triage_with_order_flow(b.services, ())
        # mid-flow, "a real person" stops the questions at once
        b.text("My parcel is late")
        assert await b.phone_gets(1) == [ASK_ORDER]
        b.text("can I talk to a real person please")
        assert (await b.phone_gets(2))[1] == CONNECTING
        (first, _) = await b.inbound(2)
        summary = await b.services.inbox.get(first.conversation_id)
        assert summary.queue == "escalations"
        assert summary.priority is Priority.HIGH
        assert "escalated" in summary.tags
        b.text("4839201")  # the flow does not resume
        await b.inbound(3)
        await b.settle()
        assert len(b.phone()) == 2
        (handed,) = b.recorder.of(events.AutomationHandedOver)
        assert handed.escalated


async def test_help_keeps_its_reply_and_flags_a_human(
    tmp_path: Path,
) -> None:
    # compliance's help text is the one reply, and a human is flagged
    async with box(tmp_path) as b:
        await triage_with_order_flow(b.services, ())
        b.text("My parcel is late")
        assert await b.phone_gets(1) == [ASK_ORDER]
        b.text("HELP")
        texts = await b.phone_gets(2)
        assert texts[1] == b.daemon.settings.compliance.help_reply
        (first, _) = await b.inbound(2)
        summary = await b.services.inbox.get(first.conversation_id)
        assert summary.priority is Priority.HIGH
        assert "help-requested" in summary.tags
        assert summary.awaiting_reply
        b.text("4839201")
        await b.inbound(3)
        await b.settle()
        assert len(b.phone()) == 2  # no question after HELP, no "connecting" either
        (handed,) = b.recorder.of(events.AutomationHandedOver)
        assert handed.escalated

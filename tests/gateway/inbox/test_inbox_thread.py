"""A thread: every message in order with its per-part delivery state and author, notes
inline by time, the context each customer message answers, and the customer panel."""

from __future__ import annotations

from datetime import datetime

import pytest
from inboxhelpers import CUSTOMER, OTHER, Inbox

from gateway.domain import (
    ConsentKind,
    ConsentSource,
    Direction,
    MessageStatus,
    PartStatus,
)
from gateway.errors import InvalidInput, NotFound
from gateway.inbox.records import NoteRecord, ThreadMessage
from gateway.storage import queries

LONG = "This reply is long enough to need two SMS parts. " * 4


def _send_parts(modem: str, now: datetime, report: int | None) -> list[int]:
    """The modem takes every queued part: TP-MR 40, 41...; then a status report."""
    references = []
    while (claimed := queries.claim_next_outbound(modem, now=now)) is not None:
        reference = 40 + len(references)
        queries.mark_part_accepted(claimed.part.id, reference=reference, now=now)
        references.append(reference)
    if report is not None and references:
        queries.apply_status_report(modem, references[0], status=report, now=now)
    return references


async def test_messages_and_notes_in_time_order(rig: Inbox) -> None:
    alice = await rig.actor("alice")
    cid = (await rig.inbound("where is my parcel?")).conversation.id
    note = await rig.inbox.add_note(cid, "checking with the courier", actor=alice)
    reply = await rig.inbox.reply(cid, LONG, actor=alice)
    await rig.store.run(_send_parts, "usb0", rig.clock(), 0x00)
    await rig.inbound("thanks")

    thread = await rig.inbox.thread(cid)
    kinds = [(item.kind, item.body[:10]) for item in thread.items]
    assert kinds == [
        ("message", "where is m"),
        ("note", "checking w"),
        ("message", LONG[:10]),
        ("message", "thanks"),
    ]
    assert thread.notes == (note,)
    sent = thread.messages[1]
    assert sent.id == reply.id
    assert sent.direction is Direction.OUTBOUND
    assert sent.author is not None
    assert sent.author.username == "alice"
    assert sent.parts_count == 2
    # part 1 delivered (TP-ST 0), part 2 accepted and waiting for its report
    assert [(p.seq, p.status, p.reference, p.report_status) for p in sent.parts] == [
        (1, PartStatus.DELIVERED, 40, 0),
        (2, PartStatus.SENT, 41, None),
    ]
    assert sent.status is MessageStatus.SENT
    assert thread.messages[0].parts == ()  # inbound messages have no parts here
    assert thread.older_cursor is None


async def test_a_failed_part_shows_its_reason(rig: Inbox) -> None:
    alice = await rig.actor("alice")
    cid = (await rig.inbound("hi")).conversation.id
    await rig.inbox.reply(cid, "short answer", actor=alice)
    await rig.store.run(_send_parts, "usb0", rig.clock(), 0x41)
    (_, sent) = (await rig.inbox.thread(cid)).messages
    assert sent.status is MessageStatus.FAILED
    (part,) = sent.parts
    assert part.status is PartStatus.FAILED
    assert part.report_status == 0x41
    assert part.error is not None
    assert "0x41" in part.error
    assert sent.error is not None


async def test_each_reply_shows_the_context_it_answers(rig: Inbox) -> None:
    await rig.outbound("Order A-1 shipped", context={"order_id": "A-1"})
    await rig.outbound("Rate us 1-5")  # no context: not what they reply about
    cid = (await rig.inbound("which courier?")).conversation.id
    await rig.outbound("Order B-2 shipped", context={"order_id": "B-2"})
    await rig.inbound("and this one?")
    await rig.inbound("hello?")

    thread = await rig.inbox.thread(cid)
    replies = [
        (m.body, m.replying_to.context if m.replying_to else None)
        for m in thread.messages
        if m.direction is Direction.INBOUND
    ]
    assert replies == [
        ("which courier?", {"order_id": "A-1"}),
        ("and this one?", {"order_id": "B-2"}),
        ("hello?", {"order_id": "B-2"}),
    ]
    first = thread.messages[0]
    assert first.context == {"order_id": "A-1"}  # the notification itself
    assert first.replying_to is None  # outbound messages answer nothing
    assert thread.context == {"order_id": "B-2"}  # merged in the conversation


async def test_the_context_may_come_from_an_earlier_conversation(rig: Inbox) -> None:
    alice = await rig.actor("alice")
    first = (
        await rig.outbound("Appointment Tue 10am", context={"booking": 7})
    ).conversation_id
    assert first is not None
    await rig.inbox.set_status(first, "resolved", actor=alice)
    cid = (await rig.inbound("can we move it?")).conversation.id
    assert cid != first
    (message,) = (await rig.inbox.thread(cid)).messages
    assert message.replying_to is not None
    assert message.replying_to.conversation_id == first
    assert message.replying_to.context == {"booking": 7}
    assert message.replying_to.body == "Appointment Tue 10am"


async def test_the_customer_panel(rig: Inbox) -> None:
    alice = await rig.actor("alice")
    await rig.contact(CUSTOMER, name="Ada", attributes={"region": "north", "vip": True})
    old = (await rig.inbound("first time")).conversation.id
    await rig.inbox.set_status(old, "resolved", actor=alice)
    cid = (await rig.inbound("second time")).conversation.id
    await rig.inbound("someone else", sender=OTHER)
    for kind in (ConsentKind.OPT_OUT, ConsentKind.OPT_IN, ConsentKind.OPT_OUT):
        await rig.store.run(
            queries.record_consent,
            CUSTOMER,
            kind,
            ConsentSource.KEYWORD,
            now=rig.clock(),
        )

    panel = (await rig.inbox.thread(cid)).customer
    assert panel.display == "Ada"
    assert panel.contact.attributes == {"region": "north", "vip": True}
    assert panel.opted_out
    assert [c.kind for c in panel.consent_history] == [
        ConsentKind.OPT_OUT,
        ConsentKind.OPT_IN,
        ConsentKind.OPT_OUT,
    ]
    assert [c.id for c in panel.conversations] == [old]  # the current one left out
    (brief,) = panel.conversations
    assert brief.resolved_at is not None
    assert brief.last_message is not None
    assert brief.last_message.body == "first time"


async def test_long_threads_come_in_pages_with_their_notes(rig: Inbox) -> None:
    alice = await rig.actor("alice")
    cid = (await rig.inbound("m0")).conversation.id
    notes = []
    for n in range(1, 7):
        await rig.inbound(f"m{n}")
        notes.append(await rig.inbox.add_note(cid, f"after m{n}", actor=alice))

    newest = await rig.inbox.thread(cid, limit=3)
    assert [m.body for m in newest.messages] == ["m4", "m5", "m6"]
    assert [n.body for n in newest.notes] == ["after m4", "after m5", "after m6"]
    assert newest.older_cursor is not None
    middle = await rig.inbox.thread(cid, limit=3, before=newest.older_cursor)
    assert [m.body for m in middle.messages] == ["m1", "m2", "m3"]
    assert [n.body for n in middle.notes] == ["after m1", "after m2", "after m3"]
    oldest = await rig.inbox.thread(cid, limit=3, before=middle.older_cursor)
    assert [m.body for m in oldest.messages] == ["m0"]
    assert oldest.notes == ()
    assert oldest.older_cursor is None
    everything = await rig.inbox.thread(cid)
    assert len(everything.items) == 7 + 6
    assert isinstance(everything.items[0], ThreadMessage)
    assert isinstance(everything.items[-1], NoteRecord)


async def test_thread_refusals(rig: Inbox) -> None:
    with pytest.raises(NotFound):
        await rig.inbox.thread(404)
    for kwargs, field in (
        ({"limit": 0}, "limit"),
        ({"limit": 501}, "limit"),
        ({"before": 0}, "before"),
    ):
        with pytest.raises(InvalidInput) as info:
            await rig.inbox.thread(1, **kwargs)  # type: ignore[arg-type]
        assert info.value.field == field
    with pytest.raises(InvalidInput) as info:
        await rig.inbox.thread(0)
    assert info.value.field == "conversation_id"

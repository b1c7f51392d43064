"""Units of work the services added: unknown parts, stranded messages, sticky modems,
undecodable PDUs, flags and the counts `smsgw status` shows."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from storehelpers import T0

from gateway.domain import (
    ConsentKind,
    ConsentSource,
    Enqueued,
    MessageStatus,
    NumberKind,
    PartStatus,
    Priority,
)
from gateway.storage import queries
from gateway.storage.db import Store

CUSTOMER = "+447700900123"


async def enqueue(store: Store, body: str = "hi", **kwargs: Any) -> Enqueued:
    kwargs.setdefault("number", CUSTOMER)
    kwargs.setdefault("parts_count", 1)
    return await store.run(
        queries.enqueue_outbound, body=body, encoding="gsm7", now=T0, **kwargs
    )


async def receive(
    store: Store, text: str, *, modem: str, sender: str = CUSTOMER
) -> Any:
    return await store.run(
        queries.receive_inbound_part,
        modem=modem,
        sender=sender,
        sender_kind=NumberKind.E164,
        pdu=f"{modem}|{sender}|{text}".encode(),
        text=text,
        encoding="gsm7",
        concat=None,
        network_at=T0,
        received_at=T0,
        reopen_window_s=3600.0,
    )


async def test_outcomes_say_whether_the_message_status_changed(store: Store) -> None:
    await enqueue(store, parts_count=2)
    claimed = await store.run(queries.claim_next_outbound, "usb0", now=T0)
    assert claimed is not None
    assert claimed.previous_status is MessageStatus.QUEUED
    assert claimed.status_changed  # queued -> sending
    first = await store.run(
        queries.mark_part_accepted, claimed.part.id, reference=1, now=T0
    )
    assert not first.status_changed  # still sending: one part to go
    claimed = await store.run(queries.claim_next_outbound, "usb0", now=T0)
    assert claimed is not None
    assert not claimed.status_changed
    second = await store.run(
        queries.mark_part_accepted, claimed.part.id, reference=2, now=T0
    )
    assert second.status_changed
    assert second.previous_status is MessageStatus.SENDING
    assert second.message.status is MessageStatus.SENT


async def test_an_unconfirmed_part_is_unknown_and_the_rest_still_go(
    store: Store,
) -> None:
    queued = await enqueue(store, parts_count=2)
    claimed = await store.run(queries.claim_next_outbound, "usb0", now=T0)
    assert claimed is not None
    outcome = await store.run(
        queries.mark_part_unknown, claimed.part.id, error="no answer", now=T0
    )
    assert outcome.part.status is PartStatus.UNKNOWN
    second = await store.run(queries.claim_next_outbound, "usb0", now=T0)
    assert second is not None
    assert (second.message.id, second.part.seq) == (queued.message.id, 2)
    done = await store.run(
        queries.mark_part_accepted, second.part.id, reference=9, now=T0
    )
    # the phone may lack part 1: the message is not claimed to be sent
    assert done.status_changed
    assert done.message.status is MessageStatus.UNKNOWN
    assert done.message.sent_at is None
    assert done.message.error == "part 1 of 2: no answer"


async def test_a_send_cut_short_by_a_crash_leaves_its_message_unknown_not_sent(
    store: Store,
) -> None:
    """Regression (crash harness): a part claimed before a SIGKILL may never have reached
    the modem, so after the restart its message must not roll up to `sent` - even once
    every other part went out and was reported delivered."""
    queued = await enqueue(store, parts_count=2)
    first = await store.run(queries.claim_next_outbound, "usb0", now=T0)
    assert first is not None
    # the process dies here; the restart settles what it left
    (recovered,) = await store.run(queries.recover_interrupted_sends, "usb0", now=T0)
    assert recovered.part.status is PartStatus.UNKNOWN
    assert recovered.message.status is MessageStatus.SENDING  # part 2 still to go
    second = await store.run(queries.claim_next_outbound, "usb0", now=T0)
    assert second is not None
    assert (second.message.id, second.part.seq) == (queued.message.id, 2)
    await store.run(queries.mark_part_accepted, second.part.id, reference=7, now=T0)
    report = await store.run(
        queries.apply_status_report, "usb0", 7, status=0x00, now=T0
    )
    assert report is not None
    assert report.part.status is PartStatus.DELIVERED
    message = report.message
    assert message.status is MessageStatus.UNKNOWN
    assert message.delivered_at is None
    assert message.error is not None
    assert message.error.startswith("part 1 of 2: interrupted by a restart")


async def test_stranded_messages_are_freed_unless_a_part_left(store: Store) -> None:
    started = await enqueue(store, "started", modem="usb0", parts_count=2)
    waiting = await enqueue(store, "waiting", modem="usb0")
    elsewhere = await enqueue(store, "elsewhere", modem="usb1")
    claimed = await store.run(queries.claim_next_outbound, "usb0", now=T0)
    assert claimed is not None
    assert claimed.message.id == started.message.id  # its first part left
    moved = await store.run(queries.reassign_stranded, ["usb0"], now=T0)
    assert [m.id for m in moved] == [waiting.message.id]
    assert moved[0].modem is None
    assert (await store.run(queries.get_message, started.message.id)).modem == "usb0"
    assert (await store.run(queries.get_message, elsewhere.message.id)).modem == "usb1"
    assert await store.run(queries.reassign_stranded, [], now=T0) == []


async def test_modems_with_sending_parts(store: Store) -> None:
    await enqueue(store)
    assert await store.run(queries.modems_with_sending_parts) == []
    await store.run(queries.claim_next_outbound, "usb3", now=T0)
    assert await store.run(queries.modems_with_sending_parts) == ["usb3"]


async def test_the_sticky_modem_is_the_one_last_texted(store: Store) -> None:
    assert await store.run(queries.sticky_modem, CUSTOMER) is None
    await receive(store, "hello", modem="usb0")
    _, threaded = await receive(store, "again", modem="usb1")
    assert await store.run(queries.sticky_modem, CUSTOMER) == "usb1"
    conversation_id = threaded.conversation.id
    assert await store.run(queries.sticky_modem, CUSTOMER, conversation_id) == "usb1"
    assert await store.run(queries.sticky_modem, "+447700900999") is None


async def test_undecodable_pdus_are_kept_once(store: Store) -> None:
    first, new = await store.run(
        queries.record_undecodable,
        modem="usb0",
        pdu=b"\x00\x01",
        error="TP-MTI at octet 1: reserved",
        received_at=T0,
    )
    assert new
    assert first.pdu_hex == "0001"
    again, new = await store.run(
        queries.record_undecodable,
        modem="usb0",
        pdu=b"\x00\x01",
        error="TP-MTI at octet 1: reserved",
        received_at=T0 + timedelta(minutes=5),
    )
    assert not new
    assert again.id == first.id
    kept = await store.run(queries.list_undecodable)
    assert [k.id for k in kept] == [first.id]


async def test_message_and_opt_out_counts(store: Store) -> None:
    await receive(store, "hello", modem="usb0")
    await enqueue(store)
    await enqueue(store, "two")
    counts = await store.run(queries.message_counts)
    assert counts.inbound == {MessageStatus.RECEIVED: 1}
    assert counts.outbound == {MessageStatus.QUEUED: 2}
    assert await store.run(queries.opted_out_count) == 0
    for number, kind in (
        ("+447700900001", ConsentKind.OPT_OUT),
        ("+447700900002", ConsentKind.OPT_OUT),
        ("+447700900002", ConsentKind.OPT_IN),
        ("+447700900003", ConsentKind.OPT_IN),
        ("+447700900003", ConsentKind.OPT_OUT),
    ):
        await store.run(
            queries.record_consent, number, kind, ConsentSource.KEYWORD, now=T0
        )
    assert await store.run(queries.opted_out_count) == 2


async def test_flagging_tags_raises_priority_and_audits(store: Store) -> None:
    _, threaded = await receive(store, "please stop texting me", modem="usb0")
    conversation_id = threaded.conversation.id
    flagged = await store.run(
        queries.flag_conversation,
        conversation_id,
        tag="opt-out-request",
        now=T0,
        detail={"message_id": threaded.message.id},
    )
    assert flagged.priority is Priority.HIGH
    again = await store.run(
        queries.flag_conversation, conversation_id, tag="opt-out-request", now=T0
    )
    assert again.priority is Priority.HIGH
    assert await store.run(queries.conversation_tags, conversation_id) == [
        "opt-out-request"
    ]
    audit = await store.run(
        queries.list_audit, subject=f"conversation:{conversation_id}"
    )
    assert [a.action for a in audit] == ["conversation.flag.opt-out-request"] * 2

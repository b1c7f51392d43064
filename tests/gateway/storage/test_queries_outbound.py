"""Outbound units of work: a durable queue, claims per modem, retries that never block the
queue, and statuses rolled up from the parts."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from storehelpers import T0

from gateway.config import Settings
from gateway.domain import (
    ConsentKind,
    ConsentSource,
    ConversationStatus,
    Enqueued,
    MessageOrigin,
    MessageStatus,
    NumberKind,
    PartStatus,
)
from gateway.errors import Conflict, OptedOut
from gateway.storage import queries
from gateway.storage.db import Store, open_database
from modem.pdu.types import Concat

CUSTOMER = "+447700900123"


async def enqueue(
    store: Store, body: str = "Your order shipped", **kwargs: Any
) -> Enqueued:
    kwargs.setdefault("number", CUSTOMER)
    kwargs.setdefault("parts_count", 1)
    kwargs.setdefault("now", T0)
    return await store.run(
        queries.enqueue_outbound, body=body, encoding="gsm7", **kwargs
    )


async def send_all(store: Store, modem: str = "sim0", first_ref: int = 0) -> list[int]:
    """Claim and accept every due part for `modem`; the TP-MRs given."""
    refs = []
    while (
        claimed := await store.run(queries.claim_next_outbound, modem, now=T0)
    ) is not None:
        ref = (first_ref + len(refs)) % 256
        await store.run(
            queries.mark_part_accepted, claimed.part.id, reference=ref, now=T0
        )
        refs.append(ref)
    return refs


async def test_enqueue_commits_a_queued_message_and_its_parts(store: Store) -> None:
    queued = await enqueue(store, parts_count=3, context={"order_id": "4839201"})
    assert queued.created
    assert queued.message.status is MessageStatus.QUEUED
    assert queued.message.origin is MessageOrigin.API
    assert queued.message.concat_ref is not None
    assert [p.seq for p in queued.parts] == [1, 2, 3]
    assert all(p.status is PartStatus.QUEUED for p in queued.parts)
    conversation = await store.run(
        queries.get_conversation, queued.message.conversation_id
    )
    assert conversation.status is ConversationStatus.PENDING  # waits on the customer
    assert conversation.context == {"order_id": "4839201"}
    assert conversation.last_outbound_at == T0


async def test_the_same_idempotency_key_returns_the_same_message(store: Store) -> None:
    first = await enqueue(store, idempotency_key="order-1-shipped")
    again = await enqueue(
        store, idempotency_key="order-1-shipped", now=T0 + timedelta(1)
    )
    assert not again.created
    assert again.message.id == first.message.id
    assert again.parts == first.parts
    messages = await store.run(queries.list_messages, first.message.conversation_id)
    assert len(messages) == 1


async def test_an_idempotency_key_reused_for_another_text_is_a_conflict(
    store: Store,
) -> None:
    await enqueue(store, idempotency_key="k")
    with pytest.raises(Conflict, match="idempotency key"):
        await enqueue(store, "something else", idempotency_key="k")


async def test_concatenation_references_rotate_across_restarts(
    settings: Settings,
) -> None:
    store = await open_database(settings)
    refs = [(await enqueue(store, parts_count=2)).message.concat_ref for _ in range(2)]
    single = await enqueue(store)
    assert single.message.concat_ref is None
    await store.close()
    store = await open_database(settings)
    try:
        refs.append((await enqueue(store, parts_count=2)).message.concat_ref)
    finally:
        await store.close()
    assert refs == [0, 1, 2]


async def test_an_opted_out_number_is_refused_unless_exempt(store: Store) -> None:
    await store.run(
        queries.record_consent,
        CUSTOMER,
        ConsentKind.OPT_OUT,
        ConsentSource.KEYWORD,
        now=T0,
    )
    with pytest.raises(OptedOut):
        await enqueue(store)
    confirmation = await enqueue(
        store, "You are unsubscribed", origin=MessageOrigin.SYSTEM, consent_exempt=True
    )
    assert confirmation.created


async def test_a_reply_in_an_agents_conversation(store: Store) -> None:
    first = await enqueue(store)
    reply = await enqueue(
        store,
        "We're on it",
        conversation_id=first.message.conversation_id,
        origin=MessageOrigin.AGENT,
    )
    assert reply.message.conversation_id == first.message.conversation_id


async def test_claims_go_in_order_and_mark_parts_sending(store: Store) -> None:
    a = await enqueue(store, "first", parts_count=2)
    b = await enqueue(store, "second")
    claimed = await store.run(queries.claim_next_outbound, "sim0", now=T0)
    assert claimed is not None
    assert (claimed.message.id, claimed.part.seq) == (a.message.id, 1)
    assert claimed.part.status is PartStatus.SENDING
    assert claimed.part.attempts == 1
    assert claimed.message.status is MessageStatus.SENDING
    assert claimed.message.modem == "sim0"  # it sticks to the modem that took it
    assert claimed.message.body == "first"
    second = await store.run(queries.claim_next_outbound, "sim0", now=T0)
    assert second is not None
    assert (second.message.id, second.part.seq) == (
        a.message.id,
        2,
    )
    third = await store.run(queries.claim_next_outbound, "sim0", now=T0)
    assert third is not None
    assert third.message.id == b.message.id
    assert await store.run(queries.claim_next_outbound, "sim0", now=T0) is None


async def test_a_message_for_one_modem_is_not_taken_by_another(store: Store) -> None:
    await enqueue(store, modem="usb0")
    assert await store.run(queries.claim_next_outbound, "usb1", now=T0) is None
    assert await store.run(queries.claim_next_outbound, "usb0", now=T0) is not None


async def test_the_rest_of_a_message_follows_its_first_part(store: Store) -> None:
    queued = await enqueue(store, parts_count=2)
    await store.run(queries.claim_next_outbound, "usb0", now=T0)
    assert await store.run(queries.claim_next_outbound, "usb1", now=T0) is None
    with pytest.raises(Conflict, match="already left"):
        await store.run(queries.reassign_outbound, queued.message.id, "usb1", now=T0)


async def test_failover_moves_a_message_nothing_has_left(store: Store) -> None:
    queued = await enqueue(store, modem="usb0")
    moved = await store.run(
        queries.reassign_outbound, queued.message.id, "usb1", now=T0
    )
    assert moved.modem == "usb1"
    assert await store.run(queries.claim_next_outbound, "usb1", now=T0) is not None


async def test_status_rolls_up_to_sent_then_delivered(store: Store) -> None:
    queued = await enqueue(store, parts_count=2)
    first = await store.run(queries.claim_next_outbound, "sim0", now=T0)
    assert first is not None
    outcome = await store.run(
        queries.mark_part_accepted,
        first.part.id,
        reference=17,
        now=T0,
        pdu_hex="0011",
        tpdu_length=2,
    )
    assert outcome.part.status is PartStatus.SENT
    assert outcome.part.reference == 17
    assert outcome.message.status is MessageStatus.SENDING
    second = await store.run(queries.claim_next_outbound, "sim0", now=T0)
    assert second is not None
    outcome = await store.run(
        queries.mark_part_accepted, second.part.id, reference=18, now=T0
    )
    assert outcome.message.status is MessageStatus.SENT
    assert outcome.message.sent_at == T0

    later = T0 + timedelta(seconds=30)
    report = await store.run(
        queries.apply_status_report, "sim0", 17, status=0, now=later
    )
    assert report is not None
    assert report.part.status is PartStatus.DELIVERED
    assert report.message.status is MessageStatus.SENT  # one part still unconfirmed
    report = await store.run(
        queries.apply_status_report, "sim0", 18, status=0, now=later
    )
    assert report is not None
    assert report.message.status is MessageStatus.DELIVERED
    assert report.message.delivered_at == later
    assert report.message.id == queued.message.id


async def test_a_failed_status_report_fails_the_message(store: Store) -> None:
    await enqueue(store)
    await send_all(store, first_ref=3)
    report = await store.run(
        queries.apply_status_report, "sim0", 3, status=0x41, now=T0
    )
    assert report is not None
    assert report.part.status is PartStatus.FAILED
    assert report.message.status is MessageStatus.FAILED
    assert report.message.error is not None
    assert "0x41" in report.message.error


async def test_a_pending_status_report_changes_no_status(store: Store) -> None:
    await enqueue(store)
    await send_all(store, first_ref=3)
    report = await store.run(
        queries.apply_status_report, "sim0", 3, status=0x20, now=T0
    )
    assert report is not None
    assert report.part.status is PartStatus.SENT
    assert report.part.report_status == 0x20


async def test_a_repeated_report_changes_nothing(store: Store) -> None:
    await enqueue(store)
    await send_all(store, first_ref=3)
    await store.run(queries.apply_status_report, "sim0", 3, status=0, now=T0)
    again = await store.run(queries.apply_status_report, "sim0", 3, status=0x41, now=T0)
    assert again is not None
    assert again.message.status is MessageStatus.DELIVERED


async def test_a_report_matches_the_latest_part_with_its_wrapped_reference(
    store: Store,
) -> None:
    old = await enqueue(store, "old")
    await send_all(store, first_ref=200)
    new = await enqueue(store, "new", now=T0 + timedelta(minutes=5))
    claimed = await store.run(
        queries.claim_next_outbound, "sim0", now=T0 + timedelta(minutes=5)
    )
    assert claimed is not None
    await store.run(
        queries.mark_part_accepted,
        claimed.part.id,
        reference=200,  # TP-MR wrapped around to the same value
        now=T0 + timedelta(minutes=5),
    )
    report = await store.run(queries.apply_status_report, "sim0", 200, status=0, now=T0)
    assert report is not None
    assert report.message.id == new.message.id
    untouched = await store.run(queries.get_message, old.message.id)
    assert untouched.status is MessageStatus.SENT


async def test_a_report_nobody_sent_matches_nothing(store: Store) -> None:
    assert (
        await store.run(queries.apply_status_report, "sim0", 9, status=0, now=T0)
        is None
    )


async def test_a_transient_failure_waits_without_blocking_others(store: Store) -> None:
    poisoned = await enqueue(store, "poisoned", parts_count=2)
    healthy = await enqueue(store, "healthy")
    claimed = await store.run(queries.claim_next_outbound, "sim0", now=T0)
    assert claimed is not None
    assert claimed.message.id == poisoned.message.id
    retry_at = T0 + timedelta(seconds=30)
    outcome = await store.run(
        queries.mark_part_failed,
        claimed.part.id,
        error="+CMS ERROR: 42",
        now=T0,
        retry_at=retry_at,
    )
    assert outcome.part.status is PartStatus.QUEUED
    assert outcome.part.next_attempt_at == retry_at
    assert outcome.message.status is MessageStatus.QUEUED

    # The message behind it goes first; the poisoned one's parts all wait.
    nxt = await store.run(queries.claim_next_outbound, "sim0", now=T0)
    assert nxt is not None
    assert nxt.message.id == healthy.message.id
    await store.run(queries.mark_part_accepted, nxt.part.id, reference=1, now=T0)
    assert await store.run(queries.claim_next_outbound, "sim0", now=T0) is None

    retried = await store.run(queries.claim_next_outbound, "sim0", now=retry_at)
    assert retried is not None
    assert (retried.message.id, retried.part.seq, retried.part.attempts) == (
        poisoned.message.id,
        1,
        2,
    )


async def test_a_permanent_failure_fails_the_message_at_once(store: Store) -> None:
    queued = await enqueue(store, parts_count=3)
    claimed = await store.run(queries.claim_next_outbound, "sim0", now=T0)
    assert claimed is not None
    outcome = await store.run(
        queries.mark_part_failed,
        claimed.part.id,
        error="+CMS ERROR: 21 (rejected)",
        now=T0,
        retry_at=None,
    )
    assert outcome.message.status is MessageStatus.FAILED
    assert outcome.message.error == "+CMS ERROR: 21 (rejected)"
    assert outcome.message.failed_at == T0
    parts = await store.run(queries.outbound_parts, queued.message.id)
    assert [p.status for p in parts] == [PartStatus.FAILED] * 3
    assert parts[1].error == "not sent: part 1 failed"
    assert await store.run(queries.claim_next_outbound, "sim0", now=T0) is None


async def test_marking_a_part_that_is_not_sending_is_a_conflict(store: Store) -> None:
    queued = await enqueue(store)
    with pytest.raises(Conflict, match="not sending"):
        await store.run(
            queries.mark_part_accepted, queued.parts[0].id, reference=1, now=T0
        )


async def test_an_opt_out_after_queueing_stops_the_send(store: Store) -> None:
    stopped = await enqueue(store, "promo")
    other = await enqueue(store, "hi", number="+447700900999")
    await store.run(
        queries.record_consent,
        CUSTOMER,
        ConsentKind.OPT_OUT,
        ConsentSource.KEYWORD,
        now=T0,
    )
    claimed = await store.run(queries.claim_next_outbound, "sim0", now=T0)
    assert claimed is not None
    assert claimed.message.id == other.message.id
    failed = await store.run(queries.get_message, stopped.message.id)
    assert failed.status is MessageStatus.FAILED
    assert failed.error == "recipient opted out"


async def test_interrupted_sends_are_never_repeated(store: Store) -> None:
    queued = await enqueue(store, parts_count=2)
    claimed = await store.run(queries.claim_next_outbound, "sim0", now=T0)
    assert claimed is not None
    # The process dies here, with part 1 handed to the modem. After the restart:
    (outcome,) = await store.run(queries.recover_interrupted_sends, "sim0", now=T0)
    assert outcome.part.status is PartStatus.UNKNOWN
    nxt = await store.run(queries.claim_next_outbound, "sim0", now=T0)
    assert nxt is not None
    assert nxt.part.seq == 2
    assert nxt.message.concat_ref == queued.message.concat_ref
    done = await store.run(queries.mark_part_accepted, nxt.part.id, reference=4, now=T0)
    assert done.message.status is MessageStatus.UNKNOWN  # part 1 may never have left


async def test_messages_not_sent_in_time_expire(store: Store) -> None:
    stale = await enqueue(store, "stale")
    fresh = await enqueue(store, "fresh", now=T0 + timedelta(hours=2))
    (expired,) = await store.run(
        queries.expire_outbound, queued_before=T0 + timedelta(hours=1), now=T0
    )
    assert expired.id == stale.message.id
    assert expired.status is MessageStatus.FAILED
    assert (
        await store.run(queries.get_message, fresh.message.id)
    ).status is MessageStatus.QUEUED


async def test_queue_depths_per_modem(store: Store) -> None:
    await enqueue(store, parts_count=2, modem="usb0")
    await enqueue(store, modem="usb1")
    await enqueue(store, parts_count=3)
    assert await store.run(queries.outbound_queue_depths) == {
        "usb0": 2,
        "usb1": 1,
        None: 3,
    }


async def test_a_customer_reply_lands_in_the_notifications_conversation(
    store: Store,
) -> None:
    notice = await enqueue(store, "Reply 1 to confirm", context={"appointment": "A7"})
    _, threaded = await store.run(
        queries.receive_inbound_part,
        modem="sim0",
        sender=CUSTOMER,
        sender_kind=NumberKind.E164,
        pdu=b"reply",
        text="1",
        encoding="gsm7",
        concat=None,
        network_at=T0,
        received_at=T0 + timedelta(minutes=2),
        reopen_window_s=3600,
    )
    assert threaded is not None
    assert threaded.conversation.id == notice.message.conversation_id
    assert threaded.conversation.status is ConversationStatus.OPEN
    assert threaded.conversation.context == {"appointment": "A7"}


@pytest.mark.parametrize(
    ("parts", "expected"),
    [
        ([], MessageStatus.QUEUED),
        ([PartStatus.QUEUED, PartStatus.QUEUED], MessageStatus.QUEUED),
        ([PartStatus.SENDING, PartStatus.QUEUED], MessageStatus.SENDING),
        ([PartStatus.SENT, PartStatus.QUEUED], MessageStatus.SENDING),
        ([PartStatus.SENT, PartStatus.SENT], MessageStatus.SENT),
        ([PartStatus.DELIVERED, PartStatus.SENT], MessageStatus.SENT),
        ([PartStatus.DELIVERED, PartStatus.UNKNOWN], MessageStatus.UNKNOWN),
        ([PartStatus.SENT, PartStatus.UNKNOWN], MessageStatus.UNKNOWN),
        ([PartStatus.UNKNOWN, PartStatus.QUEUED], MessageStatus.SENDING),
        ([PartStatus.UNKNOWN, PartStatus.FAILED], MessageStatus.FAILED),
        ([PartStatus.DELIVERED, PartStatus.DELIVERED], MessageStatus.DELIVERED),
        ([PartStatus.DELIVERED, PartStatus.FAILED], MessageStatus.FAILED),
        ([PartStatus.QUEUED, PartStatus.FAILED], MessageStatus.FAILED),
    ],
)
def test_rollup_status(parts: list[PartStatus], expected: MessageStatus) -> None:
    assert queries.rollup_status(parts) is expected


def test_reassembly_keys() -> None:
    single = queries.reassembly_key("sim0", CUSTOMER, None, "abc")
    assert single != queries.reassembly_key("sim0", CUSTOMER, None, "abd")
    one_of_one = queries.reassembly_key("sim0", CUSTOMER, Concat(1, 1, 1), "abc")
    assert one_of_one == single  # a "1 of 1" part is a single-part message
    eight = queries.reassembly_key("sim0", CUSTOMER, Concat(7, 2, 1), "x")
    sixteen = queries.reassembly_key(
        "sim0", CUSTOMER, Concat(7, 2, 1, ref_bits=16), "x"
    )
    assert eight != sixteen
    assert eight == queries.reassembly_key("sim0", CUSTOMER, Concat(7, 2, 2), "y")

"""Inbound units of work: parts stored once, reassembled from the database, threaded."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from storehelpers import T0

from gateway.domain import (
    ConversationStatus,
    MessageStatus,
    NumberKind,
    ThreadedMessage,
    ThreadOutcome,
)
from gateway.errors import Conflict, InvalidInput
from gateway.storage import queries
from gateway.storage.db import Store
from modem.pdu.types import Concat

CUSTOMER = "+447700900123"
WEEK_S = 7 * 86400.0


async def receive(
    store: Store,
    text: str,
    *,
    at: datetime = T0,
    sender: str = CUSTOMER,
    concat: Concat | None = None,
    pdu: bytes | None = None,
    window_s: float = WEEK_S,
) -> tuple[Any, ThreadedMessage | None]:
    return await store.run(
        queries.receive_inbound_part,
        modem="sim0",
        sender=sender,
        sender_kind=NumberKind.E164,
        pdu=pdu
        if pdu is not None
        else f"{sender}|{text}|{at.isoformat()}".encode("utf-8", "surrogatepass"),
        text=text,
        encoding="gsm7",
        concat=concat,
        network_at=at - timedelta(seconds=2),
        received_at=at,
        reopen_window_s=window_s,
    )


async def test_a_single_part_becomes_a_message_in_a_new_conversation(
    store: Store,
) -> None:
    recorded, threaded = await receive(store, "Where is my order?")
    assert recorded.new
    assert threaded is not None
    assert threaded.outcome is ThreadOutcome.CREATED
    assert threaded.message.body == "Where is my order?"
    assert threaded.message.status is MessageStatus.RECEIVED
    assert threaded.message.modem == "sim0"
    assert threaded.message.network_at == T0 - timedelta(seconds=2)
    assert threaded.contact.number == CUSTOMER
    assert threaded.conversation.status is ConversationStatus.OPEN
    assert threaded.conversation.modem == "sim0"
    assert threaded.conversation.last_inbound_at == T0
    parts = await store.run(queries.pending_parts, recorded.part.reassembly_key)
    assert parts == []  # assembled


async def test_the_same_part_read_twice_is_stored_once(store: Store) -> None:
    first, threaded = await receive(store, "hello", pdu=b"\x07\x91same-bytes")
    again, none = await receive(store, "hello", pdu=b"\x07\x91same-bytes")
    assert first.new
    assert not again.new
    assert again.part.id == first.part.id
    assert none is None
    assert threaded is not None
    messages = await store.run(queries.list_messages, threaded.conversation.id)
    assert len(messages) == 1


async def test_multipart_waits_for_every_part_in_any_order(store: Store) -> None:
    texts = {1: "The quick brown fox ", 2: "jumps over ", 3: "the lazy dog."}
    order = [2, 3, 1]
    results = []
    for i, seq in enumerate(order):
        concat = Concat(ref=42, total=3, seq=seq)
        results.append(
            await receive(
                store, texts[seq], at=T0 + timedelta(seconds=i), concat=concat
            )
        )
    assert results[0][1] is None
    assert results[1][1] is None
    threaded = results[2][1]
    assert threaded is not None
    assert threaded.message.body == "The quick brown fox jumps over the lazy dog."
    assert threaded.message.parts_count == 3
    assert threaded.message.concat_ref == 42
    assert threaded.message.network_at == T0 - timedelta(seconds=2)  # the first part's


async def test_a_part_read_again_after_assembly_is_dropped(store: Store) -> None:
    for seq, text in ((1, "a"), (2, "b")):
        await receive(store, text, concat=Concat(ref=9, total=2, seq=seq))
    recorded, threaded = await receive(store, "b", concat=Concat(ref=9, total=2, seq=2))
    assert not recorded.new
    assert threaded is None
    assert recorded.part.message_id is not None


async def test_same_reference_from_two_senders_are_two_messages(store: Store) -> None:
    other = "+447700900999"
    await receive(store, "A1", concat=Concat(ref=1, total=2, seq=1))
    await receive(store, "B1", sender=other, concat=Concat(ref=1, total=2, seq=1))
    _, mine = await receive(store, "A2", concat=Concat(ref=1, total=2, seq=2))
    _, theirs = await receive(
        store, "B2", sender=other, concat=Concat(ref=1, total=2, seq=2)
    )
    assert mine is not None
    assert theirs is not None
    assert (mine.message.body, theirs.message.body) == ("A1A2", "B1B2")


async def test_an_emoji_split_across_parts_is_whole_again(store: Store) -> None:
    # A sending phone may cut a UTF-16 surrogate pair between two parts.
    high, low = "\ud83d", "\ude00"
    await receive(store, "smile " + high, concat=Concat(ref=5, total=2, seq=1))
    _, threaded = await receive(store, low + "!", concat=Concat(ref=5, total=2, seq=2))
    assert threaded is not None
    assert threaded.message.body == "smile \U0001f600!"


async def test_incomplete_messages_are_delivered_after_the_timeout(
    store: Store,
) -> None:
    await receive(store, "part one, ", concat=Concat(ref=3, total=3, seq=1))
    await receive(
        store, "part two", at=T0 + timedelta(seconds=5), concat=Concat(3, 3, 2)
    )
    later = T0 + timedelta(minutes=10)

    early = await store.run(
        queries.expire_incomplete,
        older_than=T0 - timedelta(seconds=1),
        now=later,
        reopen_window_s=WEEK_S,
    )
    assert early == []

    (threaded,) = await store.run(
        queries.expire_incomplete,
        older_than=later - timedelta(minutes=5),
        now=later,
        reopen_window_s=WEEK_S,
    )
    assert threaded.message.status is MessageStatus.INCOMPLETE
    assert threaded.message.body == "part one, part two"
    assert threaded.message.error is not None
    assert "3 of 3" in threaded.message.error
    again = await store.run(
        queries.expire_incomplete, older_than=later, now=later, reopen_window_s=WEEK_S
    )
    assert again == []


async def test_assembling_assembled_parts_is_a_conflict(store: Store) -> None:
    recorded, _ = await receive(store, "hi")
    with pytest.raises(Conflict):
        await store.run(
            queries.assemble_inbound, [recorded.part.id], now=T0, reopen_window_s=WEEK_S
        )


async def test_assembling_with_a_missing_part_needs_complete_false(
    store: Store,
) -> None:
    recorded, _ = await receive(store, "x", concat=Concat(ref=8, total=2, seq=1))
    with pytest.raises(InvalidInput, match=r"parts \[2\] are missing"):
        await store.run(
            queries.assemble_inbound, [recorded.part.id], now=T0, reopen_window_s=WEEK_S
        )


# ---------------------------------------------------------------- threading


async def test_an_active_conversation_is_reused(store: Store) -> None:
    _, first = await receive(store, "one")
    _, second = await receive(store, "two", at=T0 + timedelta(hours=1))
    assert first is not None
    assert second is not None
    assert second.outcome is ThreadOutcome.APPENDED
    assert second.conversation.id == first.conversation.id
    assert second.conversation.last_inbound_at == T0 + timedelta(hours=1)


async def test_a_pending_conversation_reopens_for_the_agent(store: Store) -> None:
    _, first = await receive(store, "one")
    assert first is not None
    await store.run(
        queries.set_conversation_status,
        first.conversation.id,
        ConversationStatus.PENDING,
        now=T0,
    )
    _, second = await receive(store, "two", at=T0 + timedelta(minutes=1))
    assert second is not None
    assert second.outcome is ThreadOutcome.APPENDED
    assert second.conversation.status is ConversationStatus.OPEN


async def test_a_recently_resolved_conversation_is_reopened(store: Store) -> None:
    _, first = await receive(store, "one")
    assert first is not None
    resolved_at = T0 + timedelta(hours=1)
    await store.run(
        queries.set_conversation_status,
        first.conversation.id,
        ConversationStatus.RESOLVED,
        now=resolved_at,
    )
    _, again = await receive(store, "me again", at=resolved_at + timedelta(days=6))
    assert again is not None
    assert again.outcome is ThreadOutcome.REOPENED
    assert again.conversation.id == first.conversation.id
    assert again.conversation.status is ConversationStatus.OPEN
    assert again.conversation.reopen_count == 1
    assert again.conversation.resolved_at is None


async def test_an_old_resolved_conversation_is_left_alone(store: Store) -> None:
    _, first = await receive(store, "one")
    assert first is not None
    await store.run(
        queries.set_conversation_status,
        first.conversation.id,
        ConversationStatus.RESOLVED,
        now=T0,
    )
    _, later = await receive(store, "new issue", at=T0 + timedelta(days=8))
    assert later is not None
    assert later.outcome is ThreadOutcome.CREATED
    assert later.conversation.id != first.conversation.id
    old = await store.run(queries.get_conversation, first.conversation.id)
    assert old.status is ConversationStatus.RESOLVED


async def test_a_zero_window_never_reopens(store: Store) -> None:
    _, first = await receive(store, "one", window_s=0)
    assert first is not None
    await store.run(
        queries.set_conversation_status,
        first.conversation.id,
        ConversationStatus.RESOLVED,
        now=T0,
    )
    _, later = await receive(store, "two", at=T0 + timedelta(seconds=1), window_s=0)
    assert later is not None
    assert later.outcome is ThreadOutcome.CREATED


async def test_reopening_by_hand_is_refused_while_another_is_active(
    store: Store,
) -> None:
    _, first = await receive(store, "one")
    assert first is not None
    await store.run(
        queries.set_conversation_status,
        first.conversation.id,
        ConversationStatus.RESOLVED,
        now=T0,
    )
    await receive(store, "two", at=T0 + timedelta(days=30))  # a new conversation
    with pytest.raises(Conflict, match="still active"):
        await store.run(
            queries.set_conversation_status,
            first.conversation.id,
            ConversationStatus.OPEN,
            now=T0 + timedelta(days=31),
        )


@given(
    has_active=st.booleans(),
    resolved_ago_s=st.one_of(st.none(), st.floats(min_value=0, max_value=1e7)),
    window_s=st.floats(min_value=0, max_value=1e7),
)
def test_decide_thread_rules(
    has_active: bool, resolved_ago_s: float | None, window_s: float
) -> None:
    resolved_at = (
        None if resolved_ago_s is None else T0 - timedelta(seconds=resolved_ago_s)
    )
    outcome = queries.decide_thread(
        has_active, resolved_at, now=T0, reopen_window_s=window_s
    )
    if has_active:
        assert outcome is ThreadOutcome.APPENDED
    elif (
        resolved_at is not None
        and window_s > 0
        and T0 - resolved_at <= timedelta(seconds=window_s)
    ):
        assert outcome is ThreadOutcome.REOPENED
    else:
        assert outcome is ThreadOutcome.CREATED


@given(st.lists(st.text(), max_size=5))
def test_join_part_texts_is_concatenation_for_whole_characters(
    texts: list[str],
) -> None:
    whole = [
        t.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
        for t in texts
    ]
    assert queries.join_part_texts(whole) == "".join(whole)

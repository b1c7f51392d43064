"""Agents' actions: each one's effect, its audit entry, its domain event, its durable
webhook event where there is one, and refusals that change nothing at all."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from inboxhelpers import CUSTOMER, OTHER, Inbox

from gateway import events
from gateway.domain import (
    AuditRecord,
    ConsentKind,
    ConsentSource,
    ConversationStatus,
    MessageOrigin,
    Priority,
)
from gateway.errors import Conflict, InvalidInput, NotFound, OptedOut
from gateway.inbox.records import SYSTEM, Actor
from gateway.storage import inbox_queries, queries
from gateway.storage.models import (
    AuditEvent,
    Conversation,
    ConversationTag,
    Message,
    Note,
    WebhookEndpoint,
    WebhookEvent,
)


def _endpoint(now: Any) -> None:
    WebhookEndpoint.create(
        url="https://crm.example/hook",
        secret="whsec_test",
        events=[],
        created_at=now,
        updated_at=now,
    )


def _webhooks() -> list[tuple[str, dict[str, Any]]]:
    return [(e.type, e.data) for e in WebhookEvent.select().order_by(WebhookEvent.id)]


def _audit(subject: str) -> list[AuditRecord]:
    return list(reversed(queries.list_audit(subject=subject)))


def _snapshot() -> tuple[Any, ...]:
    """Everything an action may touch, to show a refused one touched nothing."""
    return (
        [
            tuple(c.__data__.items())
            for c in Conversation.select().order_by(Conversation.id)
        ],
        AuditEvent.select().count(),
        ConversationTag.select().count(),
        Note.select().count(),
        Message.select().count(),
        WebhookEvent.select().count(),
    )


@pytest.fixture
async def cid(rig: Inbox) -> int:
    await rig.store.run(_endpoint, rig.clock())
    return (await rig.inbound("hello, my order is late")).conversation.id


async def test_assign_and_unassign(rig: Inbox, cid: int) -> None:
    alice = await rig.actor("alice")
    bob = await rig.user("bob")
    row = await rig.inbox.assign(cid, bob.id, actor=alice)
    assert row.assignee is not None
    assert row.assignee.username == "bob"
    row = await rig.inbox.assign(cid, None, actor=alice)
    assert row.assignee is None

    audit = await rig.store.run(_audit, f"conversation:{cid}")
    assert [(a.actor, a.action, a.detail) for a in audit] == [
        ("user:alice", "conversation.assign", {"from": None, "to": bob.id}),
        ("user:alice", "conversation.assign", {"from": bob.id, "to": None}),
    ]
    assert [
        (e.conversation_id, e.assignee_id) for e in rig.of(events.ConversationAssigned)
    ] == [
        (cid, bob.id),
        (cid, None),
    ]
    hooks = await rig.store.run(_webhooks)
    assigned = [data for kind, data in hooks if kind == "conversation.assigned"]
    assert len(assigned) == 2


async def test_assigning_to_the_same_user_again_is_no_change(
    rig: Inbox, cid: int
) -> None:
    alice = await rig.actor("alice")
    await rig.inbox.assign(cid, alice.user_id, actor=alice)
    before = await rig.store.run(_snapshot)
    published = len(rig.events)
    await rig.inbox.assign(cid, alice.user_id, actor=alice)
    assert await rig.store.run(_snapshot) == before
    assert len(rig.events) == published


async def test_assign_refusals_change_nothing(rig: Inbox, cid: int) -> None:
    alice = await rig.actor("alice")
    gone = await rig.user("gone", active=False)
    before = await rig.store.run(_snapshot)
    published = len(rig.events)
    with pytest.raises(InvalidInput) as info:
        await rig.inbox.assign(cid, gone.id, actor=alice)
    assert info.value.field == "assignee_id"
    with pytest.raises(NotFound):
        await rig.inbox.assign(cid, 999, actor=alice)
    with pytest.raises(NotFound):
        await rig.inbox.assign(999, alice.user_id, actor=alice)
    for bad in (0, -1, True, "2"):
        with pytest.raises(InvalidInput):
            await rig.inbox.assign(cid, bad, actor=alice)  # type: ignore[arg-type]
        with pytest.raises(InvalidInput):
            await rig.inbox.assign(bad, None, actor=alice)  # type: ignore[arg-type]
    assert await rig.store.run(_snapshot) == before
    assert len(rig.events) == published


async def test_status_resolve_and_reopen(rig: Inbox, cid: int) -> None:
    alice = await rig.actor("alice")
    row = await rig.inbox.set_status(cid, "pending", actor=alice)
    assert row.status is ConversationStatus.PENDING
    assert row.resolved_at is None
    row = await rig.inbox.set_status(cid, ConversationStatus.RESOLVED, actor=alice)
    assert row.status is ConversationStatus.RESOLVED
    assert row.resolved_at is not None
    row = await rig.inbox.set_status(cid, "open", actor=alice)
    assert row.status is ConversationStatus.OPEN
    assert row.resolved_at is None
    thread = await rig.inbox.thread(cid)
    assert thread.reopen_count == 1

    audit = await rig.store.run(_audit, f"conversation:{cid}")
    assert [a.detail for a in audit] == [
        {"from": "open", "to": "pending"},
        {"from": "pending", "to": "resolved"},
        {"from": "resolved", "to": "open"},
    ]
    assert [e.status for e in rig.of(events.ConversationStatusChanged)] == [
        "pending",
        "resolved",
        "open",
    ]
    hooks = await rig.store.run(_webhooks)
    assert [kind for kind, _ in hooks].count("conversation.status_changed") == 3


async def test_reopening_follows_the_threading_rules(rig: Inbox, cid: int) -> None:
    alice = await rig.actor("alice")
    await rig.inbox.set_status(cid, "resolved", actor=alice)
    newer = (await rig.inbound("new question")).conversation.id
    assert newer != cid  # no reopen window in these tests: a new conversation
    before = await rig.store.run(_snapshot)
    with pytest.raises(Conflict):
        await rig.inbox.set_status(cid, "open", actor=alice)
    assert await rig.store.run(_snapshot) == before


async def test_status_refusals_change_nothing(rig: Inbox, cid: int) -> None:
    alice = await rig.actor("alice")
    before = await rig.store.run(_snapshot)
    with pytest.raises(InvalidInput) as info:
        await rig.inbox.set_status(cid, "closed", actor=alice)
    assert info.value.field == "status"
    with pytest.raises(NotFound):
        await rig.inbox.set_status(12345, "resolved", actor=alice)
    await rig.inbox.set_status(cid, "open", actor=alice)  # already open: no change
    assert await rig.store.run(_snapshot) == before
    assert rig.of(events.ConversationStatusChanged) == []


async def test_priority(rig: Inbox, cid: int) -> None:
    alice = await rig.actor("alice")
    row = await rig.inbox.set_priority(cid, "HIGH", actor=alice)
    assert row.priority is Priority.HIGH
    await rig.inbox.set_priority(cid, Priority.HIGH, actor=alice)  # no change
    audit = await rig.store.run(_audit, f"conversation:{cid}")
    assert [(a.action, a.detail) for a in audit] == [
        ("conversation.priority", {"from": "normal", "to": "high"})
    ]
    assert [e.priority for e in rig.of(events.PriorityChanged)] == ["high"]
    before = await rig.store.run(_snapshot)
    with pytest.raises(InvalidInput) as info:
        await rig.inbox.set_priority(cid, "asap", actor=alice)
    assert info.value.field == "priority"
    with pytest.raises(NotFound):
        await rig.inbox.set_priority(4242, "low", actor=alice)
    assert await rig.store.run(_snapshot) == before


async def test_tags_are_normalised_added_and_removed(rig: Inbox, cid: int) -> None:
    alice = await rig.actor("alice")
    row = await rig.inbox.add_tags(
        cid, ["VIP Customer", "billing", " billing "], actor=alice
    )
    assert row.tags == ("billing", "vip-customer")
    row = await rig.inbox.add_tags(cid, "billing", actor=alice)  # has it: no change
    row = await rig.inbox.remove_tags(cid, ["Billing", "never-had"], actor=alice)
    assert row.tags == ("vip-customer",)

    audit = await rig.store.run(_audit, f"conversation:{cid}")
    assert [(a.action, a.detail) for a in audit] == [
        ("conversation.tag", {"tags": ["vip-customer", "billing"]}),
        ("conversation.untag", {"tags": ["billing"]}),
    ]
    tagged = rig.of(events.ConversationTagged)
    assert [(e.added, e.removed, e.tags) for e in tagged] == [
        (("vip-customer", "billing"), (), ("billing", "vip-customer")),
        ((), ("billing",), ("vip-customer",)),
    ]


@pytest.mark.parametrize(
    "tags", [[], [""], ["  "], ["-dash"], ["a/b"], ["x" * 33], ["ok", "<script>"], [7]]
)
async def test_bad_tags_change_nothing(rig: Inbox, cid: int, tags: list[Any]) -> None:
    alice = await rig.actor("alice")
    before = await rig.store.run(_snapshot)
    with pytest.raises(InvalidInput) as info:
        await rig.inbox.add_tags(cid, tags, actor=alice)
    assert info.value.field == "tags"
    assert await rig.store.run(_snapshot) == before


async def test_too_many_tags_change_nothing(rig: Inbox, cid: int) -> None:
    alice = await rig.actor("alice")
    await rig.inbox.add_tags(cid, [f"t{n}" for n in range(20)], actor=alice)
    before = await rig.store.run(_snapshot)
    with pytest.raises(InvalidInput):
        await rig.inbox.add_tags(cid, [f"u{n}" for n in range(11)], actor=alice)
    assert await rig.store.run(_snapshot) == before
    with pytest.raises(NotFound):
        await rig.inbox.add_tags(777, ["x"], actor=alice)


async def test_notes_are_internal(rig: Inbox, cid: int) -> None:
    alice = await rig.actor("alice")
    note = await rig.inbox.add_note(cid, "  customer is <b>angry</b>  ", actor=alice)
    assert note.body == "customer is <b>angry</b>"
    assert note.author is not None
    assert note.author.username == "alice"
    assert await rig.store.run(lambda: Message.select().count()) == 1  # nothing sent
    audit = await rig.store.run(_audit, f"conversation:{cid}")
    assert [(a.action, a.detail) for a in audit] == [
        ("conversation.note", {"note_id": note.id})  # never the text
    ]
    assert [(e.conversation_id, e.note_id) for e in rig.of(events.NoteAdded)] == [
        (cid, note.id)
    ]
    before = await rig.store.run(_snapshot)
    for bad in ("", "   ", "x" * 5001, "nul\x00"):
        with pytest.raises(InvalidInput) as info:
            await rig.inbox.add_note(cid, bad, actor=alice)
        assert info.value.field == "body"
    with pytest.raises(NotFound):
        await rig.inbox.add_note(999, "hi", actor=alice)
    assert await rig.store.run(_snapshot) == before


async def test_reply_as_an_agent(rig: Inbox, cid: int) -> None:
    alice = await rig.actor("alice")
    message = await rig.inbox.reply(cid, "Sorry! It ships today.", actor=alice)
    assert message.origin is MessageOrigin.AGENT
    assert message.user_id == alice.user_id
    assert message.conversation_id == cid
    assert message.number == CUSTOMER
    assert message.status.value == "queued"
    audit = await rig.store.run(_audit, f"conversation:{cid}")
    assert [(a.action, a.detail) for a in audit] == [
        ("conversation.reply", {"message_id": message.id})
    ]
    assert [e.message_id for e in rig.of(events.MessageQueued)] == [message.id]
    thread = await rig.inbox.thread(cid)
    last = thread.messages[-1]
    assert last.author is not None
    assert last.author.username == "alice"
    # the same idempotency key again: the same message, nothing more queued
    first = await rig.inbox.queue_reply(cid, "once", actor=alice, idempotency_key="k1")
    again = await rig.inbox.queue_reply(cid, "once", actor=alice, idempotency_key="k1")
    assert first.created
    assert not again.created
    assert first.message.id == again.message.id
    assert [p.seq for p in first.parts] == [1]
    audit = await rig.store.run(_audit, f"conversation:{cid}")
    assert [a.action for a in audit].count(
        "conversation.reply"
    ) == 2  # once per message


async def test_reply_refusals_change_nothing(rig: Inbox, cid: int) -> None:
    alice = await rig.actor("alice")
    alpha = (await rig.inbound("promo", sender="SHOP")).conversation.id
    before = await rig.store.run(_snapshot)
    with pytest.raises(InvalidInput) as info:
        await rig.inbox.reply(cid, "   ", actor=alice)
    assert info.value.field == "body"
    with pytest.raises(InvalidInput) as info:
        await rig.inbox.reply(cid, "x" * 5000, actor=alice)
    assert info.value.field == "body"
    with pytest.raises(InvalidInput) as info:
        await rig.inbox.reply(cid, "hi", actor=alice, idempotency_key="")
    assert info.value.field == "idempotency_key"
    with pytest.raises(InvalidInput) as info:
        await rig.inbox.reply(alpha, "hi", actor=alice)
    assert info.value.field == "conversation_id"
    with pytest.raises(NotFound):
        await rig.inbox.reply(999, "hi", actor=alice)
    await rig.store.run(
        queries.record_consent,
        CUSTOMER,
        ConsentKind.OPT_OUT,
        ConsentSource.KEYWORD,
        now=rig.clock(),
    )
    after_consent = await rig.store.run(_snapshot)
    with pytest.raises(OptedOut):
        await rig.inbox.reply(cid, "are you there?", actor=alice)
    assert await rig.store.run(_snapshot) == after_consent
    assert after_consent[4] == before[4]  # no message
    assert rig.of(events.MessageQueued) == []


async def test_mark_read_moves_forward_only(rig: Inbox, cid: int) -> None:
    alice = await rig.actor("alice")
    second = await rig.inbound("are you there?")
    assert (await rig.inbox.get(cid)).unread_count == 2
    first_id = (await rig.inbox.thread(cid)).messages[0].id
    row = await rig.inbox.mark_read(cid, actor=alice, message_id=first_id)
    assert row.unread_count == 1
    row = await rig.inbox.mark_read(cid, actor=alice)
    assert row.unread_count == 0
    assert not row.unread
    row = await rig.inbox.mark_read(cid, actor=alice, message_id=first_id)  # not back
    assert row.unread_count == 0
    thread = await rig.inbox.thread(cid)
    assert thread.read_message_id == second.message.id
    assert thread.read_by is not None
    assert thread.read_by.username == "alice"
    audit = await rig.store.run(_audit, f"conversation:{cid}")
    assert [(a.action, a.detail) for a in audit] == [
        ("conversation.read", {"message_id": first_id}),
        ("conversation.read", {"message_id": second.message.id}),
    ]
    assert [e.message_id for e in rig.of(events.ConversationRead)] == [
        first_id,
        second.message.id,
    ]
    await rig.inbound("hello again")
    assert (await rig.inbox.get(cid)).unread_count == 1


async def test_mark_read_refusals(rig: Inbox, cid: int) -> None:
    alice = await rig.actor("alice")
    other = await rig.inbound("someone else", sender=OTHER)
    before = await rig.store.run(_snapshot)
    with pytest.raises(InvalidInput) as info:
        await rig.inbox.mark_read(cid, actor=alice, message_id=other.message.id)
    assert info.value.field == "message_id"
    with pytest.raises(NotFound):
        await rig.inbox.mark_read(31337, actor=alice)
    assert await rig.store.run(_snapshot) == before


async def test_actions_run_on_the_store_thread(
    rig: Inbox, cid: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []
    for name in (
        "assign_conversation",
        "set_priority",
        "change_tags",
        "add_note",
        "mark_read",
        "conversation_summary",
        "list_conversations",
        "thread",
    ):
        original = getattr(inbox_queries, name)

        def spy(*args: Any, _original: Any = original, **kwargs: Any) -> Any:
            threads.append(threading.current_thread().name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(inbox_queries, name, spy)
    alice = await rig.actor("alice")
    await rig.inbox.assign(cid, alice.user_id, actor=alice)
    await rig.inbox.set_priority(cid, "high", actor=alice)
    await rig.inbox.add_tags(cid, ["x"], actor=alice)
    await rig.inbox.add_note(cid, "n", actor=alice)
    await rig.inbox.mark_read(cid, actor=SYSTEM)
    await rig.inbox.list_conversations()
    await rig.inbox.thread(cid)
    assert len(threads) >= 8
    assert all(name.startswith("db") for name in threads), threads
    assert threading.current_thread().name not in threads


async def test_an_identity_or_an_actor_may_act(rig: Inbox, cid: int) -> None:
    from gateway.auth.records import AuthMethod, Identity

    user = await rig.user("dana")
    identity = Identity(
        user=user, method=AuthMethod.TOKEN, credential_id=3, token_name="crm"
    )
    note = await rig.inbox.add_note(cid, "from the CRM", actor=identity)
    assert note.author is not None
    assert note.author.id == user.id
    audit = await rig.store.run(_audit, f"conversation:{cid}")
    assert audit[-1].actor == "token:crm#3"
    assert Actor.of(Actor("system")) == SYSTEM

"""The conversation list: every filter and their combinations, ownership views, what a row
shows, and keyset pages that neither repeat nor skip while new messages arrive."""

from __future__ import annotations

from typing import Any

import pytest
from inboxhelpers import CUSTOMER, OTHER, THIRD, Inbox

from gateway.domain import ConsentKind, ConsentSource, MessageOrigin, Priority
from gateway.errors import InvalidInput
from gateway.storage import queries
from gateway.storage.models import Conversation


def _set(conversation_id: int, **fields: Any) -> None:
    Conversation.update(**fields).where(Conversation.id == conversation_id).execute()


async def _ids(rig: Inbox, **filters: Any) -> list[int]:
    page = await rig.inbox.list_conversations(**filters)
    return [row.id for row in page.rows]


@pytest.fixture
async def three(rig: Inbox) -> dict[str, int]:
    """Three customers' conversations, different in every filtered field."""
    a = (await rig.inbound("first", sender=CUSTOMER, modem="usb0")).conversation.id
    b = (await rig.inbound("second", sender=OTHER, modem="usb1")).conversation.id
    c = (await rig.inbound("third", sender=THIRD, modem="usb0")).conversation.id
    alice = await rig.actor("alice")
    bob = await rig.actor("bob")
    await rig.inbox.assign(a, alice.user_id, actor=alice)
    await rig.inbox.assign(b, bob.user_id, actor=alice)
    await rig.inbox.set_status(b, "pending", actor=alice)
    await rig.inbox.set_status(c, "resolved", actor=alice)
    await rig.inbox.set_priority(a, "urgent", actor=alice)
    await rig.inbox.add_tags(b, ["billing"], actor=alice)
    await rig.inbox.add_tags(c, ["billing", "vip"], actor=alice)
    await rig.store.run(_set, a, queue="support")
    await rig.store.run(_set, c, queue="sales")
    return {
        "a": a,
        "b": b,
        "c": c,
        "alice": alice.user_id or 0,
        "bob": bob.user_id or 0,
    }


async def test_every_conversation_newest_activity_first(
    rig: Inbox, three: dict[str, int]
) -> None:
    # c was changed last (tags), then b, then a (priority came before the tags)
    assert await _ids(rig) == [three["c"], three["b"], three["a"]]


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        ({"status": "open"}, ["a"]),
        ({"status": "pending"}, ["b"]),
        ({"status": "RESOLVED"}, ["c"]),
        ({"ownership": "unassigned"}, ["c"]),
        ({"queue": "support"}, ["a"]),
        ({"queue": "sales"}, ["c"]),
        ({"queue": "nobody"}, []),
        ({"tag": "billing"}, ["c", "b"]),
        ({"tag": " VIP "}, ["c"]),
        ({"tag": "missing"}, []),
        ({"modem": "usb0"}, ["c", "a"]),
        ({"modem": "usb1"}, ["b"]),
        ({"priority": "urgent"}, ["a"]),
        ({"priority": Priority.NORMAL}, ["c", "b"]),
        ({"tag": "billing", "modem": "usb0"}, ["c"]),
        ({"tag": "billing", "status": "pending"}, ["b"]),
        ({"status": "open", "priority": "normal"}, []),
        ({"modem": "usb0", "priority": "urgent", "queue": "support"}, ["a"]),
        ({"ownership": "unassigned", "tag": "vip", "status": "resolved"}, ["c"]),
        ({"status": "", "tag": "", "priority": "", "queue": " "}, ["c", "b", "a"]),
    ],
)
async def test_filters_and_their_combinations(
    rig: Inbox, three: dict[str, int], filters: dict[str, Any], expected: list[str]
) -> None:
    assert await _ids(rig, **filters) == [three[k] for k in expected]


async def test_mine_is_the_given_users_and_all_is_everyone(
    rig: Inbox, three: dict[str, int]
) -> None:
    alice, bob = three["alice"], three["bob"]
    assert await _ids(rig, ownership="mine", user_id=alice) == [three["a"]]
    assert await _ids(rig, ownership="mine", user_id=bob) == [three["b"]]
    assert await _ids(rig, ownership="mine", user_id=bob, status="open") == []
    assert await _ids(rig, ownership="all", user_id=bob) == [
        three["c"],
        three["b"],
        three["a"],
    ]
    carol = await rig.user("carol")
    assert await _ids(rig, ownership="mine", user_id=carol.id) == []


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        ({"status": "closed"}, "status"),
        ({"priority": "meh"}, "priority"),
        ({"ownership": "theirs"}, "ownership"),
        ({"ownership": "mine"}, "ownership"),
        ({"ownership": "mine", "user_id": 0}, "user_id"),
        ({"tag": "no/slashes"}, "tag"),
        ({"queue": "x" * 101}, "queue"),
        ({"modem": "tab\there"}, "modem"),
        ({"cursor": "not a cursor"}, "cursor"),
        ({"cursor": "YzF8eHx5"}, "cursor"),
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"search": "x" * 201}, "search"),
    ],
)
async def test_bad_filters_name_their_field(
    rig: Inbox, filters: dict[str, Any], field: str
) -> None:
    with pytest.raises(InvalidInput) as info:
        await rig.inbox.list_conversations(**filters)
    assert info.value.field == field


async def test_a_row_shows_contact_preview_and_reply_state(rig: Inbox) -> None:
    threaded = await rig.inbound("<b>where</b> is my parcel?")
    cid = threaded.conversation.id
    await rig.contact(CUSTOMER, name="Ada Lovelace")
    await rig.inbound("AMAZON: your parcel", sender="AMAZON")

    rows = {r.id: r for r in (await rig.inbox.list_conversations()).rows}
    row = rows[cid]
    assert row.contact.display == "Ada Lovelace"
    assert row.contact.number == CUSTOMER
    assert not row.contact.alphanumeric
    assert not row.contact.opted_out
    assert row.last_message is not None
    assert row.last_message.body == "<b>where</b> is my parcel?"  # raw: the UI escapes
    assert row.awaiting_reply
    assert row.unread
    assert row.unread_count == 1
    assert row.status.value == "open"
    assert row.assignee is None
    assert row.modem == "usb0"
    assert row.last_activity_at >= row.created_at
    (alpha,) = [r for r in rows.values() if r.id != cid]
    assert alpha.contact.alphanumeric
    assert alpha.contact.display == "AMAZON"
    assert not alpha.awaiting_reply  # nobody to reply to
    assert alpha.unread


async def test_only_an_agent_reply_stops_the_wait(rig: Inbox) -> None:
    cid = (await rig.inbound("hello?")).conversation.id
    # an automated acknowledgement is not an answer
    await rig.outbound("we got your message", origin=MessageOrigin.AUTOMATION)
    assert (await rig.inbox.get(cid)).awaiting_reply
    alice = await rig.actor()
    await rig.inbox.reply(cid, "Hi, Alice here", actor=alice)
    row = await rig.inbox.get(cid)
    assert not row.awaiting_reply
    assert row.last_message is not None
    assert row.last_message.body == "Hi, Alice here"
    await rig.inbound("thanks, one more thing")
    assert (await rig.inbox.get(cid)).awaiting_reply


async def test_opted_out_customers_are_flagged(rig: Inbox) -> None:
    cid = (await rig.inbound("hi")).conversation.id
    await rig.store.run(
        queries.record_consent,
        CUSTOMER,
        ConsentKind.OPT_OUT,
        ConsentSource.AGENT,
        now=rig.clock(),
        actor="user:alice",
    )
    assert (await rig.inbox.get(cid)).contact.opted_out


async def _walk(rig: Inbox, limit: int, **filters: Any) -> list[int]:
    seen: list[int] = []
    cursor = None
    while True:
        page = await rig.inbox.list_conversations(limit=limit, cursor=cursor, **filters)
        seen += [row.id for row in page.rows]
        if page.next_cursor is None:
            return seen
        cursor = page.next_cursor


async def test_pages_cover_the_list_once(rig: Inbox) -> None:
    ids = []
    for n in range(7):
        ids.append(
            (
                await rig.inbound(f"msg {n}", sender=f"+4477009001{n:02d}")
            ).conversation.id
        )
    assert await _walk(rig, 3) == list(reversed(ids))
    assert await _walk(rig, 7) == list(reversed(ids))
    assert await _walk(rig, 100) == list(reversed(ids))


async def test_rows_of_one_instant_are_paged_by_id(rig: Inbox) -> None:
    ids = []
    for n in range(5):
        ids.append(
            (
                await rig.inbound(f"msg {n}", sender=f"+4477009002{n:02d}")
            ).conversation.id
        )
    instant = rig.clock()
    for cid in ids:
        await rig.store.run(_set, cid, updated_at=instant)
    assert await _walk(rig, 2) == sorted(ids, reverse=True)


async def test_no_row_is_repeated_or_skipped_while_messages_arrive(rig: Inbox) -> None:
    senders = [f"+4477009003{n:02d}" for n in range(9)]
    for sender in senders:
        await rig.inbound("hello", sender=sender)
    page = await rig.inbox.list_conversations(limit=3)
    first = [row.id for row in page.rows]
    # Meanwhile: a customer already shown writes again, one not yet shown writes, and
    # a new customer arrives. They move to the top, before the cursor.
    shown_again = (await rig.inbound("again", sender=senders[-1])).conversation.id
    moved = (await rig.inbound("me too", sender=senders[2])).conversation.id
    new = (await rig.inbound("new here", sender="+447700900399")).conversation.id
    rest: list[int] = []
    cursor = page.next_cursor
    while cursor is not None:
        page = await rig.inbox.list_conversations(limit=3, cursor=cursor)
        rest += [row.id for row in page.rows]
        cursor = page.next_cursor
    seen = first + rest
    assert len(seen) == len(set(seen))  # nothing twice
    assert shown_again in first
    assert new not in seen
    assert moved not in seen
    # everything that did not move is there, in order
    everyone = [row.id for row in (await rig.inbox.list_conversations(limit=50)).rows]
    unmoved = [i for i in everyone if i not in (shown_again, moved, new)]
    assert [i for i in seen if i in unmoved] == unmoved
    # and the top of the list now starts with what moved
    assert everyone[:3] == [new, moved, shown_again]


async def test_counts_for_the_tabs(rig: Inbox, three: dict[str, int]) -> None:
    alice, bob = three["alice"], three["bob"]
    counts = await rig.inbox.counts(user_id=alice)
    assert (counts.open, counts.pending, counts.mine_open, counts.unassigned_open) == (
        1,
        1,
        1,
        0,
    )
    assert (await rig.inbox.counts(user_id=bob)).mine_open == 0  # bob's is pending
    await rig.inbound("new one", sender="+447700900501")
    counts = await rig.inbox.counts()
    assert (counts.open, counts.mine_open, counts.unassigned_open) == (2, 0, 1)
    with pytest.raises(InvalidInput):
        await rig.inbox.counts(user_id=0)


async def test_filter_options(rig: Inbox, three: dict[str, int]) -> None:
    await rig.store.run(queries.upsert_modem, "usb0", now=rig.clock(), state="ready")
    options = await rig.inbox.filter_options()
    assert options.tags == ("billing", "vip")
    assert options.queues == ("sales", "support")
    assert options.modems == ("usb0",)

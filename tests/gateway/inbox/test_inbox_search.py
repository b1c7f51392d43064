"""Full-text search (SQLite FTS5): message bodies, contact names, numbers and attributes;
the indexes follow every change; no text a user types is query syntax."""

from __future__ import annotations

from typing import Any

import pytest
from inboxhelpers import CUSTOMER, OTHER, THIRD, Inbox

from gateway.inbox.records import SYSTEM
from gateway.storage import inbox_queries


async def _found(rig: Inbox, text: str, **filters: Any) -> list[int]:
    page = await rig.inbox.list_conversations(search=text, **filters)
    return [row.id for row in page.rows]


@pytest.fixture
async def world(rig: Inbox) -> dict[str, int]:
    await rig.contact(CUSTOMER, name="Ada Lovelace", attributes={"region": "north"})
    await rig.contact(OTHER, name="Grace Hopper", attributes={"vip": True, "tier": 3})
    ada = (await rig.inbound("My parcel never arrived, order A-1042")).conversation.id
    grace = (await rig.inbound("Le café était froid", sender=OTHER)).conversation.id
    third = (
        await rig.inbound("Please cancel my subscription", sender=THIRD)
    ).conversation.id
    return {"ada": ada, "grace": grace, "third": third}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("parcel", ["ada"]),
        ("PARCEL", ["ada"]),
        ("parc", ["ada"]),  # a word prefix: search as you type
        ("arrived order", ["ada"]),  # every term, anywhere in one message
        ("parcel subscription", []),
        ("A-1042", ["ada"]),
        ("1042", ["ada"]),
        ("cafe", ["grace"]),  # accents folded
        ("café", ["grace"]),
        ("lovelace", ["ada"]),  # the contact's name
        ("hopp", ["grace"]),  # names match anywhere (3+ characters)
        ("opper", ["grace"]),
        ("900123", ["ada"]),  # a number's tail
        ("+4477009004", ["grace"]),
        ("07700 900789", ["third"]),  # a national number reads as E.164
        ("+44 7700 900123", ["ada"]),
        ("north", ["ada"]),  # attribute values
        ("vip", ["grace"]),  # a true flag by its key
        ("cancel", ["third"]),
        ("nothing-like-this", []),
    ],
)
async def test_search_finds(
    rig: Inbox, world: dict[str, int], text: str, expected: list[str]
) -> None:
    assert sorted(await _found(rig, text)) == sorted(world[k] for k in expected)


@pytest.mark.parametrize(
    "text",
    [
        '"',
        '""',
        '"""',
        "AND",
        "OR",
        "NOT",
        "*",
        "**",
        "a*",
        "(",
        ")",
        "()",
        "NEAR(parcel order)",
        "body:parcel",
        "name:ada",
        "^parcel",
        "parcel AND",
        "OR parcel",
        "-parcel",
        "+parcel",
        "{body}:x",
        'parcel" OR "x',
        "'; DROP TABLE messages; --",
        "\u00ad",
        "😀",
        "%",
        "_",
        "\\",
        "a" * 200,
        "parcel " * 20,
    ],
)
async def test_query_syntax_is_only_text(
    rig: Inbox, world: dict[str, int], text: str
) -> None:
    page = await rig.inbox.list_conversations(search=text)
    assert page.next_cursor is None
    page = await rig.contacts.page(search=text)


async def test_operators_are_words(rig: Inbox, world: dict[str, int]) -> None:
    ada = (await rig.inbound("this AND that")).conversation.id
    assert await _found(rig, "AND") == [ada]
    assert await _found(rig, '"parcel"') == [world["ada"]]
    assert await _found(rig, "parcel*") == [world["ada"]]


async def test_blank_or_punctuation_only_search_is_no_search(
    rig: Inbox, world: dict[str, int]
) -> None:
    everything = await _found(rig, "")
    assert len(everything) == 3
    assert await _found(rig, "   ") == everything
    assert await _found(rig, ' * " ') == everything


async def test_search_and_filters_combine(rig: Inbox, world: dict[str, int]) -> None:
    alice = await rig.actor("alice")
    await rig.inbox.set_status(world["ada"], "pending", actor=alice)
    assert await _found(rig, "parcel", status="open") == []
    assert await _found(rig, "parcel", status="pending") == [world["ada"]]
    await rig.inbox.add_tags(world["grace"], ["vip"], actor=alice)
    assert await _found(rig, "café", tag="vip") == [world["grace"]]
    assert await _found(rig, "café", tag="other") == []


async def test_the_walk_for_large_results_finds_the_same(
    rig: Inbox, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(6):
        await rig.inbound(f"another parcel question {n}", sender=f"+4477009005{n:02d}")
    small = await _found(rig, "parcel")
    assert len(small) == 7
    monkeypatch.setattr(inbox_queries, "SEARCH_SMALL_RESULT", 1)
    monkeypatch.setattr(inbox_queries, "SEARCH_CONTACTS_SMALL_RESULT", 0)
    for share in (0.0, 2.0):  # dense: walked and probed; sparse: hits mapped first
        monkeypatch.setattr(inbox_queries, "SEARCH_DENSE_SHARE", share)
        assert await _found(rig, "parcel") == small
        assert await _found(rig, "parcel", status="resolved") == []
        assert await _found(rig, "parcel hopper") == []
        assert sorted(await _found(rig, "north")) == [world["ada"]]
    # and pages through it
    seen: list[int] = []
    cursor = None
    while True:
        page = await rig.inbox.list_conversations(
            search="parcel", limit=2, cursor=cursor
        )
        seen += [row.id for row in page.rows]
        if (cursor := page.next_cursor) is None:
            break
    assert seen == small


async def test_the_indexes_follow_changes(rig: Inbox, world: dict[str, int]) -> None:
    contact = (await rig.contacts.lookup(CUSTOMER)).contact
    await rig.contacts.update(contact.id, name="Augusta King", actor=SYSTEM)
    assert await _found(rig, "lovelace") == []
    assert await _found(rig, "augusta") == [world["ada"]]
    await rig.contacts.update(contact.id, attributes={"region": "south"}, actor=SYSTEM)
    assert await _found(rig, "north") == []
    assert await _found(rig, "south") == [world["ada"]]
    lonely = await rig.contacts.create("+447700900999", name="Zed Zebra", actor=SYSTEM)
    assert [r.contact.id for r in (await rig.contacts.page(search="zebra")).rows] == [
        lonely.id
    ]
    await rig.contacts.delete(lonely.id, actor=SYSTEM)
    assert (await rig.contacts.page(search="zebra")).rows == ()
    # new messages are found at once
    await rig.inbound("zeppelin sighting", sender=OTHER)
    assert await _found(rig, "zeppelin") == [world["grace"]]


async def test_rebuilding_the_indexes_changes_no_answer(
    rig: Inbox, world: dict[str, int]
) -> None:
    before = [await _found(rig, t) for t in ("parcel", "hopper", "north", "cafe")]
    await rig.store.run(inbox_queries.rebuild_search_index)
    assert [
        await _found(rig, t) for t in ("parcel", "hopper", "north", "cafe")
    ] == before


async def test_a_prefix_of_many_words_still_finds_them_all(
    rig: Inbox, world: dict[str, int], monkeypatch: pytest.MonkeyPatch
) -> None:
    parcels = (
        await rig.inbound("two parcels came", sender="+447700900601")
    ).conversation.id
    everything = sorted([world["ada"], parcels])
    assert sorted(await _found(rig, "parc")) == everything  # as ("parcel" OR "parcels")
    monkeypatch.setattr(inbox_queries, "SEARCH_PREFIX_WORDS", 1)  # now a real prefix
    monkeypatch.setattr(inbox_queries, "SEARCH_SMALL_RESULT", 0)
    monkeypatch.setattr(inbox_queries, "SEARCH_DENSE_SHARE", 0.0)
    assert sorted(await _found(rig, "parc")) == everything
    assert await _found(rig, "p") == []  # one character: the word "p" only

"""The contact book: create, update, delete, look up by number, list and search in pages;
each change audited; consent shown, never changed here."""

from __future__ import annotations

from typing import Any

import pytest
from inboxhelpers import CUSTOMER, OTHER, Inbox

from gateway import events
from gateway.domain import ConsentKind, ConsentSource, NumberKind
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.inbox.records import SYSTEM
from gateway.storage import queries
from gateway.storage.models import AuditEvent, Contact


def _state() -> tuple[Any, ...]:
    return (
        [tuple(c.__data__.items()) for c in Contact.select().order_by(Contact.id)],
        AuditEvent.select().count(),
    )


async def test_create_update_delete(rig: Inbox) -> None:
    alice = await rig.actor("alice")
    created = await rig.contacts.create(
        "07700 900123",
        name="  Ada  Lovelace ",
        attributes={"region": "north", "vip": True, "tier": 2},
        actor=alice,
    )
    assert created.number == CUSTOMER
    assert created.kind is NumberKind.E164
    assert created.name == "Ada Lovelace"
    assert created.attributes == {"region": "north", "vip": True, "tier": 2}

    updated = await rig.contacts.update(
        created.id, attributes={"vip": None, "account_owner": "alice"}, actor=alice
    )
    assert updated.name == "Ada Lovelace"  # left out: kept
    assert updated.attributes == {
        "region": "north",
        "tier": 2,
        "account_owner": "alice",
    }
    renamed = await rig.contacts.update(created.id, name="Ada King", actor=alice)
    assert renamed.name == "Ada King"
    cleared = await rig.contacts.update(created.id, name=None, actor=alice)
    assert cleared.name is None
    same = await rig.contacts.update(created.id, attributes={"tier": 2}, actor=alice)
    assert same == cleared  # no change: no audit entry, no event

    deleted = await rig.contacts.delete(created.id, actor=alice)
    assert deleted.id == created.id
    with pytest.raises(NotFound):
        await rig.contacts.profile(created.id)

    audit = [
        (a.action, a.detail)
        for a in reversed(
            await rig.store.run(queries.list_audit, subject=f"contact:{created.id}")
        )
    ]
    assert audit == [
        (
            "contact.create",
            {
                "fields": [
                    "name",
                    "attributes.region",
                    "attributes.tier",
                    "attributes.vip",
                ]
            },
        ),
        ("contact.update", {"fields": ["attributes.account_owner", "attributes.vip"]}),
        ("contact.update", {"fields": ["name"]}),
        ("contact.update", {"fields": ["name"]}),
        ("contact.delete", {}),
    ]
    assert [e.change for e in rig.of(events.ContactChanged)] == [
        "created",
        "updated",
        "updated",
        "updated",
        "deleted",
    ]


async def test_refusals_change_nothing(rig: Inbox) -> None:
    alice = await rig.actor("alice")
    existing = await rig.contacts.create(CUSTOMER, actor=alice)
    talker = (await rig.inbound("hi", sender=OTHER)).contact
    before = await rig.store.run(_state)
    cases: list[tuple[Any, type[Exception], str | None]] = [
        (rig.contacts.create("not a number", actor=alice), InvalidInput, "number"),
        (rig.contacts.create(CUSTOMER, actor=alice), Conflict, None),
        (rig.contacts.create(OTHER, name="x" * 201, actor=alice), InvalidInput, "name"),
        (
            rig.contacts.create(OTHER, attributes={"Bad Key": 1}, actor=alice),
            InvalidInput,
            "attributes",
        ),
        (
            rig.contacts.update(existing.id, attributes={"a": [1, 2]}, actor=alice),
            InvalidInput,
            "attributes.a",
        ),
        (
            rig.contacts.update(
                existing.id, attributes={f"k{n}": n for n in range(51)}, actor=alice
            ),
            InvalidInput,
            "attributes",
        ),
        (rig.contacts.update(999, name="x", actor=alice), NotFound, None),
        (rig.contacts.update(existing.id, name=5, actor=alice), InvalidInput, "name"),
        (rig.contacts.delete(999, actor=alice), NotFound, None),
        (rig.contacts.delete(talker.id, actor=alice), Conflict, None),  # has history
        (rig.contacts.lookup("+447700900999"), NotFound, None),
        (rig.contacts.lookup("  "), InvalidInput, "number"),
        (rig.contacts.profile(0), InvalidInput, "contact_id"),
    ]
    for call, error, field in cases:
        with pytest.raises(error) as info:
            await call
        if field is not None:
            assert getattr(info.value, "field", None) == field
    assert await rig.store.run(_state) == before


async def test_lookup_by_number_shows_consent(rig: Inbox) -> None:
    await rig.inbound("hi")
    await rig.inbound("AMAZON: parcel", sender="AMAZON")
    await rig.store.run(
        queries.record_consent,
        CUSTOMER,
        ConsentKind.OPT_OUT,
        ConsentSource.KEYWORD,
        now=rig.clock(),
    )
    for written in ("+447700900123", "07700 900123", "+44 (0)7700-900123"):
        profile = await rig.contacts.lookup(written)
        assert profile.contact.number == CUSTOMER
        assert profile.opted_out
        assert profile.consent.source is ConsentSource.KEYWORD
        assert [c.kind for c in profile.consent_history] == [ConsentKind.OPT_OUT]
        assert len(profile.conversations) == 1
    sender = await rig.contacts.lookup("AMAZON")
    assert sender.contact.kind is NumberKind.ALPHANUMERIC
    assert not sender.opted_out


async def test_list_and_search_in_pages(rig: Inbox) -> None:
    for n in range(7):
        await rig.contacts.create(
            f"+4477009006{n:02d}",
            name=f"Customer {n}" if n % 2 else f"Other {n}",
            attributes={"region": "north" if n < 3 else "south"},
            actor=SYSTEM,
        )
    seen: list[str] = []
    cursor = None
    while True:
        page = await rig.contacts.page(limit=3, cursor=cursor)
        seen += [row.contact.number for row in page.rows]
        if (cursor := page.next_cursor) is None:
            break
    assert seen == [f"+4477009006{n:02d}" for n in range(7)]
    found = await rig.contacts.page(search="customer")
    assert [r.contact.name for r in found.rows] == [
        "Customer 1",
        "Customer 3",
        "Customer 5",
    ]
    assert [
        r.display for r in (await rig.contacts.page(search="south", limit=2)).rows
    ] == [
        "Customer 3",
        "Other 4",
    ]
    assert len((await rig.contacts.page(search="900600")).rows) == 1
    assert (await rig.contacts.page(search="07700 900603")).rows[
        0
    ].display == "Customer 3"
    assert (await rig.contacts.page(search="zz")).rows == ()  # under 3 characters
    with pytest.raises(InvalidInput) as info:
        await rig.contacts.page(cursor="junk")
    assert info.value.field == "cursor"
    with pytest.raises(InvalidInput):
        await rig.contacts.page(limit=0)


async def test_the_base_service_still_works(rig: Inbox) -> None:
    record = await rig.contacts.upsert("+447700900123", name="Ada")
    assert (await rig.contacts.find("07700900123")) == record
    assert [c.id for c in await rig.contacts.list()] == [record.id]

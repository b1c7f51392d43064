"""Contacts, consent, audit and modem units of work."""

from __future__ import annotations

from datetime import timedelta

import pytest
from storehelpers import T0

from gateway.domain import ConsentKind, ConsentSource, NumberKind
from gateway.errors import InvalidInput, NotFound
from gateway.storage import queries
from gateway.storage.db import Store

CUSTOMER = "+447700900123"


async def test_upsert_contact_creates_once_and_merges_updates(store: Store) -> None:
    created = await store.run(queries.upsert_contact, CUSTOMER, NumberKind.E164, now=T0)
    assert (created.name, created.attributes) == (None, {})
    later = T0 + timedelta(hours=1)
    updated = await store.run(
        queries.upsert_contact,
        CUSTOMER,
        NumberKind.E164,
        now=later,
        name="Jamie",
        attributes={"vip": True, "region": "north"},
    )
    assert updated.id == created.id
    assert updated.name == "Jamie"
    assert updated.updated_at == later
    merged = await store.run(
        queries.upsert_contact,
        CUSTOMER,
        NumberKind.E164,
        now=later,
        attributes={"region": "south"},
    )
    assert merged.attributes == {"vip": True, "region": "south"}
    assert merged.name == "Jamie"  # not given: kept
    unchanged = await store.run(
        queries.upsert_contact, CUSTOMER, NumberKind.E164, now=later + timedelta(1)
    )
    assert unchanged.updated_at == later


async def test_get_find_and_list_contacts(store: Store) -> None:
    ids = [
        (
            await store.run(
                queries.upsert_contact, f"+4477009000{i:02d}", NumberKind.E164, now=T0
            )
        ).id
        for i in range(5)
    ]
    assert (await store.run(queries.get_contact, ids[0])).number == "+447700900000"
    with pytest.raises(NotFound, match="contact 999 not found"):
        await store.run(queries.get_contact, 999)
    assert await store.run(queries.find_contact, "+447700900099") is None
    page = await store.run(queries.list_contacts, limit=2)
    rest = await store.run(queries.list_contacts, limit=10, after_id=page[-1].id)
    assert [c.id for c in page + rest] == ids


async def test_alphanumeric_contacts_cannot_be_replied_to(store: Store) -> None:
    amazon = await store.run(
        queries.upsert_contact, "AMAZON", NumberKind.ALPHANUMERIC, now=T0
    )
    assert not amazon.repliable


async def test_consent_follows_the_latest_event(store: Store) -> None:
    state = await store.run(queries.consent_state, CUSTOMER)
    assert not state.opted_out
    assert state.since is None
    await store.run(
        queries.record_consent,
        CUSTOMER,
        ConsentKind.OPT_OUT,
        ConsentSource.KEYWORD,
        now=T0,
    )
    state = await store.run(queries.consent_state, CUSTOMER)
    assert state.opted_out
    assert state.since == T0
    assert state.source is ConsentSource.KEYWORD
    assert await store.run(queries.is_opted_out, CUSTOMER)
    assert not await store.run(queries.is_opted_out, "+447700900999")
    back = await store.run(
        queries.record_consent,
        CUSTOMER,
        ConsentKind.OPT_IN,
        ConsentSource.AGENT,
        now=T0 + timedelta(minutes=1),
        actor="user:alice",
    )
    assert back.actor == "user:alice"
    assert not await store.run(queries.is_opted_out, CUSTOMER)


async def test_consent_changes_are_audited(store: Store) -> None:
    await store.run(
        queries.record_consent,
        CUSTOMER,
        ConsentKind.OPT_OUT,
        ConsentSource.KEYWORD,
        now=T0,
    )
    (event,) = await store.run(queries.list_audit, subject=f"number:{CUSTOMER}")
    assert (event.actor, event.action) == ("keyword", "consent.opt_out")
    assert event.detail == {"source": "keyword", "message_id": None}


async def test_audit_log_is_newest_first_and_pages(store: Store) -> None:
    for i in range(5):
        await store.run(
            queries.record_audit,
            "user:alice",
            "conversation.assign",
            f"conversation:{i}",
            now=T0 + timedelta(seconds=i),
            detail={"to": "bob"},
        )
    page = await store.run(queries.list_audit, limit=2)
    assert [e.subject for e in page] == ["conversation:4", "conversation:3"]
    rest = await store.run(queries.list_audit, before_id=page[-1].id)
    assert [e.subject for e in rest] == [
        "conversation:2",
        "conversation:1",
        "conversation:0",
    ]
    assert rest[0].detail == {"to": "bob"}


async def test_modem_rows(store: Store) -> None:
    created = await store.run(queries.upsert_modem, "usb0", now=T0)
    assert created.state == "disconnected"
    identified = await store.run(
        queries.upsert_modem,
        "usb0",
        now=T0 + timedelta(seconds=5),
        state="ready",
        imei="861234567890123",
        manufacturer="SIMCOM",
        signal_dbm=-71,
        operator="EE",
    )
    assert (identified.state, identified.imei, identified.signal_dbm) == (
        "ready",
        "861234567890123",
        -71,
    )
    assert identified.last_seen_at == T0 + timedelta(seconds=5)
    unknown_signal = await store.run(
        queries.upsert_modem,
        "usb0",
        now=T0,
        signal_dbm=None,
        last_error="port vanished",
    )
    assert unknown_signal.signal_dbm is None
    assert unknown_signal.imei == "861234567890123"  # not given: kept
    await store.run(queries.upsert_modem, "usb1", now=T0)
    assert [m.name for m in await store.run(queries.list_modems)] == ["usb0", "usb1"]
    assert (await store.run(queries.get_modem, "usb1")).name == "usb1"
    with pytest.raises(NotFound):
        await store.run(queries.get_modem, "usb9")
    with pytest.raises(InvalidInput, match="colour"):
        await store.run(queries.upsert_modem, "usb0", now=T0, colour="red")

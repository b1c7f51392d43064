"""The inbound path through the real driver and a simulated modem: commit, then delete;
duplicates dropped; incomplete messages delivered after the timeout; bytes that do not
decode kept for the operator."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway import events, inbound
from gateway.compliance import ComplianceService
from gateway.domain import ConversationStatus, MessageStatus, NumberKind, utcnow
from gateway.events import EventBus
from gateway.outbox.service import OutboundService
from gateway.storage import queries
from gateway.storage.db import open_database
from gateway.storage.models import InboundPart
from modem import driver, pdu
from modem.errors import PortClosed
from modem.events import SmsReceived, StoredLocation
from modem.pdu import SmsDeliver, encode_deliver
from modem.sim.network import SimNetwork
from tests.gateway.gwhelpers import (
    CUSTOMER,
    MODEM_NUMBERS,
    FakeModem,
    eventually,
    rig,
    settings_for,
)

LONG = "".join(f"Sentence {i} of a long question about my order. " for i in range(8))


def used(sim: Any, mem: str = "SM") -> int:
    return int(sim.state.storage(mem).used)


async def test_a_text_lands_in_a_new_conversation_then_leaves_the_sim(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        r.text("Hello, where is my order?")
        (message,) = await eventually(r.messages)
        assert message.body == "Hello, where is my order?"
        assert message.status is MessageStatus.RECEIVED
        assert message.modem == "usb0"
        conversation = await r.store.run(
            queries.get_conversation, message.conversation_id
        )
        assert conversation.number == CUSTOMER
        assert conversation.modem == "usb0"  # replies go out where the customer texted
        await eventually(lambda: used(r.sim()) == 0, what="deleted after the commit")
        await r.services.inbound.drain()
        (received,) = r.recorder.of(events.MessageReceived)
        assert received.message_id == message.id
        assert len(r.recorder.of(events.ConversationCreated)) == 1


async def test_a_national_sender_is_the_same_contact_as_its_international_form(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        r.network.send_text("07700900123", r.number(), "hi from a national number")
        (message,) = await eventually(r.messages)
        assert message.number == CUSTOMER


async def test_a_multipart_text_is_one_message(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        r.text(LONG)
        (message,) = await eventually(r.messages)
        assert message.body == LONG
        assert message.parts_count > 1
        await eventually(lambda: used(r.sim()) == 0)


async def test_a_second_text_threads_into_the_open_conversation(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        r.text("first")
        await eventually(r.messages)
        r.text("second")
        first, second = await eventually(
            lambda: _at_least(r.messages(), 2), what="two messages"
        )
        assert first.conversation_id == second.conversation_id
        await r.services.inbound.drain()
        assert r.services.inbound.stats.messages == 2


async def _at_least(messages: Any, n: int) -> Any:
    found = await messages
    return found if len(found) >= n else None


async def test_a_failed_commit_leaves_the_text_on_the_sim_until_it_commits(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real = queries.receive_inbound_part
    calls = 0

    def broken_once(**kwargs: Any) -> Any:
        nonlocal calls
        calls += 1
        if calls == 1:
            raise OSError("disk I/O error")
        return real(**kwargs)

    monkeypatch.setattr(queries, "receive_inbound_part", broken_once)
    monkeypatch.setattr(driver, "REEMIT_AFTER_S", 0.0)
    async with rig(tmp_path) as r:
        r.text("please do not lose me")
        await eventually(lambda: r.services.inbound.stats.failures == 1)
        await r.services.inbound.drain()
        assert used(r.sim()) == 1  # not deleted: the commit failed
        assert await r.messages() == []
        (modem,) = r.services.modems
        await modem.sweep()  # type: ignore[attr-defined]  # the driver's safety net
        (message,) = await eventually(r.messages)
        assert message.body == "please do not lose me"
        await eventually(lambda: used(r.sim()) == 0)


async def test_a_text_read_again_after_a_crash_is_stored_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The process dies after the commit and before the delete: the next start reads the
    text again, drops it as a duplicate, and deletes it."""
    network = SimNetwork()
    network.add_modem(MODEM_NUMBERS[0])

    async def crash(self: Any, handle: Any) -> None:
        raise PortClosed("usb0", "the process died here")

    with monkeypatch.context() as patch:
        patch.setattr(driver.Modem, "release", crash)
        async with rig(tmp_path, network=network) as r:
            r.text(LONG)
            await eventually(r.messages)
            await r.services.inbound.drain()
            assert used(r.sim()) > 1  # every part still on the SIM
    async with rig(tmp_path, network=network) as r:
        await eventually(lambda: used(r.sim()) == 0, what="re-read and deleted")
        await r.services.inbound.drain()
        (message,) = await r.messages()
        assert message.body == LONG
        assert r.services.inbound.stats.duplicates == message.parts_count
        assert r.services.inbound.stats.messages == 0


async def test_an_incomplete_text_is_delivered_after_the_timeout(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(inbound, "EXPIRY_CHECK_INTERVAL_S", 0.05)
    ini = "[inbound]\nreassembly_timeout_s = 1s\n"
    async with rig(tmp_path, ini) as r:
        pdus = encode_deliver(
            CUSTOMER, LONG, timestamp=datetime.now(UTC), concat_ref=42
        )
        first = pdus[0]
        r.sim().deliver(first, len(first) - 1 - first[0])  # the others never come
        await eventually(lambda: used(r.sim()) == 0, what="part committed and deleted")
        assert await r.messages() == []
        (message,) = await eventually(r.messages, what="delivered incomplete")
        assert message.status is MessageStatus.INCOMPLETE
        assert message.error is not None
        assert f"of {len(pdus)} never arrived" in message.error
        assert LONG.startswith(message.body)


async def test_bytes_that_do_not_decode_are_kept_and_deleted(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        garbage = bytes.fromhex("07914477009000F0" + "04FF")
        r.sim().deliver(garbage, len(garbage) - 8)
        await eventually(lambda: used(r.sim()) == 0)
        (kept,) = await r.store.run(queries.list_undecodable)
        assert kept.pdu_hex == garbage.hex().upper()
        assert kept.modem == "usb0"
        assert r.services.inbound.stats.undecodable == 1


async def test_an_alphanumeric_sender_is_kept_as_it_is(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        pdus = encode_deliver("AMAZON", "Your parcel", timestamp=datetime.now(UTC))
        r.sim().deliver(pdus[0], len(pdus[0]) - 1 - pdus[0][0])
        (message,) = await eventually(lambda: r.messages("AMAZON"))
        contact = await r.store.run(queries.find_contact, "AMAZON")
        assert contact is not None
        assert contact.kind is NumberKind.ALPHANUMERIC
        assert message.body == "Your parcel"


async def test_a_recently_resolved_conversation_reopens(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        r.text("first")
        (first,) = await eventually(r.messages)
        await r.store.run(
            queries.set_conversation_status,
            first.conversation_id,
            ConversationStatus.RESOLVED,
            now=utcnow(),
        )
        r.text("one more thing")
        await eventually(lambda: _at_least(r.messages(), 2))
        await r.services.inbound.drain()
        (changed,) = r.recorder.of(events.ConversationStatusChanged)
        assert changed.conversation_id == first.conversation_id
        assert changed.status == ConversationStatus.OPEN.value


async def test_a_pdu_offered_again_while_in_hand_is_not_queued_twice(
    tmp_path: Path,
) -> None:
    """Were the second copy queued, releasing its slot after the first copy freed it
    could delete a newer message the modem stored there."""
    settings = settings_for(tmp_path)
    store = await open_database(settings)
    try:
        bus = EventBus()
        outbound = OutboundService(store, bus, settings=settings)
        compliance = ComplianceService(
            store, bus, outbound, settings=settings.compliance
        )
        service = inbound.InboundService(
            store, bus, compliance, outbound, settings=settings
        )
        port = FakeModem("usb0")
        service.attach(port)
        (data,) = encode_deliver(CUSTOMER, "hello", timestamp=datetime.now(UTC))
        value = pdu.decode(data)
        assert isinstance(value, SmsDeliver)
        event = SmsReceived(
            "usb0", data, value, StoredLocation("SM", 3), datetime.now(UTC)
        )
        service.submit(event)
        service.submit(event)  # the driver's sweep, while the first is still queued
        await service.drain()
        assert port.released == [StoredLocation("SM", 3)]
        service.submit(event)  # a fresh offer later: a duplicate, released again
        await service.drain()
        assert port.released == [StoredLocation("SM", 3)] * 2
        assert service.stats.duplicates == 1
        await service.stop()
    finally:
        await store.close()


async def test_a_nul_character_is_stored_as_a_replacement_and_the_pdu_kept(
    tmp_path: Path,
) -> None:
    # PostgreSQL text cannot hold U+0000; one rule for both engines, so a text with
    # one commits everywhere (and leaves the SIM) instead of waiting on it forever
    async with rig(tmp_path) as r:
        r.text("order\x00 4839201")
        (message,) = await eventually(r.messages)
        assert message.body == "order\ufffd 4839201"
        await eventually(lambda: used(r.sim()) == 0, what="deleted after the commit")
        (pdu_hex,) = await r.store.run(
            lambda: [
                p.pdu_hex
                for p in InboundPart.select().where(InboundPart.message == message.id)
            ]
        )
        decoded = pdu.decode_hex(pdu_hex)
        assert isinstance(decoded, SmsDeliver)
        assert decoded.text == "order\x00 4839201"  # the original, byte for byte

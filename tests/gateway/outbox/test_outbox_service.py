"""OutboundService and the dispatcher through the real driver and simulated modems:
queued before the answer, sticky modems, failover, permanent errors, delivery roll-up,
and at-most-once after a crash."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway import events
from gateway.domain import (
    MessageOrigin,
    MessageStatus,
    NumberKind,
    PartStatus,
    utcnow,
)
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.storage import queries
from modem import pdu
from modem.pdu.types import SmsSubmit
from modem.sim.faults import FaultSpec
from modem.sim.network import SimNetwork
from tests.gateway.gwhelpers import (
    CUSTOMER,
    MODEM_NUMBERS,
    OTHER,
    eventually,
    rig,
    settings_for,
)

LONG_REPLY = "".join(f"Line {i}: your replacement ships on Tuesday. " for i in range(9))


def fault(sim: object, **knobs: object) -> None:
    sim.apply_faults(FaultSpec.from_dict(knobs))  # type: ignore[attr-defined]


async def status_of(r: object, message_id: int, status: MessageStatus) -> object:
    message = await r.store.run(queries.get_message, message_id)  # type: ignore[attr-defined]
    return message if message.status is status else None


async def test_send_commits_the_message_as_queued_before_it_returns(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        (modem,) = r.services.modems
        await modem.stop()  # nothing can leave: what send() returns is the commit
        message = await r.services.outbound.send(
            "07700 900123", "Your order shipped", context={"order": "4839201"}
        )
        assert message.status is MessageStatus.QUEUED
        assert message.number == CUSTOMER
        assert await r.store.run(queries.get_message, message.id) == message
        (queued,) = r.recorder.of(events.MessageQueued)
        assert queued.message_id == message.id


async def test_a_reply_reaches_the_phone_and_rolls_up_to_delivered(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        message = await r.services.outbound.send(CUSTOMER, LONG_REPLY)
        assert message.parts_count > 1
        await eventually(lambda: status_of(r, message.id, MessageStatus.DELIVERED))
        (got,) = r.inbox()
        assert got.text == LONG_REPLY
        assert got.parts == message.parts_count
        assert got.concat_ref == message.concat_ref
        parts = await r.services.outbound.parts(message.id)
        assert all(p.status is PartStatus.DELIVERED for p in parts)
        assert [p.reference for p in parts] == list(got.references)
        await r.settle()
        statuses = [
            e.status
            for e in r.recorder.of(events.MessageStatusChanged)
            if e.message_id == message.id
        ]
        assert statuses == ["sending", "sent", "delivered"]


async def test_bad_input_names_the_field(tmp_path: Path) -> None:
    async with rig(tmp_path, "[outbound]\nmax_parts = 2\n") as r:
        send = r.services.outbound.send
        with pytest.raises(InvalidInput) as info:
            await send("not a number", "hi")
        assert info.value.field == "to"
        with pytest.raises(InvalidInput) as info:
            await send("AMAZON", "hi")
        assert info.value.field == "to"
        with pytest.raises(InvalidInput) as info:
            await send(CUSTOMER, "   ")
        assert info.value.field == "body"
        with pytest.raises(InvalidInput, match=r"needs 3 SMS parts.*at most 2"):
            await send(CUSTOMER, "x" * 400)
        with pytest.raises(InvalidInput) as info:
            await send(CUSTOMER, "half a pair \ud83d")
        assert info.value.field == "body"
        with pytest.raises(InvalidInput) as info:
            await send(CUSTOMER, "hi", idempotency_key="")
        assert info.value.field == "idempotency_key"
        with pytest.raises(NotFound):
            await send(CUSTOMER, "hi", conversation_id=999)
        assert await r.messages() == []


async def test_the_same_idempotency_key_sends_once(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        send = r.services.outbound.send
        first = await send(CUSTOMER, "Order 1 shipped", idempotency_key="order-1")
        again = await send(CUSTOMER, "Order 1 shipped", idempotency_key="order-1")
        assert again.id == first.id
        with pytest.raises(Conflict):
            await send(CUSTOMER, "something else", idempotency_key="order-1")
        await eventually(lambda: status_of(r, first.id, MessageStatus.DELIVERED))
        await r.settle()
        assert [m.text for m in r.inbox()] == ["Order 1 shipped"]
        assert len(r.recorder.of(events.MessageQueued)) == 1


async def test_a_reply_leaves_from_the_modem_the_customer_texted(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path, modems=2) as r:
        r.text("hello usb1", to="usb1")
        (inbound,) = await eventually(r.messages)
        reply = await r.services.outbound.send(
            CUSTOMER,
            "hi!",
            conversation_id=inbound.conversation_id,
            origin=MessageOrigin.AGENT,
        )
        assert reply.modem == "usb1"  # usb0 is as idle, and first by name
        await eventually(lambda: r.inbox())
        assert r.inbox()[0].sender == r.number("usb1")
        # a customer who never texted gets the least busy modem (by name on a tie)
        other = await r.services.outbound.send(OTHER, "hello")
        assert other.modem == "usb0"


async def test_transient_errors_fail_over_to_another_modem(tmp_path: Path) -> None:
    async with rig(tmp_path, modems=2) as r:
        r.text("hi", to="usb0")
        await eventually(r.messages)
        fault(
            r.sim("usb0"),
            cms_error=42,
            cms_error_count=1000,
            cms_error_command="AT+CMGS",
        )
        reply = await r.services.outbound.send(CUSTOMER, "we are on it")
        assert reply.modem == "usb0"
        message = await eventually(
            lambda: status_of(r, reply.id, MessageStatus.DELIVERED)
        )
        assert message.modem == "usb1"
        (part,) = await r.services.outbound.parts(reply.id)
        assert part.attempts == 2
        assert [m.sender for m in r.inbox()] == [r.number("usb1")]


async def test_a_permanent_error_fails_the_message_at_once_with_its_reason(
    tmp_path: Path,
) -> None:
    async with rig(tmp_path) as r:
        fault(r.sim(), cms_error=21, cms_error_count=1, cms_error_command="AT+CMGS")
        doomed = await r.services.outbound.send(CUSTOMER, LONG_REPLY)
        fine = await r.services.outbound.send(OTHER, "this one goes")
        failed = await eventually(lambda: status_of(r, doomed.id, MessageStatus.FAILED))
        assert "+CMS ERROR: 21" in failed.error
        parts = await r.services.outbound.parts(doomed.id)
        assert parts[0].attempts == 1
        assert {p.status for p in parts} == {PartStatus.FAILED}
        await eventually(lambda: status_of(r, fine.id, MessageStatus.DELIVERED))
        assert r.inbox(CUSTOMER) == []


async def test_parts_interrupted_by_a_crash_are_never_resent_and_the_rest_keep_their_reference(
    tmp_path: Path,
) -> None:
    """A crash after part 1 was accepted and while part 2 was with the modem: part 2 is
    unknown (it may have gone), part 3 goes out with the message's concat reference."""
    network = SimNetwork()
    network.add_modem(MODEM_NUMBERS[0])
    settings = settings_for(tmp_path)
    from gateway.storage.db import open_database

    store = await open_database(settings)
    try:
        text = LONG_REPLY[:400]
        parts, encoding = pdu.segment_info(text).parts, "gsm7"
        assert parts == 3
        queued = await store.run(
            queries.enqueue_outbound,
            number=CUSTOMER,
            body=text,
            parts_count=parts,
            encoding=encoding,
            now=utcnow(),
            modem="usb0",
        )
        first = await store.run(queries.claim_next_outbound, "usb0", now=utcnow())
        assert first is not None
        await store.run(
            queries.mark_part_accepted, first.part.id, reference=7, now=utcnow()
        )
        second = await store.run(queries.claim_next_outbound, "usb0", now=utcnow())
        assert second is not None  # ... and the process dies during its AT+CMGS
    finally:
        await store.close()

    async with rig(tmp_path, network=network) as r:
        message = await eventually(
            lambda: status_of(r, queued.message.id, MessageStatus.UNKNOWN)
        )
        states = [p.status for p in await r.services.outbound.parts(message.id)]
        assert states[:2] == [PartStatus.SENT, PartStatus.UNKNOWN]
        assert states[2] in (PartStatus.SENT, PartStatus.DELIVERED)
        submitted = [pdu.decode(s.pdu) for s in r.sim().state.submitted]
        assert len(submitted) == 1  # part 3 only
        (third,) = submitted
        assert isinstance(third, SmsSubmit)
        assert third.udh is not None
        assert third.udh.concat is not None
        assert (third.udh.concat.ref, third.udh.concat.seq) == (
            queued.message.concat_ref,
            3,
        )


async def test_a_contact_created_by_sending_is_a_number(tmp_path: Path) -> None:
    async with rig(tmp_path) as r:
        await r.services.outbound.send(CUSTOMER, "hello")
        contact = await r.store.run(queries.find_contact, CUSTOMER)
        assert contact is not None
        assert contact.kind is NumberKind.E164

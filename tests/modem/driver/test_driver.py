"""The real driver against the simulated modem, in memory: identify, send, receive, reports."""

from __future__ import annotations

import random

import pytest
from driverkit import MODEM_NUMBER, PHONE, fast_timing, rig

from modem.driver import ModemNotReady, ModemOptions
from modem.errors import PduEncodeError
from modem.events import (
    DirectDelivery,
    Identified,
    ModemState,
    SmsReceived,
    StatusReportReceived,
    StoredLocation,
)
from modem.pdu import encode_deliver, encode_submit
from modem.sim.server import Delayed, OneByte, RandomSplit, Whole

TEXTS = {
    "one part": "Your order 4839201 ships today.",
    "ten parts": " ".join(f"line {i:03d} of a long support answer." for i in range(43)),
    "emoji": "Thanks! 🎉 See you Tuesday 👍🏽 at 10am",
    "gsm7 extension": "Price: 12€ {incl. VAT} [ref ~42] ^_^ | back\\slash",
    "long emoji": "🙂" * 80,
}

MANIPULATORS = {
    "whole": Whole,
    "one byte": OneByte,
    "random split": lambda: RandomSplit(seed=7),
    "delayed": lambda: Delayed(0.001),
}


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_timing(monkeypatch)


@pytest.mark.parametrize("profile", ["generic", "simcom", "quectel", "huawei"])
async def test_identifies_the_modem_and_picks_its_profile(profile: str) -> None:
    async with rig(profile=profile) as r:
        await r.ready()
        info = r.modem.info
        assert info is not None
        sim = r.sim.state
        assert (info.imei, info.imsi, info.iccid) == (sim.imei, sim.imsi, sim.iccid)
        assert info.model == sim.model
        assert info.own_number == MODEM_NUMBER
        assert info.profile == profile
        assert r.of(Identified) == [Identified("m1", info)]
        assert r.modem.signal_dbm is not None


@pytest.mark.parametrize("manip", MANIPULATORS.values(), ids=MANIPULATORS.keys())
@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
async def test_send_reaches_the_phone(text: str, manip: object) -> None:
    async with rig(manipulator=manip()) as r:  # type: ignore[operator]
        await r.ready()
        parts = encode_submit(PHONE, text, concat_ref=0x42)
        refs = [await r.modem.send_pdu(part) for part in parts]
        assert len(set(refs)) == len(parts)  # one TP-MR per part
        await r.wait_for(lambda: bool(r.network.inbox(PHONE)))
        (got,) = r.network.inbox(PHONE)
        assert got.text == text
        assert got.parts == len(parts)
        assert r.modem.stats.parts_sent == len(parts)


async def test_ten_part_text_uses_ten_cmgs() -> None:
    async with rig() as r:
        await r.ready()
        parts = encode_submit(PHONE, TEXTS["ten parts"], concat_ref=9)
        assert len(parts) == 10
        for part in parts:
            await r.modem.send_pdu(part)
        await r.wait_for(lambda: bool(r.network.inbox(PHONE)))
        assert r.network.inbox(PHONE)[0].parts == 10


@pytest.mark.parametrize("delivery", ["store", "direct"])
@pytest.mark.parametrize("text", TEXTS.values(), ids=TEXTS.keys())
async def test_receive_what_a_phone_sends(delivery: str, text: str) -> None:
    async with rig(options=ModemOptions(delivery=delivery)) as r:
        await r.ready()
        pdus = r.network.send_text(PHONE, MODEM_NUMBER, text)
        (message,) = await r.receive_and_release(len(pdus))
        assert message.text == text
        assert message.address.number == PHONE
        handles = {type(p.handle) for p in r.of(SmsReceived)}
        assert handles == (
            {StoredLocation} if delivery == "store" else {DirectDelivery}
        )
        # released: nothing is left on the SIM, nothing waits for an acknowledgement
        await r.wait_for(lambda: r.sim.state.storage("SM").used == 0)


@pytest.mark.parametrize("ref_bits", [8, 16])
async def test_parts_in_any_order(ref_bits: int) -> None:
    async with rig() as r:
        await r.ready()
        text = TEXTS["ten parts"]
        pdus = encode_deliver(
            PHONE,
            text,
            timestamp=r.network._timestamp(),
            concat_ref=77,
            ref_bits=ref_bits,
        )
        order = list(pdus)
        random.Random(3).shuffle(order)
        order.insert(2, order[5])  # and one part delivered twice
        for data in order:
            r.sim.deliver(data, len(data) - 1 - data[0])
        messages = await r.receive_and_release(len(order))
        assert [m.text for m in messages] == [text]


async def test_nothing_is_deleted_until_released() -> None:
    async with rig() as r:
        await r.ready()
        r.network.send_text(PHONE, MODEM_NUMBER, "keep me until committed")
        (part,) = await r.received_parts(1)
        assert r.sim.state.storage("SM").used == 1
        sweeps = r.sim.state.command_counts["AT+CMGL"]
        await r.modem.sweep()  # a sweep does not delete either, nor re-offer it at once
        await r.wait_for(lambda: r.sim.state.command_counts["AT+CMGL"] > sweeps)
        assert r.sim.state.storage("SM").used == 1
        assert len(r.of(SmsReceived)) == 1
        await r.modem.release(part.handle)
        assert r.sim.state.storage("SM").used == 0
        await r.modem.release(part.handle)  # releasing twice is harmless


async def test_a_late_release_never_deletes_a_newer_message_in_the_same_slot() -> None:
    async with rig() as r:
        await r.ready()
        r.network.send_text(PHONE, MODEM_NUMBER, "first")
        (first,) = await r.received_parts(1)
        await r.modem.release(first.handle)
        r.network.send_text(PHONE, MODEM_NUMBER, "second")  # the modem reuses the slot
        (_, second) = await r.received_parts(2)
        assert second.handle == first.handle  # same store, same index
        await r.modem.release(first.handle)  # a duplicate, late release of "first"
        assert r.sim.state.storage("SM").used == 1  # "second" is still there
        await r.modem.release(second.handle)
        assert r.sim.state.storage("SM").used == 0


async def test_messages_waiting_on_the_sim_are_swept_at_start() -> None:
    async with rig(start=False) as r:
        for i in range(3):
            r.network.send_text(
                f"+44770090010{i}", MODEM_NUMBER, f"while you were out {i}"
            )
        assert r.sim.state.storage("SM").used == 3
        await r.modem.start()
        messages = await r.receive_and_release(3)
        assert sorted(m.text for m in messages) == [
            f"while you were out {i}" for i in range(3)
        ]


@pytest.mark.parametrize("delivery", ["store", "direct"])
async def test_status_reports_come_back(delivery: str) -> None:
    async with rig(options=ModemOptions(delivery=delivery)) as r:
        await r.ready()
        parts = encode_submit(
            PHONE, TEXTS["ten parts"][:300], concat_ref=5, request_status_report=True
        )
        refs = [await r.modem.send_pdu(p) for p in parts]
        await r.wait_for(lambda: len(r.of(StatusReportReceived)) >= len(parts))
        reports = r.of(StatusReportReceived)
        assert sorted(e.report.reference for e in reports) == sorted(refs)
        assert all(
            e.report.delivered and e.report.recipient.number == PHONE for e in reports
        )
        for e in reports:
            await r.modem.release(e.handle)
        assert r.sim.state.storage("SR").used == 0


async def test_send_refused_while_not_ready() -> None:
    async with rig(start=False) as r:
        (part,) = encode_submit(PHONE, "hi")
        with pytest.raises(ModemNotReady) as info:
            await r.modem.send_pdu(part)
        assert info.value.transient
        assert info.value.state is ModemState.DISCONNECTED


async def test_bad_input_never_reaches_the_modem() -> None:
    with pytest.raises(PduEncodeError):
        encode_submit("not a number", "hi")
    with pytest.raises(ValueError, match="delivery"):
        async with rig(options=ModemOptions(delivery="carrier pigeon")):
            pass
    with pytest.raises(ValueError, match="unknown modem profile"):
        async with rig(options=ModemOptions(profile="nokia3310")):
            pass

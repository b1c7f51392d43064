"""Every simulator fault, and the driver recovering from it on its own."""

from __future__ import annotations

import contextlib

import pytest
from driverkit import MODEM_NUMBER, PHONE, Rig, fast_timing, rig, short_command_timeouts

from modem.driver import ModemNotReady, ModemOptions, SendUnconfirmed
from modem.errors import CmsError, ModemError, PortClosed
from modem.events import (
    DirectDelivery,
    ModemState,
    SmsReceived,
    StateChanged,
    StorageFull,
    StoredLocation,
    UndecodablePdu,
)
from modem.pdu import encode_submit
from modem.sim.device import SimModem
from modem.sim.faults import FaultSpec
from modem.sim.state import SubmittedPdu

TEXTS_BOTH_WAYS = {
    "one part": "Your parcel is out for delivery.",
    "ten parts": " ".join(f"line {i:03d} of a long support answer." for i in range(43)),
    "emoji": "Great, thanks 🙏🏼 see you at 4pm 🚚",
    "gsm7 extension": "Total 12€ {VAT} [ref ~42] | ok",
}


@pytest.fixture(autouse=True)
def _fast(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_timing(monkeypatch)


def fault(r: Rig, **spec: object) -> None:
    r.sim.apply_faults(FaultSpec.from_dict(spec))


async def works(r: Rig, tag: str) -> None:
    """The modem sends and receives normally (the proof of recovery)."""
    await r.ready()
    (part,) = encode_submit(PHONE, f"after {tag}")
    await r.modem.send_pdu(part)
    await r.wait_for(
        lambda: any(m.text == f"after {tag}" for m in r.network.inbox(PHONE))
    )
    before = len(r.events)
    r.network.send_text("+447700900999", MODEM_NUMBER, f"reply after {tag}")
    await r.wait_for(
        lambda: any(
            getattr(e, "deliver", None) is not None
            and e.deliver.text == f"reply after {tag}"  # type: ignore[attr-defined]
            for e in r.events[before:]
        )
    )


@pytest.mark.parametrize(
    "knobs",
    [
        {"latency_ms": 20.0},
        {"chunk_size": 3},
        {"random_split": True, "seed": 11},
        {"chunk_size": 5, "chunk_delay_ms": 2.0},
        {"merge_ms": 15.0},
        {"urc_mid_response": '+CMTI: "SM",9'},
    ],
    ids=[
        "latency",
        "split reads",
        "random split",
        "slow chunks",
        "merged reads",
        "urc mid",
    ],
)
async def test_output_shaping_is_harmless(knobs: dict[str, object]) -> None:
    async with rig() as r:
        await r.ready()
        fault(r, **knobs)
        await works(r, "shaping")


async def test_cms_errors_for_the_next_sends_are_typed_then_it_recovers() -> None:
    async with rig() as r:
        await r.ready()
        fault(r, cms_error=42, cms_error_count=2, cms_error_command="AT+CMGS")
        (part,) = encode_submit(PHONE, "congested")
        for _ in range(2):
            with pytest.raises(CmsError) as info:
                await r.modem.send_pdu(part)
            assert info.value.code == 42
            assert info.value.transient
        await r.modem.send_pdu(part)
        assert r.modem.stats.errors_by_code["CMS 42"] == 2
        assert [m.text for m in r.network.inbox(PHONE)] == ["congested"]


async def test_permanent_cms_error_is_not_transient() -> None:
    async with rig() as r:
        await r.ready()
        fault(r, cms_error=21, cms_error_count=1, cms_error_command="AT+CMGS")
        (part,) = encode_submit(PHONE, "rejected")
        with pytest.raises(CmsError) as info:
            await r.modem.send_pdu(part)
        assert not info.value.transient
        await works(r, "a permanent error")


async def test_no_network_then_back() -> None:
    async with rig() as r:
        await r.ready()
        fault(r, no_network=True)
        await r.modem.wait_state(ModemState.SEARCHING, 5)
        (part,) = encode_submit(PHONE, "no network")
        with pytest.raises(ModemNotReady):
            await r.modem.send_pdu(part)
        fault(r, no_network=False)
        await works(r, "no network")


async def test_a_full_sim_is_reported_and_emptied_by_releasing() -> None:
    async with rig() as r:
        await r.ready()
        capacity = r.sim.state.storage("SM").capacity
        for i in range(capacity + 2):  # the last two wait at the network for room
            r.network.send_text("+447700900888", MODEM_NUMBER, f"backlog {i}")
        await r.wait_for(lambda: any(e.storage == "SM" for e in r.of(StorageFull)))
        for part in await r.received_parts(capacity):
            await r.modem.release(part.handle)
        # room again: the network hands over what it held
        parts = await r.received_parts(capacity + 2)
        for part in parts[capacity:]:
            await r.modem.release(part.handle)
        assert sorted(p.deliver.text for p in parts) == sorted(
            f"backlog {i}" for i in range(capacity + 2)
        )
        await works(r, "storage full")


async def test_huawei_smmemfull_urc_is_reported() -> None:
    async with rig(profile="huawei") as r:
        await r.ready()
        fault(r, storage_full=True)
        r.network.send_text("+447700900888", MODEM_NUMBER, "held by the network")
        await r.wait_for(lambda: bool(r.of(StorageFull)))
        fault(r, storage_full=False)
        (message,) = await r.receive_and_release(1)
        assert message.text == "held by the network"


async def test_garbage_bytes_are_survived() -> None:
    async with rig() as r:
        await r.ready()
        fault(r, garbage_hex="00ff8041542b0d0a", garbage_count=5)
        await works(r, "garbage")


async def test_lossy_line_recovers(monkeypatch: pytest.MonkeyPatch) -> None:
    short_command_timeouts(monkeypatch, 0.3)
    async with rig() as r:
        await r.ready()
        fault(r, drop_rate=0.05, seed=3)
        for i in range(5):
            (part,) = encode_submit(PHONE, f"lossy {i}")
            # a lossy line may lose a command or its answer; that's the point
            with contextlib.suppress(ModemError):
                await r.modem.send_pdu(part)
        fault(r, drop_rate=0.0)
        await works(r, "a lossy line")


async def test_hang_then_reconnect(monkeypatch: pytest.MonkeyPatch) -> None:
    short_command_timeouts(monkeypatch, 0.2)
    async with rig() as r:
        await r.ready()
        fault(r, hang=True)
        (part,) = encode_submit(PHONE, "into the void")
        with pytest.raises((TimeoutError, PortClosed, ModemNotReady)):
            await r.modem.send_pdu(part)
        await r.wait_for(lambda: r.modem.state is not ModemState.READY)
        fault(r, hang=False)
        await works(r, "a hang")
        assert r.modem.stats.reconnects >= 1


async def test_unconfirmed_send_is_reported_as_such() -> None:
    async with rig() as r:
        await r.ready()
        # the modem takes the PDU, the network sends it, and the USB link drops before the
        # +CMGS answer reaches us: the part was sent, and we must not claim it was not
        forward = r.sim.on_submit
        assert forward is not None

        def submit_then_vanish(sim: SimModem, submitted: SubmittedPdu) -> None:
            forward(sim, submitted)
            sim.vanish(0.2)

        r.sim.on_submit = submit_then_vanish
        fault(r, latency_ms=50.0)
        (part,) = encode_submit(PHONE, "maybe sent")
        with pytest.raises(SendUnconfirmed):
            await r.modem.send_pdu(part)
        assert [m.text for m in r.network.inbox(PHONE)] == ["maybe sent"]
        r.sim.on_submit = forward
        fault(r, latency_ms=0.0)
        await works(r, "an unconfirmed send")


@pytest.mark.parametrize("profile", ["generic", "simcom", "quectel", "huawei"])
async def test_reboot_is_noticed_and_the_modem_reinitialised(profile: str) -> None:
    # generic reboots silently (noticed by its routing being reset); others print banners
    async with rig(profile=profile) as r:
        await r.ready()
        identified = r.modem.stats.reconnects
        fault(r, reboot=True)
        await r.wait_for(lambda: r.modem.stats.reconnects > identified)
        await works(r, "a reboot")
        assert r.sim.state.cnmi[1] == 1  # our message routing is back after the reboot


async def test_port_vanishes_and_returns() -> None:
    async with rig() as r:
        await r.ready()
        fault(r, vanish_s=0.3)
        await r.wait_for(
            lambda: any(
                isinstance(e, StateChanged) and e.state is ModemState.DISCONNECTED
                for e in r.events
            )
        )
        await works(r, "the port vanishing")


async def test_sim_pin_is_entered() -> None:
    async with rig(pin="1234", options=ModemOptions(pin="1234")) as r:
        await works(r, "a PIN")
        assert r.sim.state.command_counts["AT+CPIN"] >= 2  # asked, then entered


async def test_a_wrong_pin_is_tried_once_and_never_again() -> None:
    async with rig(pin="1234", options=ModemOptions(pin="9999")) as r:
        await r.modem.wait_state(ModemState.SIM_LOCKED, 5)
        await r.wait_for(lambda: r.modem.stats.reconnects >= 3)
        # one wrong try, however often it reconnects: three would lock the SIM (PUK)
        assert r.sim.state.pin_attempts == 2
        assert r.modem.state is ModemState.SIM_LOCKED
        assert "rejected" in (r.modem.stats.last_error or "")


async def test_a_missing_pin_says_what_to_configure() -> None:
    async with rig(pin="1234") as r:
        await r.modem.wait_state(ModemState.SIM_LOCKED, 5)
        assert "set pin" in (r.modem.stats.last_error or "")
        assert r.sim.state.pin_attempts == 3


async def test_a_late_cnma_falls_back_to_storage_and_routing_is_restored(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from modem.sim import device

    monkeypatch.setattr(device, "CNMA_TIMEOUT_S", 0.05)
    async with rig(options=ModemOptions(delivery="direct")) as r:
        await r.ready()
        r.network.send_text("+447700900777", MODEM_NUMBER, "acknowledge me")
        (pushed,) = await r.received_parts(1)
        assert isinstance(pushed.handle, DirectDelivery)
        # too slow: the network stores the message and the modem announces it again
        await r.wait_for(lambda: len(r.of(SmsReceived)) == 2)
        stored = r.of(SmsReceived)[1]
        assert isinstance(stored.handle, StoredLocation)
        assert stored.pdu == pushed.pdu  # the same part: its owner dedupes it
        await r.modem.release(pushed.handle)  # +CMS ERROR 340, then routing re-enabled
        await r.modem.release(stored.handle)
        await works(r, "a late acknowledgement")


async def test_undecodable_pdus_are_reported_not_dropped() -> None:
    async with rig() as r:
        await r.ready()
        garbage = bytes.fromhex(
            "0004"
        )  # an SMS-DELIVER cut short after its first octet
        r.sim.deliver(garbage, 1)
        await r.wait_for(lambda: bool(r.of(UndecodablePdu)))
        (bad,) = r.of(UndecodablePdu)
        assert bad.pdu == garbage
        assert "octet" in bad.error
        await r.modem.release(bad.handle)
        assert r.sim.state.storage("SM").used == 0


async def test_a_modem_that_never_answers_is_retried(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from modem import driver

    monkeypatch.setattr(driver, "BOOT_TIMEOUT_S", 0.3)
    monkeypatch.setattr(driver, "WAKE_TIMEOUT_S", 0.05)
    async with rig(start=False) as r:
        fault(r, hang=True)
        await r.modem.start()
        await r.wait_for(lambda: r.modem.stats.reconnects >= 2)
        assert "did not answer AT" in (r.modem.stats.last_error or "")
        fault(r, hang=False)
        await works(r, "a silent modem")

"""The simulated network: phones text modems, modems text phones, status reports come back."""

from __future__ import annotations

import pytest
from simhelpers import FakeClock, Host, connect

from modem import pdu
from modem.pdu import SmsDeliver, StatusReport
from modem.sim.network import DeliveryOutcome, SimNetwork, UnknownNumber

MODEM = "+15550100001"
PHONE = "+4915112345678"
LONG_GSM = "".join(f"Part {i:02d} of a long text in plain GSM-7. " for i in range(36))
EMOJI = "Hi 👋 thanks for the 🍕! " * 6


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def network(clock: FakeClock) -> SimNetwork:
    return SimNetwork(clock=clock)


def stored(network: SimNetwork, mem: str = "SM") -> list[SmsDeliver]:
    store = network.modem(MODEM).state.storage(mem)
    parts = []
    for message in store.listing():
        value = pdu.decode(message.pdu)
        assert isinstance(value, SmsDeliver)
        assert message.tpdu_length == len(message.pdu) - 1 - message.pdu[0]
        parts.append(value)
    return parts


async def send_from_host(host: Host, text: str, *, report: bool = False) -> list[int]:
    """The host side of AT+CMGS, part by part; returns the +CMGS references."""
    refs = []
    parts = pdu.encode_submit(PHONE, text, concat_ref=77, request_status_report=report)
    for part in parts:
        await host.command(f"AT+CMGS={part.tpdu_length}", b"> ")
        host.send(part.hex + "\x1a")
        out = await host.wait_for(b"OK\r\n")
        refs.append(int(out.split(b"+CMGS: ")[1].split(b"\r\n")[0]))
    return refs


async def test_a_short_text_is_stored_and_indicated(network: SimNetwork) -> None:
    modem = network.add_modem(MODEM)
    host = await connect(modem)
    (data,) = network.send_text(PHONE, MODEM, "hello")
    assert await host.wait_for(b"\r\n") == b'\r\n+CMTI: "SM",1\r\n'
    (part,) = stored(network)
    assert part.text == "hello"
    assert part.sender.number == PHONE
    assert part.smsc is not None
    assert part.smsc.number == modem.state.csca
    assert part.timestamp.timestamp() == int(network.now())
    assert modem.state.storage("SM").messages[1].pdu == data
    assert network.phone(PHONE).sent == 1


@pytest.mark.parametrize(
    ("text", "ref_bits", "parts"),
    [(LONG_GSM, 8, 10), (EMOJI, 8, 3), (LONG_GSM, 16, 10), ("€[]{}~^|\\ " * 16, 8, 2)],
    ids=["10-part-gsm7", "emoji-ucs2", "16-bit-ref", "gsm7-extension"],
)
async def test_long_texts_arrive_as_real_concatenated_parts(
    network: SimNetwork, text: str, ref_bits: int, parts: int
) -> None:
    network.add_modem(MODEM)
    network.send_text(PHONE, MODEM, text, ref_bits=ref_bits)
    got = stored(network)
    assert len(got) == parts
    concats = [p.concat for p in got]
    assert all(
        c is not None and c.total == parts and c.ref_bits == ref_bits for c in concats
    )
    assert [c.seq for c in concats if c is not None] == list(range(1, parts + 1))
    assert pdu.join_parts(got) == text


async def test_each_long_text_gets_a_new_reference(network: SimNetwork) -> None:
    network.add_modem(MODEM)
    network.send_text(PHONE, MODEM, LONG_GSM[:300])
    network.send_text(PHONE, MODEM, LONG_GSM[:300])
    refs = {p.concat.ref for p in stored(network) if p.concat is not None}
    assert len(refs) == 2


def test_texting_a_number_without_a_modem_fails(network: SimNetwork) -> None:
    with pytest.raises(UnknownNumber):
        network.send_text(PHONE, "+15550000099", "hi")


async def test_what_a_modem_submits_reaches_the_phone(network: SimNetwork) -> None:
    modem = network.add_modem(MODEM)
    host = await connect(modem)
    assert await send_from_host(host, "Hi there") == [1]
    (message,) = network.inbox(PHONE)
    assert (message.sender, message.text, message.parts) == (MODEM, "Hi there", 1)
    assert message.references == (1,)
    assert await send_from_host(host, EMOJI) == [2, 3, 4]
    assert len(network.inbox(PHONE)) == 2
    long = network.inbox(PHONE)[1]
    assert (long.text, long.parts, long.references, long.concat_ref) == (
        EMOJI,
        3,
        (2, 3, 4),
        77,
    )
    assert len(modem.state.submitted) == 4


async def test_a_text_with_a_missing_part_never_shows(network: SimNetwork) -> None:
    modem = network.add_modem(MODEM)
    host = await connect(modem)
    part = pdu.encode_submit(PHONE, LONG_GSM[:400], concat_ref=9)[0]
    await host.command(f"AT+CMGS={part.tpdu_length}", b"> ")
    host.send(part.hex + "\x1a")
    await host.wait_for(b"OK\r\n")
    assert network.inbox(PHONE) == []


async def test_status_report_as_cds_when_ds_is_1(network: SimNetwork) -> None:
    modem = network.add_modem(MODEM)
    host = await connect(modem)
    await host.command("AT+CNMI=2,1,0,1,0")
    part = pdu.encode_submit(PHONE, "report me", request_status_report=True)[0]
    await host.command(f"AT+CMGS={part.tpdu_length}", b"> ")
    host.send(part.hex + "\x1a")
    out = await host.wait_for(b"+CDS: ")  # a URC arrives in one write
    _, cds = out.split(b"+CDS: ")
    length, hex_pdu = cds.decode().strip().split("\r\n")
    report = pdu.decode_hex(hex_pdu)
    assert isinstance(report, StatusReport)
    assert int(length) == len(hex_pdu) // 2 - 1 - int(hex_pdu[:2], 16)
    assert (report.reference, report.recipient.number, report.status) == (1, PHONE, 0)
    assert report.delivered


async def test_status_report_stored_in_sr_when_ds_is_2(network: SimNetwork) -> None:
    modem = network.add_modem(MODEM)
    host = await connect(modem)
    await host.command("AT+CNMI=2,1,0,2,0")
    await send_from_host(host, "report me", report=True)
    assert await host.wait_for(b"\r\n") == b'\r\n+CDSI: "SR",1\r\n'
    await host.command('AT+CPMS="SR"')
    out = await host.command("AT+CMGR=1")
    hex_pdu = out.split(b"\r\n")[2].decode()
    report = pdu.decode_hex(hex_pdu)
    assert isinstance(report, StatusReport)
    assert report.reference == 1


async def test_no_report_unless_requested(network: SimNetwork) -> None:
    modem = network.add_modem(MODEM)
    host = await connect(modem)
    await host.command("AT+CNMI=2,1,0,2,0")
    await send_from_host(host, "quiet")
    assert await host.idle() == b""
    assert modem.reports_delivered == 0


@pytest.mark.parametrize(
    ("outcome", "status", "in_inbox"),
    [
        (DeliveryOutcome.DELIVERED, 0x00, True),
        (DeliveryOutcome.FAILED, 0x41, False),
        (DeliveryOutcome.UNREACHABLE, 0x46, False),
        (DeliveryOutcome.PENDING, 0x20, False),
    ],
)
async def test_delivery_outcomes(
    network: SimNetwork, outcome: DeliveryOutcome, status: int, in_inbox: bool
) -> None:
    modem = network.add_modem(MODEM)
    network.add_phone(PHONE, outcome)
    host = await connect(modem)
    await host.command("AT+CNMI=2,1,0,0,0")
    await send_from_host(host, "are you there", report=True)
    assert bool(network.inbox(PHONE)) is in_inbox
    (slot,) = modem.state.storage("SM").listing()
    report = pdu.decode(slot.pdu)
    assert isinstance(report, StatusReport)
    assert report.status == status


async def test_pending_then_delivered_sends_a_second_report(
    network: SimNetwork,
) -> None:
    modem = network.add_modem(MODEM)
    network.add_phone(PHONE, DeliveryOutcome.PENDING)
    host = await connect(modem)
    await host.command("AT+CNMI=2,1,0,2,0")
    await send_from_host(host, "later", report=True)
    await host.wait_for(b'+CDSI: "SR",1\r\n')
    assert network.phone(PHONE).pending
    network.set_outcome(PHONE, DeliveryOutcome.DELIVERED)
    assert await host.wait_for(b"\r\n") == b'\r\n+CDSI: "SR",2\r\n'
    assert [m.text for m in network.inbox(PHONE)] == ["later"]
    statuses = []
    for slot in modem.state.storage("SR").listing():
        report = pdu.decode(slot.pdu)
        assert isinstance(report, StatusReport)
        statuses.append(report.status)
    assert statuses == [0x20, 0x00]


async def test_reports_can_come_later(network: SimNetwork, clock: FakeClock) -> None:
    network.report_delay_s = 5.0
    modem = network.add_modem(MODEM)
    host = await connect(modem)
    await host.command("AT+CNMI=2,1,0,2,0")
    await send_from_host(host, "slow", report=True)
    assert await host.idle() == b""
    clock.move(5)
    assert network.scheduler.advance() == 1
    assert await host.wait_for(b"\r\n") == b'\r\n+CDSI: "SR",1\r\n'


async def test_text_mode_send_list_and_read(network: SimNetwork) -> None:
    modem = network.add_modem(MODEM)
    host = await connect(modem)
    await host.command("AT+CMGF=1")
    await host.command(f'AT+CMGS="{PHONE}"', b"> ")
    host.send("plain text\x1a")
    assert await host.wait_for(b"OK\r\n") == b"\r\n+CMGS: 1\r\n\r\nOK\r\n"
    assert [m.text for m in network.inbox(PHONE)] == ["plain text"]
    network.send_text(PHONE, MODEM, "back at you")
    await host.wait_for(b"+CMTI")
    out = await host.command('AT+CMGL="ALL"')
    assert (
        out
        == (
            f'\r\n+CMGL: 1,"REC UNREAD","{PHONE}",,"26/11/27,17:41:58+00"\r\n'
            "back at you\r\n\r\nOK\r\n"
        ).encode()
    )
    out = await host.command("AT+CMGR=1")
    assert out.startswith(f'\r\n+CMGR: "REC READ","{PHONE}",,'.encode())
    await host.command('AT+CSCS="UCS2"')
    out = await host.command("AT+CMGR=1")
    assert "back at you".encode("utf-16-be").hex().upper().encode() in out


async def test_text_mode_cmt_and_cds(network: SimNetwork) -> None:
    modem = network.add_modem(MODEM)
    host = await connect(modem)
    await host.command("AT+CMGF=1;+CNMI=2,2,0,1,0;+CSMP=49,167,0,0")
    network.send_text(PHONE, MODEM, "direct")
    out = await host.wait_for(b"direct\r\n")
    assert out == f'\r\n+CMT: "{PHONE}",,"26/11/27,17:41:58+00"\r\ndirect\r\n'.encode()
    await host.command(f'AT+CMGS="{PHONE}"', b"> ")
    host.send("with report\x1a")
    out = await host.wait_for(b"+CDS: ")  # a URC arrives in one write
    assert f'+CDS: 6,1,"{PHONE}",145,'.encode() in out


async def test_text_mode_refuses_what_it_cannot_send(network: SimNetwork) -> None:
    modem = network.add_modem(MODEM)
    host = await connect(modem)
    await host.command("AT+CMGF=1;+CMEE=1")
    await host.command(f'AT+CMGS="{PHONE}"', b"> ")
    host.send("x" * 400 + "\x1a")
    assert await host.wait_for(b"\r\n", 5) == b"\r\n+CMS ERROR: 305\r\n"
    assert network.inbox(PHONE) == []


async def test_several_modems_each_with_its_own_sim(network: SimNetwork) -> None:
    first = network.add_modem(MODEM)
    second = network.add_modem("+15550100002", "quectel")
    assert first.state.imsi != second.state.imsi
    assert first.state.iccid != second.state.iccid
    assert len(first.state.iccid) == 19
    network.send_text(PHONE, "+15550100002", "to the second")
    assert second.state.storage("SM").used == 1
    assert first.state.storage("SM").used == 0
    with pytest.raises(ValueError, match="already"):
        network.add_modem(MODEM)


def test_phones_can_be_strict(clock: FakeClock) -> None:
    strict = SimNetwork(clock=clock, auto_phones=False)
    with pytest.raises(UnknownNumber):
        strict.phone(PHONE)
    assert strict.add_phone(PHONE).number == PHONE


async def test_text_mode_shows_reports_and_written_messages(
    network: SimNetwork,
) -> None:
    modem = network.add_modem(MODEM)
    host = await connect(modem)
    await host.command("AT+CNMI=2,1,0,0,0")
    await send_from_host(
        host, "report me", report=True
    )  # the report lands in SM (ds=0)
    await host.command("AT+CMGF=1;+CMEE=1")
    await host.command(f'AT+CMGW="{PHONE}"', b"> ")
    host.send("draft\x1a")
    assert await host.wait_for(b"OK\r\n") == b"\r\n+CMGW: 2\r\n\r\nOK\r\n"
    out = await host.command('AT+CMGL="ALL"')
    lines = out.decode().split("\r\n")
    assert lines[1].startswith(f'+CMGL: 1,"REC UNREAD",6,1,"{PHONE}",145,"26/11/27,')
    assert lines[1].endswith(",0")
    assert lines[2:4] == [f'+CMGL: 2,"STO UNSENT","{PHONE}",', "draft"]
    modem.state.storage("SM").store(
        b"\x00\x04", 1, modem.state.storage("SM").messages[1].stat
    )
    assert await host.command("AT+CMGR=3", b"\r\n") == b"\r\n+CMS ERROR: 500\r\n"


async def test_text_mode_in_ucs2_and_validity_periods(network: SimNetwork) -> None:
    modem = network.add_modem(MODEM)
    host = await connect(modem)
    await host.command('AT+CMGF=1;+CMEE=1;+CSCS="UCS2"')
    await host.command(f'AT+CMGS="{PHONE}"', b"> ")
    host.send("not hex\x1a")
    assert await host.wait_for(b"\r\n", 5) == b"\r\n+CMS ERROR: 305\r\n"
    for vp, seconds in [
        (0, 300),
        (143, 12 * 3600),
        (167, 24 * 3600),
        (196, 30 * 86400),
    ]:
        await host.command(f"AT+CSMP=17,{vp},0,0")
        await host.command(f'AT+CMGS="{PHONE}"', b"> ")
        host.send("ok 👍".encode("utf-16-be").hex() + "\x1a")
        await host.wait_for(b"OK\r\n")
        value = pdu.decode(modem.state.submitted[-1].pdu)
        assert value.validity_relative_s == seconds  # type: ignore[union-attr]
    assert [m.text for m in network.inbox(PHONE)] == ["ok 👍"] * 4

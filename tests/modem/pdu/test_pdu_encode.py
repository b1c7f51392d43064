"""Encoder options and refusals: what goes out is exactly what was asked for, or an error."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from modem.pdu import (
    Encoding,
    PduEncodeError,
    SmsDeliver,
    SmsSubmit,
    StatusReport,
    decode,
    decode_hex,
    encode_deliver,
    encode_status_report,
    encode_submit,
    gsm7,
    join_parts,
)
from modem.pdu.address import encode_smsc
from modem.pdu.timestamp import (
    MAX_RELATIVE_VALIDITY_S,
    decode_relative_validity,
    encode_relative_validity,
)

WHEN = datetime(2025, 4, 17, 13, 40, 37, tzinfo=timezone(timedelta(hours=-7)))


def submit_of(hex_pdu: str) -> SmsSubmit:
    pdu = decode_hex(hex_pdu)
    assert isinstance(pdu, SmsSubmit)
    return pdu


def encode_error(call: object, *args: object, **kwargs: object) -> PduEncodeError:
    with pytest.raises(PduEncodeError) as info:
        call(*args, **kwargs)  # type: ignore[operator]
    return info.value


@pytest.mark.parametrize(
    "number",
    ["", "+", "12ab", "+1-555-0100", "555 0100", "١٢٣", "1" * 21, "+" + "1" * 21],
)
def test_destination_must_be_digits_or_plus_digits(number: str) -> None:
    error = encode_error(encode_submit, number, "hi")
    assert error.field == "destination"
    assert repr(number) in error.reason


def test_number_types() -> None:
    assert submit_of(encode_submit("+4412", "hi")[0].hex).destination.ton == 1
    national = submit_of(encode_submit("0412", "hi")[0].hex).destination
    assert (national.number, national.ton, national.npi) == ("0412", 0, 1)


def test_smsc_field() -> None:
    assert encode_smsc(None) == b"\x00"
    (part,) = encode_submit("+1", "hi", smsc="+41761234567")
    assert part.hex.startswith("07911467214365F7")
    assert part.tpdu_length == len(part.data) - 8
    assert encode_error(encode_submit, "+1", "hi", smsc="SMSC").field == "smsc"


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"reference": 256}, "reference"),
        ({"reference": -1}, "reference"),
        ({"concat_ref": 256}, "concat_ref"),
        ({"validity_s": 0}, "validity_s"),
        ({"validity_s": MAX_RELATIVE_VALIDITY_S + 1}, "validity_s"),
        ({"encoding": Encoding.DATA8}, "encoding"),
    ],
)
def test_out_of_range_options_name_themselves(
    kwargs: dict[str, object], field: str
) -> None:
    assert encode_error(encode_submit, "+1", "hi", **kwargs).field == field


def test_first_octet_follows_the_options() -> None:
    plain = encode_submit("+1", "hi")[0]
    assert plain.data[1] == 0x01
    everything = encode_submit(
        "+1",
        "x" * 200,
        concat_ref=9,
        request_status_report=True,
        validity_s=3600,
        reject_duplicates=True,
    )
    for part in everything:
        assert part.data[1] == 0x01 | 0x04 | 0x10 | 0x20 | 0x40
        pdu = submit_of(part.hex)
        assert pdu.status_report_request
        assert pdu.reject_duplicates
        assert pdu.validity_relative_s == 3600


def test_reference_is_tp_mr_and_concat_ref_is_separate() -> None:
    parts = encode_submit("+1", "x" * 200, reference=7, concat_ref=200)
    for seq, part in enumerate(parts, start=1):
        pdu = submit_of(part.hex)
        assert pdu.reference == 7
        assert pdu.concat is not None
        assert (
            pdu.concat.ref,
            pdu.concat.ref_bits,
            pdu.concat.total,
            pdu.concat.seq,
        ) == (
            200,
            8,
            2,
            seq,
        )
        assert (part.seq, part.total) == (seq, 2)


def test_several_parts_need_a_reference() -> None:
    error = encode_error(encode_submit, "+1", "x" * 161)
    assert error.field == "concat_ref"
    assert "2 parts" in error.reason


def test_more_than_255_parts_is_refused() -> None:
    error = encode_error(encode_submit, "+1", "x" * (153 * 255 + 1), concat_ref=1)
    assert error.field == "text"
    assert len(encode_submit("+1", "x" * (153 * 255), concat_ref=1)) == 255


def test_forced_encodings() -> None:
    (ucs2,) = encode_submit("+1", "hi", encoding=Encoding.UCS2)
    assert submit_of(ucs2.hex).encoding is Encoding.UCS2
    (gsm,) = encode_submit("+1", "hi", encoding=Encoding.GSM7)
    assert submit_of(gsm.hex).encoding is Encoding.GSM7
    error = encode_error(encode_submit, "+1", "hi ™ ü", encoding=Encoding.GSM7)
    assert error.field == "encoding"
    assert "™" in error.reason


def test_a_lone_surrogate_cannot_be_sent() -> None:
    assert encode_error(encode_submit, "+1", "a\ud83d").field == "text"


def test_an_escape_is_never_split_across_parts() -> None:
    text = "a" * 152 + "€" + "b" * 10  # the euro would straddle septets 153 and 154
    parts = encode_submit("+1", text, concat_ref=1)
    decoded = [submit_of(p.hex) for p in parts]
    assert decoded[0].text == "a" * 152
    assert decoded[0].data[-1] != gsm7.ESCAPE
    assert decoded[1].text.startswith("€")
    assert join_parts(decoded) == text


def test_a_surrogate_pair_is_never_split_across_parts() -> None:
    text = "é" * 66 + "😀" + "é" * 10  # the emoji would take units 67 and 68
    parts = encode_submit("+1", text, concat_ref=1)
    decoded = [submit_of(p.hex) for p in parts]
    assert decoded[0].text == "é" * 66
    assert decoded[1].text.startswith("😀")
    assert all("\ufffd" not in p.text for p in decoded)
    assert join_parts(decoded) == text


@pytest.mark.parametrize(
    ("seconds", "vp"),
    [
        (1, 0),
        (300, 0),
        (301, 1),
        (43200, 143),
        (43201, 144),
        (86400, 167),
        (86401, 168),
        (30 * 86400, 196),
        (30 * 86400 + 1, 197),
        (MAX_RELATIVE_VALIDITY_S, 255),
    ],
)
def test_relative_validity_rounds_up(seconds: int, vp: int) -> None:
    assert encode_relative_validity(seconds) == vp
    assert decode_relative_validity(vp) >= seconds


def test_deliver_from_an_alphanumeric_sender() -> None:
    (raw,) = encode_deliver("Megafon", "hi", timestamp=WHEN)
    pdu = decode(raw)
    assert isinstance(pdu, SmsDeliver)
    assert pdu.sender.number == "Megafon"
    assert pdu.sender.alphanumeric
    assert raw[2:4] == bytes([0x0D, 0xD0])  # 13 useful semi-octets, TON 5


@pytest.mark.parametrize("sender", ["TwelveLetter", "Café™", ""])
def test_deliver_sender_must_be_a_number_or_a_short_gsm7_name(sender: str) -> None:
    assert encode_error(encode_deliver, sender, "hi", timestamp=WHEN).field == "sender"


def test_deliver_with_a_16_bit_reference() -> None:
    text = "y" * 400
    raws = encode_deliver(
        "+15555551234", text, timestamp=WHEN, concat_ref=0xE2C3, ref_bits=16
    )
    parts = [decode(raw) for raw in raws]
    assert [len(p.text) for p in parts] == [152, 152, 96]  # type: ignore[union-attr]
    for seq, part in enumerate(parts, start=1):
        assert isinstance(part, SmsDeliver)
        assert part.concat is not None
        assert (part.concat.ref, part.concat.ref_bits, part.concat.seq) == (
            0xE2C3,
            16,
            seq,
        )
        assert part.udl <= 160
        assert part.timestamp == WHEN
        assert not part.more_messages
    assert join_parts(parts) == text  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"ref_bits": 12, "concat_ref": 1}, "ref_bits"),
        ({"ref_bits": 16, "concat_ref": 0x10000}, "concat_ref"),
        ({"timestamp": datetime(2025, 1, 1)}, "timestamp"),  # naive: no offset to send
        ({"timestamp": datetime(1999, 12, 31, tzinfo=UTC)}, "timestamp"),
        (
            {"timestamp": datetime(2025, 1, 1, tzinfo=timezone(timedelta(minutes=7)))},
            "timestamp",
        ),
        (
            {"timestamp": datetime(2025, 1, 1, tzinfo=timezone(timedelta(hours=20)))},
            "timestamp",
        ),
    ],
)
def test_deliver_refusals(kwargs: dict[str, object], field: str) -> None:
    call = {"timestamp": WHEN, **kwargs}
    assert encode_error(encode_deliver, "+1", "x" * 200, **call).field == field


def test_status_report_round_trip() -> None:
    done = WHEN + timedelta(seconds=5)
    raw = encode_status_report(
        reference=214,
        recipient="+31628870634",
        sc_timestamp=WHEN,
        discharge_time=done,
        status=0x00,
        smsc="+31624000000",
    )
    report = decode(raw)
    assert isinstance(report, StatusReport)
    assert report.reference == 214
    assert report.recipient.number == "+31628870634"
    assert report.sc_timestamp.isoformat() == "2025-04-17T13:40:37-07:00"
    assert report.discharge_time == done
    assert report.delivered
    assert report.smsc is not None
    assert report.smsc.number == "+31624000000"


def test_status_report_matches_a_real_one() -> None:
    """atlib-sr-2, rebuilt from its decoded fields."""
    stamp = timezone(timedelta(hours=1))
    raw = encode_status_report(
        reference=214,
        recipient="+31628870634",
        sc_timestamp=datetime(2011, 1, 11, 17, 59, 15, tzinfo=stamp),
        discharge_time=datetime(2011, 1, 11, 17, 59, 17, tzinfo=stamp),
        status=0,
        smsc="+31624000000",
    )
    assert raw.hex().upper() == (
        "07911326040000F006D60B911326880736F4111011719551401110117195714000"
    )


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [({"status": 256}, "status"), ({"reference": 300}, "reference")],
)
def test_status_report_refusals(kwargs: dict[str, int], field: str) -> None:
    call: dict[str, object] = {
        "reference": 1,
        "recipient": "+1",
        "sc_timestamp": WHEN,
        "discharge_time": WHEN,
        "status": 0,
        **kwargs,
    }
    assert encode_error(encode_status_report, **call).field == field

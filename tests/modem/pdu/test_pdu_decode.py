"""Decoder details: every error names field and offset; lenient and strict spots on purpose."""

from __future__ import annotations

from datetime import timedelta

import pytest

from modem.pdu import (
    Encoding,
    PduDecodeError,
    SmsDeliver,
    SmsSubmit,
    StatusReport,
    decode,
    decode_hex,
    gsm7,
)
from modem.pdu.address import decode_digits
from modem.pdu.timestamp import decode_scts
from modem.pdu.udh import parse_dcs

OA = "0B915155551532F4"  # +15555551234
SCTS = "5240713104738A"  # 2025-04-17 13:40:37 -07:00
HELLO = "05" + gsm7.pack(gsm7.encode("hello")).hex().upper()  # TP-UDL 5, "hello"


def deliver(
    *, fo: str = "04", oa: str = OA, dcs: str = "00", scts: str = SCTS, ud: str = HELLO
) -> str:
    """A bare SMS-DELIVER TPDU from its fields (hex)."""
    return fo + oa + "00" + dcs + scts + ud


def decode_error(hex_pdu: str, *, has_smsc: bool = False) -> PduDecodeError:
    with pytest.raises(PduDecodeError) as info:
        decode_hex(hex_pdu, has_smsc=has_smsc)
    return info.value


def test_a_plain_deliver_decodes_with_its_flags() -> None:
    pdu = decode_hex(deliver(fo="A4"), has_smsc=False)  # RP, SRI, MMS set
    assert isinstance(pdu, SmsDeliver)
    assert pdu.text == "hello"
    assert pdu.sender.number == "+15555551234"
    assert pdu.sender.ton == 1
    assert pdu.timestamp.utcoffset() == timedelta(hours=-7)
    assert pdu.reply_path
    assert pdu.status_report_indication
    assert not pdu.more_messages
    assert pdu.smsc is None
    assert pdu.udl == 5


def test_bytes_of_any_kind_are_accepted() -> None:
    raw = bytes.fromhex("00" + deliver())
    assert decode(bytearray(raw)) == decode(raw)


@pytest.mark.parametrize(
    ("hex_pdu", "has_smsc", "field", "offset"),
    [
        ("", True, "SMSC", 0),
        ("0C91" + "11" * 11 + deliver(), True, "SMSC", 0),  # 12 octets: more than 11
        ("0491214F31" + deliver(), True, "SMSC", 3),  # F before a digit
        ("00", True, "TP-MTI", 1),
        ("03", False, "TP-MTI", 0),  # message type 3 is reserved
        (deliver(oa="1591" + "11" * 11), False, "TP-OA", 1),  # 21 semi-octets
        ("040491", False, "TP-OA", 3),  # digits missing
        (deliver(dcs="20"), False, "TP-DCS", 10),  # compressed
        (deliver(scts="52F0713104738A"), False, "TP-SCTS", 12),  # month F0
        (deliver(scts="5220133104738A"), False, "TP-SCTS", 11),  # 30 February
        (deliver(scts="524071", ud=""), False, "TP-SCTS", 11),
        (deliver(ud=""), False, "TP-UDL", 18),
        (deliver(ud="A1" + "00" * 141), False, "TP-UDL", 18),  # 161 septets
        (deliver(dcs="08", ud="8D" + "00" * 141), False, "TP-UDL", 18),  # 141 octets
        (deliver(ud="06C8329BFD"), False, "TP-UDL", 18),  # 6 septets, 4 octets
    ],
)
def test_errors_name_field_and_offset(
    hex_pdu: str, has_smsc: bool, field: str, offset: int
) -> None:
    error = decode_error(hex_pdu, has_smsc=has_smsc)
    assert (error.field, error.offset) == (field, offset)
    assert error.reason
    assert field in repr(error)


def test_udhi_with_nothing_to_hold_the_header() -> None:
    assert decode_error(deliver(fo="44", ud="00")).field == "TP-UDHL"


def test_header_longer_than_the_user_data() -> None:
    error = decode_error(deliver(fo="44", dcs="08", ud="0405000300"))
    assert (error.field, error.offset) == ("TP-UDHL", 19)


def test_gsm7_header_must_fit_the_septet_count() -> None:
    # 2 septets (14 bits) cannot hold a 2-octet header even though 2 octets are present.
    assert decode_error(deliver(fo="44", ud="020100")).field == "TP-UDHL"


@pytest.mark.parametrize(
    ("header", "reason"),
    [("0300", "cut off after its IEI"), ("03000500", "claims 5 octets")],
)
def test_information_elements_must_fit_the_header(header: str, reason: str) -> None:
    ud = header[:2] + header[2:] + "0000"
    udl = f"{len(ud) // 2:02X}"
    error = decode_error(deliver(fo="44", dcs="04", ud=udl + ud))
    assert error.field == "TP-UDH"
    assert reason in error.reason


def test_empty_header_is_an_empty_header() -> None:
    """gammu-at-sms-19 has TP-UDHL 0: two septets of header and fill, then the text."""
    ud = "07" + "00" + gsm7.pack(gsm7.encode("hello"), 6).hex()
    pdu = decode_hex(deliver(fo="44", ud=ud), has_smsc=False)
    assert isinstance(pdu, SmsDeliver)
    assert pdu.udh is not None
    assert pdu.udh.elements == ()
    assert pdu.text == "hello"
    assert pdu.udl == 7


def test_octets_after_the_user_data_are_ignored() -> None:
    """SIM records are padded with FF to 176 octets."""
    pdu = decode_hex(deliver() + "FFFFFF", has_smsc=False)
    assert isinstance(pdu, SmsDeliver)
    assert pdu.text == "hello"


def test_ucs2_with_a_lone_surrogate_or_an_odd_octet_keeps_the_rest() -> None:
    lone = decode_hex(deliver(dcs="08", ud="060041D83D0042"), has_smsc=False)
    assert lone.text == "A\ufffdB"  # type: ignore[union-attr]
    odd = decode_hex(deliver(dcs="08", ud="03004100"), has_smsc=False)
    assert odd.text == "A\ufffd"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("dcs", "encoding", "message_class"),
    [
        (0x00, Encoding.GSM7, None),
        (0x04, Encoding.DATA8, None),
        (0x08, Encoding.UCS2, None),
        (0x0C, Encoding.GSM7, None),  # reserved alphabet: GSM-7 (TS 23.038 4)
        (0x10, Encoding.GSM7, 0),  # flash
        (0x19, Encoding.UCS2, 1),
        (0x48, Encoding.UCS2, None),  # automatic deletion group
        (0x53, Encoding.GSM7, 3),
        (0x80, Encoding.GSM7, None),  # reserved group
        (0xC8, Encoding.GSM7, None),  # message waiting, discard
        (0xD0, Encoding.GSM7, None),  # message waiting, store
        (0xE0, Encoding.UCS2, None),  # message waiting, store, UCS-2
        (0xF1, Encoding.GSM7, 1),
        (0xF4, Encoding.DATA8, 0),
        (0xF9, Encoding.GSM7, 1),  # reserved bit 3 ignored (gammu-at-sms-14)
    ],
)
def test_data_coding_groups(
    dcs: int, encoding: Encoding, message_class: int | None
) -> None:
    coding = parse_dcs(dcs)
    assert coding.encoding is encoding
    assert coding.message_class == message_class
    assert not coding.compressed


@pytest.mark.parametrize(
    ("digits", "count", "expected"),
    [
        ("21F3", 3, "123"),
        ("214365", 6, "123456"),
        ("A1CB", 4, "1*#a"),
        ("2EFF", 4, "c2"),
    ],
)
def test_semi_octets(digits: str, count: int, expected: str) -> None:
    assert (
        decode_digits(bytes.fromhex(digits), count, field="TP-OA", offset=0) == expected
    )


def test_alphanumeric_smsc() -> None:
    smsc = "05D0" + gsm7.pack(gsm7.encode("Test")).hex()
    pdu = decode_hex(smsc + deliver())
    assert pdu.smsc is not None
    assert pdu.smsc.number == "Test"
    assert pdu.smsc.alphanumeric


def submit(fo: str, vp: str) -> str:
    return fo + "00" + "0391" + "21F3" + "0000" + vp + HELLO


@pytest.mark.parametrize(
    ("vp", "seconds"),
    [
        ("00" + "00" * 6, None),  # no validity period
        ("01A7" + "00" * 5, 86400),  # relative, as TP-VP
        ("02FF" + "00" * 5, 255),  # relative seconds
        ("03103254" + "00" * 3, 3600 + 23 * 60 + 45),  # HH MM SS semi-octets: 01:23:45
        ("07" + "00" * 6, None),  # reserved format
    ],
)
def test_enhanced_validity_period(vp: str, seconds: int | None) -> None:
    pdu = decode_hex(submit("09", vp), has_smsc=False)
    assert isinstance(pdu, SmsSubmit)
    assert pdu.validity_relative_s == seconds
    assert pdu.text == "hello"


def test_enhanced_validity_period_needs_decimal_digits() -> None:
    error = decode_error(submit("09", "03A03254" + "00" * 3))
    assert (error.field, error.offset) == ("TP-VP", 9)


def test_submit_flags() -> None:
    pdu = decode_hex(submit("35", "A7"), has_smsc=False)  # SRR, VPF relative, RD
    assert isinstance(pdu, SmsSubmit)
    assert pdu.status_report_request
    assert pdu.reject_duplicates
    assert pdu.validity_relative_s == 86400
    assert pdu.destination.number == "+123"
    assert pdu.udl == 5


@pytest.mark.parametrize(
    ("status", "delivered", "pending", "failed"),
    [
        (0x00, True, False, False),
        (0x20, False, True, False),
        (0x41, False, False, True),
    ],
)
def test_status_report_outcomes(
    status: int, delivered: bool, pending: bool, failed: bool
) -> None:
    hex_pdu = "0605" + "0391" + "21F3" + SCTS + SCTS + f"{status:02X}"
    report = decode_hex(hex_pdu, has_smsc=False)
    assert isinstance(report, StatusReport)
    assert (report.delivered, report.pending, report.failed) == (
        delivered,
        pending,
        failed,
    )
    assert report.reference == 5


def test_status_report_needs_its_status() -> None:
    error = decode_error("0605" + "0391" + "21F3" + SCTS + SCTS)
    assert (error.field, error.offset) == ("TP-ST", 20)


@pytest.mark.parametrize(
    ("text", "offset", "reason"),
    [
        ("0G", 0, "'G' is not a hex digit"),
        ("001", 1, "odd number"),
        ("00 11", 1, "' '"),
    ],
)
def test_hex_errors(text: str, offset: int, reason: str) -> None:
    error = decode_error(text)
    assert (error.field, error.offset) == ("hex", offset)
    assert reason in error.reason


def test_hex_may_be_lower_case_and_surrounded_by_whitespace() -> None:
    pdu = decode_hex(f"  {deliver().lower()}\r\n", has_smsc=False)
    assert pdu.text == "hello"  # type: ignore[union-attr]


def test_a_timestamp_is_seven_octets() -> None:
    with pytest.raises(PduDecodeError) as info:
        decode_scts(bytes(6), field="TP-DT", offset=4)
    assert (info.value.field, info.value.offset) == ("TP-DT", 4)


@pytest.mark.parametrize(
    ("scts", "iso"),
    [
        ("00101000000000", "2000-01-01T00:00:00+00:00"),
        ("89211221401400", "2098-12-21T12:04:41+00:00"),  # 98 is 2098, not 1998
        ("99301251619580", "2099-03-21T15:16:59+02:00"),
        ("11101021436500", "2011-01-01T12:34:56+00:00"),
        (
            "1110102143652B",
            "2011-01-01T12:34:56-08:00",
        ),  # sign in bit 3 of the tens digit
        (
            "111010214365C2",
            "2011-01-01T12:34:56+08:00",
        ),  # units nibble C: 2 x 10 + 12 quarters
    ],
)
def test_timestamp_century_and_time_zone(scts: str, iso: str) -> None:
    assert (
        decode_scts(bytes.fromhex(scts), field="TP-SCTS", offset=0).isoformat() == iso
    )

"""What python-gsmmodem-new 0.13.0's gsmmodem.pdu gets wrong, next to what we return.

Each test pins the library's wrong output first and ours second: when a release fixes the
library, the first assertion fails and tells us we may hand that piece back (modem/pdu/README.md).
Vectors are the shared real-world ones (tests/data/pdu) unless a test says why it cannot be.
"""

from __future__ import annotations

from typing import Any

import pytest
from gsmmodem import pdu as lib
from pduvectors import records

from modem.pdu import (
    Encoding,
    PduDecodeError,
    SmsDeliver,
    SmsSubmit,
    StatusReport,
    decode_hex,
    encode_submit,
    gsm7,
    segment_info,
)
from modem.pdu.address import decode_digits
from modem.pdu.segments import split_text


def vector(vid: str) -> dict[str, Any]:
    """The record with id `vid` from any of the PDU vector files."""
    for name in ("deliver", "submit", "status_report", "invalid"):
        for record in records(name):
            if record["id"] == vid:
                return record
    raise KeyError(vid)


def lib_decode(record: dict[str, Any]) -> dict[str, Any]:
    """The library's dict for a vector (it only reads PDUs with an SMSC field: add "00")."""
    pdu = record["pdu"] if record["has_smsc"] else "00" + record["pdu"]
    result: dict[str, Any] = lib.decodeSmsPdu(pdu)
    return result


def ours(vid: str) -> SmsDeliver | SmsSubmit:
    record = vector(vid)
    pdu = decode_hex(record["pdu"], has_smsc=record["has_smsc"])
    assert isinstance(pdu, SmsDeliver | SmsSubmit)
    return pdu


def test_gsm7_0x5f_is_section_sign_not_backtick() -> None:
    """mm-pdu1 ends "§¿ as well."; the library's table has "`" at 0x5F."""
    record = vector("mm-pdu1")
    assert lib_decode(record)["text"].endswith("`¿ as well.")
    assert ours("mm-pdu1").text == record["expected"]["text"]
    assert ours("mm-pdu1").text.endswith("§¿ as well.")


def test_gsm7_encoder_sends_backtick_as_section_sign() -> None:
    """The same table sends "`" as septet 0x5F, which every phone shows as "§"."""
    lib_pdu = bytes(
        lib.encodeSmsSubmitPdu("+123", "`", requestStatusReport=False)[0].data
    )
    # SMSC 00, FO 01, MR 00, DA +123, PID 00, DCS 00 (GSM-7), UDL 1, septet 5F
    assert lib_pdu.hex().upper() == "000100039121F30000015F"
    assert decode_hex(lib_pdu.hex()).text == "§"  # what the recipient reads
    assert segment_info("`").encoding is Encoding.UCS2  # "`" is not in GSM-7
    (part,) = encode_submit("+123", "`")
    assert decode_hex(part.hex).text == "`"


def test_gsm7_encoder_sends_section_sign_as_ucs2() -> None:
    """ "§" is in the default alphabet; the library pays for UCS-2 (70 instead of 160 chars)."""
    lib_pdu = bytes(
        lib.encodeSmsSubmitPdu("+123", "a§", requestStatusReport=False)[0].data
    )
    lib_decoded = decode_hex(lib_pdu.hex())
    assert lib_decoded.encoding is Encoding.UCS2
    (part,) = encode_submit("+123", "a§")
    decoded = decode_hex(part.hex)
    assert decoded.encoding is Encoding.GSM7
    assert decoded.text == "a§"


def test_gsm7_form_feed_escape_is_dropped() -> None:
    """ofono-sms-charset-default-ext starts with 1B 0A (form feed); the library loses it."""
    record = vector("ofono-sms-charset-default-ext")
    assert lib_decode(record)["text"] == "^ {}\\[~]|€"
    assert ours(record["id"]).text == "\f^ {}\\[~]|€" == record["expected"]["text"]


def test_gsm7_unknown_escape_is_dropped_with_its_character() -> None:
    """1B 41 42: the library drops the escape and the "A"; TS 23.038 shows "A" (or a space).

    No shared vector holds an unknown escape (oFono's charset vector puts a space where the
    escape would be), so the septets are given directly.
    """
    assert lib.decodeGsm7(bytearray([0x1B, 0x41, 0x42])) == "B"
    assert gsm7.decode(bytes([0x1B, 0x41, 0x42])) == "AB"


def test_gsm7_trailing_escape_leaks_stop_iteration() -> None:
    """A text ending in an escape: the library's decodeGsm7 raises StopIteration."""
    with pytest.raises(StopIteration):
        lib.decodeGsm7(bytearray([0x41, 0x1B]))
    assert gsm7.decode(bytes([0x41, 0x1B])) == "A "


@pytest.mark.parametrize(
    "vid",
    [
        "nodepdu-concatenated-message-1-part-1-2-with-16bit-ref",
        "atlib-deliver-3",  # Telia's welcome text, part 1 of 4
        "mm-pdu-udhi",  # KPN's welcome text
        "nodepdu-ems-formatted-text-1",  # a 20-octet EMS header: also a wrong fill count
    ],
)
def test_gsm7_fill_bits_after_the_header(vid: str) -> None:
    """After a 7-octet header no fill bits are due; the library skips a septet anyway."""
    record = vector(vid)
    expected = record["expected"]["text"]
    assert lib_decode(record)["text"] == expected[1:]
    assert ours(vid).text == expected


def test_gsm7_final_at_sign_on_an_octet_boundary_is_lost() -> None:
    """ "1234567@": the eighth septet fills the seventh octet's top bits and is 0 ("@").

    No shared vector ends that way, so this SMS-DELIVER is hand-assembled from TS 23.040
    fields (bare TPDU): FO 04, OA +15555551234, PID 00, DCS 00, SCTS, TP-UDL 8, then the eight
    septets packed into seven octets.
    """
    tpdu = "040B915155551532F400005240713104738A0831D98C56B3DD00"
    assert lib.decodeSmsPdu("00" + tpdu)["text"] == "1234567"
    assert decode_hex(tpdu, has_smsc=False).text == "1234567@"


def test_ucs2_emoji_come_back_as_lone_surrogates() -> None:
    """ "Hi 😀" in UCS-2 is 0048 0069 0020 D83D DE00.

    No shared vector carries an emoji, so this SMS-DELIVER is hand-assembled (bare TPDU: FO 04,
    OA +15555551234, PID 00, DCS 08, SCTS, TP-UDL 10, UTF-16BE). The library's text cannot even
    be written as UTF-8 (to SQLite, JSON or a web page).
    """
    tpdu = "040B915155551532F400085240713104738A0A004800690020D83DDE00"
    lib_text = lib.decodeSmsPdu("00" + tpdu)["text"]
    assert lib_text == "Hi \ud83d\ude00"
    with pytest.raises(UnicodeEncodeError):
        lib_text.encode("utf-8")
    assert decode_hex(tpdu, has_smsc=False).text == "Hi 😀"


def test_ucs2_encoder_fails_on_emoji() -> None:
    """The library's encodeUcs2 appends code points > 0xFFFF to a bytearray: ValueError."""
    with pytest.raises(ValueError, match="byte must be in range"):
        lib.encodeSmsSubmitPdu("+123", "Hi 😀", requestStatusReport=False)
    (part,) = encode_submit("+123", "Hi 😀")
    assert part.hex.endswith("0A004800690020D83DDE00")
    assert decode_hex(part.hex).text == "Hi 😀"


def test_ucs2_splitter_counts_code_points() -> None:
    """divideTextUcs2 puts 67 emoji (134 code units, 268 octets) in a 134-octet part."""
    assert [len(c) for c in lib.divideTextUcs2("😀" * 70)] == [67, 3]
    chunks = split_text("😀" * 70, Encoding.UCS2)
    assert [len(c) for c in chunks] == [
        33,
        33,
        4,
    ]  # 66 units each: a 67th would split a pair
    assert segment_info("😀" * 70).parts == 3


@pytest.mark.parametrize(
    ("vid", "leaked"),
    [
        ("warthog-smsdecode-truncated-smsc", StopIteration),
        ("mm-pdu-wrong-address-size", StopIteration),
        ("mm-pdu-wrong-udh", StopIteration),
        ("gammu-at-sms-failing-38", StopIteration),
        ("mm-pdu-no-address", ValueError),  # from strptime on an empty timestamp
    ],
)
def test_truncated_input_leaks_non_codec_errors(
    vid: str, leaked: type[BaseException]
) -> None:
    """Short PDUs make the library raise StopIteration or ValueError; we raise PduDecodeError."""
    record = vector(vid)
    with pytest.raises(leaked):
        lib_decode(record)
    with pytest.raises(PduDecodeError):
        decode_hex(record["pdu"], has_smsc=record["has_smsc"])


@pytest.mark.parametrize(
    "vid",
    [
        "mm-pdu-insufficient-data",
        "warthog-smsdecode-truncated-submit",
        "gammu-at-sms-failing-35",  # compressed UCS-2 read as plain text
    ],
)
def test_invalid_user_data_is_accepted(vid: str) -> None:
    """TP-UDL longer than the data (or compressed text): the library returns text anyway."""
    record = vector(vid)
    assert isinstance(lib_decode(record)["text"], str)
    with pytest.raises(PduDecodeError) as info:
        decode_hex(record["pdu"], has_smsc=record["has_smsc"])
    assert info.value.field in {"TP-UDL", "TP-DCS"}


def test_8bit_in_dcs_group_f_is_read_as_gsm7() -> None:
    """mm-pdu-dcsf-8bit: DCS F4 is 8-bit data; the library reads only group 00xx."""
    record = vector("mm-pdu-dcsf-8bit")
    assert lib_decode(record)["text"] == "hellohellox"
    pdu = ours(record["id"])
    assert pdu.encoding is Encoding.DATA8
    assert pdu.data.hex().upper() == record["expected"]["user_data_hex"]


def test_bcd_nibble_b_is_hash_not_hex_letter() -> None:
    """pygsm-decode-11 (a ZTE report): TS 23.040 9.1.2.3 shows 0xB as TS 24.008's "#"."""
    record = vector("pygsm-decode-11")
    assert lib_decode(record)["number"] == "+b08427829207025"
    pdu = decode_hex(record["pdu"])
    assert isinstance(pdu, StatusReport)
    assert pdu.recipient.number == "+#08427829207025"


def test_two_digit_years_pivot_differs() -> None:
    """A policy difference, not a bug: strptime's %y makes "98" 1998, we read 20yy."""
    record = vector("smspdudecoder-readme")
    assert lib_decode(record)["time"].year == 1998
    pdu = ours(record["id"])
    assert isinstance(pdu, SmsDeliver)
    assert pdu.timestamp.isoformat() == record["expected"]["timestamp"]


def test_semi_octets_print_hex_letters_and_stop_at_a_high_f() -> None:
    """decodeSemiOctets shows a low F as "f" and stops at a high F though digits follow.

    The shared vectors hold no such number, so the octets are given directly; ours refuses
    both, since an F is only fill at the end of a number.
    """
    assert lib.decodeSemiOctets(bytearray.fromhex("214F65")) == "12f456"
    assert lib.decodeSemiOctets(bytearray.fromhex("21F465")) == "124"
    for raw in ("214F65", "21F465"):
        with pytest.raises(PduDecodeError):
            decode_digits(bytes.fromhex(raw), 6, field="TP-OA", offset=0)


def test_encoder_ties_the_concatenation_reference_to_tp_mr() -> None:
    """A design reason to own the encoder: the gateway keeps one concatenation reference per
    message across retries (invariant 2), while TP-MR is per submission. The library copies
    TP-MR into the concatenation element."""
    lib_parts = lib.encodeSmsSubmitPdu(
        "+123", "x" * 200, reference=5, requestStatusReport=False
    )
    # SMSC 00, FO, MR, DA 039121F3, PID, DCS, UDL: the header 050003 starts at octet 10 and its
    # reference is the octet after 050003.
    assert [bytes(p.data)[10 + 3] for p in lib_parts] == [5, 5]
    parts = encode_submit("+123", "x" * 200, reference=5, concat_ref=77)
    decoded = [decode_hex(p.hex) for p in parts]
    assert [(p.reference, p.concat.ref) for p in decoded if p.concat] == [
        (5, 77),
        (5, 77),
    ]

"""GSM 7-bit alphabet, escapes, septet packing with fill bits, "@" and CR at the edges."""

from __future__ import annotations

import pytest

from modem.pdu import PduEncodeError, decode_hex, encode_submit, gsm7

# Bare SMS-DELIVER prefix (FO 04, OA +15555551234, PID 00, DCS 00, SCTS) for hand-built PDUs.
DELIVER_GSM7 = "040B915155551532F400005240713104738A"


def test_alphabet_has_128_codes_and_round_trips() -> None:
    assert len(gsm7.BASIC) == 128
    text = "".join(ch for ch in gsm7.BASIC if ch != "\x1b")
    assert gsm7.decode(gsm7.encode(text)) == text
    assert gsm7.BASIC[0x5F] == "§"
    assert gsm7.BASIC[0x00] == "@"


@pytest.mark.parametrize(
    ("ch", "code"), sorted((v, k) for k, v in gsm7.EXTENSION.items())
)
def test_extension_characters_cost_two_septets(ch: str, code: int) -> None:
    assert gsm7.encode(ch) == bytes([0x1B, code])
    assert gsm7.septet_cost(ch) == 2
    assert gsm7.decode(bytes([0x1B, code])) == ch


def test_unknown_escape_shows_the_default_character() -> None:
    assert gsm7.decode(bytes([0x1B, 0x41])) == "A"


def test_escape_escape_and_trailing_escape_show_a_space() -> None:
    assert gsm7.decode(bytes([0x41, 0x1B, 0x1B, 0x42])) == "A B"
    assert gsm7.decode(bytes([0x41, 0x1B])) == "A "


def test_decoder_ignores_the_eighth_bit() -> None:
    assert gsm7.decode(bytes([0x80 | 0x41])) == "A"


def test_encoding_a_foreign_character_names_it() -> None:
    with pytest.raises(PduEncodeError) as info:
        gsm7.encode("ok`")
    assert info.value.field == "text"
    assert "'`'" in info.value.reason


@pytest.mark.parametrize(
    ("fill", "packed"),
    [
        (0, "E8329BFD06"),
        (1, "D06536FB0D"),
        (2, "A0CB6CF61B"),
        (3, "4097D9EC37"),
        (4, "802EB3D96F"),
        (5, "005D66B3DF"),
        (6, "00BACC66BF01"),
    ],
)
def test_pack_and_unpack_with_fill_bits(fill: int, packed: str) -> None:
    """Known answers for "hello" after 0-6 fill bits (LSB first, TS 23.038 6.1.2.1.1)."""
    septets = gsm7.encode("hello")
    assert gsm7.pack(septets, fill).hex().upper() == packed
    assert gsm7.unpack(bytes.fromhex(packed), 5, fill) == septets
    assert gsm7.packed_octets(5, fill) == len(packed) // 2


def test_pack_and_unpack_check_their_preconditions() -> None:
    with pytest.raises(ValueError, match="fill_bits"):
        gsm7.pack(b"\x01", 7)
    with pytest.raises(ValueError, match="cannot hold"):
        gsm7.unpack(b"\x00", 2)


def test_zero_spare_bits_of_an_8n_minus_1_text_are_not_an_at_sign() -> None:
    """Seven septets leave 7 spare bits; TP-UDL 7 keeps them from reading as "@"."""
    tpdu = DELIVER_GSM7 + "07" + gsm7.pack(gsm7.encode("ABCDEFG")).hex()
    assert decode_hex(tpdu, has_smsc=False).text == "ABCDEFG"


def test_cr_padding_in_the_spare_bits_is_ignored() -> None:
    """TS 23.038 6.1.2.3.1 lets a sender put CR in those 7 bits; TP-UDL still says 7."""
    packed = gsm7.pack(gsm7.encode("ABCDEFG\r"))
    assert packed[-1] >> 1 == 0x0D
    tpdu = DELIVER_GSM7 + "07" + packed.hex()
    assert decode_hex(tpdu, has_smsc=False).text == "ABCDEFG"


def test_an_at_sign_that_ends_on_an_octet_boundary_is_kept() -> None:
    tpdu = DELIVER_GSM7 + "08" + gsm7.pack(gsm7.encode("ABCDEFG@")).hex()
    assert decode_hex(tpdu, has_smsc=False).text == "ABCDEFG@"


def test_a_cr_the_text_really_ends_with_is_kept() -> None:
    """We do not strip a final CR at an octet boundary: TP-UDL counts it as text."""
    (part,) = encode_submit("+1", "ABCDEFG\r")
    assert decode_hex(part.hex).text == "ABCDEFG\r"


def test_encoder_pads_the_last_octet_with_zero_bits() -> None:
    """As every golden encoder vector does (e.g. pygsm-encode-5, 23 septets, ends 01)."""
    (part,) = encode_submit("+1", "ABCDEFG")
    assert part.data[-1] >> 1 == 0
    assert decode_hex(part.hex).text == "ABCDEFG"

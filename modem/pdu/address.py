"""Address fields: the SMSC field (length in octets) and TP-OA/DA/RA (length in semi-octets).

Ours: the decoders. The library's decodeSemiOctets prints non-decimal nibbles as hex letters (a
ZTE status report's recipient comes back as "+b0842..."), a low F as "f", and stops at a high F
even when digits follow. TS 23.040 9.1.2.3 says to show a non-decimal semi-octet as TS 24.008
does ("*", "#", "a", "b", "c"), and we do; an F is fill only at the end. The library's
encodeSemiOctets is right for digit strings and is what we encode numbers with.
"""

from __future__ import annotations

from gsmmodem import pdu as _lib

from modem.errors import PduDecodeError, PduEncodeError
from modem.pdu import gsm7
from modem.pdu.reader import Reader
from modem.pdu.types import Address

# Semi-octet value -> symbol (TS 24.008 table 10.5.118, called party BCD number); 0xF is fill.
BCD_SYMBOLS = "0123456789*#abc"
FILL_NIBBLE = 0xF
MAX_ADDRESS_DIGITS = 20  # TS 23.040 9.1.2.5: the address value is at most 10 octets
MAX_SMSC_FIELD_OCTETS = 11  # TS 24.011 8.2.5.1: type of address + 10 octets of digits
MAX_ALPHANUMERIC_SEPTETS = 11  # 20 semi-octets hold 11 septets

TON_UNKNOWN = 0
TON_INTERNATIONAL = 1
TON_ALPHANUMERIC = 5
NPI_UNKNOWN = 0
NPI_ISDN = 1
_TOA_EXTENSION_BIT = 0x80


def type_of_address(ton: int, npi: int) -> int:
    """The TOA octet for a type of number and a numbering plan."""
    return _TOA_EXTENSION_BIT | (ton << 4) | npi


def decode_digits(raw: bytes, count: int, *, field: str, offset: int) -> str:
    """`count` semi-octets of `raw` as symbols; trailing F is fill, F before a digit an error."""
    nibbles: list[int] = []
    for octet in raw:
        nibbles += (octet & 0x0F, octet >> 4)
    del nibbles[count:]
    while nibbles and nibbles[-1] == FILL_NIBBLE:
        nibbles.pop()
    if FILL_NIBBLE in nibbles:
        index = nibbles.index(FILL_NIBBLE)
        raise PduDecodeError(
            field, offset + index // 2, "fill semi-octet F inside the number"
        )
    return "".join(BCD_SYMBOLS[n] for n in nibbles)


def _number(ton: int, symbols: str) -> str:
    return "+" + symbols if ton == TON_INTERNATIONAL and symbols else symbols


def _alphanumeric(raw: bytes, septets: int) -> str:
    return gsm7.decode(gsm7.unpack(raw, septets))


def read_address(reader: Reader, field: str) -> Address:
    """TP-OA, TP-DA or TP-RA: length in useful semi-octets, type of address, value."""
    start = reader.pos
    length = reader.octet(field)
    if length > MAX_ADDRESS_DIGITS:
        raise PduDecodeError(
            field,
            start,
            f"address length {length} semi-octets exceeds {MAX_ADDRESS_DIGITS}",
        )
    toa = reader.octet(field)
    raw = reader.take((length + 1) // 2, field)
    ton, npi = (toa >> 4) & 0x07, toa & 0x0F
    if ton == TON_ALPHANUMERIC:
        number = _alphanumeric(raw, length * 4 // gsm7.SEPTET_BITS)
    else:
        number = _number(ton, decode_digits(raw, length, field=field, offset=start + 2))
    return Address(number=number, ton=ton, npi=npi)


def read_smsc(reader: Reader) -> Address | None:
    """The SMSC field in front of a PDU-mode TPDU; None when it is empty or holds no digits."""
    start = reader.pos
    length = reader.octet("SMSC")
    if length == 0:
        return None
    if length > MAX_SMSC_FIELD_OCTETS:
        raise PduDecodeError(
            "SMSC",
            start,
            f"SMSC field length {length} octets exceeds {MAX_SMSC_FIELD_OCTETS}",
        )
    toa = reader.octet("SMSC")
    raw = reader.take(length - 1, "SMSC")
    ton, npi = (toa >> 4) & 0x07, toa & 0x0F
    if ton == TON_ALPHANUMERIC:
        number = _alphanumeric(raw, len(raw) * 8 // gsm7.SEPTET_BITS)
    else:
        digits = decode_digits(raw, 2 * len(raw), field="SMSC", offset=start + 2)
        number = _number(ton, digits)
    if not number:
        return None
    return Address(number=number, ton=ton, npi=npi)


def parse_number(number: str, field: str) -> tuple[int, str]:
    """("+digits" | "digits") -> (type of number, digits); PduEncodeError names `field`."""
    international = number.startswith("+")
    digits = number[1:] if international else number
    if not (digits.isascii() and digits.isdigit()):
        raise PduEncodeError(
            field, f"{number!r} is not a phone number: give +<digits> or <digits>"
        )
    if len(digits) > MAX_ADDRESS_DIGITS:
        raise PduEncodeError(
            field, f"{number!r} has more than {MAX_ADDRESS_DIGITS} digits"
        )
    return (TON_INTERNATIONAL if international else TON_UNKNOWN), digits


def is_number(text: str) -> bool:
    """True for "+digits" or "digits" (ASCII digits only)."""
    digits = text[1:] if text.startswith("+") else text
    return digits.isascii() and digits.isdigit()


def semi_octets(digits: str) -> bytes:
    """Decimal digits as swapped semi-octets, F-filled to whole octets."""
    return bytes(_lib.encodeSemiOctets(digits))


def encode_address(
    number: str, field: str, *, allow_alphanumeric: bool = False
) -> bytes:
    """A TP-DA/OA/RA field; bare digits go out as TON unknown (the network decides), "+" as TON 1.

    With `allow_alphanumeric`, anything that is not a number is sent as a TON 5 name of up to 11
    GSM-7 septets (what banks and operators send from; the simulator needs it).
    """
    if allow_alphanumeric and not is_number(number):
        try:
            septets = gsm7.encode(number)
        except PduEncodeError as exc:
            raise PduEncodeError(field, exc.reason) from None
        if not 1 <= len(septets) <= MAX_ALPHANUMERIC_SEPTETS:
            raise PduEncodeError(
                field,
                f"an alphanumeric address takes 1-{MAX_ALPHANUMERIC_SEPTETS} GSM-7 septets,"
                f" {number!r} needs {len(septets)}",
            )
        useful_semi_octets = -(-len(septets) * gsm7.SEPTET_BITS // 4)
        return bytes(
            [useful_semi_octets, type_of_address(TON_ALPHANUMERIC, NPI_UNKNOWN)]
        ) + gsm7.pack(septets)
    ton, digits = parse_number(number, field)
    return bytes([len(digits), type_of_address(ton, NPI_ISDN)]) + semi_octets(digits)


def encode_smsc(number: str | None) -> bytes:
    """The SMSC field: "00" (use the SIM's SMSC) for None, else length, type and digits."""
    if number is None:
        return b"\x00"
    ton, digits = parse_number(number, "smsc")
    body = bytes([type_of_address(ton, NPI_ISDN)]) + semi_octets(digits)
    return bytes([len(body)]) + body

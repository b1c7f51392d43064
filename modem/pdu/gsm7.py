"""GSM 7-bit default alphabet and extension table (TS 23.038 6.2.1) and septet packing.

Ours: the tables and the decoder (the library maps 0x5F to a backtick instead of "§", drops the
form-feed escape 1B 0A and unknown escapes, and leaks StopIteration on a trailing escape),
and the unpacker (the library's loses a final "@" that ends on an octet boundary and reads past
short input without complaint). The library's packSeptets is right and is what we pack with.
"""

from __future__ import annotations

from types import MappingProxyType

from gsmmodem import pdu as _lib

from modem.errors import PduEncodeError

SEPTET_BITS = 7
OCTET_BITS = 8
ESCAPE = 0x1B

# Index = septet value. 0x1B is the escape to the extension table, never a character itself.
BASIC = (
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
EXTENSION: MappingProxyType[int, str] = MappingProxyType(
    {
        0x0A: "\f",
        0x14: "^",
        0x28: "{",
        0x29: "}",
        0x2F: "\\",
        0x3C: "[",
        0x3D: "~",
        0x3E: "]",
        0x40: "|",
        0x65: "€",
    }
)

_ENCODE: MappingProxyType[str, bytes] = MappingProxyType(
    {
        **{ch: bytes([ESCAPE, code]) for code, ch in EXTENSION.items()},
        **{ch: bytes([code]) for code, ch in enumerate(BASIC) if code != ESCAPE},
    }
)


def is_gsm7(ch: str) -> bool:
    """True when `ch` is in the default alphabet or its extension table."""
    return ch in _ENCODE


def septet_cost(ch: str) -> int:
    """Septets `ch` takes: 1 for the default alphabet, 2 for the extension table (escape + code)."""
    return len(_ENCODE[ch])


def encode(text: str) -> bytes:
    """Septet values (one per byte) for `text`; PduEncodeError names the first foreign char."""
    try:
        return b"".join(_ENCODE[ch] for ch in text)
    except KeyError as exc:
        raise PduEncodeError(
            "text", f"{exc.args[0]!r} is not in the GSM 7-bit alphabet"
        ) from None


def decode(septets: bytes) -> str:
    """Text for septet values; total, never raises.

    An escape followed by a code the extension table lacks shows the default-alphabet character
    for that code, one of the two choices TS 23.038 6.2.1.1 gives a receiver; escape-escape (the
    reserved second extension table) and a trailing escape show as a space.
    """
    out: list[str] = []
    escaped = False
    for value in septets:
        value &= 0x7F
        if escaped:
            escaped = False
            if value in EXTENSION:
                out.append(EXTENSION[value])
            else:
                out.append(" " if value == ESCAPE else BASIC[value])
        elif value == ESCAPE:
            escaped = True
        else:
            out.append(BASIC[value])
    if escaped:
        out.append(" ")
    return "".join(out)


def packed_octets(count: int, fill_bits: int = 0) -> int:
    """Octets that `count` septets after `fill_bits` leading fill bits occupy."""
    return -(-(fill_bits + SEPTET_BITS * count) // OCTET_BITS)


def pack(septets: bytes, fill_bits: int = 0) -> bytes:
    """Pack septet values LSB first after `fill_bits` zero bits (0-6), as TS 23.038 6.1.2.1.1."""
    if not 0 <= fill_bits < SEPTET_BITS:
        raise ValueError(f"fill_bits must be 0-6, not {fill_bits}")
    # The library counts its padBits from the other end: 7 - fill (and 0 for no fill).
    return bytes(
        _lib.packSeptets(bytearray(septets), padBits=(SEPTET_BITS - fill_bits) % 7)
    )


def unpack(data: bytes, count: int, fill_bits: int = 0) -> bytes:
    """`count` septet values from `data` after `fill_bits`; `data` must be long enough."""
    if len(data) < packed_octets(count, fill_bits):
        raise ValueError(f"{len(data)} octets cannot hold {count} septets")
    bits = int.from_bytes(data, "little") >> fill_bits
    return bytes((bits >> (SEPTET_BITS * i)) & 0x7F for i in range(count))

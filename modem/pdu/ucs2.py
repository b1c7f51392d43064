"""UCS-2 user data, read as UTF-16BE so that characters beyond the BMP (emoji) survive.

Ours entirely: the library's decodeUcs2 turns each 16-bit unit into its own character (an emoji
comes back as two lone surrogates) and its encodeUcs2 fails with ValueError on any character above
U+FFFF. Python's UTF-16 codec is the right tool for both directions.
"""

from __future__ import annotations

from modem.errors import PduEncodeError

UNIT_OCTETS = 2
_BMP_MAX = 0xFFFF


def units(ch: str) -> int:
    """UTF-16 code units of one character: 2 for a surrogate pair (most emoji), else 1."""
    return 2 if ord(ch) > _BMP_MAX else 1


def encode(text: str) -> bytes:
    """UTF-16BE octets of `text`; PduEncodeError for a lone surrogate, which has no encoding."""
    try:
        return text.encode("utf-16-be")
    except UnicodeEncodeError as exc:
        raise PduEncodeError(
            "text", f"lone surrogate {text[exc.start]!r} at index {exc.start}"
        ) from None


def decode(data: bytes) -> str:
    """Text of UTF-16BE octets; total: a lone surrogate or an odd last octet becomes U+FFFD."""
    return data.decode("utf-16-be", errors="replace")

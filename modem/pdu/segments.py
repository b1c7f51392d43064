"""What a text costs on the air, and where it is cut into parts.

Ours: the library's divideTextUcs2 counts code points (a part of emoji is twice too long for the
140-octet user data) and its encoder measures length before choosing where to cut. One splitter
serves both the composer's counter and the encoders, so the two can never disagree.
"""

from __future__ import annotations

from modem.pdu import gsm7, ucs2
from modem.pdu.types import Encoding, SegmentInfo

UD_OCTETS = 140  # TP-UD is at most 140 octets
GSM7_SINGLE_SEPTETS = 160
UCS2_SINGLE_UNITS = 70
CONCAT_8BIT_UDH_OCTETS = 6  # UDHL, IEI 00, IEDL 3, ref, total, seq
CONCAT_16BIT_UDH_OCTETS = 7  # UDHL, IEI 08, IEDL 4, ref (2), total, seq


def choose_encoding(text: str) -> Encoding:
    """GSM-7 when every character is in the default alphabet or its extension table, else UCS-2."""
    return Encoding.GSM7 if all(gsm7.is_gsm7(ch) for ch in text) else Encoding.UCS2


def char_units(ch: str, encoding: Encoding) -> int:
    """Septets (GSM-7) or UTF-16 code units (UCS-2) one character takes."""
    return gsm7.septet_cost(ch) if encoding is Encoding.GSM7 else ucs2.units(ch)


def single_capacity(encoding: Encoding) -> int:
    """Units that fit one part without a header."""
    return GSM7_SINGLE_SEPTETS if encoding is Encoding.GSM7 else UCS2_SINGLE_UNITS


def part_capacity(encoding: Encoding, header_octets: int) -> int:
    """Units that fit one part after a user data header of `header_octets` (TP-UDHL included)."""
    if encoding is Encoding.GSM7:
        header_septets = -(-header_octets * gsm7.OCTET_BITS // gsm7.SEPTET_BITS)
        return GSM7_SINGLE_SEPTETS - header_septets
    return (UD_OCTETS - header_octets) // ucs2.UNIT_OCTETS


def split_text(
    text: str, encoding: Encoding, *, header_octets: int = CONCAT_8BIT_UDH_OCTETS
) -> list[str]:
    """Cut `text` into parts at character boundaries, so no escape or surrogate pair is split."""
    costs = [char_units(ch, encoding) for ch in text]
    if sum(costs) <= single_capacity(encoding):
        return [text]
    capacity = part_capacity(encoding, header_octets)
    chunks: list[str] = []
    start = used = 0
    for index, cost in enumerate(costs):
        if used + cost > capacity:
            chunks.append(text[start:index])
            start, used = index, 0
        used += cost
    chunks.append(text[start:])
    return chunks


def segment_info(text: str) -> SegmentInfo:
    """The composer's counter: parts, units used and left, and what forced UCS-2."""
    encoding = choose_encoding(text)
    chunks = split_text(text, encoding)
    per_part = (
        single_capacity(encoding)
        if len(chunks) == 1
        else part_capacity(encoding, CONCAT_8BIT_UDH_OCTETS)
    )
    last_used = sum(char_units(ch, encoding) for ch in chunks[-1])
    non_gsm = tuple(dict.fromkeys(ch for ch in text if not gsm7.is_gsm7(ch)))
    return SegmentInfo(
        encoding=encoding,
        parts=len(chunks),
        units=sum(char_units(ch, encoding) for ch in text),
        units_per_part=per_part,
        units_left=per_part - last_used,
        non_gsm_chars=non_gsm,
    )

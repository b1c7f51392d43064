"""User data header (TS 23.040 9.2.3.24) and data coding scheme (TS 23.038 4).

Ours: the library's InformationElement.decode pulls octets with next() and leaks StopIteration on a
short header; it never checks an element against the header length.
"""

from __future__ import annotations

from dataclasses import dataclass

from modem.errors import PduDecodeError, PduEncodeError
from modem.pdu.types import Encoding, InformationElement, UserDataHeader

IEI_CONCAT_8BIT = 0x00
IEI_CONCAT_16BIT = 0x08
MAX_CONCAT_PARTS = 255


def parse_udh(header: bytes, *, offset: int) -> UserDataHeader:
    """Header octets after TP-UDHL -> information elements, each checked to fit."""
    elements: list[InformationElement] = []
    pos = 0
    while pos < len(header):
        if pos + 2 > len(header):
            raise PduDecodeError(
                "TP-UDH", offset + pos, "information element cut off after its IEI"
            )
        iei, length = header[pos], header[pos + 1]
        end = pos + 2 + length
        if end > len(header):
            raise PduDecodeError(
                "TP-UDH",
                offset + pos,
                f"IEI {iei:02X} claims {length} octets, the header has {len(header) - pos - 2}",
            )
        elements.append(InformationElement(iei=iei, data=header[pos + 2 : end]))
        pos = end
    return UserDataHeader(elements=tuple(elements))


def encode_udh(udh: UserDataHeader) -> bytes:
    """TP-UDHL followed by the elements."""
    body = b"".join(bytes([ie.iei, len(ie.data)]) + ie.data for ie in udh.elements)
    return bytes([len(body)]) + body


def concat_element(ref: int, total: int, seq: int, ref_bits: int) -> InformationElement:
    """A concatenation element with an 8-bit (IEI 00) or 16-bit (IEI 08) reference."""
    if ref_bits == 8:
        if not 0 <= ref <= 0xFF:
            raise PduEncodeError("concat_ref", f"{ref} does not fit 8 bits (0-255)")
        return InformationElement(IEI_CONCAT_8BIT, bytes([ref, total, seq]))
    if ref_bits == 16:
        if not 0 <= ref <= 0xFFFF:
            raise PduEncodeError("concat_ref", f"{ref} does not fit 16 bits (0-65535)")
        return InformationElement(
            IEI_CONCAT_16BIT, bytes([ref >> 8, ref & 0xFF, total, seq])
        )
    raise PduEncodeError("ref_bits", f"must be 8 or 16, not {ref_bits}")


@dataclass(frozen=True, slots=True)
class DataCoding:
    """What a TP-DCS octet says about the user data."""

    encoding: Encoding
    message_class: int | None
    compressed: bool


_ALPHABETS = {0: Encoding.GSM7, 1: Encoding.DATA8, 2: Encoding.UCS2}
DCS_GSM7 = 0x00
DCS_DATA8 = 0x04
DCS_UCS2 = 0x08


def parse_dcs(dcs: int) -> DataCoding:
    """TP-DCS -> alphabet and class; reserved codings read as GSM-7 (TS 23.038 4)."""
    group = dcs >> 4
    if group <= 0b0111:  # general data coding (0x) and automatic deletion (01)
        return DataCoding(
            encoding=_ALPHABETS.get((dcs >> 2) & 0x03, Encoding.GSM7),
            message_class=dcs & 0x03 if dcs & 0x10 else None,
            compressed=bool(dcs & 0x20),
        )
    if group == 0b1110:  # message waiting indication, store message, UCS-2
        return DataCoding(Encoding.UCS2, None, compressed=False)
    if group == 0b1111:  # data coding / message class; bit 3 is reserved and ignored
        return DataCoding(
            Encoding.DATA8 if dcs & 0x04 else Encoding.GSM7,
            message_class=dcs & 0x03,
            compressed=False,
        )
    # 1000-1011 reserved, 1100/1101 message waiting indication with GSM-7 text.
    return DataCoding(Encoding.GSM7, None, compressed=False)


def dcs_for(encoding: Encoding) -> int:
    """The plain TP-DCS (no class, uncompressed) for an alphabet."""
    return {
        Encoding.GSM7: DCS_GSM7,
        Encoding.DATA8: DCS_DATA8,
        Encoding.UCS2: DCS_UCS2,
    }[encoding]

"""Frozen values of the SMS TPDUs the gateway handles (3GPP TS 23.040)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

# A GSM-7 user data header is followed by fill bits up to the next septet boundary.
SEPTET_BITS = 7
OCTET_BITS = 8


class Encoding(enum.StrEnum):
    """TP-DCS character set of the user data."""

    GSM7 = "gsm7"
    DATA8 = "8bit"
    UCS2 = "ucs2"


class PduType(enum.StrEnum):
    SMS_DELIVER = "SMS-DELIVER"
    SMS_SUBMIT = "SMS-SUBMIT"
    SMS_STATUS_REPORT = "SMS-STATUS-REPORT"


@dataclass(frozen=True, slots=True)
class Address:
    """An originating/destination/recipient address.

    `number` is "+<digits>" for international numbers (TON 1), the digits as given for
    other numeric types, and the decoded text for alphanumeric senders (TON 5).
    """

    number: str
    ton: int
    npi: int

    @property
    def alphanumeric(self) -> bool:
        return self.ton == 5


@dataclass(frozen=True, slots=True)
class Concat:
    """Concatenation information element (IEI 0x00 with 8-bit, 0x08 with 16-bit reference)."""

    ref: int
    total: int
    seq: int
    ref_bits: int = 8


@dataclass(frozen=True, slots=True)
class InformationElement:
    iei: int
    data: bytes


@dataclass(frozen=True, slots=True)
class UserDataHeader:
    elements: tuple[InformationElement, ...]

    @property
    def concat(self) -> Concat | None:
        """The last valid concatenation element, if any (TS 23.040 9.2.3.24.1)."""
        found: Concat | None = None
        for ie in self.elements:
            if ie.iei == 0x00 and len(ie.data) == 3:
                candidate = Concat(
                    ref=ie.data[0], total=ie.data[1], seq=ie.data[2], ref_bits=8
                )
            elif ie.iei == 0x08 and len(ie.data) == 4:
                candidate = Concat(
                    ref=(ie.data[0] << 8) | ie.data[1],
                    total=ie.data[2],
                    seq=ie.data[3],
                    ref_bits=16,
                )
            else:
                continue
            # The spec says to ignore the whole element when the total is 0 or the sequence number
            # is 0 or past the total; a duplicated element counts by its last occurrence.
            if candidate.total > 0 and 1 <= candidate.seq <= candidate.total:
                found = candidate
        return found

    @property
    def length(self) -> int:
        """TP-UDHL: octets of the header after the length octet itself."""
        return sum(2 + len(ie.data) for ie in self.elements)


def _udl(encoding: Encoding, udh: UserDataHeader | None, data: bytes) -> int:
    """TP-UDL of decoded user data: septets for GSM-7 (header and fill included), else octets."""
    header_octets = 0 if udh is None else udh.length + 1
    if encoding is Encoding.GSM7:
        header_septets = -(-header_octets * OCTET_BITS // SEPTET_BITS)
        return header_septets + len(data)
    return header_octets + len(data)


@dataclass(frozen=True, slots=True)
class SmsDeliver:
    """An incoming short message (SC -> MS)."""

    smsc: Address | None
    sender: Address
    timestamp: datetime  # aware: the SCTS time zone is kept as the offset
    pid: int
    dcs: int
    encoding: Encoding
    text: str  # decoded text; for 8-bit data, "" (see `data`)
    # User data without the header: GSM-7 as one septet value per byte (unpacked, escapes kept),
    # UCS-2 as UTF-16BE octets, 8-bit as the raw octets. join_parts joins these, so an escape or a
    # surrogate pair that a sender split across two parts still comes out whole.
    data: bytes
    udh: UserDataHeader | None
    more_messages: bool = False
    reply_path: bool = False
    status_report_indication: bool = False
    message_class: int | None = None

    pdu_type: ClassVar[PduType] = PduType.SMS_DELIVER

    @property
    def concat(self) -> Concat | None:
        return self.udh.concat if self.udh else None

    @property
    def address(self) -> Address:
        """The other party: the sender."""
        return self.sender

    @property
    def udl(self) -> int:
        """TP-UDL as it was on the air."""
        return _udl(self.encoding, self.udh, self.data)


@dataclass(frozen=True, slots=True)
class SmsSubmit:
    """An outgoing short message (MS -> SC)."""

    smsc: Address | None
    destination: Address
    reference: int  # TP-MR
    pid: int
    dcs: int
    encoding: Encoding
    text: str
    data: bytes  # as SmsDeliver.data
    udh: UserDataHeader | None
    validity_relative_s: int | None = None
    status_report_request: bool = False
    reject_duplicates: bool = False
    validity_absolute: datetime | None = None  # TP-VPF 11 (aware, like timestamps)

    pdu_type: ClassVar[PduType] = PduType.SMS_SUBMIT

    @property
    def concat(self) -> Concat | None:
        return self.udh.concat if self.udh else None

    @property
    def address(self) -> Address:
        """The other party: the destination."""
        return self.destination

    @property
    def udl(self) -> int:
        """TP-UDL as it was on the air."""
        return _udl(self.encoding, self.udh, self.data)


@dataclass(frozen=True, slots=True)
class StatusReport:
    """SMS-STATUS-REPORT: the fate of a submitted message (TP-MR identifies it)."""

    smsc: Address | None
    reference: int
    recipient: Address
    sc_timestamp: datetime
    discharge_time: datetime
    status: int  # TP-ST

    pdu_type: ClassVar[PduType] = PduType.SMS_STATUS_REPORT

    @property
    def delivered(self) -> bool:
        """Short message received by the recipient (TP-ST 0x00-0x1F)."""
        return self.status < 0x20

    @property
    def pending(self) -> bool:
        """The SC is still trying (TP-ST 0x20-0x3F)."""
        return 0x20 <= self.status < 0x40

    @property
    def failed(self) -> bool:
        """Permanent error or the SC gave up (TP-ST 0x40 and above)."""
        return self.status >= 0x40


Pdu = SmsDeliver | SmsSubmit | StatusReport
Part = (
    SmsDeliver | SmsSubmit
)  # what carries text and may be one part of a longer message
ReassemblyKey = tuple[str, int, int, int]  # (number, ref, total, ref_bits)


@dataclass(frozen=True, slots=True)
class EncodedPart:
    """One part ready for AT+CMGS: the octets (SMSC field first) and the TPDU length."""

    data: bytes
    tpdu_length: int
    seq: int
    total: int

    @property
    def hex(self) -> str:
        return self.data.hex().upper()


@dataclass(frozen=True, slots=True)
class SegmentInfo:
    """What a draft text costs: the composer's live counter."""

    encoding: Encoding
    parts: int
    units: (
        int  # septets for GSM-7 (extension chars count 2), UTF-16 code units for UCS-2
    )
    units_per_part: int
    units_left: int  # left in the last part before another part is needed
    non_gsm_chars: tuple[str, ...]  # characters that forced UCS-2 (empty for GSM-7)


@dataclass(frozen=True, slots=True)
class Message:
    """A whole text: one part, or every part of a concatenated message, ordered by seq."""

    address: (
        Address  # the sender of SMS-DELIVER parts, the destination of SMS-SUBMIT parts
    )
    text: str
    parts: tuple[Part, ...]
    key: ReassemblyKey | None  # None for a message that came in one part


@dataclass(frozen=True, slots=True)
class Expired:
    """A concatenated message whose wait ran out: the parts that did arrive, for "incomplete"."""

    key: ReassemblyKey
    address: Address
    text: str  # the parts present, joined in seq order
    parts: tuple[Part, ...]
    missing: tuple[int, ...]  # seq numbers that never came
    first_seen: float

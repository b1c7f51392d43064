"""Frozen values of the SMS TPDUs the gateway handles (3GPP TS 23.040)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime


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
        """The concatenation element, if any."""
        for ie in self.elements:
            if ie.iei == 0x00 and len(ie.data) == 3:
                return Concat(
                    ref=ie.data[0], total=ie.data[1], seq=ie.data[2], ref_bits=8
                )
            if ie.iei == 0x08 and len(ie.data) == 4:
                return Concat(
                    ref=(ie.data[0] << 8) | ie.data[1],
                    total=ie.data[2],
                    seq=ie.data[3],
                    ref_bits=16,
                )
        return None


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
    data: bytes  # user data without the header (the raw octets for 8-bit, else encoded form)
    udh: UserDataHeader | None
    more_messages: bool = False
    reply_path: bool = False
    status_report_indication: bool = False
    message_class: int | None = None

    @property
    def concat(self) -> Concat | None:
        return self.udh.concat if self.udh else None


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
    data: bytes
    udh: UserDataHeader | None
    validity_relative_s: int | None = None
    status_report_request: bool = False
    reject_duplicates: bool = False

    @property
    def concat(self) -> Concat | None:
        return self.udh.concat if self.udh else None


@dataclass(frozen=True, slots=True)
class StatusReport:
    """SMS-STATUS-REPORT: the fate of a submitted message (TP-MR identifies it)."""

    smsc: Address | None
    reference: int
    recipient: Address
    sc_timestamp: datetime
    discharge_time: datetime
    status: int  # TP-ST

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

"""SMS TPDU codec (TS 23.040 / 23.038), sans-io: bytes in, frozen values out, and back.

See modem/pdu/README.md for which pieces are ours and which are python-gsmmodem-new's.
"""

from __future__ import annotations

from modem.errors import PduDecodeError, PduEncodeError, PduError
from modem.pdu.decode import decode, decode_hex
from modem.pdu.encode import encode_deliver, encode_status_report, encode_submit
from modem.pdu.reassembly import Reassembler, join_parts, reassembly_key
from modem.pdu.segments import choose_encoding, segment_info
from modem.pdu.types import (
    Address,
    Concat,
    EncodedPart,
    Encoding,
    Expired,
    InformationElement,
    Message,
    Part,
    Pdu,
    PduType,
    ReassemblyKey,
    SegmentInfo,
    SmsDeliver,
    SmsSubmit,
    StatusReport,
    UserDataHeader,
)

__all__ = [
    "Address",
    "Concat",
    "EncodedPart",
    "Encoding",
    "Expired",
    "InformationElement",
    "Message",
    "Part",
    "Pdu",
    "PduDecodeError",
    "PduEncodeError",
    "PduError",
    "PduType",
    "Reassembler",
    "ReassemblyKey",
    "SegmentInfo",
    "SmsDeliver",
    "SmsSubmit",
    "StatusReport",
    "UserDataHeader",
    "choose_encoding",
    "decode",
    "decode_hex",
    "encode_deliver",
    "encode_status_report",
    "encode_submit",
    "join_parts",
    "reassembly_key",
    "segment_info",
]

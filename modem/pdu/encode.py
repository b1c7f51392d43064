"""SMS-SUBMIT (what we send), SMS-DELIVER and SMS-STATUS-REPORT (what the simulator sends us).

Ours, built on the library's packSeptets and encodeSemiOctets. Its encodeSmsSubmitPdu fails on
emoji (ValueError from encodeUcs2), cuts UCS-2 text by code points, uses TP-MR as the
concatenation reference and sends a backtick as GSM-7 0x5F (shown as "§") while sending "§"
as UCS-2.
"""

from __future__ import annotations

from datetime import datetime

from modem.errors import PduEncodeError
from modem.pdu import gsm7, ucs2
from modem.pdu.address import encode_address, encode_smsc
from modem.pdu.segments import (
    CONCAT_8BIT_UDH_OCTETS,
    CONCAT_16BIT_UDH_OCTETS,
    choose_encoding,
    split_text,
)
from modem.pdu.timestamp import encode_relative_validity, encode_scts
from modem.pdu.types import EncodedPart, Encoding, UserDataHeader
from modem.pdu.udh import MAX_CONCAT_PARTS, concat_element, dcs_for, encode_udh

PID_PLAIN = 0x00  # TP-PID: no interworking, plain short message

FO_DELIVER = 0x00
FO_SUBMIT = 0x01
FO_STATUS_REPORT = 0x02
FO_NO_MORE_MESSAGES = 0x04  # TP-MMS in SMS-DELIVER and SMS-STATUS-REPORT
FO_REJECT_DUPLICATES = 0x04  # TP-RD in SMS-SUBMIT
FO_VPF_RELATIVE = 0x10
FO_STATUS_REPORT_REQUEST = 0x20
FO_UDHI = 0x40


def _octet(value: int, field: str) -> int:
    if not 0 <= value <= 0xFF:
        raise PduEncodeError(field, f"{value} does not fit one octet (0-255)")
    return value


def _encoding(text: str, forced: Encoding | None) -> Encoding:
    chosen = choose_encoding(text)
    if forced is None or forced is Encoding.UCS2:
        return forced or chosen
    if forced is Encoding.GSM7:
        if chosen is Encoding.UCS2:
            foreign = "".join(dict.fromkeys(ch for ch in text if not gsm7.is_gsm7(ch)))
            raise PduEncodeError(
                "encoding", f"GSM-7 was asked for, but {foreign!r} is not in it"
            )
        return forced
    raise PduEncodeError("encoding", "8-bit data is not a text encoding")


def _chunks(
    text: str, encoding: Encoding, concat_ref: int | None, ref_bits: int
) -> list[tuple[bytes, str]]:
    """(user data header, text) per part; one part has no header. `ref_bits` is 8 or 16."""
    header_octets = CONCAT_8BIT_UDH_OCTETS if ref_bits == 8 else CONCAT_16BIT_UDH_OCTETS
    chunks = split_text(text, encoding, header_octets=header_octets)
    total = len(chunks)
    if total == 1:
        return [(b"", text)]
    if total > MAX_CONCAT_PARTS:
        raise PduEncodeError(
            "text", f"needs {total} parts; a message has at most {MAX_CONCAT_PARTS}"
        )
    if concat_ref is None:
        raise PduEncodeError(
            "concat_ref", f"the text needs {total} parts, so it needs a reference"
        )
    return [
        (
            encode_udh(
                UserDataHeader((concat_element(concat_ref, total, seq, ref_bits),))
            ),
            chunk,
        )
        for seq, chunk in enumerate(chunks, start=1)
    ]


def _user_data(chunk: str, encoding: Encoding, udh: bytes) -> bytes:
    """TP-UDL followed by TP-UD (header, fill bits, text)."""
    if encoding is Encoding.GSM7:
        septets = gsm7.encode(chunk)
        header_bits = len(udh) * gsm7.OCTET_BITS
        fill = -header_bits % gsm7.SEPTET_BITS
        udl = (header_bits + fill) // gsm7.SEPTET_BITS + len(septets)
        return bytes([udl]) + udh + gsm7.pack(septets, fill)
    payload = ucs2.encode(chunk)
    return bytes([len(udh) + len(payload)]) + udh + payload


def encode_submit(
    destination: str,
    text: str,
    *,
    reference: int = 0,
    concat_ref: int | None = None,
    request_status_report: bool = False,
    smsc: str | None = None,
    validity_s: int | None = None,
    encoding: Encoding | None = None,
    reject_duplicates: bool = False,
) -> list[EncodedPart]:
    """SMS-SUBMIT parts for AT+CMGS; PduEncodeError names the argument that cannot be sent."""
    reference = _octet(reference, "reference")
    # Check the reference even when one part will do, so a bad one fails every time.
    concat_element(concat_ref or 0, 1, 1, 8)
    da = encode_address(destination, "destination")
    smsc_field = encode_smsc(smsc)
    chosen = _encoding(text, encoding)
    vp = b"" if validity_s is None else bytes([encode_relative_validity(validity_s)])
    fo = FO_SUBMIT
    if reject_duplicates:
        fo |= FO_REJECT_DUPLICATES
    if vp:
        fo |= FO_VPF_RELATIVE
    if request_status_report:
        fo |= FO_STATUS_REPORT_REQUEST
    chunks = _chunks(text, chosen, concat_ref, 8)
    parts: list[EncodedPart] = []
    for seq, (udh, chunk) in enumerate(chunks, start=1):
        tpdu = (
            bytes([fo | FO_UDHI if udh else fo, reference])
            + da
            + bytes([PID_PLAIN, dcs_for(chosen)])
            + vp
            + _user_data(chunk, chosen, udh)
        )
        parts.append(
            EncodedPart(
                data=smsc_field + tpdu,
                tpdu_length=len(tpdu),
                seq=seq,
                total=len(chunks),
            )
        )
    return parts


def encode_deliver(
    sender: str,
    text: str,
    *,
    timestamp: datetime,
    concat_ref: int | None = None,
    ref_bits: int = 8,
    smsc: str | None = None,
    encoding: Encoding | None = None,
) -> list[bytes]:
    """SMS-DELIVER PDUs as a phone's message reaches a modem (SMSC field first).

    `sender` may be a number or an alphanumeric name; TP-MMS says no more messages are waiting,
    as networks send it.
    """
    oa = encode_address(sender, "sender", allow_alphanumeric=True)
    scts = encode_scts(timestamp, "timestamp")
    smsc_field = encode_smsc(smsc)
    chosen = _encoding(text, encoding)
    concat_element(concat_ref or 0, 1, 1, ref_bits)  # checks ref_bits and the reference
    fo = FO_DELIVER | FO_NO_MORE_MESSAGES
    return [
        smsc_field
        + bytes([fo | FO_UDHI if udh else fo])
        + oa
        + bytes([PID_PLAIN, dcs_for(chosen)])
        + scts
        + _user_data(chunk, chosen, udh)
        for udh, chunk in _chunks(text, chosen, concat_ref, ref_bits)
    ]


def encode_status_report(
    *,
    reference: int,
    recipient: str,
    sc_timestamp: datetime,
    discharge_time: datetime,
    status: int,
    smsc: str | None = None,
) -> bytes:
    """An SMS-STATUS-REPORT for the submit whose TP-MR was `reference` (SMSC field first)."""
    return (
        encode_smsc(smsc)
        + bytes(
            [FO_STATUS_REPORT | FO_NO_MORE_MESSAGES, _octet(reference, "reference")]
        )
        + encode_address(recipient, "recipient")
        + encode_scts(sc_timestamp, "sc_timestamp")
        + encode_scts(discharge_time, "discharge_time")
        + bytes([_octet(status, "status")])
    )

"""Bytes -> SmsDeliver | SmsSubmit | StatusReport; every failure is a PduDecodeError.

Ours entirely. The library's decodeSmsPdu reads through an iterator and leaks StopIteration (and
ValueError from strptime) on short or odd input, accepts a TP-UDL longer than the data, gets the
GSM-7 fill bits wrong after a 16-bit concatenation header (the first character is lost), and
returns dicts whose keys change with the message type.

Leniency, each on purpose: octets after the user data (or after TP-ST of a status report) are
ignored, because SIM records come padded with FF and status reports may carry optional fields we
do not use; reserved TP-DCS codings read as GSM-7 as TS 23.038 tells a receiver. Strictness, each
on purpose: TP-UDL must fit the octets present, a header must fit TP-UDL (TP-UDHI with TP-UDL 0 is
an error, as in ModemManager), compressed text (TS 23.042) is refused rather than shown as noise.
"""

from __future__ import annotations

import string
from datetime import datetime

from modem.errors import PduDecodeError
from modem.pdu import gsm7, ucs2
from modem.pdu.address import read_address, read_smsc
from modem.pdu.reader import Reader
from modem.pdu.timestamp import (
    SCTS_OCTETS,
    decode_relative_validity,
    decode_scts,
)
from modem.pdu.types import (
    Address,
    Encoding,
    Pdu,
    SmsDeliver,
    SmsSubmit,
    StatusReport,
    UserDataHeader,
)
from modem.pdu.udh import DataCoding, parse_dcs, parse_udh

MAX_UD_OCTETS = 140
MAX_UD_SEPTETS = 160

MTI_DELIVER = 0
MTI_SUBMIT = 1
MTI_STATUS_REPORT = 2

_FO_MMS_OR_RD = (
    0x04  # DELIVER/STATUS-REPORT: no more messages; SUBMIT: reject duplicates
)
_FO_SRI_OR_SRR = (
    0x20  # DELIVER: status report indication; SUBMIT: status report request
)
_FO_UDHI = 0x40
_FO_REPLY_PATH = 0x80
_VPF_NONE, _VPF_ENHANCED, _VPF_RELATIVE, _VPF_ABSOLUTE = 0, 1, 2, 3
_ENHANCED_VP_OCTETS = 7

_HEX_DIGITS = frozenset(string.hexdigits)


def decode_hex(text: str, *, has_smsc: bool = True) -> Pdu:
    """Decode a PDU given as hex (either case, surrounding whitespace ignored)."""
    cleaned = text.strip()
    for index, ch in enumerate(cleaned):
        if ch not in _HEX_DIGITS:
            raise PduDecodeError("hex", index // 2, f"{ch!r} is not a hex digit")
    if len(cleaned) % 2:
        raise PduDecodeError("hex", len(cleaned) // 2, "odd number of hex digits")
    return decode(bytes.fromhex(cleaned), has_smsc=has_smsc)


def decode(data: bytes, *, has_smsc: bool = True) -> Pdu:
    """Decode PDU-mode octets (SMSC field first unless `has_smsc` is False) by TP-MTI."""
    reader = Reader(bytes(data))
    smsc = read_smsc(reader) if has_smsc else None
    fo_offset = reader.pos
    first_octet = reader.octet("TP-MTI")
    mti = first_octet & 0x03
    if mti == MTI_DELIVER:
        return _deliver(reader, smsc, first_octet)
    if mti == MTI_SUBMIT:
        return _submit(reader, smsc, first_octet)
    if mti == MTI_STATUS_REPORT:
        return _status_report(reader, smsc)
    raise PduDecodeError("TP-MTI", fo_offset, "message type 3 is reserved")


def _coding(reader: Reader) -> tuple[int, DataCoding]:
    offset = reader.pos
    dcs = reader.octet("TP-DCS")
    coding = parse_dcs(dcs)
    if coding.compressed:
        raise PduDecodeError(
            "TP-DCS", offset, f"{dcs:02X}: compressed text (TS 23.042) is not supported"
        )
    return dcs, coding


def _timestamp(reader: Reader, field: str) -> datetime:
    offset = reader.pos
    return decode_scts(reader.take(SCTS_OCTETS, field), field=field, offset=offset)


def _user_data(
    reader: Reader, encoding: Encoding, *, udhi: bool
) -> tuple[str, bytes, UserDataHeader | None]:
    """TP-UDL and TP-UD -> (text, data without header, header)."""
    udl_offset = reader.pos
    udl = reader.octet("TP-UDL")
    gsm = encoding is Encoding.GSM7
    limit, unit = (MAX_UD_SEPTETS, "septets") if gsm else (MAX_UD_OCTETS, "octets")
    if udl > limit:
        raise PduDecodeError("TP-UDL", udl_offset, f"{udl} {unit} exceeds {limit}")
    needed = gsm7.packed_octets(udl) if gsm else udl
    if needed > reader.remaining:
        raise PduDecodeError(
            "TP-UDL",
            udl_offset,
            f"{udl} {unit} need {needed} octets, only {reader.remaining} follow",
        )
    ud_offset = reader.pos
    ud = reader.take(needed, "TP-UD")
    udh: UserDataHeader | None = None
    header_octets = 0
    if udhi:
        if not ud:
            raise PduDecodeError("TP-UDHL", ud_offset, "TP-UDHI is set but TP-UDL is 0")
        header_octets = ud[0] + 1
        header_bits = header_octets * gsm7.OCTET_BITS
        if header_octets > needed or (gsm and header_bits > udl * gsm7.SEPTET_BITS):
            raise PduDecodeError(
                "TP-UDHL",
                ud_offset,
                f"a header of {header_octets} octets does not fit TP-UDL {udl} {unit}",
            )
        udh = parse_udh(ud[1:header_octets], offset=ud_offset + 1)
    if gsm:
        # The text starts on the first septet boundary after the header: TS 23.040 9.2.3.24.
        fill = -(header_octets * gsm7.OCTET_BITS) % gsm7.SEPTET_BITS
        header_septets = (header_octets * gsm7.OCTET_BITS + fill) // gsm7.SEPTET_BITS
        septets = gsm7.unpack(ud[header_octets:], udl - header_septets, fill)
        return gsm7.decode(septets), septets, udh
    payload = ud[header_octets:]
    if encoding is Encoding.UCS2:
        return ucs2.decode(payload), payload, udh
    return "", payload, udh


def _deliver(reader: Reader, smsc: Address | None, fo: int) -> SmsDeliver:
    sender = read_address(reader, "TP-OA")
    pid = reader.octet("TP-PID")
    dcs, coding = _coding(reader)
    timestamp = _timestamp(reader, "TP-SCTS")
    text, data, udh = _user_data(reader, coding.encoding, udhi=bool(fo & _FO_UDHI))
    return SmsDeliver(
        smsc=smsc,
        sender=sender,
        timestamp=timestamp,
        pid=pid,
        dcs=dcs,
        encoding=coding.encoding,
        text=text,
        data=data,
        udh=udh,
        more_messages=not fo & _FO_MMS_OR_RD,
        reply_path=bool(fo & _FO_REPLY_PATH),
        status_report_indication=bool(fo & _FO_SRI_OR_SRR),
        message_class=coding.message_class,
    )


def _enhanced_validity(raw: bytes, offset: int) -> int | None:
    """Enhanced TP-VP (TS 23.040 9.2.3.12.3) -> seconds, None for "no validity" or reserved."""
    vp_format = raw[0] & 0x07
    if vp_format == 1:
        return decode_relative_validity(raw[1])
    if vp_format == 2:
        return raw[1]
    if vp_format == 3:
        values = []
        for index, octet in enumerate(raw[1:4], start=1):
            tens, units = octet & 0x0F, octet >> 4
            if tens > 9 or units > 9:
                raise PduDecodeError(
                    "TP-VP", offset + index, f"{octet:02X} has a non-decimal digit"
                )
            values.append(tens * 10 + units)
        hours, minutes, seconds = values
        return hours * 3600 + minutes * 60 + seconds
    return None


def _submit(reader: Reader, smsc: Address | None, fo: int) -> SmsSubmit:
    reference = reader.octet("TP-MR")
    destination = read_address(reader, "TP-DA")
    pid = reader.octet("TP-PID")
    dcs, coding = _coding(reader)
    relative_s: int | None = None
    absolute: datetime | None = None
    vpf = (fo >> 3) & 0x03
    vp_offset = reader.pos
    if vpf == _VPF_RELATIVE:
        relative_s = decode_relative_validity(reader.octet("TP-VP"))
    elif vpf == _VPF_ABSOLUTE:
        absolute = _timestamp(reader, "TP-VP")
    elif vpf == _VPF_ENHANCED:
        relative_s = _enhanced_validity(
            reader.take(_ENHANCED_VP_OCTETS, "TP-VP"), vp_offset
        )
    text, data, udh = _user_data(reader, coding.encoding, udhi=bool(fo & _FO_UDHI))
    return SmsSubmit(
        smsc=smsc,
        destination=destination,
        reference=reference,
        pid=pid,
        dcs=dcs,
        encoding=coding.encoding,
        text=text,
        data=data,
        udh=udh,
        validity_relative_s=relative_s,
        status_report_request=bool(fo & _FO_SRI_OR_SRR),
        reject_duplicates=bool(fo & _FO_MMS_OR_RD),
        validity_absolute=absolute,
    )


def _status_report(reader: Reader, smsc: Address | None) -> StatusReport:
    reference = reader.octet("TP-MR")
    recipient = read_address(reader, "TP-RA")
    sc_timestamp = _timestamp(reader, "TP-SCTS")
    discharge_time = _timestamp(reader, "TP-DT")
    status = reader.octet("TP-ST")
    # TP-PI and the optional PID/DCS/UD after it are not used by the gateway; some modems pad the
    # stored report with FF (vector gammu-at-sms-32), so what follows TP-ST is not read.
    return StatusReport(
        smsc=smsc,
        reference=reference,
        recipient=recipient,
        sc_timestamp=sc_timestamp,
        discharge_time=discharge_time,
        status=status,
    )

"""PURE text-mode (AT+CMGF=1) views of stored PDUs, and text-mode submissions as PDUs."""

from __future__ import annotations

from datetime import datetime

from modem import pdu as pdu_codec
from modem.errors import PduError
from modem.pdu.types import SmsDeliver, SmsSubmit, StatusReport
from modem.sim.state import SimState, StoredMessage


class TextModeError(ValueError):
    """A stored PDU that text mode cannot show, or a text it cannot send."""


def scts(ts: datetime) -> str:
    """A TS 27.005 time stamp: "yy/MM/dd,hh:mm:ss±zz" (zz in quarter hours)."""
    offset = ts.utcoffset()
    quarters = int(offset.total_seconds() // 900) if offset is not None else 0
    sign = "-" if quarters < 0 else "+"
    return f'"{ts.strftime("%y/%m/%d,%H:%M:%S")}{sign}{abs(quarters):02d}"'


def to_host(text: str, state: SimState) -> str:
    """Message text in the host's character set (AT+CSCS)."""
    if state.cscs == "UCS2":
        return text.encode("utf-16-be").hex().upper()
    return text


def from_host(text: str, state: SimState) -> str:
    """Message text typed by the host in its character set."""
    if state.cscs == "UCS2":
        try:
            return bytes.fromhex("".join(text.split())).decode("utf-16-be")
        except ValueError as exc:
            raise TextModeError(f"not UCS2 hex: {exc}") from exc
    return text


def _decoded(msg: StoredMessage) -> SmsDeliver | SmsSubmit | StatusReport:
    try:
        return pdu_codec.decode(msg.pdu, has_smsc=True)
    except PduError as exc:
        raise TextModeError(f"slot {msg.index}: {exc}") from exc


def _report_fields(report: StatusReport) -> str:
    return (
        f'6,{report.reference},"{report.recipient.number}",{_toa(report.recipient.number)},'
        f"{scts(report.sc_timestamp)},{scts(report.discharge_time)},{report.status}"
    )


def _toa(number: str) -> int:
    return 145 if number.startswith("+") else 129


def _lines(msg: StoredMessage, state: SimState, prefix: str) -> list[str]:
    value = _decoded(msg)
    stat = f'"{msg.stat.text}"'
    if isinstance(value, StatusReport):
        return [f"{prefix}{stat},{_report_fields(value)}"]
    if isinstance(value, SmsDeliver):
        head = f'{prefix}{stat},"{value.sender.number}",,{scts(value.timestamp)}'
    else:
        head = f'{prefix}{stat},"{value.destination.number}",'
    return [head, to_host(value.text, state)]


def cmgl_lines(msg: StoredMessage, state: SimState) -> list[str]:
    """The +CMGL entry of one stored message in text mode."""
    return _lines(msg, state, f"+CMGL: {msg.index},")


def cmgr_lines(msg: StoredMessage, state: SimState) -> list[str]:
    """The +CMGR reply of one stored message in text mode."""
    return _lines(msg, state, "+CMGR: ")


def cmt(pdu: bytes, state: SimState) -> str:
    """A +CMT URC in text mode."""
    value = pdu_codec.decode(pdu, has_smsc=True)
    if not isinstance(value, SmsDeliver):
        raise TextModeError("+CMT carries an SMS-DELIVER")
    return (
        f'+CMT: "{value.sender.number}",,{scts(value.timestamp)}\r\n'
        f"{to_host(value.text, state)}"
    )


def cds(pdu: bytes) -> str:
    """A +CDS URC in text mode."""
    value = pdu_codec.decode(pdu, has_smsc=True)
    if not isinstance(value, StatusReport):
        raise TextModeError("+CDS carries an SMS-STATUS-REPORT")
    return f"+CDS: {_report_fields(value)}"


def submit_pdu(body: str, destination: str, state: SimState) -> bytes:
    """The SMS-SUBMIT (SMSC field first) for a text-mode AT+CMGS; one part only."""
    fo, vp, _pid, _dcs = state.csmp
    try:
        parts = pdu_codec.encode_submit(
            destination,
            from_host(body, state),
            request_status_report=bool(fo & 0x20),
            validity_s=_validity_s(vp),
        )
    except PduError as exc:
        raise TextModeError(str(exc)) from exc
    if len(parts) != 1:
        raise TextModeError("text mode sends one part; this text needs more")
    return parts[0].data


def _validity_s(vp: int) -> int:
    """TP-VP relative (TS 23.040 9.2.3.12.1) in seconds."""
    if vp <= 143:
        return (vp + 1) * 5 * 60
    if vp <= 167:
        return 12 * 3600 + (vp - 143) * 30 * 60
    if vp <= 196:
        return (vp - 166) * 86400
    return (vp - 192) * 7 * 86400

"""Loading the shared PDU vectors (tests/data/pdu, described in tests/data/README.md)."""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from modem.pdu import Concat, Encoding, Pdu, SmsDeliver, SmsSubmit, StatusReport

PDU_DATA = Path(__file__).resolve().parents[2] / "data" / "pdu"


def records(name: str) -> list[dict[str, Any]]:
    """The records of pdu/<name>.jsonl, in file order."""
    with (PDU_DATA / f"{name}.jsonl").open(encoding="utf-8") as lines:
        return [json.loads(line) for line in lines if line.strip()]


def _timestamp(pdu: Pdu) -> datetime:
    return pdu.sc_timestamp if isinstance(pdu, StatusReport) else pdu.timestamp


def _number(address: Any) -> str | None:
    return None if address is None else address.number


# Relative TP-VP per TS 23.040 9.2.3.12.1, written out again here so the test does not lean on
# the code it checks.
def _relative_vp_seconds(vp: int) -> int:
    if vp <= 143:
        return (vp + 1) * 300
    if vp <= 167:
        return 43200 + (vp - 143) * 1800
    if vp <= 196:
        return (vp - 166) * 86400
    return (vp - 192) * 604800


def _check_validity(pdu: Pdu, value: dict[str, Any]) -> None:
    assert isinstance(pdu, SmsSubmit)
    ((kind, amount),) = value.items()
    if kind == "absolute":
        assert pdu.validity_absolute is not None
        assert pdu.validity_absolute.isoformat() == amount
        return
    seconds = {
        "relative_seconds": lambda: amount,
        "relative_minutes": lambda: amount * 60,
        "relative_raw": lambda: _relative_vp_seconds(amount),
    }[kind]()
    assert pdu.validity_relative_s == seconds


def _check_user_data_hex(pdu: Pdu, value: str) -> None:
    assert isinstance(pdu, SmsDeliver | SmsSubmit)
    assert pdu.encoding is Encoding.DATA8
    assert pdu.data.hex().upper() == value
    assert pdu.text == ""


def _check_user_data_octets(pdu: Pdu, value: int) -> None:
    assert isinstance(pdu, SmsDeliver | SmsSubmit)
    octets = math.ceil(pdu.udl * 7 / 8) if pdu.encoding is Encoding.GSM7 else pdu.udl
    assert octets == value


def _check_type(pdu: Pdu, value: str | None) -> None:
    if value is not None:  # null: the source states no type
        assert pdu.pdu_type.value == value


def _attr(name: str) -> Callable[[Pdu, Any], None]:
    def check(pdu: Pdu, value: Any) -> None:
        assert getattr(pdu, name) == value, name

    return check


def _address(name: str) -> Callable[[Pdu, Any], None]:
    def check(pdu: Pdu, value: Any) -> None:
        assert _number(getattr(pdu, name)) == value, name

    return check


CHECKS: dict[str, Callable[[Pdu, Any], None]] = {
    "type": _check_type,
    "parse_ok": lambda pdu, value: (
        None
    ),  # decoding at all is the check; False never gets here
    "smsc": _address("smsc"),
    "sender": _address("sender"),
    "destination": _address("destination"),
    "recipient": _address("recipient"),
    "timestamp": lambda pdu, value: _check_equal(_timestamp(pdu).isoformat(), value),
    "timestamp_local": lambda pdu, value: _check_equal(
        _timestamp(pdu).replace(tzinfo=None).isoformat(), value
    ),
    "discharge_time": lambda pdu, value: _check_equal(
        pdu.discharge_time.isoformat(),
        value,
    ),
    "text": _attr("text"),
    "user_data_hex": _check_user_data_hex,
    "pid": _attr("pid"),
    "dcs": _attr("dcs"),
    "encoding": lambda pdu, value: _check_equal(pdu.encoding.value, value),
    "udl": _attr("udl"),
    "user_data_length": _attr("udl"),  # node-pdu's name for TP-UDL
    "user_data_octets": _check_user_data_octets,
    "udhl": lambda pdu, value: _check_equal(pdu.udh.length, value),
    "validity": _check_validity,
    "reference": _attr("reference"),
    "message_reference": _attr("reference"),
    "status": _attr("status"),
    "multipart": lambda pdu, value: _check_equal(pdu.concat is not None, value),
    "udh": lambda pdu, value: _check_equal(pdu.concat, Concat(**value["concat"])),
}

# Keys a record may state that this suite deliberately does not check, and why.
NOT_CHECKED = {
    "mms_notification": "MMS notification fields live in the WAP push payload, above the TPDU;"
    " the codec hands 8-bit data on as bytes",
    "type_hint": "a hint on what an invalid PDU was meant to be; it must not decode at all",
}


def _check_equal(actual: Any, expected: Any) -> None:
    assert actual == expected


def assert_expected(pdu: Pdu, expected: dict[str, Any]) -> None:
    """Compare every stated key; a key this suite has no check for fails loudly."""
    for key, value in expected.items():
        if key in NOT_CHECKED:
            continue
        assert key in CHECKS, f"no check for expected key {key!r}"
        try:
            CHECKS[key](pdu, value)
        except AssertionError as exc:
            raise AssertionError(f"expected {key}={value!r}: {exc}") from exc


def hex_of(parts: Iterator[bytes] | list[bytes]) -> list[str]:
    """Upper-case hex of each PDU."""
    return [bytes(p).hex().upper() for p in parts]

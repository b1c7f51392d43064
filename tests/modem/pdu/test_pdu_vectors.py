"""Every real-world vector in tests/data/pdu, named by its id (tests/data/README.md).

Where a source states something we deliberately do differently, DEVIATIONS says what we assert
instead and why; nothing is skipped silently.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import pytest
from pduvectors import assert_expected, records

from modem.pdu import (
    Encoding,
    PduDecodeError,
    PduEncodeError,
    Reassembler,
    SmsDeliver,
    SmsSubmit,
    decode,
    decode_hex,
    encode_deliver,
    encode_submit,
    join_parts,
)


@dataclass(frozen=True)
class Deviation:
    """What we assert instead of the source's statement, and why."""

    reason: str
    expected: dict[str, Any] = field(default_factory=dict)
    raises: str | None = None  # the PduDecodeError field we raise instead of decoding


NODE_PDU_PLUS = (
    "node-pdu states TOA 0x91 numbers without '+'; TON 1 is always +digits here"
)

DEVIATIONS: dict[str, Deviation] = {
    "nodepdu-simple-delivery-message-1": Deviation(
        NODE_PDU_PLUS, {"smsc": "+79037011111", "sender": "+79642161111"}
    ),
    "nodepdu-alphanumeric-oa": Deviation(NODE_PDU_PLUS, {"smsc": "+31626000230"}),
    "nodepdu-international-phone-number-2": Deviation(
        "the source lists this PDU twice, as +999 and as 00999; TOA 0x91 makes it +999",
        {"destination": "+999"},
    ),
    "pygsm-decode-11": Deviation(
        "TS 23.040 9.1.2.3 shows a non-decimal semi-octet as TS 24.008 does: 0xB is '#'."
        " python-gsmmodem prints the hex digit 'b' and gammu drops it",
        {"recipient": "+#08427829207025"},
    ),
    "pygsm-decode-8": Deviation(
        "TP-UDL says 160 octets and 10 follow; the source's own comment calls the PDU"
        " invalid and gammu rejects it, python-gsmmodem just reads what is there",
        raises="TP-UDL",
    ),
    "pygsm-decode-9": Deviation(
        "8-bit user data is binary (WAP push, OTA, ports); it stays octets in `data` and is"
        " never shown as Latin-1 text as python-gsmmodem does",
        {"text": "", "user_data_hex": b"Hello world!".hex().upper()},
    ),
    "gammu-at-sms-20": Deviation(
        "TP-UDHI is set but TP-UDL is 0, so the announced header is missing; gammu reads a"
        " UDHL from past the end of the PDU (its derived udh_hex '00') and ModemManager"
        " rejects the same shape (invalid/mm-pdu-wrong-user-data-elements-size)",
        raises="TP-UDHL",
    ),
    "gammu-at-sms-41": Deviation(
        "TP-UDL 93 septets need 82 octets and 79 follow; gammu's own DecodePDU rejects the"
        " bare PDU too (derived.error), only its AT layer accepted the reply line",
        raises="TP-UDL",
    ),
    "mm-cmgl-pantech": Deviation(
        "no values stated (robustness input); 89 hex digits are not whole octets",
        raises="hex",
    ),
}


def _decode_params(name: str) -> list[Any]:
    # Encode-direction records are decoded too: their golden PDU states the same fields.
    return [pytest.param(record, id=record["id"]) for record in records(name)]


def _check_decode(record: dict[str, Any]) -> None:
    deviation = DEVIATIONS.get(record["id"])
    expected = dict(record["expected"])
    if deviation is not None and deviation.raises is not None:
        with pytest.raises(PduDecodeError) as info:
            decode_hex(record["pdu"], has_smsc=record["has_smsc"])
        assert info.value.field == deviation.raises, deviation.reason
        return
    if deviation is not None:
        expected.update(deviation.expected)
    pdu = decode_hex(record["pdu"], has_smsc=record["has_smsc"])
    assert_expected(pdu, expected)


@pytest.mark.parametrize("record", _decode_params("deliver"))
def test_deliver_vector_decodes(record: dict[str, Any]) -> None:
    _check_decode(record)


@pytest.mark.parametrize("record", _decode_params("submit"))
def test_submit_vector_decodes(record: dict[str, Any]) -> None:
    _check_decode(record)


@pytest.mark.parametrize("record", _decode_params("status_report"))
def test_status_report_vector_decodes(record: dict[str, Any]) -> None:
    _check_decode(record)


@pytest.mark.parametrize("record", _decode_params("invalid"))
def test_invalid_vector_is_rejected(record: dict[str, Any]) -> None:
    assert record["expected"]["parse_ok"] is False
    with pytest.raises(PduDecodeError) as info:
        decode_hex(record["pdu"], has_smsc=record["has_smsc"])
    assert info.value.reason  # names what is wrong, for the operator


def test_every_deviation_names_a_real_vector() -> None:
    ids = {
        r["id"]
        for name in ("deliver", "submit", "status_report")
        for r in records(name)
    }
    assert set(DEVIATIONS) <= ids


# ---------------------------------------------------------------- SMS-SUBMIT encoding

# What each source's encoder did without saying so in `input`, so the call reproduces it.
_GAMMU_VP_MAX_S = 63 * 7 * 86400  # gammu stores submits with TP-VP FF (63 weeks)
_OFONO_DEFAULT_VALIDITY_S = (
    86400  # oFono's default validity (TP-VP A7) is not in its input
)
_CHARSETS = {"GSM": Encoding.GSM7, "UCS2": Encoding.UCS2}
_GAMMU_CODINGS = {"Default": Encoding.GSM7, "Unicode": Encoding.UCS2}


def submit_call(record: dict[str, Any]) -> tuple[str, str, dict[str, Any]]:
    """(destination, text, keyword arguments) for encode_submit from a record's input."""
    given = record["input"]
    vid = record["id"]
    kwargs: dict[str, Any] = {}
    if given.get("smsc"):
        kwargs["smsc"] = given["smsc"]
    if "message_reference" in given:
        kwargs["reference"] = given["message_reference"]
        # python-gsmmodem uses TP-MR as the concatenation reference too.
        kwargs["concat_ref"] = given["message_reference"]
    # python-gsmmodem's sendSms asks for a status report unless told not to (FO 0x21).
    kwargs["request_status_report"] = given.get(
        "request_status_report", vid.startswith("pygsm-tx")
    )
    kwargs["reject_duplicates"] = given.get("reject_duplicates", False)
    validity = given.get("validity")
    if validity is not None:
        if "relative_seconds" in validity:
            kwargs["validity_s"] = validity["relative_seconds"]
        elif "relative_minutes" in validity:
            kwargs["validity_s"] = validity["relative_minutes"] * 60
    if vid.startswith("gammu"):
        kwargs["validity_s"] = _GAMMU_VP_MAX_S
        kwargs["encoding"] = _GAMMU_CODINGS[given["coding"]]
        kwargs["concat_ref"] = (
            0  # gammu does not concatenate; our split needs a reference
        )
    if vid == "ofono-prepare-7bit":
        kwargs["validity_s"] = _OFONO_DEFAULT_VALIDITY_S
    if "charset_hint" in given:
        kwargs["encoding"] = _CHARSETS[given["charset_hint"]]
    destination = given.get("destination", given.get("number"))
    return destination, given["text"], kwargs


def _encode_params() -> list[Any]:
    params = []
    for record in records("submit"):
        if record["direction"] != "encode":
            continue
        validity = record["input"].get("validity") or {}
        marks = []
        if "absolute" in validity:
            marks.append(
                pytest.mark.skip(
                    reason="absolute TP-VP: encode_submit offers only a relative validity_s"
                    " (the gateway never needs a wall-clock expiry); the decode side of"
                    " this vector is tested"
                )
            )
        params.append(pytest.param(record, id=record["id"], marks=marks))
    return params


_SUBSTITUTED = (
    "Coding=Default with 'š': gammu substitutes 's'; forcing GSM-7 on such text is"
)
_TRUNCATED = "gammu puts a long text in ONE PDU without a header, cutting it off"


@pytest.mark.parametrize("record", _encode_params())
def test_submit_vector_encodes(record: dict[str, Any]) -> None:
    destination, text, kwargs = submit_call(record)
    golden = record["pdu"].upper()
    if record["id"] == "pygsm-encode-4":
        # python-gsmmodem marks bare digits national (TOA A1); we send TON unknown (81), as
        # gammu and ModemManager do, and let the network read the number.
        parts = encode_submit(destination, text, **kwargs)
        assert [p.hex for p in parts] == [
            "04812143F5310D0A8110624521430000A91BD4F29C0E6A97E7F3F0B9AC03B1DFE3301BE4AEB7C565F91C"
        ]
        assert golden == parts[0].hex.replace("0481", "04A1", 1).replace(
            "0A81", "0AA1", 1
        )
        return
    if "š" in text and kwargs.get("encoding") is Encoding.GSM7:
        # an error here (PduEncodeError on `encoding`) rather than a silent substitution.
        with pytest.raises(PduEncodeError) as info:
            encode_submit(destination, text, **kwargs)
        assert info.value.field == "encoding", _SUBSTITUTED
        assert decode_hex(golden).text == text.replace("š", "s")
        return
    parts = encode_submit(destination, text, **kwargs)
    if record["id"].startswith("gammu") and len(parts) > 1:
        # _TRUNCATED; we send every character, in parts.
        theirs = decode_hex(golden)
        assert isinstance(theirs, SmsSubmit)
        assert text.startswith(theirs.text)
        assert theirs.text != text
        ours = [decode(p.data) for p in parts]
        assert join_parts([p for p in ours if isinstance(p, SmsSubmit)]) == text
        return
    hexes = [part.hex for part in parts]
    assert golden in hexes
    part = parts[hexes.index(golden)]
    if "tpdu_length" in record:
        assert part.tpdu_length == record["tpdu_length"]
    assert part.tpdu_length == len(part.data) - 1 - part.data[0]


# ---------------------------------------------------------------- SMS-DELIVER encoding

# gammu's sms-at-encode cases store SMS-DELIVERs (deliver.jsonl, direction "encode").
_DELIVER_FO_OURS = 0x04  # TP-MMS 1: no more messages waiting, as networks send it
_DELIVER_FO_GAMMU = 0x00


@pytest.mark.parametrize(
    "record",
    [
        pytest.param(r, id=r["id"])
        for r in records("deliver")
        if r.get("direction") == "encode"
    ],
)
def test_deliver_vector_encodes(record: dict[str, Any]) -> None:
    given = record["input"]
    text = given["text"]
    stamped = datetime.fromisoformat(given["sent_local"]).replace(tzinfo=UTC)
    golden = bytes.fromhex(record["pdu"])
    kwargs: dict[str, Any] = {
        "timestamp": stamped,  # TZ octet 00 in every one of these
        "smsc": given["smsc"],
        "encoding": _GAMMU_CODINGS[given["coding"]],
        "concat_ref": 0,
    }
    if "š" in text and kwargs["encoding"] is Encoding.GSM7:
        with pytest.raises(PduEncodeError):
            encode_deliver(given["number"], text, **kwargs)
        return
    pdus = encode_deliver(given["number"], text, **kwargs)
    if len(pdus) > 1:
        theirs = decode(golden)
        assert isinstance(theirs, SmsDeliver)
        assert text.startswith(theirs.text), _TRUNCATED
        assert theirs.text != text, _TRUNCATED
        ours = [decode(p) for p in pdus]
        assert join_parts([p for p in ours if isinstance(p, SmsDeliver)]) == text
        return
    (ours,) = pdus
    fo_at = 1 + golden[0]
    # Identical but for the first octet: gammu writes TP-MMS 0 for a stored message.
    assert golden[fo_at] == _DELIVER_FO_GAMMU
    assert ours[fo_at] == _DELIVER_FO_OURS
    assert ours[:fo_at] + ours[fo_at + 1 :] == golden[:fo_at] + golden[fo_at + 1 :]


# ---------------------------------------------------------------- reassembly


@pytest.mark.parametrize(
    "record", [pytest.param(r, id=r["id"]) for r in records("concat_groups")]
)
def test_concat_group_reassembles(record: dict[str, Any]) -> None:
    parts = [decode_hex(h, has_smsc=record["has_smsc"]) for h in record["pdus"]]
    assert all(isinstance(p, SmsDeliver | SmsSubmit) for p in parts)
    assert {p.pdu_type.value for p in parts} == {record["kind"]}
    reassembler = Reassembler(expiry_s=60.0)
    messages = [
        m for i, p in enumerate(parts) if (m := reassembler.add(p, now=float(i)))
    ]
    if "expected_message_count" in record:
        assert len(messages) == record["expected_message_count"]
        assert not reassembler.pending
    if "expected_text" in record:
        if messages:
            (message,) = messages
            assert message.text == record["expected_text"]
            assert [p.concat.seq for p in message.parts] == sorted(
                p.concat.seq for p in message.parts
            )
        else:
            # node-pdu's "append" cases: a partial set or a repeated part. Our reassembler
            # waits, then hands over what came (for an "incomplete" delivery).
            assert reassembler.expire(now=59.0) == []
            (expired,) = reassembler.expire(now=60.0)
            assert expired.text == record["expected_text"]
            assert expired.missing
            assert join_parts(parts) == record["expected_text"]


def test_ofono_assembly_reencodes_to_three_parts() -> None:
    """oFono asserts the decoded text re-encodes, with reference 0x1E, to three parts again."""
    (record,) = [r for r in records("concat_groups") if r["id"] == "ofono-assembly"]
    parts = [decode_hex(h) for h in record["pdus"]]
    text = join_parts(parts)
    first = parts[0]
    assert isinstance(first, SmsDeliver)
    again = encode_deliver(
        first.sender.number, text, timestamp=first.timestamp, concat_ref=0x1E
    )
    assert len(again) == 3
    assert join_parts([decode(p) for p in again]) == text

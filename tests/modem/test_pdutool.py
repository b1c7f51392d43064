"""`smsgw pdu`: decode dumps to JSON, encode SMS-SUBMIT PDUs, clear errors and exit codes."""

from __future__ import annotations

import io
import json
import runpy
import sys
from typing import Any

import pytest

from gateway.cli import main as smsgw
from modem.pdutool import main

# Real vectors (tests/data/pdu): node-pdu's 16-bit concatenated "Hello," + " world!".
PART_1 = (
    "07919730071111F1400B919746121611F10000811170021222230E06080412340201C8329BFD6601"
)
PART_2 = (
    "07919730071111F1400B919746121611F10000811170021232230F06080412340202A0FB5BCE268700"
)
SINGLE = "06917228195339040B917228214365F700003130805120618005D4F29C2E03"  # "Test2"
REPORT = "07917248014000F506B70AA18092020000317071518590803170715185418000"
SUBMIT = "0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
EIGHT_BIT = "07912143658709F1040B918100551512F20004111010214365000AE8329BFD4697D9EC37DE"
BARE = "040491361900005150713220052308C8303A8C0EA3C3"  # warthog: no SMSC field


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, Any, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip().startswith("{") else out, err


def test_decode_one_message(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc, err = run(capsys, "decode", SINGLE)
    assert (code, err) == (0, "")
    (pdu,) = doc["pdus"]
    assert pdu["type"] == "SMS-DELIVER"
    assert pdu["number"] == "+27821234567"
    assert pdu["smsc"] == "+2782913593"
    assert pdu["text"] == "Test2"
    assert pdu["encoding"] == "gsm7"
    assert pdu["timestamp"] == "2013-03-08T15:02:16+02:00"
    assert pdu["concat"] is None
    assert doc["messages"] == [
        {
            "number": "+27821234567",
            "text": "Test2",
            "pdus": [0],
            "total": 1,
            "complete": True,
            "missing": [],
        }
    ]


def test_decode_joins_parts_given_out_of_order(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, doc, _ = run(capsys, "decode", f"{PART_2} {SINGLE}", PART_1.lower())
    assert code == 0
    assert [p["concat"] and p["concat"]["seq"] for p in doc["pdus"]] == [2, None, 1]
    assert doc["pdus"][0]["concat"] == {
        "ref": 0x1234,
        "ref_bits": 16,
        "total": 2,
        "seq": 2,
    }
    joined, single = sorted(doc["messages"], key=lambda m: len(m["pdus"]), reverse=True)
    assert joined["text"] == "Hello, world!"
    assert joined["pdus"] == [2, 0]
    assert joined["complete"] is True
    assert single["text"] == "Test2"


def test_decode_marks_an_incomplete_group(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc, _ = run(capsys, "decode", PART_1)
    assert code == 0
    (message,) = doc["messages"]
    assert message == {
        "number": "+79642161111",
        "text": "Hello,",
        "pdus": [0],
        "total": 2,
        "complete": False,
        "missing": [2],
    }


def test_decode_reports_a_bad_pdu_and_prints_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, doc, _ = run(capsys, "decode", "07911614220991", SINGLE, "XYZ")
    assert code == 1
    first, second, third = doc["pdus"]
    assert first["error"] == {
        "field": "SMSC",
        "offset": 2,
        "reason": "needs 6 octets, only 5 left",
    }
    assert second["text"] == "Test2"
    assert third["error"]["field"] == "hex"
    assert [m["text"] for m in doc["messages"]] == ["Test2"]


def test_decode_status_report_submit_and_8bit(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, doc, _ = run(capsys, "decode", REPORT, SUBMIT, EIGHT_BIT)
    assert code == 0
    report, submit, data = doc["pdus"]
    assert report["type"] == "SMS-STATUS-REPORT"
    assert (report["reference"], report["status"], report["status_meaning"]) == (
        183,
        0,
        "delivered",
    )
    assert report["number"] == "0829200000"
    assert report["discharge_time"] == "2013-07-17T15:58:14+02:00"
    assert submit["type"] == "SMS-SUBMIT"
    assert (submit["number"], submit["text"], submit["validity_s"]) == (
        "+46708251358",
        "hellohello",
        4 * 86400,
    )
    assert data["encoding"] == "8bit"
    assert data["text"] == ""
    assert data["data_hex"] == "E8329BFD4697D9EC37DE"
    assert [m["number"] for m in doc["messages"]] == ["+46708251358", "+18005551212"]


def test_decode_bare_tpdu(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc, _ = run(capsys, "decode", "--no-smsc", BARE)
    assert code == 0
    assert doc["pdus"][0]["text"] == "Hahahaha"
    assert doc["pdus"][0]["smsc"] is None


def test_decode_reads_a_pasted_modem_dump_from_stdin(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    dump = f"AT+CMGL=4\r\r\n+CMGL: 1,0,,35\r\n{PART_2}\r\n+CMGL: 2,0,,34\r\n{PART_1}\r\n\r\nOK\r\n"
    monkeypatch.setattr(sys, "stdin", io.StringIO(dump))
    code, doc, _ = run(capsys, "decode", "-")
    assert code == 0
    assert len(doc["pdus"]) == 2
    assert doc["messages"][0]["text"] == "Hello, world!"


def test_decode_without_any_pdu(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("OK\r\n"))
    code, out, err = run(capsys, "decode", "-")
    assert (code, out) == (2, "")
    assert "no PDU" in err


def test_encode_one_part(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc, err = run(capsys, "encode", "--to", "+27820001111", "Hello World!")
    assert (code, err) == (0, "")
    assert (
        doc
        == {
            "encoding": "gsm7",
            "parts": [
                {
                    "seq": 1,
                    "total": 1,
                    "cmgs_length": 24,
                    "hex": "0001000B917228001011F100000CC8329BFD065DDF72363904",  # pygsm-encode-1
                }
            ],
        }
    )


def test_encode_with_every_option(capsys: pytest.CaptureFixture[str]) -> None:
    code, doc, _ = run(
        capsys,
        "encode",
        "--to",
        "+123456789",
        "--report",
        "--smsc",
        "+44000000000",
        "--ref",
        "9",
        "--validity",
        "3600",
        "--ucs2",
        "x" * 100,
    )
    assert code == 0
    assert doc["encoding"] == "ucs2"
    assert [p["seq"] for p in doc["parts"]] == [1, 2]
    first = bytes.fromhex(doc["parts"][0]["hex"])
    assert first[8] == 0x01 | 0x10 | 0x20 | 0x40  # SUBMIT, VPF relative, SRR, UDHI
    assert doc["parts"][0]["cmgs_length"] == len(first) - 8


def test_encode_long_text_needs_a_reference(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "encode", "--to", "+1", "x" * 161)
    assert (code, out) == (2, "")
    assert "concat_ref" in err
    assert "--ref" in err


def test_encode_refuses_a_bad_number(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run(capsys, "encode", "--to", "+1 555", "hi")
    assert (code, out) == (2, "")
    assert err.startswith(
        "smsgw pdu encode: destination: '+1 555' is not a phone number"
    )


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["frobnicate"],
        ["decode"],
        ["encode", "hi"],
        ["encode", "--to", "+1", "--ref", "x", "hi"],
    ],
)
def test_usage_errors_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str]
) -> None:
    assert main(argv) == 2
    assert "usage: smsgw pdu" in capsys.readouterr().err


def test_help_explains_the_input_rules(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["decode", "--help"]) == 0
    out = capsys.readouterr().out
    assert '"-"' in out
    assert "skipped" in out
    assert "Exit status" in out


def test_smsgw_pdu_runs_the_tool(capsys: pytest.CaptureFixture[str]) -> None:
    assert smsgw(["pdu", "decode", SINGLE]) == 0
    assert json.loads(capsys.readouterr().out)["pdus"][0]["text"] == "Test2"


def test_python_m_modem_pdutool(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "argv", ["pdutool", "decode", SINGLE])
    monkeypatch.delitem(sys.modules, "modem.pdutool", raising=False)
    with pytest.raises(SystemExit) as info:
        runpy.run_module("modem.pdutool", run_name="__main__")
    assert info.value.code == 0
    assert "Test2" in capsys.readouterr().out

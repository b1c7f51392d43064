"""Command builders: exact text, validation, redaction, patchable deadlines."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from modem.at import commands
from modem.at.commands import Command, InvalidCommand
from modem.errors import ModemError

PDU = bytes.fromhex("0011000B916407281553F80000AA0AE8329BFD4697D9EC37")


@pytest.mark.parametrize(
    ("build", "text", "prefix"),
    [
        (commands.at, "AT", None),
        (lambda: commands.echo(True), "ATE1", None),
        (lambda: commands.echo(False), "ATE0", None),
        (commands.verbose_errors, "AT+CMEE=1", None),
        (lambda: commands.verbose_errors(2), "AT+CMEE=2", None),
        (commands.cgmi, "AT+CGMI", "+CGMI:"),
        (commands.cgmm, "AT+CGMM", "+CGMM:"),
        (commands.cgmr, "AT+CGMR", "+CGMR:"),
        (commands.cgsn, "AT+CGSN", "+CGSN:"),
        (commands.cimi, "AT+CIMI", "+CIMI:"),
        (commands.ati, "ATI", None),
        (commands.ccid, "AT+CCID", "+CCID:"),
        (lambda: commands.ccid("QCCID"), "AT+QCCID", "+QCCID:"),
        (lambda: commands.ccid("ICCID"), "AT+ICCID", "+ICCID:"),
        (lambda: commands.ccid("HUAWEI"), "AT^ICCID?", "^ICCID:"),
        (lambda: commands.ccid("CRSM"), "AT+CRSM=176,12258,0,0,10", "+CRSM:"),
        (commands.cnum, "AT+CNUM", "+CNUM:"),
        (commands.cpin_query, "AT+CPIN?", "+CPIN:"),
        (commands.csq, "AT+CSQ", "+CSQ:"),
        (commands.creg_query, "AT+CREG?", "+CREG:"),
        (lambda: commands.creg_set(2), "AT+CREG=2", None),
        (commands.cgreg_query, "AT+CGREG?", "+CGREG:"),
        (lambda: commands.cgreg_set(0), "AT+CGREG=0", None),
        (commands.cereg_query, "AT+CEREG?", "+CEREG:"),
        (commands.cops_query, "AT+COPS?", "+COPS:"),
        (lambda: commands.cops_format(2), "AT+COPS=3,2", None),
        (commands.cops_auto, "AT+COPS=0", None),
        (commands.cmgf, "AT+CMGF=0", None),
        (lambda: commands.cmgf(pdu=False), "AT+CMGF=1", None),
        (commands.cpms_query, "AT+CPMS?", "+CPMS:"),
        (commands.cpms_support, "AT+CPMS=?", "+CPMS:"),
        (lambda: commands.cpms_set("SM"), 'AT+CPMS="SM"', "+CPMS:"),
        (lambda: commands.cpms_set("SM", "ME"), 'AT+CPMS="SM","ME"', "+CPMS:"),
        (
            lambda: commands.cpms_set("ME", "ME", "SM_P"),
            'AT+CPMS="ME","ME","SM_P"',
            "+CPMS:",
        ),
        (commands.cnmi_support, "AT+CNMI=?", "+CNMI:"),
        (lambda: commands.cnmi_set(2, 1, 0, 2, 0), "AT+CNMI=2,1,0,2,0", None),
        (lambda: commands.cnmi_set(2, 1), "AT+CNMI=2,1,0,0,0", None),
        (lambda: commands.cnmi_set(2, 1, 0, 2, None), "AT+CNMI=2,1,0,2", None),
        (commands.cnma, "AT+CNMA", None),
        (commands.csca_query, "AT+CSCA?", "+CSCA:"),
        (commands.csms, "AT+CSMS?", "+CSMS:"),
        (lambda: commands.csms(1), "AT+CSMS=1", "+CSMS:"),
        (commands.cfun, "AT+CFUN?", "+CFUN:"),
        (lambda: commands.cfun(1), "AT+CFUN=1", None),
        (lambda: commands.cfun(1, reset=True), "AT+CFUN=1,1", None),
        (commands.cscs_query, "AT+CSCS?", "+CSCS:"),
        (commands.cscs_support, "AT+CSCS=?", "+CSCS:"),
        (lambda: commands.cscs_set("GSM"), 'AT+CSCS="GSM"', None),
        (lambda: commands.cusd("*100#"), 'AT+CUSD=1,"*100#",15', None),
        (commands.clac, "AT+CLAC", "+CLAC:"),
        (commands.cmgl, "AT+CMGL=4", "+CMGL:"),
        (lambda: commands.cmgl(0), "AT+CMGL=0", "+CMGL:"),
        (lambda: commands.cmgl("ALL"), 'AT+CMGL="ALL"', "+CMGL:"),
        (lambda: commands.cmgr(12), "AT+CMGR=12", "+CMGR:"),
        (lambda: commands.cmgd(3), "AT+CMGD=3", None),
        (lambda: commands.cmgd(1, 4), "AT+CMGD=1,4", None),
        (lambda: commands.cmgs(23, PDU), "AT+CMGS=23", "+CMGS:"),
        (
            lambda: commands.raw("AT+ZPAS?", prefix="+BEARTYPE:"),
            "AT+ZPAS?",
            "+BEARTYPE:",
        ),
    ],
)
def test_builders_spell_commands_exactly(
    build: Callable[[], Command], text: str, prefix: str | None
) -> None:
    cmd = build()
    assert cmd.text == text
    assert cmd.prefix == prefix
    assert cmd.timeout_s > 0


def test_replies_with_free_lines() -> None:
    assert commands.cgsn().free_lines  # bare IMEI line
    assert commands.cmgl().free_lines  # PDU lines
    assert commands.cmgr(1).free_lines
    assert commands.clac().free_lines  # E1752 lists commands without a prefix
    assert commands.ati().free_lines
    assert not commands.csq().free_lines
    assert commands.raw("AT+X").free_lines
    assert not commands.raw("AT+X", prefix="+X:").free_lines
    assert commands.raw("AT+X", prefix="+X:", free_lines=True).free_lines


def test_cmgs_carries_the_pdu_as_hex_body() -> None:
    cmd = commands.cmgs(23, PDU)
    assert cmd.body == b"0011000B916407281553F80000AA0AE8329BFD4697D9EC37"
    assert cmd.expects_prompt
    assert cmd.timeout_s == commands.CMGS_TIMEOUT_S
    assert not commands.csq().expects_prompt
    assert "body=<48 bytes>" in repr(cmd)


def test_pin_never_shows() -> None:
    cmd = commands.cpin("1234")
    assert cmd.text == 'AT+CPIN="1234"'
    assert cmd.log_text == 'AT+CPIN="****"'
    assert "1234" not in repr(cmd)
    puk = commands.cpin("12345678", "4321")
    assert puk.text == 'AT+CPIN="12345678","4321"'
    assert "4321" not in repr(puk)
    assert "1234" not in repr(puk)
    assert commands.csq().log_text == "AT+CSQ"


def test_deadlines_are_read_when_building_so_tests_can_patch_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(commands, "DEFAULT_TIMEOUT_S", 0.01)
    monkeypatch.setattr(commands, "CMGS_TIMEOUT_S", 0.02)
    assert commands.csq().timeout_s == 0.01
    assert commands.raw("AT+X").timeout_s == 0.01
    assert commands.cmgs(1, b"\x00\x01").timeout_s == 0.02
    assert commands.raw("AT+X", timeout_s=3.0).timeout_s == 3.0


@pytest.mark.parametrize(
    "build",
    [
        lambda: commands.cpin("12"),
        lambda: commands.cpin('1234"\rAT+CMGD=1,4'),
        lambda: commands.cpin("1234", "12a4"),
        lambda: commands.verbose_errors(3),
        lambda: commands.creg_set(True),
        lambda: commands.creg_set(-1),
        lambda: commands.cops_format(5),
        lambda: commands.cpms_set("sm"),
        lambda: commands.cpms_set('SM","ME'),
        lambda: commands.cpms_set("SM", None, "ME"),
        lambda: commands.cnmi_set(2, 1, 0, 3),
        lambda: commands.csms(2),
        lambda: commands.cfun(128),
        lambda: commands.cscs_set('GSM"'),
        lambda: commands.cusd("*100#;ATD1"),
        lambda: commands.cusd("*100#", dcs=256),
        lambda: commands.cmgs(0, PDU),
        lambda: commands.cmgs(25, PDU),
        lambda: commands.cmgs(1, b""),
        lambda: commands.cmgl(5),
        lambda: commands.cmgl("EVERYTHING"),
        lambda: commands.cmgr(-1),
        lambda: commands.cmgd(1, 5),
        lambda: Command(""),
        lambda: Command("AT\rAT+CMGD=1,4"),
        lambda: Command("AT+CSQ\x1a"),
        lambda: Command('AT+CSCS="ÄÖ"'),
        lambda: Command("AT", timeout_s=0),
        lambda: Command("AT", prefix=""),
        lambda: Command("AT+CMGS=1", body=b"00\x1a11"),
        lambda: Command("AT+CMGS=1", body=b"00\x1b"),
    ],
)
def test_what_must_never_reach_the_wire_is_refused(
    build: Callable[[], Command],
) -> None:
    with pytest.raises(InvalidCommand) as info:
        build()
    assert isinstance(info.value, ModemError)
    assert isinstance(info.value, ValueError)


def test_an_invalid_command_error_never_shows_the_pin() -> None:
    with pytest.raises(InvalidCommand) as info:
        Command('AT+CPIN="1234"\r', redacted='AT+CPIN="****"')
    assert "1234" not in str(info.value)

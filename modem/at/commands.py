"""AT command values and their builders: the only place AT command text is spelled out."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

from modem.errors import ModemError

# Deadlines, in seconds, from the first byte written to the final result. Tests patch them.
DEFAULT_TIMEOUT_S = (
    5.0  # local commands answer in milliseconds; 5 s absorbs a busy modem
)
CMGS_TIMEOUT_S = (
    60.0  # waits for the network's answer; SIMCom and Quectel document up to 60 s
)
CMGL_TIMEOUT_S = 30.0  # a full store listed over 9600 baud takes seconds
CMGR_TIMEOUT_S = 10.0  # reads the SIM, which is slow while the modem boots
CMGD_TIMEOUT_S = 10.0  # writes the SIM
CPMS_TIMEOUT_S = 10.0  # selects and counts a SIM store
CPIN_TIMEOUT_S = 10.0  # the SIM checks the PIN itself
CFUN_TIMEOUT_S = 15.0  # radio on/off; Quectel documents 15 s
COPS_TIMEOUT_S = 180.0  # network selection; Quectel and SIMCom document 180 s
CUSD_TIMEOUT_S = 10.0  # only the OK; the answer arrives later as a +CUSD URC

CTRL_Z = 0x1A  # ends a PDU body (TS 27.005 3.5.1)
ESC = 0x1B  # abandons a PDU body

PDU_STATS = range(5)  # AT+CMGL <stat> in PDU mode: 0 unread ... 4 all
TEXT_STATS = ("REC UNREAD", "REC READ", "STO UNSENT", "STO SENT", "ALL")

_STORAGE = re.compile(r"[A-Z][A-Z0-9_]{1,7}")
_PIN = re.compile(r"[0-9]{4,8}")
_USSD = re.compile(r"[0-9*#+]{1,40}")
_CHARSET = re.compile(r"[A-Z0-9-]{1,16}")

CcidVariant = Literal["CCID", "QCCID", "ICCID", "HUAWEI", "CRSM"]


class InvalidCommand(ModemError, ValueError):
    """A command or builder argument that must never reach the wire (control bytes, bad PIN)."""


@dataclass(frozen=True, slots=True, repr=False)
class Command:
    """One AT command line, its deadline, and how to read its reply (see docs/internals.md)."""

    text: str
    timeout_s: float = DEFAULT_TIMEOUT_S
    prefix: str | None = (
        None  # info lines carry it ("+CSQ:"); it beats the URC registry
    )
    free_lines: bool = (
        False  # lines without the prefix are info too (IMEI, PDU lines, +CLAC)
    )
    body: bytes | None = None  # sent after the "> " prompt, followed by Ctrl-Z
    call_results: bool = (
        False  # NO CARRIER, BUSY, NO ANSWER, NO DIALTONE end this command
    )
    redacted: str | None = None  # shown in logs, errors and repr instead of text (PIN)

    def __post_init__(self) -> None:
        if not self.text or not self.text.isascii() or not self.text.isprintable():
            raise InvalidCommand(
                f"command text must be printable ASCII: {self.log_text!r}"
            )
        if not self.timeout_s > 0:
            raise InvalidCommand(f"timeout_s must be positive, got {self.timeout_s!r}")
        if self.prefix == "":
            raise InvalidCommand("prefix must be None or non-empty")
        if self.body is not None and (CTRL_Z in self.body or ESC in self.body):
            # Either byte would end or abandon the body early, and the rest would run as commands.
            raise InvalidCommand("body must not contain Ctrl-Z or ESC")

    @property
    def expects_prompt(self) -> bool:
        """True when the modem answers with "> " and waits for `body`."""
        return self.body is not None

    @property
    def log_text(self) -> str:
        """The text that may be logged: `redacted` when set."""
        return self.text if self.redacted is None else self.redacted

    def __repr__(self) -> str:
        body = "" if self.body is None else f", body=<{len(self.body)} bytes>"
        return f"Command({self.log_text!r}, timeout_s={self.timeout_s:g}{body})"


def _cmd(
    text: str,
    *,
    timeout_s: float | None = None,
    prefix: str | None = None,
    free_lines: bool = False,
    body: bytes | None = None,
    redacted: str | None = None,
) -> Command:
    # DEFAULT_TIMEOUT_S is read at call time, so tests can patch it.
    return Command(
        text,
        timeout_s=DEFAULT_TIMEOUT_S if timeout_s is None else timeout_s,
        prefix=prefix,
        free_lines=free_lines,
        body=body,
        redacted=redacted,
    )


def raw(
    text: str,
    *,
    prefix: str | None = None,
    free_lines: bool | None = None,
    timeout_s: float | None = None,
) -> Command:
    """Any command, for quirks; free_lines defaults to True only when there is no prefix."""
    return _cmd(
        text,
        timeout_s=timeout_s,
        prefix=prefix,
        free_lines=prefix is None if free_lines is None else free_lines,
    )


def _int_arg(name: str, value: int, allowed: range) -> int:
    # type(), not isinstance(): True is an int and would silently become 1
    if type(value) is not int or value not in allowed:
        raise InvalidCommand(f"{name} must be an int in {allowed}, got {value!r}")
    return value


def _storage(name: str) -> str:
    if not _STORAGE.fullmatch(name):
        raise InvalidCommand(f"not a message storage name: {name!r}")
    return name


def at() -> Command:
    """AT: is anyone there."""
    return _cmd("AT")


def echo(on: bool) -> Command:
    """ATE1 / ATE0."""
    return _cmd("ATE1" if on else "ATE0")


def verbose_errors(mode: int = 1) -> Command:
    """AT+CMEE=<mode>: 0 plain ERROR, 1 numeric +CME ERROR, 2 verbose."""
    return _cmd(f"AT+CMEE={_int_arg('mode', mode, range(3))}")


def _identity(name: str) -> Command:
    # Most modems answer with a bare line, some with "+CGMM: ..."; both are info.
    return _cmd(f"AT+{name}", prefix=f"+{name}:", free_lines=True)


def cgmi() -> Command:
    """AT+CGMI: manufacturer."""
    return _identity("CGMI")


def cgmm() -> Command:
    """AT+CGMM: model."""
    return _identity("CGMM")


def cgmr() -> Command:
    """AT+CGMR: firmware revision (Nokia answers with several lines)."""
    return _identity("CGMR")


def cgsn() -> Command:
    """AT+CGSN: IMEI."""
    return _identity("CGSN")


def cimi() -> Command:
    """AT+CIMI: IMSI."""
    return _identity("CIMI")


def ati() -> Command:
    """ATI: free-form identification lines."""
    return _cmd("ATI", free_lines=True)


_CCID_TEXT: dict[CcidVariant, tuple[str, str]] = {
    "CCID": (
        "AT+CCID",
        "+CCID:",
    ),  # SIMCom, u-blox, Telit (some answer with bare digits)
    "QCCID": ("AT+QCCID", "+QCCID:"),  # Quectel
    "ICCID": ("AT+ICCID", "+ICCID:"),  # Sierra, Cinterion
    "HUAWEI": ("AT^ICCID?", "^ICCID:"),  # Huawei, nibble-swapped
    "CRSM": (
        "AT+CRSM=176,12258,0,0,10",
        "+CRSM:",
    ),  # read EF_ICCID from the SIM: any modem
}


def ccid(variant: CcidVariant = "CCID") -> Command:
    """The SIM's ICCID in the vendor's spelling."""
    text, prefix = _CCID_TEXT[variant]
    return _cmd(text, prefix=prefix, free_lines=True)


def cnum() -> Command:
    """AT+CNUM: own numbers, when the SIM knows them."""
    return _cmd("AT+CNUM", prefix="+CNUM:")


def cpin_query() -> Command:
    """AT+CPIN?: READY, SIM PIN, SIM PUK ..."""
    return _cmd("AT+CPIN?", timeout_s=CPIN_TIMEOUT_S, prefix="+CPIN:")


def cpin(pin: str, new_pin: str | None = None) -> Command:
    """AT+CPIN="<pin>" (or PUK and new PIN); never logged in clear."""
    for name, value in (("pin", pin), ("new_pin", new_pin)):
        if value is not None and not _PIN.fullmatch(value):
            raise InvalidCommand(f"{name} must be 4 to 8 digits")
    if new_pin is None:
        text, redacted = f'AT+CPIN="{pin}"', 'AT+CPIN="****"'
    else:
        text, redacted = f'AT+CPIN="{pin}","{new_pin}"', 'AT+CPIN="****","****"'
    # No prefix: the "+CPIN: READY" that may follow is a URC the driver waits for.
    return _cmd(text, timeout_s=CPIN_TIMEOUT_S, redacted=redacted)


def csq() -> Command:
    """AT+CSQ: signal quality."""
    return _cmd("AT+CSQ", prefix="+CSQ:")


def creg_query() -> Command:
    """AT+CREG?: circuit-switched registration."""
    return _cmd("AT+CREG?", prefix="+CREG:")


def creg_set(n: int) -> Command:
    """AT+CREG=<n>: 0 no URC, 1 +CREG: <stat>, 2 with location, 3 with cause."""
    return _cmd(f"AT+CREG={_int_arg('n', n, range(4))}")


def cgreg_query() -> Command:
    """AT+CGREG?: packet-switched registration."""
    return _cmd("AT+CGREG?", prefix="+CGREG:")


def cgreg_set(n: int) -> Command:
    """AT+CGREG=<n>."""
    return _cmd(f"AT+CGREG={_int_arg('n', n, range(4))}")


def cereg_query() -> Command:
    """AT+CEREG?: LTE registration (LTE-only modems report nothing useful in +CREG)."""
    return _cmd("AT+CEREG?", prefix="+CEREG:")


def cops_query() -> Command:
    """AT+COPS?: the current operator."""
    return _cmd("AT+COPS?", prefix="+COPS:")


def cops_format(fmt: int) -> Command:
    """AT+COPS=3,<fmt>: name format for AT+COPS? (0 long, 1 short, 2 numeric)."""
    return _cmd(f"AT+COPS=3,{_int_arg('fmt', fmt, range(3))}")


def cops_auto() -> Command:
    """AT+COPS=0: automatic network selection, which can take minutes."""
    return _cmd("AT+COPS=0", timeout_s=COPS_TIMEOUT_S)


def cmgf(pdu: bool = True) -> Command:
    """AT+CMGF=0 (PDU mode) or =1 (text mode)."""
    return _cmd("AT+CMGF=0" if pdu else "AT+CMGF=1")


def cpms_query() -> Command:
    """AT+CPMS?: selected stores with used and total counts."""
    return _cmd("AT+CPMS?", timeout_s=CPMS_TIMEOUT_S, prefix="+CPMS:")


def cpms_support() -> Command:
    """AT+CPMS=?: stores offered for mem1, mem2, mem3."""
    return _cmd("AT+CPMS=?", prefix="+CPMS:")


def cpms_set(mem1: str, mem2: str | None = None, mem3: str | None = None) -> Command:
    """AT+CPMS="<mem1>"[,"<mem2>"[,"<mem3>"]]; the reply counts used and total per store."""
    mems = (
        [mem1] if mem2 is None else [mem1, mem2] if mem3 is None else [mem1, mem2, mem3]
    )
    if mem2 is None and mem3 is not None:
        raise InvalidCommand("mem3 needs mem2")
    args = ",".join(f'"{_storage(m)}"' for m in mems)
    return _cmd(f"AT+CPMS={args}", timeout_s=CPMS_TIMEOUT_S, prefix="+CPMS:")


def cnmi_support() -> Command:
    """AT+CNMI=?: the new-message indication modes offered."""
    return _cmd("AT+CNMI=?", prefix="+CNMI:")


def cnmi_query() -> Command:
    """AT+CNMI?: the indication modes in force (a reboot silently resets them)."""
    return _cmd("AT+CNMI?", prefix="+CNMI:")


def cnmi_set(
    mode: int, mt: int, bm: int = 0, ds: int = 0, bfr: int | None = 0
) -> Command:
    """AT+CNMI=<mode>,<mt>,<bm>,<ds>[,<bfr>]: how new messages and reports are announced."""
    args = [
        _int_arg("mode", mode, range(4)),
        _int_arg("mt", mt, range(4)),
        _int_arg("bm", bm, range(4)),
        _int_arg("ds", ds, range(3)),
    ]
    if bfr is not None:  # some old firmware (Wavecom) takes four parameters only
        args.append(_int_arg("bfr", bfr, range(2)))
    return _cmd("AT+CNMI=" + ",".join(map(str, args)))


def cnma() -> Command:
    """AT+CNMA: acknowledge a +CMT/+CDS (PDU mode, positive) after it is committed."""
    return _cmd("AT+CNMA")


def csca_query() -> Command:
    """AT+CSCA?: the SMS service centre address."""
    return _cmd("AT+CSCA?", prefix="+CSCA:")


def csms(service: int | None = None) -> Command:
    """AT+CSMS? or AT+CSMS=<service> (1 = phase 2+, needed for +CNMA)."""
    if service is None:
        return _cmd("AT+CSMS?", prefix="+CSMS:")
    return _cmd(f"AT+CSMS={_int_arg('service', service, range(2))}", prefix="+CSMS:")


def cfun(fun: int | None = None, *, reset: bool = False) -> Command:
    """AT+CFUN? or AT+CFUN=<fun>[,1]; setting has no prefix so "+CFUN: 1" stays a URC."""
    if fun is None:
        return _cmd("AT+CFUN?", timeout_s=CFUN_TIMEOUT_S, prefix="+CFUN:")
    text = f"AT+CFUN={_int_arg('fun', fun, range(128))}" + (",1" if reset else "")
    return _cmd(text, timeout_s=CFUN_TIMEOUT_S)


def cscs_query() -> Command:
    """AT+CSCS?: the TE character set."""
    return _cmd("AT+CSCS?", prefix="+CSCS:")


def cscs_support() -> Command:
    """AT+CSCS=?: the character sets offered."""
    return _cmd("AT+CSCS=?", prefix="+CSCS:")


def cscs_set(charset: str) -> Command:
    """AT+CSCS="<charset>"."""
    if not _CHARSET.fullmatch(charset):
        raise InvalidCommand(f"not a character set name: {charset!r}")
    return _cmd(f'AT+CSCS="{charset}"')


def cusd(code: str, dcs: int = 15) -> Command:
    """AT+CUSD=1,"<code>",<dcs>; the network's answer comes later as a +CUSD URC."""
    if not _USSD.fullmatch(code):
        raise InvalidCommand(f"not a USSD code: {code!r}")
    return _cmd(
        f'AT+CUSD=1,"{code}",{_int_arg("dcs", dcs, range(256))}',
        timeout_s=CUSD_TIMEOUT_S,
    )


def clac() -> Command:
    """AT+CLAC: every command the modem knows, one per line, with or without "+CLAC:"."""
    return _cmd("AT+CLAC", prefix="+CLAC:", free_lines=True)


def cmgs(tpdu_length: int, pdu: bytes) -> Command:
    """AT+CMGS=<tpdu_length>, then the PDU (SMSC field first) as hex after the prompt."""
    if not pdu:
        raise InvalidCommand("pdu must not be empty")
    # The SMSC field is not counted; the TPDU cannot be longer than what we send.
    _int_arg("tpdu_length", tpdu_length, range(1, len(pdu) + 1))
    return _cmd(
        f"AT+CMGS={tpdu_length}",
        timeout_s=CMGS_TIMEOUT_S,
        prefix="+CMGS:",
        body=pdu.hex().upper().encode("ascii"),
    )


def cmgl(stat: int | str = 4) -> Command:
    """AT+CMGL=<stat>: 0..4 in PDU mode, or a text-mode name such as "ALL"."""
    if isinstance(stat, str):
        if stat not in TEXT_STATS:
            raise InvalidCommand(f"not a text-mode <stat>: {stat!r}")
        arg = f'"{stat}"'
    else:
        arg = str(_int_arg("stat", stat, PDU_STATS))
    # free_lines: the PDU (or text) under each +CMGL header is info too.
    return _cmd(
        f"AT+CMGL={arg}", timeout_s=CMGL_TIMEOUT_S, prefix="+CMGL:", free_lines=True
    )


def cmgr(index: int) -> Command:
    """AT+CMGR=<index>."""
    text = f"AT+CMGR={_int_arg('index', index, range(100_000))}"
    return _cmd(text, timeout_s=CMGR_TIMEOUT_S, prefix="+CMGR:", free_lines=True)


def cmgd(index: int, delflag: int = 0) -> Command:
    """AT+CMGD=<index>[,<delflag>]; delflag 0 is sent as the short form old modems accept."""
    text = f"AT+CMGD={_int_arg('index', index, range(100_000))}"
    if _int_arg("delflag", delflag, range(5)):
        text += f",{delflag}"
    return _cmd(text, timeout_s=CMGD_TIMEOUT_S)

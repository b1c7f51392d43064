"""PURE AT interpreter of the simulated modem: a command line and the state in, a Reply out."""

# No I/O, no clock, no logging: the owner passes `now` (epoch seconds), writes the framed
# reply, and acts on what the Reply asks for (submissions to the network, a reboot).

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Literal

from modem.sim import textmode
from modem.sim.state import (
    CMGS_MAX_TPDU_OCTETS,
    DEFAULT_PIN_ATTEMPTS,
    Cnmi,
    MessageStat,
    PendingSubmit,
    PinState,
    Registration,
    SimState,
    StorageFull,
    StoredMessage,
    SubmittedPdu,
)

CTRL_Z = "\x1a"
ESC = "\x1b"
USSD_REPLY = "Your balance is 10.00 SIM"

CME_TEXT: dict[int, str] = {
    3: "operation not allowed",
    4: "operation not supported",
    10: "SIM not inserted",
    11: "SIM PIN required",
    12: "SIM PUK required",
    13: "SIM failure",
    16: "incorrect password",
    21: "invalid index",
    30: "no network service",
    50: "incorrect parameters",
    100: "unknown",
}

CMS_TEXT: dict[int, str] = {
    21: "short message transfer rejected",
    38: "network out of order",
    41: "temporary failure",
    42: "congestion",
    300: "ME failure",
    301: "SMS service of ME reserved",
    302: "operation not allowed",
    303: "operation not supported",
    304: "invalid PDU mode parameter",
    305: "invalid text mode parameter",
    310: "SIM not inserted",
    311: "SIM PIN required",
    316: "SIM PUK required",
    320: "memory failure",
    321: "invalid memory index",
    322: "memory full",
    330: "SMSC address unknown",
    331: "no network service",
    332: "network timeout",
    340: "no +CNMA acknowledgement expected",
    500: "unknown error",
}


class Op(enum.Enum):
    """How a command was written: `AT+X`, `AT+X?`, `AT+X=?` or `AT+X=...`."""

    EXEC = "exec"
    READ = "read"
    TEST = "test"
    SET = "set"


@dataclass(frozen=True, slots=True)
class Command:
    """One command of a command line (`+CMEE=1` out of `AT+CMEE=1;+CREG=2`)."""

    name: str  # upper case: "" for a bare AT, "E", "&F", "S0", "+CMGS", "^ICCID"
    op: Op
    args: tuple[str, ...] = ()  # quotes removed; "" for an omitted parameter

    @property
    def counter_key(self) -> str:
        """The key under which SimState.command_counts counts it ("AT+CMGS")."""
        return "AT" + self.name

    def arg_int(self, i: int, default: int | None = None) -> int:
        """Parameter i as an integer; raises Failure(50) when absent or not a number."""
        if i < len(self.args) and self.args[i] != "":
            try:
                return int(self.args[i])
            except ValueError:
                raise Failure.cme(50) from None
        if default is None:
            raise Failure.cme(50)
        return default


@dataclass(frozen=True, slots=True)
class Reply:
    """What the modem answers to one line, and what its owner must do next."""

    lines: tuple[str, ...] = ()  # info lines then the final result, unframed
    prompt: bool = False  # "\r\n> " follows: the body comes next (see handle_body)
    urcs_after: tuple[str, ...] = ()  # unsolicited lines to print after the reply
    submitted: tuple[SubmittedPdu, ...] = ()  # messages handed to the network
    acks: int = 0  # +CNMA acknowledgements in this line
    nacks: int = 0  # +CNMA=2: the host refused a +CMT delivery
    reboot: bool = False  # AT+CFUN=1,1 and friends
    storage_changed: bool = (
        False  # slots were freed: the network may retry held messages
    )
    ignored: bool = False  # not an AT command line: real modems stay silent
    breaks: tuple[
        int, ...
    ] = ()  # indexes of lines that start another command's info block

    @property
    def final(self) -> str | None:
        """The final result line, if the reply has one."""
        return self.lines[-1] if self.lines and not self.prompt else None


class Failure(Exception):
    """A command failed: ends the line with ERROR, +CME ERROR or +CMS ERROR."""

    def __init__(
        self, kind: Literal["plain", "cme", "cms"], code: int = 0, text: str = "ERROR"
    ) -> None:
        super().__init__(f"{kind} {code} {text}")
        self.kind = kind
        self.code = code
        self.text = text

    @classmethod
    def cme(cls, code: int) -> Failure:
        return cls("cme", code)

    @classmethod
    def cms(cls, code: int) -> Failure:
        return cls("cms", code)

    @classmethod
    def plain(cls, text: str = "ERROR") -> Failure:
        return cls("plain", 0, text)

    def render(self, cmee: int) -> str:
        """The final result line under the current AT+CMEE setting."""
        if self.kind == "plain" or cmee == 0:
            return self.text if self.kind == "plain" else "ERROR"
        prefix = "+CME ERROR: " if self.kind == "cme" else "+CMS ERROR: "
        if cmee == 1:
            return f"{prefix}{self.code}"
        table = CME_TEXT if self.kind == "cme" else CMS_TEXT
        return prefix + table.get(self.code, "unknown")


@dataclass(slots=True)
class _Ctx:
    """Accumulates one line's effects while its commands run."""

    state: SimState
    now: float
    lines: list[str] = field(default_factory=list)
    urcs: list[str] = field(default_factory=list)
    submitted: list[SubmittedPdu] = field(default_factory=list)
    prompt: bool = False
    acks: int = 0
    nacks: int = 0
    reboot: bool = False
    storage_changed: bool = False
    breaks: list[int] = field(default_factory=list)

    def reply(self, final: str) -> Reply:
        return Reply(
            lines=(*self.lines, final) if not self.prompt else tuple(self.lines),
            prompt=self.prompt,
            urcs_after=tuple(self.urcs),
            submitted=tuple(self.submitted),
            acks=self.acks,
            nacks=self.nacks,
            reboot=self.reboot,
            storage_changed=self.storage_changed,
            breaks=tuple(self.breaks),
        )


Handler = Callable[[Command, _Ctx], None]


@dataclass(frozen=True, slots=True)
class _Entry:
    handler: Handler
    needs_sim: bool = False
    sms: bool = False  # errors are +CMS ERROR rather than +CME ERROR


# ---------------------------------------------------------------- parsing


def _split_outside_quotes(text: str, sep: str) -> list[str]:
    parts: list[str] = []
    current: list[str] = []
    quoted = False
    for ch in text:
        if ch == '"':
            quoted = not quoted
        if ch == sep and not quoted:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return parts


def _parse_args(text: str) -> tuple[str, ...]:
    return tuple(
        a.strip().removeprefix('"').removesuffix('"')
        for a in _split_outside_quotes(text, ",")
    )


def _parse_extended(segment: str) -> Command:
    end = len(segment)
    for i, ch in enumerate(segment):
        if ch in "=?":
            end = i
            break
    name, rest = segment[:end].upper(), segment[end:]
    if rest == "":
        return Command(name, Op.EXEC)
    if rest == "?":
        return Command(name, Op.READ)
    if rest == "=?":
        return Command(name, Op.TEST)
    if rest.startswith("="):
        return Command(name, Op.SET, _parse_args(rest[1:]))
    raise Failure.plain()


def _parse_basic(segment: str) -> list[Command]:
    commands: list[Command] = []
    i = 0
    while i < len(segment):
        if segment[i] in "+^$%*#":
            commands.append(_parse_extended(segment[i:]))
            break
        start = i
        if segment[i] == "&":
            i += 1
        if i >= len(segment) or not segment[i].isalpha():
            raise Failure.plain()
        i += 1
        while i < len(segment) and segment[i].isdigit():
            i += 1
        name = segment[start:i].upper()
        if name.startswith("S") and len(name) > 1:
            # S-registers: ATS0=0, ATS3?
            if segment[i : i + 1] == "?":
                commands.append(Command(name, Op.READ))
                i += 1
                continue
            if segment[i : i + 1] == "=":
                j = i + 1
                while j < len(segment) and segment[j].isdigit():
                    j += 1
                commands.append(Command(name, Op.SET, (segment[i + 1 : j],)))
                i = j
                continue
        letters = name.rstrip("0123456789")
        commands.append(Command(letters, Op.SET, (name[len(letters) :],)))
    return commands


def parse_line(line: str) -> list[Command]:
    """The commands of one command line (without the trailing CR); raises Failure."""
    body = line.strip()[2:]
    if not body.strip():
        return [Command("", Op.EXEC)]
    commands: list[Command] = []
    for segment in _split_outside_quotes(body, ";"):
        segment = segment.strip()
        if segment[:2].upper() == "AT":
            segment = segment[2:]
        if segment:
            commands.extend(_parse_basic(segment))
    return commands


# ---------------------------------------------------------------- entry points


def is_command_line(line: str) -> bool:
    """True when the line starts with the AT prefix; modems ignore anything else."""
    return line.strip()[:2].upper() == "AT"


def handle(line: str, state: SimState, now: float) -> Reply:
    """Run one command line against the state and return the modem's answer."""
    if not is_command_line(line):
        return Reply(ignored=True)
    ctx = _Ctx(state, now)
    try:
        commands = parse_line(line)
    except Failure as failure:
        return ctx.reply(failure.render(state.cmee))
    for cmd in commands:
        if ctx.lines:
            ctx.breaks.append(len(ctx.lines))
        state.command_counts[cmd.counter_key] += 1
        entry = _lookup(cmd.name, state)
        if entry is None:
            return ctx.reply(state.profile.unsupported_reply)
        try:
            if entry.needs_sim and not state.sim_ready:
                raise _sim_failure(state, sms=entry.sms)
            entry.handler(cmd, ctx)
        except textmode.TextModeError:
            return ctx.reply(Failure.cms(500).render(state.cmee))
        except Failure as failure:
            if entry.sms and failure.kind == "cme" and failure.code == 50:
                failure = Failure.cms(304 if state.cmgf == 0 else 305)
            return ctx.reply(failure.render(state.cmee))
        if ctx.prompt:
            # the rest of the line is lost: the body comes next
            return ctx.reply("")
    return ctx.reply("OK")


def handle_body(
    body: str, state: SimState, now: float, *, cancel: bool = False
) -> Reply:
    """The text after the `> ` prompt, up to Ctrl-Z (or ESC when `cancel`)."""
    pending = state.pending_submit
    state.pending_submit = None
    if pending is None:
        return Reply(ignored=True)
    ctx = _Ctx(state, now)
    if cancel:
        return ctx.reply("OK")
    try:
        if pending.pdu_mode:
            pdu = _checked_pdu(body, pending.tpdu_length)
        else:
            pdu = textmode.submit_pdu(body, pending.destination, state)
        if pending.command == "+CMGW":
            _store_written(ctx, pdu, pending.stat)
        else:
            _submit(ctx, pdu)
    except textmode.TextModeError:
        return ctx.reply(Failure.cms(305).render(state.cmee))
    except Failure as failure:
        return ctx.reply(failure.render(state.cmee))
    return ctx.reply("OK")


def _lookup(name: str, state: SimState) -> _Entry | None:
    entry = _TABLE.get(name)
    if entry is not None:
        return entry
    if any(name == cmd for cmd, _ in state.profile.iccid_commands):
        return _Entry(_iccid)
    if name in state.profile.ok_commands:
        return _VENDOR_TABLE.get(name, _Entry(_vendor_ok))
    return None


def _sim_failure(state: SimState, *, sms: bool) -> Failure:
    if state.pin_state is PinState.SIM_PUK:
        return Failure.cms(316) if sms else Failure.cme(12)
    return Failure.cms(311) if sms else Failure.cme(11)


# ---------------------------------------------------------------- URCs (used by the owner)


def cmti(storage: str, index: int) -> str:
    """+CMTI: a new message was stored."""
    return f'+CMTI: "{storage}",{index}'


def cdsi(storage: str, index: int) -> str:
    """+CDSI: a status report was stored."""
    return f'+CDSI: "{storage}",{index}'


def cmt(pdu: bytes, tpdu_length: int, state: SimState) -> str:
    """+CMT: a message routed straight to the host (two lines)."""
    if state.cmgf == 1:
        return textmode.cmt(pdu, state)
    return f"+CMT: ,{tpdu_length}\r\n{pdu.hex().upper()}"


def cds(pdu: bytes, tpdu_length: int, state: SimState) -> str:
    """+CDS: a status report routed straight to the host."""
    if state.cmgf == 1:
        return textmode.cds(pdu)
    return f"+CDS: {tpdu_length}\r\n{pdu.hex().upper()}"


def creg_urc(state: SimState, name: str = "+CREG") -> str | None:
    """The +CREG/+CGREG URC for the current registration, if the host asked for them."""
    n = state.creg_n if name == "+CREG" else state.cgreg_n
    if n == 0:
        return None
    return _creg_line(name, state, n, urc=True)


def boot_banners(state: SimState) -> tuple[str, ...]:
    """What the modem prints on its own after a (re)boot."""
    return tuple(
        b.format(cpin=state.pin_state.value) for b in state.profile.boot_banners
    )


def frame(reply: Reply) -> bytes:
    """The bytes of a reply as a modem sends them (ATV1): the info block, then the final result."""
    # Info lines are separated by one CRLF (a +CMGL header and its PDU, ATI's lines); the
    # final result stands apart, as in `\r\n+CSQ: 20,99\r\n\r\nOK\r\n`.
    info = reply.lines if reply.prompt else reply.lines[:-1]
    out = b""
    for i, line in enumerate(info):
        # each command of a chain answers in its own block
        out += b"\r\n" + line.encode() if i == 0 or i in reply.breaks else line.encode()
        out += b"\r\n"
    if reply.prompt:
        return out + b"\r\n> "
    if reply.lines:
        out += b"\r\n" + reply.lines[-1].encode() + b"\r\n"
    return out


def frame_urc(urc: str) -> bytes:
    """The bytes of one unsolicited result (a two-line URC carries its inner CRLF)."""
    return b"\r\n" + urc.encode() + b"\r\n"


# ---------------------------------------------------------------- basic commands


def _require(cond: bool, failure: Failure | None = None) -> None:
    if not cond:
        raise failure or Failure.cme(50)


def _at(cmd: Command, ctx: _Ctx) -> None:
    """Bare AT."""


def _echo(cmd: Command, ctx: _Ctx) -> None:
    value = cmd.args[0] if cmd.args else "0"
    _require(value in ("", "0", "1"), Failure.plain())
    ctx.state.echo = value == "1"


def _only_default(default: str) -> Handler:
    def handler(cmd: Command, ctx: _Ctx) -> None:
        value = cmd.args[0] if cmd.args else ""
        # verbose result codes and results on are all this modem speaks
        _require(value in ("", default), Failure.plain())

    return handler


def _reset(cmd: Command, ctx: _Ctx) -> None:
    ctx.state.reset_settings()


def _ok(cmd: Command, ctx: _Ctx) -> None:
    """Accepted and ignored (&C, &D, &W, X, ATS registers)."""


def _s_register(cmd: Command, ctx: _Ctx) -> None:
    if cmd.op is Op.READ:
        ctx.lines.append("000")


def _ati(cmd: Command, ctx: _Ctx) -> None:
    s = ctx.state
    ctx.lines.extend(
        (
            f"Manufacturer: {s.manufacturer}",
            f"Model: {s.model}",
            f"Revision: {s.revision}",
        )
    )
    ctx.lines.append(f"IMEI: {s.imei}")


def _vendor_ok(cmd: Command, ctx: _Ctx) -> None:
    """A vendor switch this simulator accepts without modelling it."""


# ---------------------------------------------------------------- identity


def _identity(attr: str) -> Handler:
    def handler(cmd: Command, ctx: _Ctx) -> None:
        if cmd.op is Op.TEST:
            return
        _require(cmd.op is Op.EXEC, Failure.plain())
        ctx.lines.append(str(getattr(ctx.state, attr)))

    return handler


def _iccid(cmd: Command, ctx: _Ctx) -> None:
    if cmd.op is Op.TEST:
        return
    template = dict(ctx.state.profile.iccid_commands)[cmd.name]
    ctx.lines.append(template.format(iccid=ctx.state.iccid))


def _cnum(cmd: Command, ctx: _Ctx) -> None:
    if cmd.op is Op.TEST:
        return
    number = ctx.state.own_number
    ctx.lines.append(f'+CNUM: "","{number}",{145 if number.startswith("+") else 129}')


def _gcap(cmd: Command, ctx: _Ctx) -> None:
    if cmd.op is Op.EXEC:
        ctx.lines.append("+GCAP: +CGSM")


# ---------------------------------------------------------------- settings


def _cmee(cmd: Command, ctx: _Ctx) -> None:
    _setting(cmd, ctx, "cmee", "+CMEE", range(3), "(0-2)")


def _setting(
    cmd: Command, ctx: _Ctx, attr: str, name: str, allowed: range, test: str
) -> None:
    if cmd.op is Op.READ:
        ctx.lines.append(f"{name}: {getattr(ctx.state, attr)}")
    elif cmd.op is Op.TEST:
        ctx.lines.append(f"{name}: {test}")
    elif cmd.op is Op.SET:
        value = cmd.arg_int(0, 0)
        _require(value in allowed)
        setattr(ctx.state, attr, value)
    else:
        raise Failure.plain()


def _cmgf(cmd: Command, ctx: _Ctx) -> None:
    _setting(cmd, ctx, "cmgf", "+CMGF", range(2), "(0,1)")


def _csdh(cmd: Command, ctx: _Ctx) -> None:
    _setting(cmd, ctx, "csdh", "+CSDH", range(2), "(0,1)")


def _cmms(cmd: Command, ctx: _Ctx) -> None:
    _setting(cmd, ctx, "cmms", "+CMMS", range(3), "(0-2)")


def _cscs(cmd: Command, ctx: _Ctx) -> None:
    choices = ctx.state.profile.cscs_choices
    if cmd.op is Op.READ:
        ctx.lines.append(f'+CSCS: "{ctx.state.cscs}"')
    elif cmd.op is Op.TEST:
        ctx.lines.append("+CSCS: (" + ",".join(f'"{c}"' for c in choices) + ")")
    elif cmd.op is Op.SET:
        charset = cmd.args[0].upper() if cmd.args else ""
        _require(charset in choices, Failure.cme(4))
        ctx.state.cscs = charset
    else:
        raise Failure.plain()


def _csms(cmd: Command, ctx: _Ctx) -> None:
    if cmd.op is Op.READ:
        ctx.lines.append(f"+CSMS: {ctx.state.csms},1,1,1")
    elif cmd.op is Op.TEST:
        ctx.lines.append("+CSMS: (0,1)")
    elif cmd.op is Op.SET:
        value = cmd.arg_int(0)
        _require(value in (0, 1), Failure.cms(303))
        ctx.state.csms = value
        ctx.lines.append("+CSMS: 1,1,1")
    else:
        raise Failure.plain()


def _csmp(cmd: Command, ctx: _Ctx) -> None:
    state = ctx.state
    if cmd.op is Op.READ:
        ctx.lines.append("+CSMP: " + ",".join(str(v) for v in state.csmp))
    elif cmd.op is Op.SET:
        current = state.csmp
        state.csmp = (
            cmd.arg_int(0, current[0]),
            cmd.arg_int(1, current[1]),
            cmd.arg_int(2, current[2]),
            cmd.arg_int(3, current[3]),
        )
    elif cmd.op is not Op.TEST:
        raise Failure.plain()


def _cfun(cmd: Command, ctx: _Ctx) -> None:
    if cmd.op is Op.READ:
        ctx.lines.append(f"+CFUN: {ctx.state.cfun}")
    elif cmd.op is Op.TEST:
        ctx.lines.append("+CFUN: (0,1,4),(0,1)")
    elif cmd.op is Op.SET:
        fun = cmd.arg_int(0)
        _require(fun in (0, 1, 4))
        ctx.state.cfun = fun
        if cmd.arg_int(1, 0) == 1:
            ctx.reboot = True
    else:
        raise Failure.plain()


def _cbc(cmd: Command, ctx: _Ctx) -> None:
    if cmd.op is Op.EXEC:
        ctx.lines.append(f"+CBC: 0,{ctx.state.battery_percent}")
    elif cmd.op is not Op.TEST:
        raise Failure.plain()


def _chup(cmd: Command, ctx: _Ctx) -> None:
    _require(cmd.op in (Op.EXEC, Op.TEST), Failure.plain())


def _cusd(cmd: Command, ctx: _Ctx) -> None:
    if cmd.op is Op.READ:
        ctx.lines.append(f"+CUSD: {ctx.state.cusd}")
    elif cmd.op is Op.TEST:
        ctx.lines.append("+CUSD: (0-2)")
    elif cmd.op is Op.SET:
        n = cmd.arg_int(0, ctx.state.cusd)
        _require(n in (0, 1, 2))
        ctx.state.cusd = n
        if len(cmd.args) > 1 and cmd.args[1]:
            if not ctx.state.registration.registered:
                raise Failure.cme(30)
            ctx.urcs.append(f'+CUSD: 0,"{USSD_REPLY}",15')
    else:
        raise Failure.plain()


def _cclk(cmd: Command, ctx: _Ctx) -> None:
    if cmd.op is Op.READ:
        t = datetime.fromtimestamp(ctx.now, UTC)
        ctx.lines.append(t.strftime('+CCLK: "%y/%m/%d,%H:%M:%S+00"'))
    elif cmd.op is not Op.SET:
        raise Failure.plain()


def _curc(cmd: Command, ctx: _Ctx) -> None:
    _setting(cmd, ctx, "huawei_curc", "^CURC", range(2), "(0-1)")


# ---------------------------------------------------------------- SIM


def _cpin(cmd: Command, ctx: _Ctx) -> None:
    state = ctx.state
    if cmd.op is Op.READ:
        ctx.lines.append(f"+CPIN: {state.pin_state.value}")
        return
    if cmd.op is Op.TEST:
        return
    _require(cmd.op is Op.SET and bool(cmd.args) and cmd.args[0] != "")
    if state.pin_state is PinState.READY:
        raise Failure.cme(3)
    if state.pin_state is PinState.SIM_PIN:
        if cmd.args[0] != state.pin:
            state.pin_attempts -= 1
            if state.pin_attempts <= 0:
                state.pin_state = PinState.SIM_PUK
            raise Failure.cme(16)
    else:
        _require(len(cmd.args) >= 2 and cmd.args[1] != "")
        if cmd.args[0] != state.puk:
            state.puk_attempts -= 1
            raise Failure.cme(16)
        state.pin = cmd.args[1]
    state.pin_state = PinState.READY
    state.pin_attempts = DEFAULT_PIN_ATTEMPTS
    # after unlocking, modems print the rest of their boot banners (+CPIN: READY, SMS Ready)
    banners = boot_banners(state)
    cpin_at = next((i for i, b in enumerate(banners) if b.startswith("+CPIN:")), None)
    if cpin_at is not None:
        ctx.urcs.extend(banners[cpin_at:])


# ---------------------------------------------------------------- network


def _csq(cmd: Command, ctx: _Ctx) -> None:
    if cmd.op is Op.TEST:
        ctx.lines.append("+CSQ: (0-31,99),(0-7,99)")
        return
    _require(cmd.op is Op.EXEC, Failure.plain())
    state = ctx.state
    rssi = state.rssi if state.registration.registered and state.cfun == 1 else 99
    ctx.lines.append(f"+CSQ: {rssi},{state.ber}")


def _effective_registration(state: SimState) -> Registration:
    if state.cfun != 1 or not state.sim_ready:
        return Registration.NOT_REGISTERED
    return state.registration


def _creg_line(name: str, state: SimState, n: int, *, urc: bool = False) -> str:
    stat = _effective_registration(state)
    head = f"{name}: " if urc else f"{name}: {n},"
    if n >= 2 and stat.registered:
        return f'{head}{int(stat)},"{state.lac}","{state.cell_id}"'
    return f"{head}{int(stat)}"


def _registration(name: str, attr: str) -> Handler:
    def handler(cmd: Command, ctx: _Ctx) -> None:
        if cmd.op is Op.READ:
            ctx.lines.append(_creg_line(name, ctx.state, getattr(ctx.state, attr)))
        elif cmd.op is Op.TEST:
            ctx.lines.append(f"{name}: (0-2)")
        elif cmd.op is Op.SET:
            n = cmd.arg_int(0, 0)
            _require(n in (0, 1, 2))
            setattr(ctx.state, attr, n)
        else:
            raise Failure.plain()

    return handler


def _cgatt(cmd: Command, ctx: _Ctx) -> None:
    state = ctx.state
    if cmd.op is Op.READ:
        attached = state.gprs_attached and _effective_registration(state).registered
        ctx.lines.append(f"+CGATT: {int(attached)}")
    elif cmd.op is Op.TEST:
        ctx.lines.append("+CGATT: (0,1)")
    elif cmd.op is Op.SET:
        value = cmd.arg_int(0)
        _require(value in (0, 1))
        state.gprs_attached = value == 1
    else:
        raise Failure.plain()


def _cops(cmd: Command, ctx: _Ctx) -> None:
    state = ctx.state
    if cmd.op is Op.READ:
        if not _effective_registration(state).registered:
            ctx.lines.append("+COPS: 0")
            return
        fmt = state.cops_format
        oper = state.operator_numeric if fmt == 2 else state.operator_name
        ctx.lines.append(f'+COPS: 0,{fmt},"{oper}",{state.act}')
    elif cmd.op is Op.TEST:
        ctx.lines.append(
            f'+COPS: (2,"{state.operator_name}","{state.operator_name}",'
            f'"{state.operator_numeric}",{state.act}),,(0-4),(0-2)'
        )
    elif cmd.op is Op.SET:
        mode = cmd.arg_int(0)
        _require(mode in (0, 1, 2, 3, 4))
        if len(cmd.args) > 1 and cmd.args[1] != "":
            fmt = cmd.arg_int(1)
            _require(fmt in (0, 1, 2))
            if mode == 3:
                state.cops_format = fmt
        if mode in (1, 4) and len(cmd.args) > 2:
            wanted = cmd.args[2]
            if wanted not in (state.operator_name, state.operator_numeric):
                raise Failure.cme(30)
    else:
        raise Failure.plain()


# ---------------------------------------------------------------- SMS settings


def _csca(cmd: Command, ctx: _Ctx) -> None:
    state = ctx.state
    if cmd.op is Op.READ:
        ctx.lines.append(f'+CSCA: "{state.csca}",{state.csca_type}')
    elif cmd.op is Op.SET:
        _require(bool(cmd.args) and cmd.args[0] != "")
        state.csca = cmd.args[0]
        state.csca_type = cmd.arg_int(1, 145 if state.csca.startswith("+") else 129)
    elif cmd.op is not Op.TEST:
        raise Failure.plain()


def _cpms(cmd: Command, ctx: _Ctx) -> None:
    state = ctx.state
    profile = state.profile
    if cmd.op is Op.TEST:
        ctx.lines.append(profile.cpms_test)
        return
    if cmd.op is Op.READ:
        parts = []
        for mem in state.cpms:
            store = state.storage(mem)
            parts.append(f'"{mem}",{store.used},{store.capacity}')
        ctx.lines.append("+CPMS: " + ",".join(parts))
        return
    _require(cmd.op is Op.SET and 1 <= len(cmd.args) <= 3, Failure.cms(302))
    choices = (profile.mem1_choices, profile.mem2_choices, profile.mem3_choices)
    selected = list(state.cpms)
    for i, mem in enumerate(cmd.args):
        mem = mem.upper()
        if mem == "":
            continue
        if mem not in choices[i]:
            raise Failure.cms(302)
        selected[i] = mem
    state.cpms = (selected[0], selected[1], selected[2])
    counts = []
    for mem in state.cpms:
        store = state.storage(mem)
        counts.append(f"{store.used},{store.capacity}")
    ctx.lines.append("+CPMS: " + ",".join(counts))


def _cnmi(cmd: Command, ctx: _Ctx) -> None:
    state = ctx.state
    if cmd.op is Op.READ:
        ctx.lines.append("+CNMI: " + ",".join(str(v) for v in state.cnmi.as_tuple()))
        return
    if cmd.op is Op.TEST:
        ctx.lines.append(state.profile.cnmi_test)
        return
    _require(cmd.op is Op.SET and 1 <= len(cmd.args) <= 5, Failure.cms(302))
    current = state.cnmi.as_tuple()
    allowed = state.profile.cnmi_allowed
    values = []
    for i in range(5):
        value = cmd.arg_int(i, current[i])
        if i < len(allowed) and value not in allowed[i]:
            raise Failure.cms(303)
        values.append(value)
    state.cnmi = Cnmi(*values)
    if state.cnmi.mode != 0:
        if state.cnmi.bfr == 0:
            ctx.urcs.extend(state.buffered_urcs)
        state.buffered_urcs.clear()


def _cnma(cmd: Command, ctx: _Ctx) -> None:
    state = ctx.state
    if cmd.op is Op.TEST:
        ctx.lines.append("+CNMA: (0-2)")
        return
    _require(cmd.op in (Op.EXEC, Op.SET), Failure.plain())
    if state.awaiting_ack <= 0:
        raise Failure.cms(340)
    state.awaiting_ack -= 1
    if cmd.op is Op.SET and cmd.arg_int(0, 0) == 2:
        ctx.nacks += 1
    else:
        ctx.acks += 1
        state.acked += 1


# ---------------------------------------------------------------- message store


def _mem(state: SimState, which: int) -> str:
    return state.cpms[which]


def _read_slot(state: SimState, index: int) -> tuple[str, StoredMessage]:
    mem = _mem(state, 0)
    store = state.storage(mem)
    msg = store.messages.get(index)
    if msg is None:
        raise Failure.cms(321)
    return mem, msg


def _cmgl(cmd: Command, ctx: _Ctx) -> None:
    state = ctx.state
    if cmd.op is Op.TEST:
        if state.cmgf == 1:
            ctx.lines.append(
                '+CMGL: ("REC UNREAD","REC READ","STO UNSENT","STO SENT","ALL")'
            )
        else:
            ctx.lines.append("+CMGL: (0-4)")
        return
    _require(cmd.op in (Op.EXEC, Op.SET), Failure.plain())
    wanted = _cmgl_filter(cmd, state)
    store = state.storage(_mem(state, 0))
    for msg in store.listing():
        if wanted is not None and msg.stat is not wanted:
            continue
        if state.cmgf == 1:
            ctx.lines.extend(textmode.cmgl_lines(msg, state))
        else:
            ctx.lines.append(f"+CMGL: {msg.index},{int(msg.stat)},,{msg.tpdu_length}")
            ctx.lines.append(msg.pdu.hex().upper())
        store.mark_read(msg.index)


def _cmgl_filter(cmd: Command, state: SimState) -> MessageStat | None:
    if state.cmgf == 1:
        name = (cmd.args[0] if cmd.args else "REC UNREAD").upper()
        if name == "ALL":
            return None
        for stat in MessageStat:
            if stat.text == name:
                return stat
        raise Failure.cms(305)
    value = cmd.arg_int(0, 0)
    if value == 4:
        return None
    if value not in (0, 1, 2, 3):
        raise Failure.cms(304)
    return MessageStat(value)


def _cmgr(cmd: Command, ctx: _Ctx) -> None:
    state = ctx.state
    if cmd.op is Op.TEST:
        return
    _require(cmd.op is Op.SET)
    mem, msg = _read_slot(state, cmd.arg_int(0))
    if state.cmgf == 1:
        ctx.lines.extend(textmode.cmgr_lines(msg, state))
    else:
        ctx.lines.append(f"+CMGR: {int(msg.stat)},,{msg.tpdu_length}")
        ctx.lines.append(msg.pdu.hex().upper())
    state.storage(mem).mark_read(msg.index)


_DELFLAG_KEEP: dict[int, frozenset[MessageStat]] = {
    1: frozenset(
        {MessageStat.REC_UNREAD, MessageStat.STO_UNSENT, MessageStat.STO_SENT}
    ),
    2: frozenset({MessageStat.REC_UNREAD, MessageStat.STO_UNSENT}),
    3: frozenset({MessageStat.REC_UNREAD}),
    4: frozenset(),
}


def _cmgd(cmd: Command, ctx: _Ctx) -> None:
    state = ctx.state
    store = state.storage(_mem(state, 0))
    if cmd.op is Op.TEST:
        used = ",".join(str(i) for i in sorted(store.messages))
        ctx.lines.append(f"+CMGD: ({used}),(0-4)")
        return
    _require(cmd.op is Op.SET)
    index = cmd.arg_int(0, store.first_index)
    flag = cmd.arg_int(1, 0)
    if flag not in (0, 1, 2, 3, 4):
        raise Failure.cms(304 if state.cmgf == 0 else 305)
    if flag == 0:
        if not store.valid_index(index):
            raise Failure.cms(321)
        if store.messages.pop(index, None) is not None:
            ctx.storage_changed = True
        return
    keep = _DELFLAG_KEEP[flag]
    for i in [i for i, m in store.messages.items() if m.stat not in keep]:
        del store.messages[i]
        ctx.storage_changed = True


# ---------------------------------------------------------------- sending


def _cmgs(cmd: Command, ctx: _Ctx) -> None:
    _start_body(cmd, ctx, "+CMGS")


def _cmgw(cmd: Command, ctx: _Ctx) -> None:
    _start_body(cmd, ctx, "+CMGW")


def _start_body(cmd: Command, ctx: _Ctx, name: str) -> None:
    state = ctx.state
    if cmd.op is Op.TEST:
        return
    _require(cmd.op is Op.SET or (name == "+CMGW" and cmd.op is Op.EXEC))
    if state.cmgf == 0:
        length = cmd.arg_int(0)
        _require(1 <= length <= CMGS_MAX_TPDU_OCTETS, Failure.cms(304))
        stat = (
            MessageStat(cmd.arg_int(1, 2))
            if name == "+CMGW"
            else MessageStat.STO_UNSENT
        )
        pending = PendingSubmit(name, pdu_mode=True, tpdu_length=length, stat=stat)
    else:
        destination = cmd.args[0] if cmd.args else ""
        _require(name == "+CMGW" or destination != "", Failure.cms(305))
        pending = PendingSubmit(name, pdu_mode=False, destination=destination)
    state.pending_submit = pending
    ctx.prompt = True


def _checked_pdu(body: str, tpdu_length: int) -> bytes:
    text = "".join(body.split())
    try:
        data = bytes.fromhex(text)
    except ValueError:
        raise Failure.cms(304) from None
    if not data or len(data) != 1 + data[0] + tpdu_length:
        raise Failure.cms(304)
    return data


def _submit(ctx: _Ctx, pdu: bytes) -> None:
    state = ctx.state
    if not _effective_registration(state).registered:
        raise Failure.cms(331)
    smsc_len = pdu[0]
    first_octet = pdu[1 + smsc_len]
    if first_octet & 0x03 != 0x01:  # TP-MTI must say SMS-SUBMIT
        raise Failure.cms(304)
    if smsc_len == 0 and not state.csca:
        raise Failure.cms(330)
    mr = state.take_mr()
    # the modem, not the host, numbers messages: TP-MR follows the first octet
    data = bytearray(pdu)
    data[2 + smsc_len] = mr
    submitted = SubmittedPdu(mr, bytes(data), len(pdu) - 1 - smsc_len, ctx.now)
    state.submitted.append(submitted)
    ctx.submitted.append(submitted)
    ctx.lines.append(f"+CMGS: {mr}")


def _store_written(ctx: _Ctx, pdu: bytes, stat: MessageStat) -> None:
    state = ctx.state
    mem = _mem(state, 1)
    if state.is_full(mem):
        raise Failure.cms(322)
    try:
        index = state.storage(mem).store(pdu, len(pdu) - 1 - pdu[0], stat)
    except StorageFull:
        raise Failure.cms(322) from None
    ctx.lines.append(f"+CMGW: {index}")


def _cmss(cmd: Command, ctx: _Ctx) -> None:
    state = ctx.state
    if cmd.op is Op.TEST:
        return
    _require(cmd.op is Op.SET)
    store = state.storage(_mem(state, 1))
    msg = store.messages.get(cmd.arg_int(0))
    if msg is None:
        raise Failure.cms(321)
    _submit(ctx, msg.pdu)
    ctx.lines[-1] = ctx.lines[-1].replace("+CMGS:", "+CMSS:")
    store.messages[msg.index] = replace(msg, stat=MessageStat.STO_SENT)


_TABLE: dict[str, _Entry] = {
    "": _Entry(_at),
    "E": _Entry(_echo),
    "V": _Entry(_only_default("1")),
    "Q": _Entry(_only_default("0")),
    "Z": _Entry(_reset),
    "&F": _Entry(_reset),
    "&W": _Entry(_ok),
    "&C": _Entry(_ok),
    "&D": _Entry(_ok),
    "&K": _Entry(_ok),
    "X": _Entry(_ok),
    "I": _Entry(_ati),
    **{f"S{n}": _Entry(_s_register) for n in range(13)},
    "+CMEE": _Entry(_cmee),
    "+CGMI": _Entry(_identity("manufacturer")),
    "+GMI": _Entry(_identity("manufacturer")),
    "+CGMM": _Entry(_identity("model")),
    "+GMM": _Entry(_identity("model")),
    "+CGMR": _Entry(_identity("revision")),
    "+GMR": _Entry(_identity("revision")),
    "+CGSN": _Entry(_identity("imei")),
    "+GSN": _Entry(_identity("imei")),
    "+GCAP": _Entry(_gcap),
    "+CIMI": _Entry(_identity("imsi"), needs_sim=True),
    "+CNUM": _Entry(_cnum, needs_sim=True),
    "+CPIN": _Entry(_cpin),
    "+CSQ": _Entry(_csq),
    "+CREG": _Entry(_registration("+CREG", "creg_n")),
    "+CGREG": _Entry(_registration("+CGREG", "cgreg_n")),
    "+CEREG": _Entry(_registration("+CEREG", "cgreg_n")),
    "+CGATT": _Entry(_cgatt),
    "+COPS": _Entry(_cops),
    "+CSCA": _Entry(_csca, needs_sim=True, sms=True),
    "+CSCS": _Entry(_cscs),
    "+CMGF": _Entry(_cmgf, sms=True),
    "+CSDH": _Entry(_csdh),
    "+CSMP": _Entry(_csmp),
    "+CSMS": _Entry(_csms, sms=True),
    "+CPMS": _Entry(_cpms, needs_sim=True, sms=True),
    "+CNMI": _Entry(_cnmi, sms=True),
    "+CNMA": _Entry(_cnma, needs_sim=True, sms=True),
    "+CMGS": _Entry(_cmgs, needs_sim=True, sms=True),
    "+CMGW": _Entry(_cmgw, needs_sim=True, sms=True),
    "+CMSS": _Entry(_cmss, needs_sim=True, sms=True),
    "+CMGL": _Entry(_cmgl, needs_sim=True, sms=True),
    "+CMGR": _Entry(_cmgr, needs_sim=True, sms=True),
    "+CMGD": _Entry(_cmgd, needs_sim=True, sms=True),
    "+CMMS": _Entry(_cmms, sms=True),
    "+CBC": _Entry(_cbc),
    "+CUSD": _Entry(_cusd),
    "+CFUN": _Entry(_cfun),
    "+CHUP": _Entry(_chup),
    "+CCLK": _Entry(_cclk),
}

# vendor commands with behaviour; answered only by families that list them in ok_commands
_VENDOR_TABLE: dict[str, _Entry] = {
    "^CURC": _Entry(_curc),
}

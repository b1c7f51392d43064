"""Load AT transcripts (tests/data/README.md format) and cut them into turns a session can replay.

Line markers: `>` sent, `<` received, `!` unsolicited, `~` timing note, `#` comment; a blank line
ends an exchange. Payloads use the escapes \\\\ \\r \\n \\t \\xHH. Our own transcripts under
tests/modem/transcripts/ use the same format plus `# expect:` lines (test_at_transcripts.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from modem.at import commands
from modem.at.codec import DEFAULT_URCS, parse_final
from modem.at.commands import Command
from modem.at.events import (
    CommandDone,
    CommandTimedOut,
    Echo,
    Event,
    Final,
    Info,
    Prompt,
    Unrecognized,
    Urc,
)
from modem.at.session import AtSession

_ESCAPE = re.compile(r"\\(\\|r|n|t|x[0-9A-Fa-f]{2})")
_SIMPLE = {"\\": b"\\", "r": b"\r", "n": b"\n", "t": b"\t"}


def unescape(payload: str) -> bytes:
    """The bytes a transcript payload stands for."""
    out = bytearray()
    pos = 0
    for match in _ESCAPE.finditer(payload):
        out += payload[pos : match.start()].encode("utf-8")
        code = match.group(1)
        out += _SIMPLE[code] if code in _SIMPLE else bytes([int(code[1:], 16)])
        pos = match.end()
    out += payload[pos:].encode("utf-8")
    return bytes(out)


@dataclass(frozen=True)
class Step:
    kind: str  # ">" sent, "<" received, "!" unsolicited
    data: bytes
    lineno: int


@dataclass(frozen=True)
class Exchange:
    path: Path
    lineno: int
    title: str
    comments: tuple[str, ...]
    steps: tuple[Step, ...]

    @property
    def id(self) -> str:
        return f"{self.path.parent.name}/{self.path.name}:{self.lineno}"

    def directives(self, name: str) -> list[str]:
        """Values of `# <name>: value` comment lines inside or right before the exchange."""
        prefix = f"# {name}:"
        return [c[len(prefix) :].strip() for c in self.comments if c.startswith(prefix)]


def load(path: Path) -> list[Exchange]:
    """Every exchange in one transcript file, in file order."""
    exchanges: list[Exchange] = []
    steps: list[Step] = []
    comments: list[str] = []
    title = ""
    start = 0

    def close() -> None:
        nonlocal steps, comments
        if steps:
            exchanges.append(
                Exchange(path, start, title, tuple(comments), tuple(steps))
            )
            comments = []
        steps = []

    for lineno, raw in enumerate(path.read_text("utf-8").split("\n"), start=1):
        if not raw.strip():
            close()
            continue
        marker = raw[0]
        if marker == "#":
            if not steps and re.match(r"# (---|===|==) ", raw):
                title = raw[2:].strip()
                comments = []
            comments.append(raw)
            continue
        if marker == "~":
            continue
        if marker not in "<>!" or raw[1:2] not in (" ", ""):
            raise ValueError(f"{path}:{lineno}: unknown marker in {raw!r}")
        if not steps:
            start = lineno
        steps.append(Step(marker, unescape(raw[2:]), lineno))
    close()
    return exchanges


def load_dir(directory: Path, pattern: str = "*.txt") -> list[Exchange]:
    """Every exchange of every matching file under `directory`, sorted by path."""
    return [ex for path in sorted(directory.rglob(pattern)) for ex in load(path)]


@dataclass
class Turn:
    """What a session sees between two commands: the command, the body it sends, the bytes."""

    command: Command | None
    sent: bytes | None = None  # the command line as the transcript shows it
    body: bytes | None = None  # the body the transcript sends, Ctrl-Z included
    received: list[Step] = field(default_factory=list)
    body_at: int | None = None  # received steps that came before the body was sent

    @property
    def data(self) -> bytes:
        return b"".join(step.data for step in self.received)

    @property
    def segments(self) -> list[bytes]:
        """The bytes before and after the body (bytes after it cannot come sooner)."""
        if self.body_at is None:
            return [self.data]
        before, after = self.received[: self.body_at], self.received[self.body_at :]
        return [b"".join(s.data for s in before), b"".join(s.data for s in after)]


def command_for(text: str) -> Command:
    """The builder's Command for a transcript command line, else a raw one with its prefix."""
    for pattern, make in _COMMAND_TABLE:
        match = pattern.fullmatch(text)
        if match:
            cmd = make(match)
            assert cmd.text == text, (cmd.text, text)
            return cmd
    name = re.match(r"AT([+^$][A-Z0-9]+)", text)
    prefix = f"{name.group(1)}:" if name else None
    return commands.raw(text, prefix=prefix)


_COMMAND_TABLE: list[tuple[re.Pattern[str], Callable[[re.Match[str]], Command]]] = [
    (re.compile(r"AT"), lambda m: commands.at()),
    (re.compile(r"ATE([01])"), lambda m: commands.echo(m.group(1) == "1")),
    (re.compile(r"AT\+CGMI"), lambda m: commands.cgmi()),
    (re.compile(r"AT\+CGMM"), lambda m: commands.cgmm()),
    (re.compile(r"AT\+CGMR"), lambda m: commands.cgmr()),
    (re.compile(r"AT\+CGSN"), lambda m: commands.cgsn()),
    (re.compile(r"AT\+CIMI"), lambda m: commands.cimi()),
    (re.compile(r"AT\+CPIN\?"), lambda m: commands.cpin_query()),
    (re.compile(r'AT\+CPIN="(\d+)"'), lambda m: commands.cpin(m.group(1))),
    (re.compile(r"AT\+CSQ"), lambda m: commands.csq()),
    (re.compile(r"AT\+CREG\?"), lambda m: commands.creg_query()),
    (re.compile(r"AT\+CPMS\?"), lambda m: commands.cpms_query()),
    (re.compile(r"AT\+CPMS=\?"), lambda m: commands.cpms_support()),
    (
        re.compile(r'AT\+CPMS="(\w+)"(?:,"(\w+)")?(?:,"(\w+)")?'),
        lambda m: commands.cpms_set(*[g for g in m.groups() if g]),
    ),
    (re.compile(r"AT\+CNMI=\?"), lambda m: commands.cnmi_support()),
    (
        re.compile(r"AT\+CNMI=(\d),(\d),(\d),(\d)(?:,(\d))?"),
        lambda m: commands.cnmi_set(
            *[int(g) for g in m.groups()[:4]],
            bfr=None if m.group(5) is None else int(m.group(5)),
        ),
    ),
    (re.compile(r"AT\+CSCA\?"), lambda m: commands.csca_query()),
    (re.compile(r"AT\+CLAC"), lambda m: commands.clac()),
    (re.compile(r"AT\+CMGL=4"), lambda m: commands.cmgl(4)),
    (re.compile(r'AT\+CMGL="(ALL)"'), lambda m: commands.cmgl(m.group(1))),
    (re.compile(r"AT\+CMGR=(\d+)"), lambda m: commands.cmgr(int(m.group(1)))),
    (
        re.compile(r"AT\+CMGD=(\d+),([1-4])"),
        lambda m: commands.cmgd(int(m.group(1)), int(m.group(2))),
    ),
    (re.compile(r"AT\+CMGD=(\d+)"), lambda m: commands.cmgd(int(m.group(1)))),
    (re.compile(r'AT\+CUSD=1,"([0-9*#]+)",15'), lambda m: commands.cusd(m.group(1))),
    (re.compile(r"AT\+CFUN\?"), lambda m: commands.cfun()),
]


def _cmgs(text: str, body: bytes | None) -> Command | None:
    if body is None:
        return None
    match = re.fullmatch(r"AT\+CMGS=(\d+)", text)
    hex_body = body.rstrip(b"\x1a")
    if match is None or not re.fullmatch(rb"[0-9A-F]+", hex_body):
        # A templated transcript ("AT+CMGS=<tpdu length>", "<pdu hex>"): keep it verbatim.
        return Command(text, prefix="+CMGS:", body=hex_body)
    cmd = commands.cmgs(int(match.group(1)), bytes.fromhex(hex_body.decode()))
    assert cmd.body == hex_body
    return cmd


def _sent_text(data: bytes) -> str:
    return data.decode("utf-8").rstrip("\r\n")


def _implied(received: list[Step]) -> Command | None:
    """The command a reply queue without `>` lines answers, guessed from its first line."""
    for step in received:
        text = step.data.decode("utf-8", "replace").strip()
        if step.kind != "<" or not text:
            continue
        if DEFAULT_URCS.match(text) is not None:
            return None  # a URC written with "<" in the source, not a reply
        name = re.match(r"([+^$][A-Z0-9]+):", text)
        if name is None:
            return commands.raw("AT")  # a bare reply: OK, ERROR, a stored PDU
        return _IMPLIED.get(name.group(1)) or command_for(f"AT{name.group(1)}")
    return None


_IMPLIED = {"+CMGL": commands.cmgl(4), "+CMGR": commands.cmgr(1)}


def _split_queue(received: list[Step]) -> Iterator[list[Step]]:
    """Cut received steps with no command at each final result (a reply queue)."""
    current: list[Step] = []
    for step in received:
        current.append(step)
        if (
            step.kind == "<"
            and parse_final(step.data.decode("utf-8", "replace")) is not None
        ):
            yield current
            current = []
    if current:
        yield current


def turns(exchange: Exchange) -> list[Turn]:
    """The exchange as turns; command-less reply queues get the command they imply."""
    raw_turns: list[Turn] = []
    for step in exchange.steps:
        if step.kind == ">" and step.data.endswith(b"\x1a") and raw_turns:
            raw_turns[-1].body = step.data
            raw_turns[-1].body_at = len(raw_turns[-1].received)
        elif step.kind == ">":
            raw_turns.append(Turn(None, sent=step.data))
        else:
            if not raw_turns:
                raw_turns.append(Turn(None))
            raw_turns[-1].received.append(step)
    out: list[Turn] = []
    for turn in raw_turns:
        if turn.sent is not None:
            text = _sent_text(turn.sent)
            turn.command = _cmgs(text, turn.body) or command_for(text)
            out.append(turn)
            continue
        # Leading URCs stay command-less; the rest is cut into implied replies.
        urcs = [s for s in turn.received if s.kind == "!"]
        replies = [s for s in turn.received if s.kind != "!"]
        if urcs and turn.received[: len(urcs)] == urcs:
            out.append(Turn(None, received=urcs))
            replies = turn.received[len(urcs) :]
        elif urcs:
            replies = turn.received
        for chunk in _split_queue(replies):
            out.append(Turn(_implied(chunk), received=chunk))
    return out


def token(event: Event) -> str:
    """A short name for an event: echo, info, prompt, final:KIND[:code], urc:NAME, ..."""
    if isinstance(event, Final):
        code = "" if event.code is None else f":{event.code}"
        return f"final:{event.kind.name}{code}"
    if isinstance(event, Urc):
        return f"urc:{event.name}"
    return _TOKENS[type(event)]


_TOKENS: dict[type, str] = {
    Echo: "echo",
    Info: "info",
    Prompt: "prompt",
    Unrecognized: "unrecognized",
    CommandDone: "done",
    CommandTimedOut: "timeout",
}


def summary(events: Iterable[Event]) -> str:
    """Event tokens with runs folded: "info*3"."""
    runs: list[list[Any]] = []
    for tok in map(token, events):
        if runs and runs[-1][0] == tok:
            runs[-1][1] += 1
        else:
            runs.append([tok, 1])
    return " ".join(t if n == 1 else f"{t}*{n}" for t, n in runs)


TURN_GAP_S = 1000.0  # each turn starts this much later; longer than any deadline


@dataclass
class Replay:
    """What a session made of an exchange: events per turn and the bodies it sent."""

    events: list[list[Event]]
    bodies: list[bytes]

    def summary(self) -> str:
        parts = []
        for turn_events, turn in zip(self.events, self.turns, strict=True):
            name = turn.command.log_text if turn.command else "-"
            parts.append(f"[{name}] {summary(turn_events)}".rstrip())
        return " ; ".join(parts)

    turns: list[Turn] = field(default_factory=list)


Splitter = Callable[[bytes], list[bytes]]


def whole(data: bytes) -> list[bytes]:
    return [data] if data else []


def bytewise(data: bytes) -> list[bytes]:
    return [data[i : i + 1] for i in range(len(data))]


def replay(
    exchange_turns: list[Turn],
    split: Splitter = whole,
    *,
    split_at: tuple[int, int] | None = None,
    session: AtSession | None = None,
) -> Replay:
    """Feed turns to one session; `split` cuts segment `split_at` (turn, segment), or all."""
    session = session or AtSession()
    result = Replay([], [], exchange_turns)
    for i, turn in enumerate(exchange_turns):
        now = i * TURN_GAP_S
        events: list[Event] = []
        if turn.command is not None:
            session.send(turn.command, now)
        for j, segment in enumerate(turn.segments):
            chunks = split(segment) if split_at in (None, (i, j)) else whole(segment)
            for chunk in chunks:
                got = session.receive_data(chunk, now)
                events += got
                if any(isinstance(e, Prompt) for e in got):
                    result.bodies.append(session.data_to_send())
        # Close the turn: a reply without a final result (Wavecom's +CPIN), a lost URC line.
        events += session.on_timeout(now + TURN_GAP_S - 1)
        result.events.append(events)
    return result

"""The AT conversation as a pure state machine: commands and bytes in, events and bytes out.

Modelled on h11: no I/O, no clock. The caller passes `now` (any monotonic clock), writes what
`send` and `data_to_send` return, and calls `on_timeout` at `next_deadline`.

Each line is classified by context, in this order (the first rule that holds wins):

1. it completes a URC whose trailing lines are still owed (+CMT/+CDS PDU line, +CUSD text);
2. with no command pending: a registered URC, else Unrecognized;
3. the echo of the pending command or of its body;
4. a whole-line final result (OK, ERROR, +CME ERROR, +CMS ERROR, vendor ERROR spellings);
5. a line with the pending command's prefix: Info (so "+CREG:" answers AT+CREG?);
6. a registered URC;
7. any other line, when the command takes free lines (IMEI, PDU, +CLAC): Info;
8. Unrecognized (logged by the engine, never fatal).

Nothing is decided by a leading '+' or by read timing: a line is classified when its
terminator arrives, and a URC's trailing lines are waited for, however long the gap.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from types import MappingProxyType

from modem.at.codec import (
    DEFAULT_URCS,
    LineReader,
    UrcRegistry,
    UrcSpec,
    encode_body,
    encode_command,
    parse_final,
)
from modem.at.commands import ESC, Command
from modem.at.events import (
    CommandDone,
    CommandTimedOut,
    Echo,
    Event,
    Final,
    FinalKind,
    Info,
    Prompt,
    Unrecognized,
    Urc,
)
from modem.errors import AtCommandError, AtError, CmeError, CmsError, ModemError

# How long a URC waits for its trailing lines. Modems write header and PDU back to back, so
# this only fires when the PDU line was lost; without it the next command's reply would be
# taken for the PDU.
URC_BODY_TIMEOUT_S = 5.0
# A +CUSD whose closing quote never comes stops collecting after this many lines.
URC_CONTINUATION_MAX_LINES = 32
# Codes the spec reserves for "unknown", used when a verbose error text is not in our tables.
CME_UNKNOWN = 100
CMS_UNKNOWN = 500


class State(enum.Enum):
    """Where the session is in the life of one command."""

    IDLE = "idle"
    AWAIT_PROMPT = "await_prompt"  # AT+CMGS sent, waiting for "> "
    BODY_READY = "body_ready"  # prompt seen, body not yet taken by data_to_send()
    AWAIT_FINAL = "await_final"


class Trigger(enum.Enum):
    """What moves the state machine."""

    SEND = "send"
    SEND_WITH_BODY = "send_with_body"
    PROMPT = "prompt"
    BODY_TAKEN = "body_taken"
    FINAL = "final"
    TIMEOUT = "timeout"


# Everything that changes State lives here; a (state, trigger) pair not listed is a bug
# (or, for SEND, Busy).
TRANSITIONS: MappingProxyType[tuple[State, Trigger], State] = MappingProxyType(
    {
        (State.IDLE, Trigger.SEND): State.AWAIT_FINAL,
        (State.IDLE, Trigger.SEND_WITH_BODY): State.AWAIT_PROMPT,
        (State.AWAIT_PROMPT, Trigger.PROMPT): State.BODY_READY,
        (State.BODY_READY, Trigger.BODY_TAKEN): State.AWAIT_FINAL,
        (State.AWAIT_PROMPT, Trigger.FINAL): State.IDLE,
        (State.BODY_READY, Trigger.FINAL): State.IDLE,
        (State.AWAIT_FINAL, Trigger.FINAL): State.IDLE,
        (State.AWAIT_PROMPT, Trigger.TIMEOUT): State.IDLE,
        (State.BODY_READY, Trigger.TIMEOUT): State.IDLE,
        (State.AWAIT_FINAL, Trigger.TIMEOUT): State.IDLE,
    }
)


class Busy(ModemError):
    """A command was sent while another is pending (the engine's lock should prevent it)."""

    def __init__(self, pending: Command, refused: Command) -> None:
        super().__init__(
            f"{refused.log_text!r} refused: {pending.log_text!r} is pending"
        )
        self.pending = pending
        self.refused = refused


def error_for(command: Command, final: Final) -> AtError | None:
    """The exception a final result means for `command`, or None for OK."""
    result = final.line.strip()
    if final.kind is FinalKind.OK:
        return None
    if final.kind is FinalKind.CME_ERROR:
        code = CME_UNKNOWN if final.code is None else final.code
        return CmeError(command.log_text, code, result)
    if final.kind is FinalKind.CMS_ERROR:
        code = CMS_UNKNOWN if final.code is None else final.code
        return CmsError(command.log_text, code, result)
    return AtCommandError(command.log_text, result)


@dataclass(slots=True)
class _PendingUrc:
    """A URC header seen, its trailing lines (or the rest of its quoted text) still owed."""

    spec: UrcSpec
    line: str
    deadline: float
    body: list[str] = field(default_factory=list)


class AtSession:
    """One command in flight, URCs recognised by registry, deadlines as data (sans-io)."""

    def __init__(self, urcs: UrcRegistry = DEFAULT_URCS) -> None:
        self._urcs = urcs
        self._reader = LineReader()
        self._state = State.IDLE
        self._command: Command | None = None
        self._deadline: float | None = None
        self._lines: list[str] = []
        self._urc: _PendingUrc | None = None
        self._outgoing = bytearray()

    @property
    def state(self) -> State:
        """The current state (see TRANSITIONS)."""
        return self._state

    @property
    def pending(self) -> Command | None:
        """The command in flight, if any."""
        return self._command

    @property
    def urcs(self) -> UrcRegistry:
        """The registry lines are matched against."""
        return self._urcs

    @property
    def next_deadline(self) -> float | None:
        """When `on_timeout` must be called next, on the caller's clock; None if never."""
        deadlines = [] if self._deadline is None else [self._deadline]
        if self._urc is not None:
            deadlines.append(self._urc.deadline)
        return min(deadlines, default=None)

    def send(self, command: Command, now: float) -> bytes:
        """Start `command`; returns the bytes to write. Raises Busy while one is pending."""
        if self._command is not None:
            raise Busy(self._command, command)
        self._move(Trigger.SEND_WITH_BODY if command.expects_prompt else Trigger.SEND)
        self._command = command
        self._deadline = now + command.timeout_s
        self._lines = []
        self._reader.expect_prompt = command.expects_prompt
        out = bytes(self._outgoing) + encode_command(command)
        self._outgoing.clear()
        return out

    def data_to_send(self) -> bytes:
        """Bytes owed to the modem: the body after the prompt, or ESC after a timed-out prompt."""
        if self._state is State.BODY_READY:
            assert self._command is not None
            assert self._command.body is not None
            self._move(Trigger.BODY_TAKEN)
            self._outgoing += encode_body(self._command.body)
        out = bytes(self._outgoing)
        self._outgoing.clear()
        return out

    def receive_data(self, data: bytes, now: float) -> list[Event]:
        """Feed received bytes; returns the events they complete, in order."""
        self._reader.feed(data)
        events: list[Event] = []
        while (token := self._reader.next_token()) is not None:
            if isinstance(token, Prompt):
                self._move(Trigger.PROMPT)
                events.append(token)
            else:
                events.extend(self._on_line(token, now))
        return events

    def on_timeout(self, now: float) -> list[Event]:
        """Expire whatever is due at `now`; early calls return []."""
        events: list[Event] = []
        if self._urc is not None and now >= self._urc.deadline:
            events.append(self._emit_urc())
        if (
            self._command is not None
            and self._deadline is not None
            and now >= self._deadline
        ):
            command = self._command
            # A timeout is our resync point: an unterminated fragment would otherwise prefix
            # the next reply and hide its OK.
            partial = self._reader.take_partial()
            if partial is not None:
                events.append(Unrecognized(partial))
            if self._state in (State.AWAIT_PROMPT, State.BODY_READY):
                # The modem may be sitting in body input; ESC makes it listen to commands again.
                self._outgoing.append(ESC)
            self._move(Trigger.TIMEOUT)
            self._clear_command()
            events.append(CommandTimedOut(command))
        return events

    def reset(self) -> None:
        """Forget the command, buffered bytes and half-received URCs (after a reconnect)."""
        self._reader.clear()
        self._state = State.IDLE
        self._clear_command()
        self._urc = None
        self._outgoing.clear()

    # -- classification ---------------------------------------------------------------

    def _on_line(self, line: str, now: float) -> list[Event]:
        events: list[Event] = []
        if self._urc is not None and self._continue_urc(line, events):
            return events
        command = self._command
        if command is None:
            events.extend(self._unsolicited(line, now))
            return events
        text = line.strip()
        if self._is_echo(text, command):
            events.append(Echo(line))
            return events
        final = parse_final(line, call_results=command.call_results)
        if final is not None:
            events.extend(self._finish(command, final))
            return events
        if command.prefix is not None and text.startswith(command.prefix):
            self._lines.append(line)
            events.append(Info(line))
            return events
        spec = self._urcs.match(text)
        if spec is not None:
            events.extend(self._start_urc(spec, line, now))
        elif command.free_lines:
            self._lines.append(line)
            events.append(Info(line))
        else:
            events.append(Unrecognized(line))
        return events

    def _unsolicited(self, line: str, now: float) -> list[Event]:
        spec = self._urcs.match(line)
        if spec is None:
            return [Unrecognized(line)]
        return self._start_urc(spec, line, now)

    @staticmethod
    def _is_echo(text: str, command: Command) -> bool:
        if text.casefold() == command.text.casefold():
            return True
        # Modems with echo on repeat the body as typed, Ctrl-Z included.
        body = command.body
        return body is not None and text.rstrip("\x1a").strip() == body.decode(
            "ascii", "replace"
        )

    def _start_urc(self, spec: UrcSpec, line: str, now: float) -> list[Event]:
        owes_text = spec.quoted and line.count('"') % 2 == 1
        if spec.trailing_lines == 0 and not owes_text:
            return [Urc(spec.name, line)]
        self._urc = _PendingUrc(spec, line, now + URC_BODY_TIMEOUT_S)
        return []

    def _continue_urc(self, line: str, events: list[Event]) -> bool:
        """Give `line` to the URC in progress; False when it is not the URC's to take."""
        urc = self._urc
        assert urc is not None
        if urc.spec.trailing_lines:
            # The line after a +CMT header is its PDU whatever it looks like ("OK" is a
            # perfectly good text-mode message), so it is taken unconditionally.
            urc.body.append(line)
            if len(urc.body) >= urc.spec.trailing_lines:
                events.append(self._emit_urc())
            return True
        if self._ends_quoted_text(line):
            # A lost closing quote must not swallow the command's reply or the next URC.
            events.append(self._emit_urc())
            return False
        urc.line += "\n" + line
        urc.body.append(line)  # counts continuation lines; dropped when emitted
        if urc.line.count('"') % 2 == 0 or len(urc.body) >= URC_CONTINUATION_MAX_LINES:
            events.append(self._emit_urc())
        return True

    def _ends_quoted_text(self, line: str) -> bool:
        command = self._command
        if self._urcs.match(line) is not None:
            return True
        if command is None:
            return False
        return parse_final(line, call_results=command.call_results) is not None or (
            command.prefix is not None and line.strip().startswith(command.prefix)
        )

    def _emit_urc(self) -> Urc:
        urc = self._urc
        assert urc is not None
        self._urc = None
        body = tuple(urc.body) if urc.spec.trailing_lines else ()
        return Urc(urc.spec.name, urc.line, body)

    def _finish(self, command: Command, final: Final) -> list[Event]:
        self._move(Trigger.FINAL)
        lines = tuple(self._lines)
        self._clear_command()
        return [final, CommandDone(command, lines, final)]

    def _clear_command(self) -> None:
        self._command = None
        self._deadline = None
        self._lines = []
        self._reader.expect_prompt = False

    def _move(self, trigger: Trigger) -> None:
        self._state = TRANSITIONS[(self._state, trigger)]

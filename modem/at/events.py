"""What an `AtSession` makes of the bytes it is fed: one frozen value per classified line."""

from __future__ import annotations

import enum
from dataclasses import dataclass

from modem.at.commands import Command


class FinalKind(enum.Enum):
    """The final result codes that end a command (V.250 5.7, TS 27.007 9.2, TS 27.005 3.2.5)."""

    OK = "OK"
    ERROR = "ERROR"  # also vendor spellings such as Huawei's "COMMAND NOT SUPPORT"
    CME_ERROR = "+CME ERROR"
    CMS_ERROR = "+CMS ERROR"
    NO_CARRIER = (
        "NO CARRIER"  # the four call results end only commands with call_results=True
    )
    BUSY = "BUSY"
    NO_ANSWER = "NO ANSWER"
    NO_DIALTONE = "NO DIALTONE"


@dataclass(frozen=True, slots=True)
class Echo:
    """The modem repeating the pending command (ATE1) or its PDU body."""

    line: str


@dataclass(frozen=True, slots=True)
class Info:
    """A response line of the pending command; collected into `CommandDone.lines`."""

    line: str


@dataclass(frozen=True, slots=True)
class Prompt:
    """The "> " that invites the PDU body of the pending AT+CMGS."""


@dataclass(frozen=True, slots=True)
class Final:
    """A whole-line final result; `code` is the +CME/+CMS number (None if absent or unknown)."""

    kind: FinalKind
    line: str
    code: int | None = None

    @property
    def ok(self) -> bool:
        """True for OK, the only success."""
        return self.kind is FinalKind.OK


@dataclass(frozen=True, slots=True)
class Urc:
    """An unsolicited result: `name` from the registry, the header `line`, its trailing lines."""

    name: str
    line: str
    body: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Unrecognized:
    """A line that is neither URC nor part of the pending command; logged, never fatal."""

    line: str


@dataclass(frozen=True, slots=True)
class CommandDone:
    """The pending command ended with `final`; `lines` are its info lines in order."""

    command: Command
    lines: tuple[str, ...]
    final: Final


@dataclass(frozen=True, slots=True)
class CommandTimedOut:
    """The pending command got no final result before its deadline; the session is idle again."""

    command: Command


Event = (
    Echo | Info | Prompt | Final | Urc | Unrecognized | CommandDone | CommandTimedOut
)

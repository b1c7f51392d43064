"""The modem layer's error tree: every failure carries the data an operator needs."""

from __future__ import annotations

# +CMS ERROR codes worth retrying (TS 27.005 3.2.5 and what real modems return under load):
# 38 network out of order, 41 temporary failure, 42 congestion, 47 resources unavailable,
# 98/111 protocol errors seen on flaky cells, 331 no network service, 332 network timeout,
# 500 unknown error, 512+ vendor-specific (SIMCom/Quectel use 512-520 for busy states).
TRANSIENT_CMS_CODES: frozenset[int] = frozenset(
    {
        38,
        41,
        42,
        47,
        98,
        111,
        127,
        300,
        302,
        304,
        314,
        315,
        331,
        332,
        500,
        512,
        513,
        514,
        515,
        516,
        517,
        518,
        519,
        520,
    }
)


class ModemError(Exception):
    """Base of every error the modem layer raises for I/O and AT failures."""


class PortClosed(ModemError):
    """The serial port or socket went away (unplugged, closed, modem rebooted)."""

    def __init__(self, port: str, reason: str = "closed") -> None:
        super().__init__(f"port {port} {reason}")
        self.port = port
        self.reason = reason


class AtTimeout(ModemError, TimeoutError):
    """A command got no final result within its deadline."""

    def __init__(self, command: str, timeout_s: float) -> None:
        super().__init__(f"{command!r} got no final result within {timeout_s:g} s")
        self.command = command
        self.timeout_s = timeout_s


class AtError(ModemError):
    """The modem answered a command with an error final result."""

    def __init__(self, command: str, result: str) -> None:
        super().__init__(f"{command!r} failed: {result}")
        self.command = command
        self.result = result

    @property
    def transient(self) -> bool:
        """True when retrying the same command later may succeed."""
        return False


class AtCommandError(AtError):
    """Plain ERROR (or a vendor equivalent such as Huawei's COMMAND NOT SUPPORT)."""


class CmeError(AtError):
    """+CME ERROR: <code> (equipment errors, TS 27.007 9.2)."""

    def __init__(self, command: str, code: int, result: str | None = None) -> None:
        super().__init__(command, result or f"+CME ERROR: {code}")
        self.code = code


class CmsError(AtError):
    """+CMS ERROR: <code> (message service errors, TS 27.005 3.2.5)."""

    def __init__(self, command: str, code: int, result: str | None = None) -> None:
        super().__init__(command, result or f"+CMS ERROR: {code}")
        self.code = code

    @property
    def transient(self) -> bool:
        """True for congestion, temporary network and busy codes; False means give up."""
        return self.code in TRANSIENT_CMS_CODES


class AtParseError(ModemError):
    """A response or URC line that does not have the form its command promises."""

    def __init__(self, command: str, line: str, reason: str) -> None:
        super().__init__(f"{command}: cannot parse {line!r}: {reason}")
        self.command = command
        self.line = line
        self.reason = reason

    def __repr__(self) -> str:
        return f"AtParseError(command={self.command!r}, line={self.line!r}, reason={self.reason!r})"


class PduError(ValueError):
    """Base of PDU codec errors."""


class PduDecodeError(PduError):
    """Bytes that are not a valid TPDU; names the field and the octet offset."""

    def __init__(self, field: str, offset: int, reason: str) -> None:
        super().__init__(f"{field} at octet {offset}: {reason}")
        self.field = field
        self.offset = offset
        self.reason = reason

    def __repr__(self) -> str:
        return f"PduDecodeError(field={self.field!r}, offset={self.offset}, reason={self.reason!r})"


class PduEncodeError(PduError):
    """Input that cannot be encoded (bad number, text too long for the given options)."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

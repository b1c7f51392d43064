"""AT framing: bytes into lines and prompts, whole-line final results, the URC registry.

Decoding policy: a line is decoded as UTF-8 with errors="replace" once it is complete, so a
multi-byte character split across reads survives and bytes that are not UTF-8 (GSM or Latin-1
text, line noise) become U+FFFD instead of an exception. PDUs travel as hex, so nothing we parse
depends on those bytes; the raw bytes are in the TRACE log (modem/trace.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from types import MappingProxyType

from modem.at.commands import CTRL_Z, Command
from modem.at.events import Final, FinalKind, Prompt

# A line longer than this is cut into pieces of this size: a modem spewing bytes without a
# terminator must not grow our buffer without bound. The longest real line we know (a USSD
# answer in UCS-2 hex) is under 1,500 bytes.
MAX_LINE_BYTES = 8192
DECODE_ERRORS = "replace"

_CR, _LF, _SPACE, _GT = 0x0D, 0x0A, 0x20, 0x3E
_TERMINATOR = re.compile(rb"[\r\n]")
PROMPT = Prompt()

# Verbose texts (AT+CMEE=2) for the codes we act on: TS 27.007 9.2.1 and TS 27.005 3.2.5.
CME_TEXT_CODES: MappingProxyType[str, int] = MappingProxyType(
    {
        "phone failure": 0,
        "no connection to phone": 1,
        "operation not allowed": 3,
        "operation not supported": 4,
        "ph-sim pin required": 5,
        "sim not inserted": 10,
        "sim pin required": 11,
        "sim puk required": 12,
        "sim failure": 13,
        "sim busy": 14,
        "sim wrong": 15,
        "incorrect password": 16,
        "sim pin2 required": 17,
        "sim puk2 required": 18,
        "memory full": 20,
        "invalid index": 21,
        "not found": 22,
        "memory failure": 23,
        "text string too long": 24,
        "invalid characters in text string": 25,
        "no network service": 30,
        "network timeout": 31,
        "network not allowed - emergency calls only": 32,
        "unknown": 100,
    }
)
CMS_TEXT_CODES: MappingProxyType[str, int] = MappingProxyType(
    {
        "me failure": 300,
        "sms service of me reserved": 301,
        "operation not allowed": 302,
        "operation not supported": 303,
        "invalid pdu mode parameter": 304,
        "invalid text mode parameter": 305,
        "sim not inserted": 310,
        "sim pin required": 311,
        "ph-sim pin required": 312,
        "sim failure": 313,
        "sim busy": 314,
        "sim wrong": 315,
        "sim puk required": 316,
        "memory failure": 320,
        "invalid memory index": 321,
        "memory full": 322,
        "smsc address unknown": 330,
        "no network service": 331,
        "network timeout": 332,
        "no +cnma acknowledgement expected": 340,
        "unknown error": 500,
    }
)
# Whole lines some firmware sends instead of ERROR (Huawei E1752 and relatives).
VENDOR_ERRORS = frozenset({"COMMAND NOT SUPPORT", "TOO MANY PARAMETERS"})
CALL_RESULTS: MappingProxyType[str, FinalKind] = MappingProxyType(
    {
        "NO CARRIER": FinalKind.NO_CARRIER,
        "BUSY": FinalKind.BUSY,
        "NO ANSWER": FinalKind.NO_ANSWER,
        "NO DIALTONE": FinalKind.NO_DIALTONE,
        "NO DIAL TONE": FinalKind.NO_DIALTONE,
    }
)
_ERROR_PREFIXES = (
    ("+CME ERROR", FinalKind.CME_ERROR, CME_TEXT_CODES),
    ("+CMS ERROR", FinalKind.CMS_ERROR, CMS_TEXT_CODES),
)
_MAX_CODE_DIGITS = 6


def parse_final(line: str, *, call_results: bool = False) -> Final | None:
    """The final result this whole line is, or None; "OK thanks" is not OK."""
    text = line.strip()
    if text == "OK":
        return Final(FinalKind.OK, line)
    if text == "ERROR" or text in VENDOR_ERRORS:
        return Final(FinalKind.ERROR, line)
    for prefix, kind, texts in _ERROR_PREFIXES:
        if not text.startswith(prefix):
            continue
        rest = text[len(prefix) :]
        if rest and rest[0] != ":":
            return None  # "+CME ERRORS..." is some other line
        arg = rest[1:].strip()
        if arg.isascii() and arg.isdigit() and len(arg) <= _MAX_CODE_DIGITS:
            return Final(kind, line, int(arg))
        return Final(kind, line, texts.get(arg.casefold()))
    if call_results and text in CALL_RESULTS:
        return Final(CALL_RESULTS[text], line)
    return None


def encode_command(command: Command) -> bytes:
    """The bytes that start `command`: its text and CR (V.250 S3)."""
    return command.text.encode("ascii") + b"\r"


def encode_body(body: bytes) -> bytes:
    """The bytes sent after the prompt: the body and Ctrl-Z."""
    return body + bytes([CTRL_Z])


def decode_line(raw: bytes) -> str:
    """One complete line as text under the module's decoding policy."""
    return raw.decode("utf-8", DECODE_ERRORS)


class LineReader:
    """Frames received bytes into lines and prompts; pull tokens with `next_token`.

    Any CR or LF ends a line and empty (or blank) lines are skipped, so CRLF, CR CR LF, bare CR
    and bare LF all work. A prompt is ">" at the start of a line, recognised only while
    `expect_prompt` is set, and never needs a terminator; the spaces after it are swallowed.
    Tokens are pulled one at a time so the caller can change `expect_prompt` between them:
    the result is the same however the bytes were split.
    """

    __slots__ = ("_after_prompt", "_buf", "expect_prompt")

    def __init__(self) -> None:
        self._buf = bytearray()
        self._after_prompt = False
        self.expect_prompt = False

    def feed(self, data: bytes) -> None:
        """Append received bytes."""
        self._buf += data

    def next_token(self) -> str | Prompt | None:
        """The next complete line or prompt, or None until more bytes arrive."""
        buf = self._buf
        while True:
            start = 0
            while start < len(buf) and (
                buf[start] in (_CR, _LF)
                or (self._after_prompt and buf[start] == _SPACE)
            ):
                start += 1
            del buf[:start]
            if not buf:
                return None
            self._after_prompt = False
            if self.expect_prompt and buf[0] == _GT:
                del buf[:1]
                self.expect_prompt = False
                self._after_prompt = True
                return PROMPT
            match = _TERMINATOR.search(buf, 0, MAX_LINE_BYTES)
            if match is not None:
                end, skip = match.start(), 1
            elif len(buf) >= MAX_LINE_BYTES:
                end, skip = MAX_LINE_BYTES, 0
            else:
                return None
            raw = bytes(buf[:end])
            del buf[: end + skip]
            if raw.strip():
                return decode_line(raw)

    def take_partial(self) -> str | None:
        """Remove and return the unterminated rest (a resync point after a timeout)."""
        raw = bytes(self._buf)
        self._buf.clear()
        self._after_prompt = False
        return decode_line(raw) if raw.strip() else None

    def clear(self) -> None:
        """Forget everything buffered."""
        self._buf.clear()
        self._after_prompt = False
        self.expect_prompt = False


@dataclass(frozen=True, slots=True)
class UrcSpec:
    """A URC: a prefix ending in ':' ("+CMTI:") or a whole line ("RING"), and what follows it."""

    pattern: str
    trailing_lines: int = 0  # lines that always belong to it (+CMT, +CDS: the PDU)
    quoted: bool = False  # it runs on across line ends while a '"' is open (+CUSD text)

    def __post_init__(self) -> None:
        if not self.pattern.strip() or self.pattern != self.pattern.strip():
            raise ValueError(f"bad URC pattern {self.pattern!r}")
        if self.trailing_lines < 0:
            raise ValueError("trailing_lines must not be negative")

    @property
    def name(self) -> str:
        """The pattern without its colon: "+CMTI", "RING", "SMS Ready"."""
        return self.pattern.removesuffix(":")

    @property
    def is_prefix(self) -> bool:
        """True when the pattern starts lines rather than being one."""
        return self.pattern.endswith(":")


class UrcRegistry:
    """An immutable set of URC specs; `extended` and `without` return new registries."""

    __slots__ = ("_lines", "_prefixes")

    def __init__(self, specs: Iterable[UrcSpec] = ()) -> None:
        prefixes: dict[str, UrcSpec] = {}
        lines: dict[str, UrcSpec] = {}
        for spec in specs:
            if spec.is_prefix:
                prefixes[spec.pattern] = spec
            else:
                # Banners vary in case between firmware ("SMS Ready", "SMS READY").
                lines[spec.pattern.casefold()] = spec
        self._prefixes = MappingProxyType(prefixes)
        self._lines = MappingProxyType(lines)

    def match(self, line: str) -> UrcSpec | None:
        """The spec for this line: by the text up to its first ':', else by the whole line."""
        text = line.strip()
        colon = text.find(":")
        if colon > 0:
            spec = self._prefixes.get(text[: colon + 1])
            if spec is not None:
                return spec
        return self._lines.get(text.casefold())

    def extended(self, *specs: UrcSpec) -> UrcRegistry:
        """A registry with `specs` added; a spec replaces one with the same pattern."""
        return UrcRegistry([*self, *specs])

    def without(self, *patterns: str) -> UrcRegistry:
        """A registry without the given patterns."""
        drop = {p.casefold() for p in patterns}
        return UrcRegistry(s for s in self if s.pattern.casefold() not in drop)

    def __iter__(self) -> Iterator[UrcSpec]:
        yield from self._prefixes.values()
        yield from self._lines.values()

    def __len__(self) -> int:
        return len(self._prefixes) + len(self._lines)

    def __contains__(self, pattern: object) -> bool:
        return isinstance(pattern, str) and (
            pattern in self._prefixes or pattern.casefold() in self._lines
        )


DEFAULT_URCS = UrcRegistry(
    [
        # TS 27.005: new messages and status reports, stored (…I) or routed to us with a PDU line.
        UrcSpec("+CMTI:"),
        UrcSpec("+CMT:", trailing_lines=1),
        UrcSpec("+CDSI:"),
        UrcSpec("+CDS:", trailing_lines=1),
        UrcSpec("+CBMI:"),
        UrcSpec("+CBM:", trailing_lines=1),
        # TS 27.007: registration, calls, USSD, SIM and power state, time zone.
        UrcSpec("+CREG:"),
        UrcSpec("+CGREG:"),
        UrcSpec("+CEREG:"),
        UrcSpec("+C5GREG:"),
        UrcSpec("+CGEV:"),
        UrcSpec("+CUSD:", quoted=True),
        UrcSpec("RING"),
        UrcSpec("+CRING:"),
        UrcSpec("+CLIP:"),
        UrcSpec("+CCWA:"),
        UrcSpec("+CSSI:"),
        UrcSpec("+CSSU:"),
        UrcSpec("+CIEV:"),
        UrcSpec("+CTZV:"),
        UrcSpec("+CTZE:"),
        UrcSpec(
            "NO CARRIER"
        ),  # a call ended; a final result only for call_results commands
        UrcSpec(
            "+CPIN:"
        ),  # "+CPIN: READY" after boot, "+CPIN: NOT READY" when the SIM goes
        UrcSpec("+CFUN:"),
        # Boot banners: SIMCom ("RDY", "Call Ready", "SMS Ready"), Quectel ("+QIND: SMS DONE").
        UrcSpec("RDY"),
        UrcSpec("Call Ready"),
        UrcSpec("SMS Ready"),
        UrcSpec("SMS DONE"),
        UrcSpec("PB DONE"),
        UrcSpec("+QIND:"),
        UrcSpec("+QUSIM:"),
        UrcSpec("POWERED DOWN"),
        UrcSpec("NORMAL POWER DOWN"),
        UrcSpec("UNDER-VOLTAGE POWER DOWN"),
        UrcSpec("UNDER-VOLTAGE WARNNING"),  # sic, SIMCom's spelling
        UrcSpec("OVER-VOLTAGE POWER DOWN"),
        UrcSpec("OVER-VOLTAGE WARNNING"),
        UrcSpec("*PSUTTZ:"),
        UrcSpec("DST:"),
        UrcSpec("+PACSP:"),
        UrcSpec("+STIN:"),
        # Huawei status noise (^CURC=1 is the default on most sticks).
        UrcSpec("^RSSI:"),
        UrcSpec("^HCSQ:"),
        UrcSpec("^BOOT:"),
        UrcSpec("^MODE:"),
        UrcSpec("^SRVST:"),
        UrcSpec("^SIMST:"),
        UrcSpec("^SMMEMFULL:"),
        UrcSpec("^DSFLOWRPT:"),
        UrcSpec("^CSNR:"),
        UrcSpec("^CRSSI:"),
        UrcSpec("^NDISSTAT:"),
        UrcSpec("^RFSWITCH:"),
        UrcSpec("^STIN:"),
        UrcSpec("^NWTIME:"),
        UrcSpec("^ORIG:"),
        UrcSpec("^CONF:"),
        UrcSpec("^CONN:"),
        UrcSpec("^CEND:"),
        UrcSpec("^SYSSTART"),
        # ZTE and Wavecom status noise.
        UrcSpec("+ZDONR:"),
        UrcSpec("+ZPASR:"),
        UrcSpec("+ZUSIMR:"),
        UrcSpec("+WIND:"),
    ]
)

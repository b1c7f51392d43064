"""Pure parsers from AT response lines to typed values.

Response parsers take the info lines of a command (`CommandDone.lines` / `Response.lines`) and
find their line by prefix, so a stray line does not confuse them. URC parsers take the URC's
header line (and its trailing lines). Every malformed input raises `AtParseError` naming the
command and the line; nothing else escapes.

Not checked here, on purpose: whether a PDU's declared <length> matches its bytes, or whether the
bytes are a valid TPDU. Gammu's corpus of real replies has many length mismatches that decode
fine, so that judgement belongs to modem.pdu.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

# Re-exported: the parsers raise it, so callers may catch it as parsers.AtParseError.
from modem.errors import AtParseError as AtParseError
from modem.events import Registration, StoredLocation

_HEX = re.compile(r"[0-9A-Fa-f]+")
_DIGITS = re.compile(r"[0-9]+")
_TIMESTAMP = re.compile(r'"\d{1,4}/\d{1,2}/\d{1,2},')
_MAX_INT_DIGITS = (
    9  # int() refuses very long digit strings with ValueError; we refuse first
)


# -- values ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SignalQuality:
    """+CSQ: rssi and ber as sent, with the rssi in dBm (None when the modem does not know)."""

    rssi: int
    ber: int

    @property
    def rssi_dbm(self) -> int | None:
        """Received signal strength in dBm (TS 27.007 8.5), None for 99 / 199."""
        if self.rssi <= 31:
            return -113 + 2 * self.rssi
        if 100 <= self.rssi <= 191:  # TD-SCDMA range: -116 dBm and up in 1 dB steps
            return -116 + (self.rssi - 100)
        return None

    @property
    def ber_class(self) -> int | None:
        """Bit error rate class 0..7, None for 99."""
        return None if self.ber == 99 else self.ber


@dataclass(frozen=True, slots=True)
class NetworkRegistration:
    """+CREG / +CGREG / +CEREG: `n` only in the solicited form; lac and ci as upper-case hex."""

    n: int | None
    stat: int
    lac: str | None = None
    ci: str | None = None
    act: int | None = None

    @property
    def registration(self) -> Registration:
        """`stat` named; the SMS-only and CSFB variants (6, 7, 9, 10) count as registered."""
        return _REGISTRATION.get(self.stat, Registration.UNKNOWN)


_REGISTRATION = {
    0: Registration.NOT_REGISTERED,
    1: Registration.HOME,
    2: Registration.SEARCHING,
    3: Registration.DENIED,
    4: Registration.UNKNOWN,
    5: Registration.ROAMING,
    6: Registration.HOME,
    7: Registration.ROAMING,
    8: Registration.NOT_REGISTERED,  # emergency services only
    9: Registration.HOME,
    10: Registration.ROAMING,
}


@dataclass(frozen=True, slots=True)
class Operator:
    """+COPS?: selection mode, and the operator when registered."""

    mode: int
    format: int | None = None
    name: str | None = None
    act: int | None = None


@dataclass(frozen=True, slots=True)
class StorageStatus:
    """One store of +CPMS: its name (absent in the set form's reply), used and total."""

    storage: str | None
    used: int
    total: int


@dataclass(frozen=True, slots=True)
class StorageSupport:
    """+CPMS=?: stores offered for reading/deleting, writing/sending, and receiving."""

    mem1: tuple[str, ...]
    mem2: tuple[str, ...]
    mem3: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class CnmiSupport:
    """+CNMI=?: the values offered for each parameter."""

    mode: frozenset[int]
    mt: frozenset[int]
    bm: frozenset[int]
    ds: frozenset[int]
    bfr: frozenset[int]


@dataclass(frozen=True, slots=True)
class ListedPdu:
    """One +CMGL entry in PDU mode; `pdu` starts with the SMSC field."""

    index: int
    stat: int | None
    alpha: str | None
    length: int
    pdu: bytes


@dataclass(frozen=True, slots=True)
class ReadPdu:
    """A +CMGR reply in PDU mode; `pdu` starts with the SMSC field."""

    stat: int | None
    alpha: str | None
    length: int
    pdu: bytes


@dataclass(frozen=True, slots=True)
class PushedPdu:
    """A +CMT or +CDS URC in PDU mode; acknowledge with AT+CNMA once it is committed."""

    alpha: str | None
    length: int
    pdu: bytes


@dataclass(frozen=True, slots=True)
class TextMessage:
    """A text-mode +CMGL/+CMGR entry: header fields as sent and the text joined with LF."""

    index: int | None
    stat: str
    address: str | None
    alpha: str | None
    timestamp: str | None
    text: str


@dataclass(frozen=True, slots=True)
class OwnNumber:
    """+CNUM: one number the SIM says is ours."""

    alpha: str | None
    number: str
    type: int | None


@dataclass(frozen=True, slots=True)
class ServiceCentre:
    """+CSCA: the SMSC number and its type of address."""

    number: str
    type: int | None


@dataclass(frozen=True, slots=True)
class Ussd:
    """+CUSD: status (0 done, 1 more input wanted, 2 released ...), text as sent, dcs."""

    status: int
    text: str | None
    dcs: int | None


# -- building blocks ------------------------------------------------------------------------


def split_fields(text: str) -> list[str]:
    """Split an AT parameter list at commas outside quotes and parentheses; fields keep quotes."""
    fields: list[str] = []
    current: list[str] = []
    depth = 0
    quoted = False
    for ch in text:
        if quoted:
            quoted = ch != '"'
        elif ch == '"':
            quoted = True
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth = max(0, depth - 1)
        elif ch == "," and depth == 0:
            fields.append("".join(current).strip())
            current = []
            continue
        current.append(ch)
    fields.append("".join(current).strip())
    return fields


def unquote(field: str) -> str:
    """The field without one pair of surrounding double quotes."""
    if len(field) >= 2 and field[0] == '"' and field[-1] == '"':
        return field[1:-1]
    return field


def find_line(lines: Sequence[str], prefix: str, command: str) -> str:
    """The first line starting with `prefix` (leading blanks ignored)."""
    for line in lines:
        if line.strip().startswith(prefix):
            return line
    raise AtParseError(command, "\n".join(lines), f"no {prefix} line")


def payload(line: str, prefix: str, command: str) -> str:
    """What follows `prefix` on `line`, stripped."""
    text = line.strip()
    if not text.startswith(prefix):
        raise AtParseError(command, line, f"does not start with {prefix}")
    return text[len(prefix) :].strip()


def _int(field: str, command: str, line: str, what: str) -> int:
    text = unquote(field.strip()).strip()
    if not _DIGITS.fullmatch(text) or len(text) > _MAX_INT_DIGITS:
        raise AtParseError(command, line, f"{what} is not a number: {field!r}")
    return int(text)


def _opt_int(field: str, command: str, line: str, what: str) -> int | None:
    return None if not unquote(field.strip()) else _int(field, command, line, what)


def _opt_str(field: str) -> str | None:
    text = unquote(field)
    return text or None


def _hex_bytes(text: str, command: str, line: str) -> bytes:
    if not _HEX.fullmatch(text):
        raise AtParseError(command, line, "PDU is not hex")
    if len(text) % 2:
        # Pantech lists PDUs with an odd digit count; guessing which nibble is missing would
        # hand a made-up message to the decoder.
        raise AtParseError(
            command, line, f"PDU has an odd number of hex digits ({len(text)})"
        )
    return bytes.fromhex(text)


def _pdu_text(line: str) -> str:
    # Some firmware quotes the PDU or leaves a stray quote (gammu at-sms/04); hex is hex.
    return line.strip().strip('"').strip()


def _first_hex_line(body: Sequence[str]) -> str | None:
    # Noise between a header and its PDU is skipped: python-gsmmodem saw a garbage line there.
    for line in body:
        if _HEX.fullmatch(_pdu_text(line)):
            return line
    return None


# -- identity -------------------------------------------------------------------------------


def parse_identity(lines: Sequence[str], prefix: str, command: str) -> str:
    """Free-form identity lines (manufacturer, model, revision) with an optional prefix removed."""
    parts = []
    for line in lines:
        text = line.strip()
        if text.startswith(prefix):
            text = text[len(prefix) :].strip()
        if text:
            parts.append(unquote(text).strip())
    if not parts:
        raise AtParseError(command, "", "no identification line")
    return "\n".join(parts)


def parse_cgmi(lines: Sequence[str]) -> str:
    """AT+CGMI: the manufacturer."""
    return parse_identity(lines, "+CGMI:", "+CGMI")


def parse_cgmm(lines: Sequence[str]) -> str:
    """AT+CGMM: the model."""
    return parse_identity(lines, "+CGMM:", "+CGMM")


def parse_cgmr(lines: Sequence[str]) -> str:
    """AT+CGMR: the revision; several lines are joined with LF."""
    return parse_identity(lines, "+CGMR:", "+CGMR")


def _digits_line(lines: Sequence[str], prefix: str, command: str, sizes: range) -> str:
    for line in lines:
        text = line.strip()
        if text.startswith(prefix):
            text = text[len(prefix) :].strip()
        text = unquote(text)
        if _DIGITS.fullmatch(text):
            if len(text) not in sizes:
                raise AtParseError(
                    command, line, f"{len(text)} digits, expected {sizes}"
                )
            return text
    raise AtParseError(command, "\n".join(lines), "no line of digits")


def parse_cgsn(lines: Sequence[str]) -> str:
    """AT+CGSN: the IMEI (15 digits, 16 for IMEISV), bare or after "+CGSN:"."""
    return _digits_line(lines, "+CGSN:", "+CGSN", range(14, 18))


def parse_cimi(lines: Sequence[str]) -> str:
    """AT+CIMI: the IMSI (up to 15 digits)."""
    return _digits_line(lines, "+CIMI:", "+CIMI", range(6, 16))


_ICCID_PREFIXES = ("+CCID:", "+QCCID:", "+ICCID:", "^ICCID:", "ICCID:")


def parse_ccid(lines: Sequence[str]) -> str:
    """The ICCID from +CCID, +QCCID, +ICCID, ^ICCID, +CRSM (EF_ICCID) or a bare line."""
    for line in lines:
        text = line.strip()
        if text.startswith("+CRSM:"):
            fields = split_fields(text[len("+CRSM:") :])
            if len(fields) < 3:
                raise AtParseError("+CCID", line, "+CRSM reply without data")
            return _iccid(unquote(fields[2]), line, swapped=True)
        for prefix in _ICCID_PREFIXES:
            if text.startswith(prefix):
                return _iccid(unquote(text[len(prefix) :].strip()), line, swapped=None)
        if _HEX.fullmatch(unquote(text)):
            return _iccid(unquote(text), line, swapped=None)
    raise AtParseError("+CCID", "\n".join(lines), "no ICCID line")


def _iccid(raw: str, line: str, *, swapped: bool | None) -> str:
    text = raw.strip().upper()
    if swapped is None:
        # ICCIDs start with 89 (ITU-T E.118 telecom prefix); "98" means the SIM's
        # nibble-swapped BCD came through as it is stored (Huawei ^ICCID).
        swapped = text.startswith("98") and len(text) % 2 == 0
    if swapped:
        if len(text) % 2:
            raise AtParseError("+CCID", line, "odd number of BCD digits")
        text = "".join(text[i + 1] + text[i] for i in range(0, len(text), 2))
    text = text.rstrip("F")
    if not _DIGITS.fullmatch(text) or not 18 <= len(text) <= 22:
        raise AtParseError("+CCID", line, "not an ICCID of 18 to 22 digits")
    return text


# -- SIM and network ------------------------------------------------------------------------


def parse_cpin(lines: Sequence[str]) -> str:
    """+CPIN: READY, SIM PIN, SIM PUK, PH-SIM PIN, NOT READY ... (upper case, unquoted)."""
    line = find_line(lines, "+CPIN:", "+CPIN")
    code = unquote(payload(line, "+CPIN:", "+CPIN")).strip().upper()
    if not code:
        raise AtParseError("+CPIN", line, "empty code")
    return code


def parse_csq(lines: Sequence[str]) -> SignalQuality:
    """+CSQ: <rssi>,<ber>."""
    line = find_line(lines, "+CSQ:", "+CSQ")
    fields = split_fields(payload(line, "+CSQ:", "+CSQ"))
    if len(fields) != 2:
        raise AtParseError("+CSQ", line, "expected <rssi>,<ber>")
    rssi = _int(fields[0], "+CSQ", line, "rssi")
    ber = _int(fields[1], "+CSQ", line, "ber")
    if not (rssi <= 31 or rssi == 99 or 100 <= rssi <= 191 or rssi == 199):
        raise AtParseError("+CSQ", line, f"rssi {rssi} out of range")
    if not (ber <= 7 or ber == 99):
        raise AtParseError("+CSQ", line, f"ber {ber} out of range")
    return SignalQuality(rssi, ber)


def _registration(line: str, prefix: str, *, solicited: bool) -> NetworkRegistration:
    command = prefix.removesuffix(":")
    fields = split_fields(payload(line, prefix, command))
    n = None
    if solicited:
        if len(fields) < 2:
            raise AtParseError(command, line, "expected <n>,<stat>[,...]")
        n = _int(fields[0], command, line, "n")
        fields = fields[1:]
    stat = _int(fields[0], command, line, "stat")
    if stat > 10:
        raise AtParseError(command, line, f"stat {stat} out of range")
    lac = ci = None
    act = None
    if len(fields) >= 3:
        lac = _hex_field(fields[1], command, line, "lac")
        ci = _hex_field(fields[2], command, line, "ci")
    if len(fields) >= 4:
        act = _opt_int(fields[3], command, line, "act")
    return NetworkRegistration(n, stat, lac, ci, act)


def _hex_field(field: str, command: str, line: str, what: str) -> str | None:
    text = unquote(field).strip().upper()
    if not text:
        return None
    if not _HEX.fullmatch(text):
        raise AtParseError(command, line, f"{what} is not hex: {field!r}")
    return text


def parse_creg(lines: Sequence[str]) -> NetworkRegistration:
    """AT+CREG? reply: <n>,<stat>[,<lac>,<ci>[,<act>]]; the last +CREG line wins."""
    return _registration(_last_line(lines, "+CREG:"), "+CREG:", solicited=True)


def parse_creg_urc(line: str) -> NetworkRegistration:
    """+CREG URC: <stat>[,<lac>,<ci>[,<act>]]."""
    return _registration(line, "+CREG:", solicited=False)


def parse_cgreg(lines: Sequence[str]) -> NetworkRegistration:
    """AT+CGREG? reply, like parse_creg."""
    return _registration(_last_line(lines, "+CGREG:"), "+CGREG:", solicited=True)


def parse_cgreg_urc(line: str) -> NetworkRegistration:
    """+CGREG URC, like parse_creg_urc."""
    return _registration(line, "+CGREG:", solicited=False)


def parse_cereg(lines: Sequence[str]) -> NetworkRegistration:
    """AT+CEREG? reply (<lac> holds the TAC)."""
    return _registration(_last_line(lines, "+CEREG:"), "+CEREG:", solicited=True)


def parse_cereg_urc(line: str) -> NetworkRegistration:
    """+CEREG URC."""
    return _registration(line, "+CEREG:", solicited=False)


def _last_line(lines: Sequence[str], prefix: str) -> str:
    # A +CREG URC can arrive while AT+CREG? is pending and is then taken as an info line;
    # the solicited answer is written last, right before OK.
    for line in reversed(lines):
        if line.strip().startswith(prefix):
            return line
    raise AtParseError(prefix.removesuffix(":"), "\n".join(lines), f"no {prefix} line")


def parse_cops(lines: Sequence[str]) -> Operator:
    """+COPS: <mode>[,<format>,<oper>[,<act>]]."""
    line = find_line(lines, "+COPS:", "+COPS")
    fields = split_fields(payload(line, "+COPS:", "+COPS"))
    mode = _int(fields[0], "+COPS", line, "mode")
    if len(fields) == 1:
        return Operator(mode)
    if len(fields) == 2:
        raise AtParseError("+COPS", line, "<format> without <oper>")
    fmt = _opt_int(fields[1], "+COPS", line, "format")
    act = _opt_int(fields[3], "+COPS", line, "act") if len(fields) > 3 else None
    return Operator(mode, fmt, _opt_str(fields[2]), act)


def parse_cnum(lines: Sequence[str]) -> list[OwnNumber]:
    """+CNUM: [<alpha>],<number>,<type>[,...] per line; [] when the SIM knows none."""
    numbers = []
    for line in lines:
        if not line.strip().startswith("+CNUM:"):
            continue
        fields = split_fields(payload(line, "+CNUM:", "+CNUM"))
        if len(fields) < 2 or not unquote(fields[1]):
            raise AtParseError("+CNUM", line, "expected [<alpha>],<number>[,<type>]")
        kind = _opt_int(fields[2], "+CNUM", line, "type") if len(fields) > 2 else None
        numbers.append(OwnNumber(_opt_str(fields[0]), unquote(fields[1]), kind))
    return numbers


def parse_csca(lines: Sequence[str]) -> ServiceCentre:
    """+CSCA: <sca>[,<tosca>]; a UCS-2 hex number (AT+CSCS="UCS2") is decoded."""
    line = find_line(lines, "+CSCA:", "+CSCA")
    fields = split_fields(payload(line, "+CSCA:", "+CSCA"))
    number = unquote(fields[0]).strip()
    if not number:
        raise AtParseError("+CSCA", line, "empty number")
    kind = _opt_int(fields[1], "+CSCA", line, "tosca") if len(fields) > 1 else None
    return ServiceCentre(_ucs2_number(number), kind)


def _ucs2_number(number: str) -> str:
    if len(number) % 4 or not _HEX.fullmatch(number) or not number.startswith("00"):
        return number
    decoded = bytes.fromhex(number).decode("utf-16-be", "replace")
    # Only a result that is a dial string proves the field was UCS-2.
    return decoded if re.fullmatch(r"\+?[0-9]+", decoded) else number


def parse_cscs(lines: Sequence[str]) -> str:
    """AT+CSCS? reply: the current character set."""
    line = find_line(lines, "+CSCS:", "+CSCS")
    charset = unquote(payload(line, "+CSCS:", "+CSCS")).strip()
    if not charset:
        raise AtParseError("+CSCS", line, "empty character set")
    return charset


def parse_cscs_support(lines: Sequence[str]) -> tuple[str, ...]:
    """AT+CSCS=? reply: ("IRA","GSM","UCS2") or a bare "IRA"."""
    line = find_line(lines, "+CSCS:", "+CSCS")
    return _name_list(payload(line, "+CSCS:", "+CSCS"), "+CSCS", line)


def parse_cusd(line: str) -> Ussd:
    """+CUSD: <m>[,<str>[,<dcs>]]; the text stays as sent (hex for UCS-2 or packed GSM-7)."""
    fields = split_fields(payload(line, "+CUSD:", "+CUSD"))
    status = _int(fields[0], "+CUSD", line, "status")
    text = unquote(fields[1]) if len(fields) > 1 else None
    dcs = _opt_int(fields[2], "+CUSD", line, "dcs") if len(fields) > 2 else None
    return Ussd(status, text, dcs)


# -- message storage ------------------------------------------------------------------------


def parse_cpms(lines: Sequence[str]) -> tuple[StorageStatus, ...]:
    """AT+CPMS? ("SM",used,total,... ) or the AT+CPMS=... reply (used,total,...)."""
    line = find_line(lines, "+CPMS:", "+CPMS")
    fields = split_fields(payload(line, "+CPMS:", "+CPMS"))
    named = bool(fields[0]) and not _DIGITS.fullmatch(fields[0])
    size = 3 if named else 2
    if all(not f for f in fields) or len(fields) % size:
        raise AtParseError("+CPMS", line, "expected (<mem>,)<used>,<total> groups")
    stores = []
    for i in range(0, len(fields), size):
        name = unquote(fields[i]).strip() if named else None
        used = _int(fields[i + size - 2], "+CPMS", line, "used")
        total = _int(fields[i + size - 1], "+CPMS", line, "total")
        if named and not name:
            raise AtParseError("+CPMS", line, "empty storage name")
        stores.append(StorageStatus(name, used, total))
    return tuple(stores)


def parse_cpms_support(lines: Sequence[str]) -> StorageSupport:
    """AT+CPMS=?: three lists (missing ones empty); bare names count as one-element lists."""
    line = find_line(lines, "+CPMS:", "+CPMS")
    text = payload(line, "+CPMS:", "+CPMS")
    if text.startswith("((") and text.endswith("))"):
        text = text[1:-1]  # Wavecom wraps the lists in one more pair of parentheses
    fields = split_fields(text) if text else []
    if len(fields) > 3:
        raise AtParseError("+CPMS", line, "more than three storage lists")
    groups = [_name_list(f, "+CPMS", line) for f in fields]
    groups += [()] * (3 - len(groups))
    return StorageSupport(groups[0], groups[1], groups[2])


def _name_list(field: str, command: str, line: str) -> tuple[str, ...]:
    text = field.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    names = []
    for item in split_fields(text):
        name = unquote(item).strip()
        if item and not name:
            raise AtParseError(command, line, "empty name")
        if "(" in name or ")" in name or '"' in name:
            raise AtParseError(command, line, f"malformed name {item!r}")
        if name:
            names.append(name)
    return tuple(names)


def parse_cnmi(lines: Sequence[str]) -> tuple[int, ...]:
    """AT+CNMI?: <mode>,<mt>,<bm>,<ds>,<bfr> as in force."""
    line = find_line(lines, "+CNMI:", "+CNMI")
    fields = split_fields(payload(line, "+CNMI:", "+CNMI"))
    return tuple(_int(f, "+CNMI", line, "value") for f in fields)


def parse_cnmi_support(lines: Sequence[str]) -> CnmiSupport:
    """AT+CNMI=?: five value lists such as (0-2),(0,1,3); missing lists are empty."""
    line = find_line(lines, "+CNMI:", "+CNMI")
    fields = split_fields(payload(line, "+CNMI:", "+CNMI"))
    if len(fields) > 5:
        raise AtParseError("+CNMI", line, "more than five lists")
    sets = [_int_set(f, line) for f in fields]
    sets += [frozenset()] * (5 - len(sets))
    return CnmiSupport(*sets)


def _int_set(field: str, line: str) -> frozenset[int]:
    text = field.strip()
    if text.startswith("(") and text.endswith(")"):
        text = text[1:-1]
    values: set[int] = set()
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        low, _, high = item.partition("-")
        first = _int(low, "+CNMI", line, "value")
        last = _int(high, "+CNMI", line, "value") if high else first
        if last < first or last - first > 255:
            raise AtParseError("+CNMI", line, f"bad range {item!r}")
        values.update(range(first, last + 1))
    return frozenset(values)


def split_entries(
    lines: Sequence[str], prefix: str
) -> list[tuple[str, tuple[str, ...]]]:
    """Group a listing into (header, following lines) per entry; lines before the first go."""
    entries: list[tuple[str, list[str]]] = []
    for line in lines:
        if line.strip().startswith(prefix):
            entries.append((line, []))
        elif entries:
            entries[-1][1].append(line)
    return [(header, tuple(body)) for header, body in entries]


def _pdu_after(
    header: str, length_field: str, body: Sequence[str], command: str
) -> tuple[int, bytes]:
    # ModemManager saw "+CMGR: 1,,147 0791..." (header and PDU on one line, split by a space).
    length_text, _, inline = length_field.strip().partition(" ")
    length = _int(length_text, command, header, "length")
    if inline.strip():
        return length, _hex_bytes(_pdu_text(inline), command, header)
    pdu_line = _first_hex_line(body)
    if pdu_line is None:
        if body:
            raise AtParseError(command, body[0], "PDU is not hex")
        raise AtParseError(command, header, "no PDU line after the header")
    return length, _hex_bytes(_pdu_text(pdu_line), command, pdu_line)


def _reject_text_mode(
    fields: Sequence[str], index: int, command: str, line: str
) -> None:
    if (
        len(fields) > index
        and fields[index].startswith('"')
        and fields[index][1:2].isalpha()
    ):
        raise AtParseError(command, line, "text-mode header; use the *_text parser")


def parse_cmgl_header(line: str) -> tuple[int, int | None, str | None, str]:
    """A PDU-mode +CMGL header: (index, stat, alpha, length field as sent)."""
    fields = split_fields(payload(line, "+CMGL:", "+CMGL"))
    _reject_text_mode(fields, 1, "+CMGL", line)
    if len(fields) < 3:
        raise AtParseError("+CMGL", line, "expected <index>,<stat>,[<alpha>],<length>")
    index = _int(fields[0], "+CMGL", line, "index")
    stat = _opt_int(fields[1], "+CMGL", line, "stat")
    # Pantech leaves <alpha> out entirely: <index>,<stat>,<length>.
    alpha = _opt_str(",".join(fields[2:-1])) if len(fields) > 3 else None
    return index, stat, alpha, fields[-1]


def parse_cmgl_entry(header: str, body: Sequence[str]) -> ListedPdu:
    """One PDU-mode +CMGL entry: its header and the lines that followed it."""
    index, stat, alpha, length_field = parse_cmgl_header(header)
    length, pdu = _pdu_after(header, length_field, body, "+CMGL")
    return ListedPdu(index, stat, alpha, length, pdu)


def parse_cmgl(lines: Sequence[str]) -> list[ListedPdu]:
    """A PDU-mode AT+CMGL reply; raises on the first bad entry (use parse_cmgl_entry to skip)."""
    return [parse_cmgl_entry(h, body) for h, body in split_entries(lines, "+CMGL:")]


def parse_cmgr(lines: Sequence[str]) -> ReadPdu:
    """A PDU-mode AT+CMGR reply: [<stat>],[<alpha>],<length> then the PDU line.

    Also taken: <length> alone, <stat>,<length>, and <index>,<stat>,<alpha>,<length>, all seen
    in gammu's corpus of real replies.
    """
    header = find_line(lines, "+CMGR:", "+CMGR")
    fields = split_fields(payload(header, "+CMGR:", "+CMGR"))
    _reject_text_mode(fields, 0, "+CMGR", header)
    body = lines[list(lines).index(header) + 1 :]
    stat: int | None = None
    alpha: str | None = None
    if len(fields) == 2:
        stat = _opt_int(fields[0], "+CMGR", header, "stat")
    elif len(fields) == 3:
        stat = _opt_int(fields[0], "+CMGR", header, "stat")
        alpha = _opt_str(fields[1])
    elif len(fields) == 4:
        stat = _opt_int(fields[1], "+CMGR", header, "stat")
        alpha = _opt_str(fields[2])
    elif len(fields) != 1:
        raise AtParseError("+CMGR", header, "expected [<stat>],[<alpha>],<length>")
    length, pdu = _pdu_after(header, fields[-1], body, "+CMGR")
    return ReadPdu(stat, alpha, length, pdu)


def _text_entry(
    header: str, body: Sequence[str], prefix: str, *, indexed: bool
) -> TextMessage:
    command = prefix.removesuffix(":")
    fields = split_fields(payload(header, prefix, command))
    index = _int(fields[0], command, header, "index") if indexed else None
    rest = fields[1:] if indexed else fields
    if not rest or not rest[0].startswith('"'):
        raise AtParseError(command, header, "expected a quoted <stat>")
    stat = unquote(rest[0])
    address = _opt_str(rest[1]) if len(rest) > 1 else None
    timestamp = alpha = None
    for i, field in enumerate(rest[2:4], start=2):
        if _TIMESTAMP.match(field):
            timestamp = unquote(field)
            break
        if i == 2:
            alpha = _opt_str(field)
    return TextMessage(index, stat, address, alpha, timestamp, "\n".join(body))


def parse_cmgl_text(lines: Sequence[str]) -> list[TextMessage]:
    """A text-mode AT+CMGL reply (AT+CMGF=1)."""
    return [
        _text_entry(h, body, "+CMGL:", indexed=True)
        for h, body in split_entries(lines, "+CMGL:")
    ]


def parse_cmgr_text(lines: Sequence[str]) -> TextMessage:
    """A text-mode AT+CMGR reply (AT+CMGF=1); multi-line texts are joined with LF."""
    entries = split_entries(lines, "+CMGR:")
    if not entries:
        raise AtParseError("+CMGR", "\n".join(lines), "no +CMGR line")
    header, body = entries[0]
    return _text_entry(header, body, "+CMGR:", indexed=False)


def parse_cmgs(lines: Sequence[str]) -> int:
    """+CMGS: <mr>[,...]: the message reference (0..255) that status reports will carry."""
    line = find_line(lines, "+CMGS:", "+CMGS")
    reference = _int(
        split_fields(payload(line, "+CMGS:", "+CMGS"))[0], "+CMGS", line, "mr"
    )
    if reference > 255:
        raise AtParseError("+CMGS", line, f"reference {reference} out of range")
    return reference


def _stored(line: str, prefix: str) -> StoredLocation:
    command = prefix.removesuffix(":")
    fields = split_fields(payload(line, prefix, command))
    if len(fields) < 2:
        raise AtParseError(command, line, "expected <mem>,<index>")
    storage = unquote(fields[0]).strip()
    if not storage:
        raise AtParseError(command, line, "empty storage name")
    return StoredLocation(storage, _int(fields[1], command, line, "index"))


def parse_cmti(line: str) -> StoredLocation:
    """+CMTI: <mem>,<index>: a new message stored."""
    return _stored(line, "+CMTI:")


def parse_cdsi(line: str) -> StoredLocation:
    """+CDSI: <mem>,<index>: a new status report stored."""
    return _stored(line, "+CDSI:")


def _pushed(line: str, body: Sequence[str], prefix: str) -> PushedPdu:
    command = prefix.removesuffix(":")
    fields = split_fields(payload(line, prefix, command))
    if len(fields) > 2:
        raise AtParseError(command, line, "text-mode or malformed header")
    alpha = _opt_str(fields[0]) if len(fields) == 2 else None
    if len(body) != 1:
        raise AtParseError(command, line, f"expected one PDU line, got {len(body)}")
    length = _int(fields[-1], command, line, "length")
    return PushedPdu(alpha, length, _hex_bytes(_pdu_text(body[0]), command, body[0]))


def parse_cmt(line: str, body: Sequence[str]) -> PushedPdu:
    """+CMT: [<alpha>],<length> and its PDU line."""
    return _pushed(line, body, "+CMT:")


def parse_cds(line: str, body: Sequence[str]) -> PushedPdu:
    """+CDS: <length> and its PDU line."""
    return _pushed(line, body, "+CDS:")

"""TP-SCTS / TP-DT / absolute TP-VP (7 semi-octet pairs) and the relative TP-VP table.

Ours entirely. The library parses timestamps with strptime("%y"), which leaks ValueError on bad
digits and puts years 69-99 in the 1900s.

Century: TS 23.040 gives only two digits. We read every year as 20yy: SMS centres never stamped a
message for this appliance before 2000, the real vectors that state a century for "98" and "99"
(smspdudecoder, ATLib) say 2098 and 2099, and a broken modem clock then shows up as an obviously
wrong future date rather than a plausible past one.

Time zone: quarter hours, the sign in bit 3 of the first semi-octet. Its two digits are read
positionally (tens x 10 + units) even when the units semi-octet is not decimal, because a real
modem sends 0xC2 for +08:00 (vector pygsm-sr-2, read the same way by python-gsmmodem). Date and
time digits must be decimal and form a real date, or the field is a PduDecodeError.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from modem.errors import PduDecodeError, PduEncodeError

SCTS_OCTETS = 7
CENTURY = 2000
QUARTER_HOUR_S = 15 * 60
MAX_TZ_QUARTERS = 79  # two decimal semi-octets with the sign bit taken: 7 tens, 9 units
_TZ_SIGN_BIT = 0x08
_PARTS = ("year", "month", "day", "hour", "minute", "second")

# Relative TP-VP (TS 23.040 9.2.3.12.1), in seconds.
MINUTE_S = 60
HOUR_S = 3600
DAY_S = 86400
WEEK_S = 7 * DAY_S
_VP_5MIN_MAX = 143  # (VP + 1) x 5 minutes, up to 12 hours
_VP_30MIN_MAX = 167  # 12 hours + (VP - 143) x 30 minutes, up to 24 hours
_VP_DAYS_MAX = 196  # (VP - 166) days, up to 30 days
_VP_WEEKS_BASE = 192  # (VP - 192) weeks, up to 63 weeks
MAX_RELATIVE_VALIDITY_S = (255 - _VP_WEEKS_BASE) * WEEK_S


def decode_scts(raw: bytes, *, field: str, offset: int) -> datetime:
    """Seven octets -> an aware datetime whose offset is the stamped time zone."""
    if len(raw) != SCTS_OCTETS:
        raise PduDecodeError(field, offset, f"needs {SCTS_OCTETS} octets")
    values: list[int] = []
    for index, (name, octet) in enumerate(zip(_PARTS, raw, strict=False)):
        tens, units = octet & 0x0F, octet >> 4
        if tens > 9 or units > 9:
            raise PduDecodeError(
                field, offset + index, f"{name} {octet:02X} has a non-decimal digit"
            )
        values.append(tens * 10 + units)
    tz_octet = raw[6]
    quarters = (tz_octet & 0x07) * 10 + (tz_octet >> 4)
    if tz_octet & _TZ_SIGN_BIT:
        quarters = -quarters
    year, month, day, hour, minute, second = values
    try:
        return datetime(
            CENTURY + year,
            month,
            day,
            hour,
            minute,
            second,
            tzinfo=timezone(timedelta(seconds=quarters * QUARTER_HOUR_S)),
        )
    except ValueError as exc:
        raise PduDecodeError(
            field, offset, f"not a valid date and time: {exc}"
        ) from None


def encode_scts(moment: datetime, field: str) -> bytes:
    """An aware datetime in 2000-2099 with a whole quarter-hour offset -> seven octets."""
    offset = moment.utcoffset()
    if offset is None:
        raise PduEncodeError(field, "needs an aware datetime (the offset is sent)")
    if not CENTURY <= moment.year < CENTURY + 100:
        raise PduEncodeError(field, f"year {moment.year} is outside 2000-2099")
    quarters, rest = divmod(int(offset.total_seconds()), QUARTER_HOUR_S)
    if rest or offset.microseconds:
        raise PduEncodeError(field, f"offset {offset} is not whole quarter hours")
    if abs(quarters) > MAX_TZ_QUARTERS:
        raise PduEncodeError(field, f"offset {offset} is beyond what SCTS can carry")
    digits = (
        moment.year - CENTURY,
        moment.month,
        moment.day,
        moment.hour,
        moment.minute,
        moment.second,
    )
    out = bytearray((value % 10) << 4 | (value // 10) for value in digits)
    magnitude = abs(quarters)
    tz = (magnitude % 10) << 4 | (magnitude // 10)
    out.append(tz | _TZ_SIGN_BIT if quarters < 0 else tz)
    return bytes(out)


def decode_relative_validity(vp: int) -> int:
    """Relative TP-VP octet -> seconds."""
    if vp <= _VP_5MIN_MAX:
        return (vp + 1) * 5 * MINUTE_S
    if vp <= _VP_30MIN_MAX:
        return 12 * HOUR_S + (vp - _VP_5MIN_MAX) * 30 * MINUTE_S
    if vp <= _VP_DAYS_MAX:
        return (vp - 166) * DAY_S
    return (vp - _VP_WEEKS_BASE) * WEEK_S


def encode_relative_validity(seconds: int) -> int:
    """Seconds -> the smallest relative TP-VP that lasts at least that long."""
    if not 1 <= seconds <= MAX_RELATIVE_VALIDITY_S:
        raise PduEncodeError(
            "validity_s", f"{seconds} is outside 1-{MAX_RELATIVE_VALIDITY_S} seconds"
        )

    def ceil_div(a: int, b: int) -> int:
        return -(-a // b)

    if seconds <= 12 * HOUR_S:
        return ceil_div(seconds, 5 * MINUTE_S) - 1
    if seconds <= DAY_S:
        return _VP_5MIN_MAX + ceil_div(seconds - 12 * HOUR_S, 30 * MINUTE_S)
    if seconds <= 30 * DAY_S:
        return 166 + ceil_div(seconds, DAY_S)
    return _VP_WEEKS_BASE + ceil_div(seconds, WEEK_S)

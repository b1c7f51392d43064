"""PURE business hours: a queue's weekly opening hours in its time zone, with holidays.

`is_open(schedule, at)`, `next_opening(schedule, at)`, `business_seconds(schedule, start,
end)` (seconds the schedule is open between two instants - for business-hours metrics),
`open_intervals(...)`, and `describe_opening(opening, now, tz)`, the customer's words for
when a human answers ("tomorrow at 8am").

Hours are wall-clock times on local dates: "mon 08:00-18:00" is open from 08:00 to 18:00
on every Monday in the schedule's zone, whatever the UTC offset that day. Instants are
aware datetimes; durations are real elapsed time, so a day whose clocks go back has
two hours more of 00:00-24:00 than one whose clocks go forward. A wall time the clocks
skip is read with the UTC offset in force before the jump (PEP 495: 01:30 on the night
London goes from 01:00 to 02:00 is 02:30 BST); one that happens twice is its first
occurrence. A holiday closes its whole local date.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = (
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
    "Sunday",
)
MONTH_NAMES = (
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
)
MINUTES_PER_DAY = 24 * 60
# How far ahead next_opening looks (a schedule of holidays only, or none, never opens).
HORIZON_DAYS = 400
MAX_HOLIDAYS = 1000
MAX_SPANS_PER_DAY = 8


@dataclass(frozen=True, slots=True, order=True)
class Span:
    """Open from `start` to `end`, in minutes after local midnight (end up to 1440)."""

    start: int
    end: int

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.end <= MINUTES_PER_DAY:
            raise ValueError(f"{self.render()}: the opening must come before the close")

    def render(self) -> str:
        return f"{_hhmm(self.start)}-{_hhmm(self.end)}"


@dataclass(frozen=True, slots=True)
class Schedule:
    """Opening hours: spans per weekday (Monday first), in `timezone`, and holidays."""

    timezone: tzinfo
    week: tuple[tuple[Span, ...], ...]
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        if len(self.week) != len(WEEKDAYS):
            raise ValueError("a week has 7 days")

    @classmethod
    def always(cls, timezone: tzinfo = UTC) -> Schedule:
        """Open round the clock, every day."""
        day = (Span(0, MINUTES_PER_DAY),)
        return cls(timezone, (day,) * len(WEEKDAYS))

    def spans(self, day: date) -> tuple[Span, ...]:
        """The spans open on a local date (none on a holiday)."""
        if day in self.holidays:
            return ()
        return self.week[day.weekday()]


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


# ---------------------------------------------------------------------- text form

_DAYS_RE = re.compile(r"([a-z]{3})(?:\s*-\s*([a-z]{3}))?")
_SPAN_RE = re.compile(r"(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})")


def parse_week(text: str) -> tuple[tuple[Span, ...], ...]:
    """Weekly hours from lines such as `mon-fri 08:00-18:00`, `sat 09:00-12:00,
    13:00-17:00`, `sun closed`; a day no line names is closed. ValueError naming the line.
    """
    days: list[list[Span]] = [[] for _ in WEEKDAYS]
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip().lower()
        if not line:
            continue
        head, _, rest = line.partition(" ")
        match = _DAYS_RE.fullmatch(head)
        if (
            match is None
            or match[1] not in WEEKDAYS
            or (match[2] is not None and match[2] not in WEEKDAYS)
        ):
            raise ValueError(
                f"line {number}: start with a day or days (mon, mon-fri), not {head!r}"
            )
        first = WEEKDAYS.index(match[1])
        last = WEEKDAYS.index(match[2]) if match[2] else first
        if last < first:
            raise ValueError(f"line {number}: {head} runs backwards (write mon-fri)")
        spans = _parse_spans(rest.strip(), number)
        for index in range(first, last + 1):
            days[index].extend(spans)
    week = []
    for index, spans in enumerate(days):
        ordered = sorted(set(spans))
        for a, b in itertools.pairwise(ordered):
            if b.start < a.end:
                raise ValueError(
                    f"{WEEKDAYS[index]}: {a.render()} and {b.render()} overlap"
                )
        if len(ordered) > MAX_SPANS_PER_DAY:
            raise ValueError(
                f"{WEEKDAYS[index]}: at most {MAX_SPANS_PER_DAY} spans a day"
            )
        week.append(tuple(ordered))
    return tuple(week)


def _parse_spans(text: str, number: int) -> list[Span]:
    if text in ("closed", "-"):
        return []
    if text in ("open", "24h", "all day"):
        return [Span(0, MINUTES_PER_DAY)]
    spans = []
    for piece in text.split(","):
        match = _SPAN_RE.fullmatch(piece.strip())
        if match is None:
            raise ValueError(
                f"line {number}: hours as HH:MM-HH:MM (08:00-18:00), 'closed' or "
                f"'open', not {piece.strip()!r}"
            )
        h1, m1, h2, m2 = (int(g) for g in match.groups())
        if h1 > 23 or m1 > 59 or m2 > 59 or h2 > 24 or (h2 == 24 and m2):
            raise ValueError(f"line {number}: {piece.strip()} is not a time of day")
        try:
            spans.append(Span(h1 * 60 + m1, h2 * 60 + m2))
        except ValueError as exc:
            raise ValueError(f"line {number}: {exc}") from exc
    return spans


def render_week(week: tuple[tuple[Span, ...], ...]) -> str:
    """The text form of weekly hours (parse_week reads it back), runs of days joined."""
    lines = []
    index = 0
    while index < len(WEEKDAYS):
        last = index
        while last + 1 < len(WEEKDAYS) and week[last + 1] == week[index]:
            last += 1
        days = (
            WEEKDAYS[index] if last == index else f"{WEEKDAYS[index]}-{WEEKDAYS[last]}"
        )
        hours = ", ".join(s.render() for s in week[index]) or "closed"
        lines.append(f"{days} {hours}")
        index = last + 1
    return "\n".join(lines)


def parse_holidays(text: str) -> frozenset[date]:
    """Dates, one a line as YYYY-MM-DD (anything after the date is a comment)."""
    found: set[date] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        head = line.split()[0]
        try:
            found.add(date.fromisoformat(head))
        except ValueError as exc:
            raise ValueError(
                f"line {number}: a date as YYYY-MM-DD, not {head!r}"
            ) from exc
    if len(found) > MAX_HOLIDAYS:
        raise ValueError(f"at most {MAX_HOLIDAYS} holidays")
    return frozenset(found)


def render_holidays(holidays: frozenset[date]) -> str:
    return "\n".join(d.isoformat() for d in sorted(holidays))


# ---------------------------------------------------------------------- instants


def _instant(day: date, minutes: int, timezone: tzinfo) -> datetime:
    """The UTC instant of a wall-clock time on a local date (24:00 is the next midnight)."""
    if minutes >= MINUTES_PER_DAY:
        day, minutes = day + timedelta(days=1), minutes - MINUTES_PER_DAY
    local = datetime.combine(day, time(minutes // 60, minutes % 60), tzinfo=timezone)
    return local.astimezone(UTC)


def _check_aware(*instants: datetime) -> None:
    for at in instants:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError(f"{at!r}: an aware datetime is required")


def open_intervals(
    schedule: Schedule, start: datetime, end: datetime
) -> Iterator[tuple[datetime, datetime]]:
    """The open stretches between `start` and `end` (clipped to them), in order, UTC,
    with touching stretches (22:00-24:00 then 00:00-06:00) joined."""
    _check_aware(start, end)
    if end <= start:
        return
    tz = schedule.timezone
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date() + timedelta(days=1)
    pending: tuple[datetime, datetime] | None = None
    day = first
    while day <= last:
        for span in schedule.spans(day):
            a = max(_instant(day, span.start, tz), start)
            b = min(_instant(day, span.end, tz), end)
            if b <= a:
                continue
            if pending is not None and a <= pending[1]:
                pending = (pending[0], max(pending[1], b))
                continue
            if pending is not None:
                yield pending
            pending = (a, b)
        day += timedelta(days=1)
    if pending is not None:
        yield pending


def is_open(schedule: Schedule, at: datetime) -> bool:
    """Whether the schedule is open at the instant `at`."""
    _check_aware(at)
    tz = schedule.timezone
    local_day = at.astimezone(tz).date()
    for day in (
        local_day - timedelta(days=1),
        local_day,
        local_day + timedelta(days=1),
    ):
        for span in schedule.spans(day):
            if _instant(day, span.start, tz) <= at < _instant(day, span.end, tz):
                return True
    return False


def next_opening(
    schedule: Schedule, at: datetime, *, horizon_days: int = HORIZON_DAYS
) -> datetime | None:
    """`at` when open then, else the next instant it opens; None if it never does
    within `horizon_days`."""
    if is_open(schedule, at):
        return at
    chunk = timedelta(days=8)
    start = at
    limit = at + timedelta(days=horizon_days)
    while start < limit:
        for opening, _ in open_intervals(schedule, start, min(start + chunk, limit)):
            return opening
        start += chunk
    return None


def business_seconds(schedule: Schedule, start: datetime, end: datetime) -> float:
    """Seconds between two instants during which the schedule is open (0 when end <=
    start); real elapsed time, so DST days count what the clock really ran."""
    return sum((b - a).total_seconds() for a, b in open_intervals(schedule, start, end))


# ---------------------------------------------------------------------- words


def clock_time(at: datetime) -> str:
    """A wall-clock time as customers read it: 8am, 5:30pm, noon, midnight."""
    if at.hour == 0 and at.minute == 0:
        return "midnight"
    if at.hour == 12 and at.minute == 0:
        return "noon"
    hour = at.hour % 12 or 12
    suffix = "am" if at.hour < 12 else "pm"
    minutes = f":{at.minute:02d}" if at.minute else ""
    return f"{hour}{minutes}{suffix}"


def describe_opening(opening: datetime, now: datetime, timezone: tzinfo) -> str:
    """When `opening` is, as seen from `now` in `timezone`: "today at 5pm", "tomorrow at
    8am", "on Monday at 9:30am" (within a week), "on 2 January at 8am" (later)."""
    _check_aware(opening, now)
    local = opening.astimezone(timezone)
    days = (local.date() - now.astimezone(timezone).date()).days
    at = f"at {clock_time(local)}"
    if days <= 0:
        return f"today {at}"
    if days == 1:
        return f"tomorrow {at}"
    if days < 7:
        return f"on {DAY_NAMES[local.weekday()]} {at}"
    return f"on {local.day} {MONTH_NAMES[local.month - 1]} {at}"

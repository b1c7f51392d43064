"""Business hours (PURE): the text forms, is_open, next_opening, the customer's words for
an opening, and business_seconds - exact on plain days, on both DST changes (Europe/
London, America/New_York, a zone that skips a whole day), holidays and spans that touch
at midnight; and as properties: additive, bounded, consistent with is_open."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.automation.schedule import (
    Schedule,
    Span,
    business_seconds,
    clock_time,
    describe_opening,
    is_open,
    next_opening,
    open_intervals,
    parse_holidays,
    parse_week,
    render_holidays,
    render_week,
)

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
APIA = ZoneInfo("Pacific/Apia")  # skipped 30 December 2011 entirely
HOUR = 3600.0

OFFICE = Schedule(LONDON, parse_week("mon-fri 08:00-18:00\nsat 09:00-12:30"))


def london(*args: int) -> datetime:
    return datetime(*args, tzinfo=LONDON)  # type: ignore[misc]


# ---------------------------------------------------------------- text forms


def test_weekly_hours_read_days_ranges_and_several_spans() -> None:
    week = parse_week(
        "# the office\nMon-Thu 08:00-12:00, 13:00-17:30\nfri 8:00-16:00\nsat closed\n"
        "sun open\n"
    )
    assert week[0] == (Span(8 * 60, 12 * 60), Span(13 * 60, 17 * 60 + 30))
    assert week[3] == week[0]
    assert week[4] == (Span(8 * 60, 16 * 60),)
    assert week[5] == ()
    assert week[6] == (Span(0, 24 * 60),)
    assert parse_week(render_week(week)) == week
    assert render_week(week).splitlines()[0] == "mon-thu 08:00-12:00, 13:00-17:30"


def test_a_day_no_line_names_is_closed_and_24_00_ends_a_day() -> None:
    week = parse_week("tue 22:00-24:00\nwed 00:00-06:00")
    assert week[0] == ()
    assert week[1] == (Span(22 * 60, 24 * 60),)


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("monday 08:00-18:00", "start with a day"),
        ("fri-mon 08:00-18:00", "runs backwards"),
        ("mon 8-18", "HH:MM-HH:MM"),
        ("mon 18:00-08:00", "before the close"),
        ("mon 25:00-26:00", "not a time of day"),
        ("mon 08:00-24:30", "not a time of day"),
        ("mon 08:00-12:00, 11:00-13:00", "overlap"),
        ("mon-fri 08:00-12:00\nwed 10:00-11:00", "overlap"),
    ],
)
def test_bad_weekly_hours_name_the_line(text: str, error: str) -> None:
    with pytest.raises(ValueError, match=error):
        parse_week(text)


def test_holidays_are_dates_one_a_line_with_comments() -> None:
    found = parse_holidays("2026-12-25 Christmas\n2026-12-26\n\n# new year\n2027-01-01")
    assert found == {date(2026, 12, 25), date(2026, 12, 26), date(2027, 1, 1)}
    assert parse_holidays(render_holidays(found)) == found
    with pytest.raises(ValueError, match="line 2: a date as YYYY-MM-DD"):
        parse_holidays("2026-12-25\n25/12/2026")


# ---------------------------------------------------------------- is_open, next_opening


def test_open_and_closed_on_a_plain_week() -> None:
    assert is_open(OFFICE, london(2026, 11, 27, 8, 0))  # a Friday, at opening
    assert not is_open(OFFICE, london(2026, 11, 27, 18, 0))  # the close is exclusive
    assert is_open(OFFICE, london(2026, 11, 28, 12, 29))  # Saturday morning
    assert not is_open(OFFICE, london(2026, 11, 29, 12, 0))  # Sunday
    with pytest.raises(ValueError, match="aware"):
        is_open(OFFICE, datetime(2026, 11, 27, 12, 0))


def test_next_opening_after_hours_over_a_weekend_and_a_holiday() -> None:
    friday_night = london(2026, 11, 27, 20, 0)
    saturday = next_opening(OFFICE, friday_night)
    assert saturday == london(2026, 11, 28, 9, 0)
    sunday = london(2026, 11, 29, 10, 0)
    assert next_opening(OFFICE, sunday) == london(2026, 11, 30, 8, 0)
    holiday = Schedule(LONDON, OFFICE.week, parse_holidays("2026-11-30"))
    assert next_opening(holiday, sunday) == london(2026, 12, 1, 8, 0)
    during = london(2026, 11, 27, 9, 30)
    assert next_opening(OFFICE, during) == during
    never = Schedule(LONDON, parse_week(""))
    assert next_opening(never, during) is None


def test_the_customer_reads_when_in_the_queues_zone() -> None:
    now = london(2026, 11, 26, 20, 0)  # Thursday evening
    assert describe_opening(london(2026, 11, 27, 8, 0), now, LONDON) == (
        "tomorrow at 8am"
    )
    assert describe_opening(london(2026, 11, 26, 21, 30), now, LONDON) == (
        "today at 9:30pm"
    )
    assert describe_opening(london(2026, 11, 30, 12, 0), now, LONDON) == (
        "on Monday at noon"
    )
    assert describe_opening(london(2026, 12, 7, 0, 0), now, LONDON) == (
        "on 7 December at midnight"
    )
    # the same instant seen from New York is still the evening before
    late = datetime(2026, 11, 27, 3, 0, tzinfo=UTC)
    assert describe_opening(late + timedelta(hours=10), late, NEW_YORK) == (
        "tomorrow at 8am"
    )
    assert clock_time(london(2026, 1, 1, 12, 5)) == "12:05pm"
    assert clock_time(london(2026, 1, 1, 0, 30)) == "12:30am"


# ---------------------------------------------------------------- business_seconds

ALWAYS_LONDON = Schedule.always(LONDON)
NINE_TO_FIVE = Schedule(LONDON, parse_week("mon-sun 09:00-17:00"))


def test_business_seconds_on_plain_days() -> None:
    monday = london(2026, 11, 30, 0, 0)
    assert business_seconds(OFFICE, monday, monday + timedelta(days=1)) == 10 * HOUR
    week = business_seconds(OFFICE, monday, monday + timedelta(days=7))
    assert week == 5 * 10 * HOUR + 3.5 * HOUR
    # partial spans at both ends
    assert (
        business_seconds(
            OFFICE, london(2026, 11, 30, 17, 0), london(2026, 12, 1, 9, 15)
        )
        == (1 + 1.25) * HOUR
    )
    assert business_seconds(OFFICE, monday + timedelta(days=1), monday) == 0.0


@pytest.mark.parametrize(
    ("day", "hours"),
    [
        (date(2026, 3, 29), 23.0),  # London springs forward at 01:00 GMT
        (date(2026, 10, 25), 25.0),  # and falls back at 02:00 BST
        (date(2026, 6, 1), 24.0),
    ],
)
def test_a_whole_day_counts_the_hours_its_clocks_really_ran(
    day: date, hours: float
) -> None:
    start = datetime.combine(day, datetime.min.time(), tzinfo=LONDON)
    end = datetime.combine(day + timedelta(days=1), datetime.min.time(), tzinfo=LONDON)
    assert business_seconds(ALWAYS_LONDON, start, end) == hours * HOUR
    # 09:00-17:00 is eight hours whatever the offset that day
    assert business_seconds(NINE_TO_FIVE, start, end) == 8 * HOUR


def test_wall_times_the_clocks_skip_or_repeat() -> None:
    # 01:00-03:00 on the spring-forward night: 01:00 GMT to 03:00 BST is one hour
    night = Schedule(LONDON, parse_week("sun 01:00-03:00"))
    spring = london(2026, 3, 29, 0, 0)
    assert business_seconds(night, spring, spring + timedelta(days=1)) == 1 * HOUR
    # 01:00-03:00 on the fall-back night: 01:00 BST to 03:00 GMT is three hours
    autumn = london(2026, 10, 25, 0, 0)
    assert business_seconds(night, autumn, autumn + timedelta(days=1)) == 3 * HOUR
    # a span starting in the gap opens with the offset before the jump (PEP 495)
    gap = Schedule(LONDON, parse_week("sun 01:30-04:00"))
    ((opened, _),) = open_intervals(gap, spring, spring + timedelta(days=1))
    assert opened == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)  # 02:30 BST


def test_new_york_and_a_day_that_never_happened() -> None:
    office = Schedule(NEW_YORK, parse_week("mon-fri 09:00-17:00"))
    # the week of the spring change (Sunday 8 March 2026): five full days
    start = datetime(2026, 3, 8, 0, 0, tzinfo=NEW_YORK)
    assert business_seconds(office, start, start + timedelta(days=7)) == 40 * HOUR
    # Samoa skipped Friday 30 December 2011: that Friday's hours never happened
    samoa = Schedule(APIA, parse_week("mon-sun 09:00-17:00"))
    start = datetime(2011, 12, 29, 0, 0, tzinfo=APIA)
    end = datetime(2011, 12, 31, 23, 0, tzinfo=APIA)
    assert business_seconds(samoa, start, end) == 2 * 8 * HOUR


def test_holidays_close_their_whole_local_day() -> None:
    christmas = Schedule(LONDON, OFFICE.week, parse_holidays("2026-12-25"))
    start, end = london(2026, 12, 21, 0, 0), london(2026, 12, 26, 0, 0)
    assert business_seconds(christmas, start, end) == 4 * 10 * HOUR
    assert not is_open(christmas, london(2026, 12, 25, 10, 0))


def test_spans_that_touch_at_midnight_are_one_stretch() -> None:
    nights = Schedule(LONDON, parse_week("mon 22:00-24:00\ntue 00:00-06:00"))
    monday = london(2026, 11, 30, 0, 0)
    stretches = list(open_intervals(nights, monday, monday + timedelta(days=2)))
    assert stretches == [(london(2026, 11, 30, 22, 0), london(2026, 12, 1, 6, 0))]
    assert next_opening(nights, london(2026, 11, 30, 23, 59)) == london(
        2026, 11, 30, 23, 59
    )


# ---------------------------------------------------------------- properties

ZONES = st.sampled_from([LONDON, NEW_YORK, ZoneInfo("Australia/Lord_Howe"), UTC])
INSTANTS = st.datetimes(
    min_value=datetime(2025, 1, 1),
    max_value=datetime(2027, 12, 31),
    timezones=st.just(UTC),
)


@st.composite
def schedules(draw: st.DrawFn) -> Schedule:
    week = []
    for _ in range(7):
        cuts = sorted(draw(st.sets(st.integers(0, 48), max_size=4)))
        spans = [
            Span(a * 30, b * 30) for a, b in zip(cuts[::2], cuts[1::2], strict=False)
        ]
        week.append(tuple(s for s in spans if s.start < s.end))
    holidays = draw(
        st.frozensets(st.dates(date(2025, 1, 1), date(2027, 12, 31)), max_size=5)
    )
    return Schedule(draw(ZONES), tuple(week), holidays)


@settings(max_examples=150, deadline=None)
@given(
    schedules(), INSTANTS, st.timedeltas(timedelta(0), timedelta(days=20)), st.data()
)
def test_business_seconds_is_additive_bounded_and_agrees_with_is_open(
    schedule: Schedule, start: datetime, length: timedelta, data: st.DataObject
) -> None:
    end = start + length
    middle = start + data.draw(st.timedeltas(timedelta(0), length))
    total = business_seconds(schedule, start, end)
    assert 0.0 <= total <= length.total_seconds()
    assert total == pytest.approx(
        business_seconds(schedule, start, middle)
        + business_seconds(schedule, middle, end)
    )
    for a, b in open_intervals(schedule, start, end):
        assert is_open(schedule, a)
        assert is_open(schedule, a + (b - a) / 2)
    probe = start + data.draw(st.timedeltas(timedelta(0), length))
    inside = any(a <= probe < b for a, b in open_intervals(schedule, start, end))
    if probe < end:
        assert inside == is_open(schedule, probe)


@settings(max_examples=100, deadline=None)
@given(schedules(), INSTANTS)
def test_next_opening_is_open_with_nothing_open_before_it(
    schedule: Schedule, at: datetime
) -> None:
    opening = next_opening(schedule, at, horizon_days=30)
    if opening is None:
        assert business_seconds(schedule, at, at + timedelta(days=30)) == 0.0
        return
    assert opening >= at
    assert is_open(schedule, opening)
    assert business_seconds(schedule, at, opening) == 0.0


def test_always_open_counts_every_second() -> None:
    start = london(2026, 3, 28, 12, 0)
    end = london(2026, 11, 1, 12, 0)
    assert business_seconds(ALWAYS_LONDON, start, end) == (end - start).total_seconds()

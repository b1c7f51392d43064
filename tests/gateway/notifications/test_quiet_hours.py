"""Quiet hours in the recipient's time zone: when a held text may go."""

from __future__ import annotations

import zoneinfo
from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.notifications.quiet import QuietHours, release, zones_for

NIGHT = QuietHours(time(21, 0), time(8, 0))
LONDON = zoneinfo.ZoneInfo("Europe/London")
NEW_YORK = zoneinfo.ZoneInfo("America/New_York")
UTC_ZONE = zoneinfo.ZoneInfo("UTC")


def local(zone: zoneinfo.ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=zone).astimezone(UTC)


def test_a_text_at_23_in_new_york_waits_for_8_there() -> None:
    at = local(NEW_YORK, 2026, 3, 2, 23, 0)
    assert release(at, [NEW_YORK], NIGHT) == local(NEW_YORK, 2026, 3, 3, 8, 0)


def test_early_morning_waits_for_the_same_mornings_end() -> None:
    at = local(NEW_YORK, 2026, 3, 3, 6, 30)
    assert release(at, [NEW_YORK], NIGHT) == local(NEW_YORK, 2026, 3, 3, 8, 0)


@pytest.mark.parametrize("hour", [8, 12, 20])
def test_daytime_goes_at_once(hour: int) -> None:
    assert release(local(NEW_YORK, 2026, 3, 2, hour, 0), [NEW_YORK], NIGHT) is None


def test_21_is_quiet_and_8_is_not() -> None:
    assert release(local(LONDON, 2026, 3, 2, 21, 0), [LONDON], NIGHT) is not None
    assert release(local(LONDON, 2026, 3, 2, 20, 59), [LONDON], NIGHT) is None
    assert release(local(LONDON, 2026, 3, 3, 8, 0), [LONDON], NIGHT) is None


def test_a_window_within_one_day() -> None:
    small = QuietHours(time(1, 0), time(5, 0))
    assert release(local(LONDON, 2026, 3, 2, 3, 0), [LONDON], small) == local(
        LONDON, 2026, 3, 2, 5, 0
    )
    assert release(local(LONDON, 2026, 3, 2, 23, 0), [LONDON], small) is None


def test_equal_ends_mean_never_quiet() -> None:
    never = QuietHours(time(8, 0), time(8, 0))
    assert release(local(LONDON, 2026, 3, 2, 3, 0), [LONDON], never) is None


def test_several_zones_wait_for_the_latest_morning() -> None:
    # 06:00 in New York is 11:00 in London: London's day, New York's night
    at = local(NEW_YORK, 2026, 3, 3, 6, 0)
    assert release(at, [LONDON, NEW_YORK], NIGHT) == local(NEW_YORK, 2026, 3, 3, 8, 0)
    # 16:00 in New York is 21:00 in London: London's night already
    evening = local(NEW_YORK, 2026, 3, 2, 16, 0)
    assert release(evening, [LONDON, NEW_YORK], NIGHT) == local(
        NEW_YORK, 2026, 3, 3, 8, 0
    )


def test_zones_too_far_apart_follow_the_latest_night() -> None:
    # London, Perth and Los Angeles share no daytime hour: Los Angeles, whose night
    # ends last, decides alone
    perth = zoneinfo.ZoneInfo("Australia/Perth")
    los_angeles = zoneinfo.ZoneInfo("America/Los_Angeles")
    at = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)  # 22:00 in Los Angeles
    assert release(at, [LONDON, perth, los_angeles], NIGHT) == local(
        los_angeles, 2026, 3, 2, 8, 0
    )


def test_across_a_daylight_saving_change() -> None:
    # London springs forward on 29 March 2026: 08:00 is BST
    at = local(LONDON, 2026, 3, 28, 22, 0)
    assert release(at, [LONDON], NIGHT) == datetime(2026, 3, 29, 7, 0, tzinfo=UTC)


def test_zones_from_numbers_and_overrides() -> None:
    assert zones_for("+12125550123", override=None, fallback=UTC_ZONE) == (NEW_YORK,)
    assert LONDON in zones_for("+447911123456", override=None, fallback=UTC_ZONE)
    # a reserved (drama) range: the country's zones
    assert LONDON in zones_for("+447700900123", override=None, fallback=UTC_ZONE)
    assert zones_for("+12125550123", override="Europe/London", fallback=UTC_ZONE) == (
        LONDON,
    )
    # an override that is no zone is ignored
    assert zones_for("+12125550123", override="Mars/Base", fallback=UTC_ZONE) == (
        NEW_YORK,
    )
    assert len(zones_for("+61412345678", override=None, fallback=UTC_ZONE)) > 1


@settings(max_examples=300, deadline=None)
@given(
    minutes=st.integers(0, 60 * 24 * 400),
    names=st.lists(
        st.sampled_from(
            [
                "Europe/London",
                "America/New_York",
                "Australia/Perth",
                "Australia/Sydney",
                "Asia/Kolkata",
                "America/Los_Angeles",
            ]
        ),
        min_size=1,
        max_size=3,
        unique=True,
    ),
)
def test_a_release_is_the_first_moment_no_zone_is_quiet(
    minutes: int, names: list[str]
) -> None:
    zones = [zoneinfo.ZoneInfo(n) for n in names]
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=minutes)

    def quiet_somewhere(moment: datetime) -> bool:
        return any(NIGHT.quiet_at(moment.astimezone(z).time()) for z in zones)

    until = release(at, zones, NIGHT)
    if not quiet_somewhere(at):
        assert until is None
        return
    # brute force, minute by minute (every boundary is a whole minute)
    first = next(
        (
            at + timedelta(minutes=m)
            for m in range(1, 48 * 60)
            if not quiet_somewhere(at + timedelta(minutes=m))
        ),
        None,
    )
    if first is not None:
        assert until == first
        return
    # no common daytime at all: the zone whose night ends last decides alone
    latest = min(zones, key=lambda z: at.astimezone(z).utcoffset() or timedelta())
    assert until == release(at, [latest], NIGHT)

"""PURE: quiet hours in the recipient's time zone, and when a held text may go.

The recipient's zone comes from their number (phonenumbers' timezone data), unless the
contact's `timezone` attribute names one. A number whose prefix spans several zones (a
US area code on a zone line, an Australian or Russian mobile) is read conservatively:
it is quiet while it is quiet in ANY of its zones - the night starts with the easternmost
zone's evening and ends with the westernmost zone's morning (the latest night). If the
zones lie so far apart that no hour is outside quiet hours everywhere, the zone whose
night ends last decides alone. A number the data does not place falls back to the
country's zones, then to the box's own time zone ([gateway] timezone).
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

import phonenumbers
from phonenumbers import timezone as phone_timezones

UNKNOWN_ZONE = "Etc/Unknown"
_MAX_ROUNDS = 12  # settling several zones' nights takes at most a few rounds


@dataclass(frozen=True, slots=True)
class QuietHours:
    """A nightly window in local time; `start` == `end` means never quiet."""

    start: time
    end: time

    @property
    def enabled(self) -> bool:
        return self.start != self.end

    def quiet_at(self, local: time) -> bool:
        """Whether a local clock time is inside the window."""
        if not self.enabled:
            return False
        if self.start < self.end:
            return self.start <= local < self.end
        return local >= self.start or local < self.end  # across midnight

    def ends_after(self, local: datetime) -> datetime:
        """The end of the window `local` is in (a local, aware time)."""
        day = local.date()
        if self.start > self.end and local.time() >= self.start:
            day += timedelta(days=1)
        end = datetime.combine(day, self.end, tzinfo=local.tzinfo)
        return end


def parse_clock(text: str) -> time:
    """ "21:00" -> time(21, 0); ValueError otherwise."""
    hours, _, minutes = text.strip().partition(":")
    if not (hours.isdigit() and minutes.isdigit() and len(minutes) == 2):
        raise ValueError(text)
    return time(int(hours), int(minutes))


def render_clock(value: time) -> str:
    return f"{value.hour:02d}:{value.minute:02d}"


def zone(name: str) -> zoneinfo.ZoneInfo | None:
    """The zone of an IANA name, or None for a name that is not one."""
    if not name or name == UNKNOWN_ZONE or "\0" in name:
        return None
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return None


def zones_for(
    number: str, *, override: str | None, fallback: zoneinfo.ZoneInfo
) -> tuple[zoneinfo.ZoneInfo, ...]:
    """The zones a recipient may be in: `override` (a contact's own) if it is a zone,
    else the number's, else its country's, else `fallback`."""
    if override is not None and (chosen := zone(override)) is not None:
        return (chosen,)
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return (fallback,)
    names = tuple(phone_timezones.time_zones_for_number(parsed))
    if names == (UNKNOWN_ZONE,):
        # a number the data cannot place (a reserved range): its country's zones
        by_country = getattr(
            phone_timezones, "_country_level_time_zones_for_number", None
        )
        names = tuple(by_country(parsed)) if by_country is not None else ()
    found = tuple(z for z in (zone(n) for n in names) if z is not None)
    return found or (fallback,)


def release(
    at: datetime, zones: Sequence[zoneinfo.ZoneInfo], quiet: QuietHours
) -> datetime | None:
    """When a text due at `at` may go, if `at` is in quiet hours (None: it may go now).

    Quiet in any of `zones` holds it; the result is the first moment no zone is quiet.
    """
    if not quiet.enabled or not zones:
        return None
    moment = at
    for _ in range(_MAX_ROUNDS):
        later = moment
        for tz in zones:
            local = later.astimezone(tz)
            if quiet.quiet_at(local.time()):
                later = quiet.ends_after(local).astimezone(UTC)
        if later == moment:
            return None if moment == at else moment
        if later - at > timedelta(days=2):
            break
        moment = later
    # no hour is outside quiet hours in every zone: the latest night decides alone
    latest = min(zones, key=lambda tz: at.astimezone(tz).utcoffset() or timedelta())
    local = at.astimezone(latest)
    if not quiet.quiet_at(local.time()):
        return None
    return quiet.ends_after(local).astimezone(UTC)


def zone_names(zones: Sequence[zoneinfo.ZoneInfo]) -> list[str]:
    return [z.key for z in zones]

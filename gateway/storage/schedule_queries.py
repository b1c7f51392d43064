"""Holds on outbound messages: a not-before time (scheduled sends) and quiet hours in the
recipient's time zone, kept in `outbound_holds` so nothing leaves early across restarts.

A hold sets the parts' `next_attempt_at` to its `not_before`, so the claim skips them
until then like any retry; `defer_if_quiet` runs in the claim for a message none of
whose parts left, and pushes it to the end of the recipient's night when it is due in
quiet hours (a message due at 20:59 that waited on a busy modem does not go at 21:05).
Every function runs ON THE DB THREAD, inside a unit.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from gateway.domain import PartStatus
from gateway.notifications.quiet import QuietHours, parse_clock, release, zone
from gateway.notifications.quiet import render_clock as clock_text
from gateway.storage.models import OutboundPart
from gateway.storage.notification_models import OutboundHold

_LOGGER = logging.getLogger(__name__)


def hold(
    message_id: int,
    *,
    not_before: datetime,
    zones: Sequence[str],
    quiet: QuietHours | None,
    now: datetime,
) -> None:
    """Keep a queued message until `not_before`, and out of quiet hours in `zones`."""
    subject = quiet is not None and quiet.enabled and bool(zones)
    OutboundHold.insert(
        message=message_id,
        not_before=not_before,
        zones=list(zones) if subject else [],
        quiet_start=clock_text(quiet.start) if subject and quiet else None,
        quiet_end=clock_text(quiet.end) if subject and quiet else None,
    ).on_conflict(
        conflict_target=[OutboundHold.message],
        preserve=[
            OutboundHold.not_before,
            OutboundHold.zones,
            OutboundHold.quiet_start,
            OutboundHold.quiet_end,
        ],
    ).execute()
    _push_parts(message_id, not_before, now)


def _push_parts(message_id: int, until: datetime, now: datetime) -> None:
    OutboundPart.update(next_attempt_at=until, updated_at=now).where(
        (OutboundPart.message == message_id)
        & (OutboundPart.status == PartStatus.QUEUED)
    ).execute()


def not_before(message_id: int) -> datetime | None:
    """When a held message may go (None: it is not held)."""
    row = OutboundHold.get_or_none(OutboundHold.message == message_id)
    return None if row is None else row.not_before


def defer_if_quiet(message_id: int, now: datetime) -> datetime | None:
    """For the claim: when the message is held by quiet hours now, push it to their end
    and say until when; None when it may go."""
    row: Any = OutboundHold.get_or_none(OutboundHold.message == message_id)
    if row is None or not row.zones or not row.quiet_start or not row.quiet_end:
        return None
    quiet = QuietHours(parse_clock(row.quiet_start), parse_clock(row.quiet_end))
    zones = [z for z in (zone(name) for name in row.zones) if z is not None]
    until = release(now, zones, quiet)
    if until is None:
        return None
    row.not_before = until
    row.save()
    _push_parts(message_id, until, now)
    _LOGGER.info("message %s held by quiet hours until %s", message_id, until)
    return until


def held_beyond(moment: datetime) -> Any:
    """A subquery: ids of messages held until after `moment` (not due yet, so not old)."""
    return OutboundHold.select(OutboundHold.message).where(
        OutboundHold.not_before > moment
    )

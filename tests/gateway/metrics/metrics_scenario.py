"""The seeded support desk of the metrics must-show (tests/gateway/metrics/
test_metrics_scenario.py has the story and the hand arithmetic): its schedules, its
settings and the conversations as they happened. The browser test of the Dashboard
plays the same desk (tests/web/browser/test_browser_dashboard.py).

The desk (Europe/London; reports in Europe/London):
  support  Mon-Fri 09:00-17:00, holidays Fri 3 Apr (Good Friday), Mon 6 Apr (Easter Monday)
  weekend  Sat-Sun 00:00-12:00
Clocks: Sun 29 Mar 2026 01:00Z GMT -> BST (a 23-hour day); Sun 25 Oct 2026 01:00Z
BST -> GMT (a 25-hour day). Times below are UTC (Z) with the local time beside.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

from gateway.automation.schedule import Schedule, business_seconds, parse_week
from gateway.metrics.hours import Schedules
from tests.gateway.metrics.metricshelpers import Desk

LONDON = ZoneInfo("Europe/London")
SUPPORT = Schedule(
    LONDON,
    parse_week("mon-fri 09:00-17:00"),
    frozenset({date(2026, 4, 3), date(2026, 4, 6)}),
)
WEEKEND = Schedule(LONDON, parse_week("sat-sun 00:00-12:00"))
INI = """
[metrics]
timezone = Europe/London
[csat]
delay_s = 5m
expiry_s = 3d
thanks_text = Thanks!
"""
HOURS = 3600
# The Dashboard's whole range for the desk: W13 (23 Mar) to the end of October.
FIRST_DAY, LAST_DAY = "2026-03-23", "2026-10-31"


async def queues() -> Mapping[str, Schedule]:
    return {"support": SUPPORT, "weekend": WEEKEND}


def z(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=UTC)


async def play(d: Desk) -> dict[str, int]:
    """The conversations, as they happened. Returns their ids by letter."""
    alice, bob = await d.agent("alice"), await d.agent("bob")
    ids: dict[str, int] = {}

    # A - support, Alice, over the spring DST weekend.
    # Fri 27 Mar 16:00Z (16:00 GMT) the customer writes; Mon 30 Mar 09:00Z (10:00 BST)
    # Alice answers; 10:00Z (11:00 BST) she resolves. The survey goes 10:05Z and the
    # customer rates "5/5 thanks" at 12:00Z (a rating: A stays resolved).
    a = ids["A"] = await d.text("+447700900001", "My order never came", z(3, 27, 16))
    await d.route(a, "support")
    await d.assign(a, alice, z(3, 27, 16, 1))
    await d.reply(a, "Sorry! Checking now.", z(3, 30, 9), alice)
    await d.resolve(a, z(3, 30, 10), alice)
    assert await d.send_surveys(z(3, 30, 10, 4)) == 0  # not due yet
    assert await d.send_surveys(z(3, 30, 10, 5)) == 1
    await d.text("+447700900001", "5/5 thanks", z(3, 30, 12))

    # B - support, Bob, over the Easter holidays, then reopened by the customer.
    # Thu 2 Apr 15:30Z (16:30 BST) the customer writes; Tue 7 Apr 08:30Z (09:30 BST)
    # Bob answers; 09:00Z he resolves; survey 09:05Z; "I'd give it a 3 thanks" 10:00Z.
    # Wed 8 Apr 08:00Z (09:00 BST) the customer writes again: a reopening (the survey
    # was answered, so this is a normal message); Bob answers 08:30Z, resolves 09:00Z.
    b = ids["B"] = await d.text(
        "+447700900002", "Wrong size delivered", z(4, 2, 15, 30)
    )
    await d.route(b, "support")
    await d.assign(b, bob, z(4, 2, 15, 31))
    await d.reply(b, "We'll swap it.", z(4, 7, 8, 30), bob)
    await d.resolve(b, z(4, 7, 9), bob)
    assert await d.send_surveys(z(4, 7, 9, 5)) == 1
    await d.text("+447700900002", "I'd give it a 3 thanks", z(4, 7, 10))
    assert await d.text("+447700900002", "Actually, one more question", z(4, 8, 8)) == b
    await d.reply(b, "Sure, go ahead.", z(4, 8, 8, 30), bob)
    await d.resolve(b, z(4, 8, 9), bob)

    # C - weekend, the automation first, over the autumn DST night.
    # Sat 24 Oct 12:00Z (13:00 BST, closed) the customer writes; the automation hands
    # over at 12:10Z; Alice answers Sun 25 Oct 11:00Z (11:00 GMT) and resolves 11:30Z;
    # survey 11:35Z; "Excellent" 11:40Z.
    c = ids["C"] = await d.text("+447700900003", "Can I change my slot?", z(10, 24, 12))
    await d.route(c, "weekend")
    await d.hand_over(c, z(10, 24, 12, 10))
    await d.assign(c, alice, z(10, 24, 12, 11))
    await d.reply(c, "Yes - which day?", z(10, 25, 11), alice)
    await d.resolve(c, z(10, 25, 11, 30), alice)
    assert await d.send_surveys(z(10, 25, 11, 35)) == 1
    await d.text("+447700900003", "Excellent", z(10, 25, 11, 40))

    # D - weekend, resolved by the automation on the spring DST Sunday (deflected).
    # Sun 29 Mar 00:30Z (00:30 GMT) the customer writes; the automation resolves it at
    # 12:00Z (13:00 BST). No survey: nobody but the automation answered.
    dd = ids["D"] = await d.text("+447700900004", "Opening hours?", z(3, 29, 0, 30))
    await d.route(dd, "weekend")
    await d.bot_resolve(dd, z(3, 29, 12))
    assert await d.send_surveys(z(3, 29, 12, 5)) == 0

    # E - support, Alice; the survey's answer is no rating: a normal message.
    # Tue 31 Mar 09:00Z (10:00 BST) the customer writes; Alice answers 09:15Z, resolves
    # 09:30Z; survey 09:35Z; "Where is my refund though?" 10:00Z reopens it; Alice
    # answers 10:20Z and resolves 10:30Z (no second survey: one per conversation).
    e = ids["E"] = await d.text("+447700900005", "Refund status?", z(3, 31, 9))
    await d.route(e, "support")
    await d.assign(e, alice, z(3, 31, 9, 1))
    await d.reply(e, "It's on its way.", z(3, 31, 9, 15), alice)
    await d.resolve(e, z(3, 31, 9, 30), alice)
    assert await d.send_surveys(z(3, 31, 9, 35)) == 1
    await d.text("+447700900005", "Where is my refund though?", z(3, 31, 10))
    await d.reply(e, "Today, promise.", z(3, 31, 10, 20), alice)
    await d.resolve(e, z(3, 31, 10, 30), alice)
    assert await d.send_surveys(z(3, 31, 10, 35)) == 0
    return ids


def hours() -> Schedules:
    """Business seconds from the desk's two schedules."""
    return Schedules(fetch=queues, measure=business_seconds)

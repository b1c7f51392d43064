"""The must-show: a seeded support week (or four) whose figures were worked out by hand,
in wall-clock and in business seconds, across both of Europe/London's DST changes of
2026 and the Easter bank holidays - through the real inbound unit, InboxService, the
CSAT step and survey sender, and MetricsService's report. The desk, its schedules and its
conversations as they happened are in metrics_scenario.py (the Dashboard's browser test
plays the same desk); the arithmetic is here, beside each expected figure.

The desk (Europe/London; reports in Europe/London):
  support  Mon-Fri 09:00-17:00, holidays Fri 3 Apr (Good Friday), Mon 6 Apr (Easter Monday)
  weekend  Sat-Sun 00:00-12:00
Clocks: Sun 29 Mar 2026 01:00Z GMT -> BST (a 23-hour day); Sun 25 Oct 2026 01:00Z
BST -> GMT (a 25-hour day). Times below are UTC (Z) with the local time beside.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from metrics_scenario import HOURS, INI, hours, play, z
from metricshelpers import Desk, desk

from gateway.domain import ConversationStatus, MessageOrigin
from gateway.metrics.definitions import Durations, Figures, MetricKind
from gateway.metrics.records import SurveyStatus
from gateway.storage import metrics_queries


def durations(f: Durations) -> tuple[int, float | None, float | None, float | None]:
    return (f.count, f.mean_s, f.p50_s, f.p90_s)


@pytest.fixture
async def played(tmp_path: Path) -> tuple[Desk, dict[str, int]]:
    async with desk(tmp_path, INI, hours=hours()) as d:
        ids = await play(d)
        yield d, ids


async def test_each_conversation_ends_as_it_should(
    played: tuple[Desk, dict[str, int]],
) -> None:
    d, ids = played
    for letter in "ABCDE":
        conversation = await d.conversation(ids[letter])
        assert conversation.status is ConversationStatus.RESOLVED, letter
    # the ratings reopened nothing: only B and E were reopened (once each)
    assert [(await d.conversation(ids[x])).reopen_count for x in "ABCDE"] == [
        0,
        1,
        0,
        0,
        1,
    ]
    surveys = {
        x: await d.store.run(metrics_queries.get_survey, ids[x]) for x in "ABCDE"
    }
    assert surveys["D"] is None  # the automation resolved it
    assert {x: s.status for x, s in surveys.items() if s is not None} == {
        "A": SurveyStatus.ANSWERED,
        "B": SurveyStatus.ANSWERED,
        "C": SurveyStatus.ANSWERED,
        "E": SurveyStatus.DECLINED,
    }
    assert [surveys[x].rating for x in "ABC"] == [5, 3, 5]  # type: ignore[union-attr]


async def test_the_events_carry_the_hand_computed_seconds(
    played: tuple[Desk, dict[str, int]],
) -> None:
    d, ids = played
    await d.metrics.measure()

    async def timed(letter: str) -> list[tuple[str, float | None, float | None]]:
        events = await d.store.run(metrics_queries.events_of, ids[letter])
        return [
            (e.kind.value, e.wall_s, e.business_s)
            for e in events
            if e.kind not in (MetricKind.CSAT_SENT, MetricKind.CSAT)
        ]

    # A: FRT Fri 16:00Z -> Mon 09:00Z = 65 h of real time (the clocks went forward:
    #    the wall clocks read 66 h); business = Fri 16-17 GMT (1 h) + Mon 09-10 BST (1 h).
    #    Resolution to Mon 10:00Z = 66 h; business 1 h + Mon 09-11 BST (2 h).
    #    The one reply's reply time is its FRT.
    assert await timed("A") == [
        ("reply", 65 * HOURS, 2 * HOURS),
        ("first_response", 65 * HOURS, 2 * HOURS),
        ("resolved", 66 * HOURS, 3 * HOURS),
    ]
    # B: FRT Thu 2 Apr 15:30Z -> Tue 7 Apr 08:30Z = 5 days - 7 h = 113 h; business:
    #    Thu 16:30-17:00 BST (0.5 h) + Good Friday 0 + weekend 0 + Easter Monday 0 +
    #    Tue 09:00-09:30 (0.5 h) = 1 h. Resolution 113.5 h; business 0.5 + 1 = 1.5 h.
    #    Reopened Wed 08:00Z, 23 h after the resolution: business Tue 10:00-17:00 BST
    #    (7 h) + Wed 09:00-09:00 (0). Second cycle: FRT 08:00Z -> 08:30Z (open: 09:00-
    #    09:30 BST) 0.5 h both ways; resolution 08:00Z -> 09:00Z 1 h both ways.
    assert await timed("B") == [
        ("reply", 113 * HOURS, 1 * HOURS),
        ("first_response", 113 * HOURS, 1 * HOURS),
        ("resolved", 113.5 * HOURS, 1.5 * HOURS),
        ("reopened", 23 * HOURS, 7 * HOURS),
        ("reply", 0.5 * HOURS, 0.5 * HOURS),
        ("first_response", 0.5 * HOURS, 0.5 * HOURS),
        ("resolved", 1 * HOURS, 1 * HOURS),
    ]
    # C: the automation had it 12:00Z -> 12:10Z (10 min; Saturday 13:00 BST is after
    #    closing: 0 business). The FRT clock restarts at the hand-off: 12:10Z Sat ->
    #    11:00Z Sun = 22 h 50 min (the wall clocks read 21 h 50 min: the clocks went
    #    back); business = Sun 00:00 BST (23:00Z Sat) -> 11:00 GMT (11:00Z) = 12 h, where
    #    a naive local count would say 11. Resolution 12:00Z Sat -> 11:30Z Sun = 23.5 h;
    #    business 23:00Z -> 11:30Z = 12.5 h.
    assert await timed("C") == [
        ("bot_handoff", 600, 0),
        ("reply", 22 * HOURS + 50 * 60, 12 * HOURS),
        ("first_response", 22 * HOURS + 50 * 60, 12 * HOURS),
        ("resolved", 23.5 * HOURS, 12.5 * HOURS),
    ]
    # D: Sun 29 Mar 00:30Z (00:30 GMT) -> 12:00Z (13:00 BST): 11.5 h (the wall clocks
    #    read 12.5 h); open 00:00 GMT -> 12:00 BST = 00:00Z -> 11:00Z, so 00:30Z ->
    #    11:00Z = 10.5 h of business.
    assert await timed("D") == [("bot_resolved", 11.5 * HOURS, 10.5 * HOURS)]
    # E: FRT 15 min, resolution 30 min; reopened 30 min after it; FRT 20 min;
    #    resolution 30 min - all within Tuesday's opening hours, so business = wall.
    assert await timed("E") == [
        ("reply", 900, 900),
        ("first_response", 900, 900),
        ("resolved", 1800, 1800),
        ("reopened", 1800, 1800),
        ("reply", 1200, 1200),
        ("first_response", 1200, 1200),
        ("resolved", 1800, 1800),
    ]


async def test_the_report_adds_up_to_the_hand_computed_figures(
    played: tuple[Desk, dict[str, int]],
) -> None:
    d, _ = played
    query = d.metrics.build_query(first_day="2026-03-23", last_day="2026-10-31")
    report = await d.metrics.report(query)
    t = report.total

    # FRT, wall: A 234000, B1 406800, B2 1800, C 82200, E1 900, E2 1200
    #   sorted 900, 1200, 1800, 82200, 234000, 406800; sum 726900 -> mean 121150;
    #   p50 = (1800 + 82200) / 2 = 42000; p90 at rank 0.9 * 5 = 4.5:
    #   234000 + 0.5 * (406800 - 234000) = 320400.
    assert durations(t.first_response.wall) == pytest.approx((6, 121150, 42000, 320400))
    # FRT, business: A 7200, B1 3600, B2 1800, C 43200, E1 900, E2 1200
    #   sorted 900, 1200, 1800, 3600, 7200, 43200; sum 57900 -> mean 9650;
    #   p50 = (1800 + 3600) / 2 = 2700; p90 = 7200 + 0.5 * (43200 - 7200) = 25200.
    assert durations(t.first_response.business) == pytest.approx((6, 9650, 2700, 25200))
    # Every human reply here was a cycle's first: the same figures.
    assert t.reply == t.first_response

    # Resolution, wall: A 237600, B1 408600, B2 3600, C 84600, D 41400, E1 1800, E2 1800
    #   sorted 1800, 1800, 3600, 41400, 84600, 237600, 408600; sum 779400 -> mean
    #   779400 / 7; p50 = 41400 (the 4th); p90 at rank 0.9 * 6 = 5.4:
    #   237600 + 0.4 * (408600 - 237600) = 306000.
    assert durations(t.resolution.wall) == pytest.approx((7, 779400 / 7, 41400, 306000))
    # Resolution, business: A 10800, B1 5400, B2 3600, C 45000, D 37800, E1 1800,
    #   E2 1800; sorted 1800, 1800, 3600, 5400, 10800, 37800, 45000; sum 106200 ->
    #   mean 106200 / 7; p50 = 5400; p90 = 37800 + 0.4 * (45000 - 37800) = 40680.
    assert durations(t.resolution.business) == pytest.approx(
        (7, 106200 / 7, 5400, 40680)
    )

    # 7 resolutions (A, B twice, C, D by the automation, E twice); 2 reopenings (B, E;
    # the ratings that came in after resolutions reopened nothing): 2 / 7.
    assert (t.resolutions, t.bot_resolutions, t.reopenings) == (7, 1, 2)
    assert t.reopen_rate == pytest.approx(2 / 7)
    # The customer wrote in all 7 cycles; only D's had no human reply: 1 / 7.
    assert (t.deflection_base, t.deflected) == (7, 1)
    assert t.deflection_rate == pytest.approx(1 / 7)
    assert t.handoffs == 1  # C
    # Surveys A, B, C, E (not D: the automation resolved it); ratings A 5, B 3, C 5
    # (E's answer was no rating): CSAT = 2 of 3 rated 4-5; response rate 3 / 4.
    assert (t.surveys, t.answered, t.ratings, t.satisfied) == (4, 3, 3, 2)
    assert t.csat == pytest.approx(2 / 3)
    assert t.response_rate == pytest.approx(3 / 4)
    assert t.rating_counts == (0, 0, 1, 0, 2)


async def test_the_breakdowns_by_week_day_queue_and_agent(
    played: tuple[Desk, dict[str, int]],
) -> None:
    d, _ = played
    query = d.metrics.build_query(first_day="2026-03-23", last_day="2026-10-31")
    report = await d.metrics.report(query)
    weeks = {row.label: row.figures for row in report.by_week}

    def brief(f: Figures) -> tuple[int, int, int, int, int, int]:
        return (
            f.first_response.wall.count,
            f.resolutions,
            f.reopenings,
            f.surveys,
            f.ratings,
            f.handoffs,
        )

    # W13 (23-29 Mar): D resolved by the automation on Sunday 29th - the 23-hour day.
    assert brief(weeks["2026-W13"]) == (0, 1, 0, 0, 0, 0)
    assert weeks["2026-W13"].deflection_rate == 1.0
    # W14 (30 Mar - 5 Apr): A (FRT, resolved, surveyed, rated 5) and E (two cycles, one
    # reopening, surveyed, no rating): 1 of its 2 surveys answered.
    assert brief(weeks["2026-W14"]) == (3, 3, 1, 2, 1, 0)
    assert (weeks["2026-W14"].csat, weeks["2026-W14"].response_rate) == (1.0, 0.5)
    # W15 (6-12 Apr): B's two cycles, its reopening, its survey and rating of 3.
    assert brief(weeks["2026-W15"]) == (2, 2, 1, 1, 1, 0)
    assert weeks["2026-W15"].csat == 0.0
    # W43 (19-25 Oct): C - the hand-off on Saturday, the rest on Sunday the 25th.
    assert brief(weeks["2026-W43"]) == (1, 1, 0, 1, 1, 1)
    # Weeks with nothing are there, empty (charts keep their axis).
    assert brief(weeks["2026-W20"]) == (0, 0, 0, 0, 0, 0)

    days = {row.key: row.figures for row in report.by_day}
    assert days["2026-03-29"].bot_resolutions == 1  # 23 h long: 00:00Z to 23:00Z
    assert days["2026-10-24"].handoffs == 1
    assert days["2026-10-25"].first_response.business.mean_s == 12 * HOURS
    assert len(report.by_day) == (date(2026, 10, 31) - date(2026, 3, 23)).days + 1

    queues = {row.key: row.figures for row in report.by_queue}
    assert queues["support"].first_response.wall.count == 5  # A, B twice, E twice
    assert queues["weekend"].resolutions == 2  # C, D
    assert queues["weekend"].deflected == 1  # D

    agents = {row.label: row.figures for row in report.by_agent}
    # Alice: FRTs of A, C, E (twice); ratings A 5 and C 5. Bob: B twice; rating 3.
    assert agents["Alice"].first_response.wall.count == 4
    assert (agents["Alice"].ratings, agents["Alice"].csat) == (2, 1.0)
    assert (agents["Bob"].first_response.wall.count, agents["Bob"].csat) == (2, 0.0)
    assert agents["(automation / nobody)"].bot_resolutions == 1  # D


async def test_filters_narrow_the_same_figures(
    played: tuple[Desk, dict[str, int]],
) -> None:
    d, _ = played
    alice = next(
        key for key, name in (await d.metrics.options()).agents if name == "Alice"
    )
    weekend = await d.metrics.report(
        d.metrics.build_query(
            first_day="2026-03-23", last_day="2026-10-31", queue="weekend"
        )
    )
    # C and D only: C's FRT 22 h 50 min (12 h business); resolutions C and D.
    assert durations(weekend.total.first_response.business) == (
        1,
        12 * HOURS,
        12 * HOURS,
        12 * HOURS,
    )
    assert weekend.total.resolutions == 2
    hers = await d.metrics.report(
        d.metrics.build_query(
            first_day="2026-03-30", last_day="2026-04-05", user_id=alice
        )
    )
    # Alice in W14: A and E's two cycles.
    assert hers.total.first_response.wall.count == 3
    assert hers.total.resolutions == 3
    csv = await d.metrics.csv(hers.query, "week")
    header, row, total = csv.splitlines()
    assert header.startswith("week,label,frt_count,frt_mean_s")
    assert row.startswith("2026-03-30,2026-W14,3,")
    assert total.startswith("total,all,3,")


async def test_automated_texts_never_stop_the_first_response_clock(
    tmp_path: Path,
) -> None:
    """Tue 31 Mar 13:00Z (14:00 BST, open) the customer writes; the automation
    acknowledges at 13:01Z and asks a question at 13:02Z, a CRM's API text goes 13:05Z;
    Alice answers 13:30Z. FRT = 13:00Z -> 13:30Z = 1800 s (business the same: open all
    along), not the minute to the acknowledgement."""
    async with desk(tmp_path, INI, hours=hours()) as d:
        alice = await d.agent("alice")
        number = "+447700900009"
        cid = await d.text(number, "Is my parcel lost?", z(3, 31, 13))
        await d.route(cid, "support")
        for minute, origin, body in (
            (1, MessageOrigin.AUTOMATION, "Thanks - we'll be with you shortly."),
            (2, MessageOrigin.AUTOMATION, "What is your order number?"),
            (5, MessageOrigin.API, "Your parcel is out for delivery."),
        ):
            d.clock.now = z(3, 31, 13, minute)
            await d.outbound.send(number, body, origin=origin, conversation_id=cid)
        await d.reply(cid, "Hi, checking that now.", z(3, 31, 13, 30), alice)
        await d.metrics.measure()
        events = await d.store.run(metrics_queries.events_of, cid)
        assert [(e.kind.value, e.wall_s, e.business_s) for e in events] == [
            ("reply", 1800, 1800),
            ("first_response", 1800, 1800),
        ]

"""PURE: the support metrics, defined once - when each clock starts and stops, and how the
recorded events add up to figures. No I/O: storage keeps the state and the events
(gateway/storage/metrics_queries.py), the service reads them, the web renders them.

A conversation's life is cut into cycles: its creation, then each reopening. Per cycle:

- First response time (FRT): from the first customer message of the cycle (the message
  that reopened it, for a reopening by the customer) - or from a bot hand-off - to the
  first HUMAN reply after it. A human reply is a message with origin `agent` (the inbox,
  and the API's conversation reply as its token's user). Automated texts, acknowledgements,
  prompts, compliance confirmations, surveys, `POST /messages` (origin `api`: an
  integration, whoever holds the token) and modem tests never stop the clock. A hand-off
  restarts it: the customer waits for a human from the hand-off. A cycle resolved
  before any human reply has no FRT (it is counted by the deflection rate instead).
- Reply time: each human reply, from the oldest customer message no human answered yet
  (or the hand-off, if later) to the reply; a reply with nothing waiting has no time.
- Resolution time: from the cycle's start (creation or reopening) to its resolution.
- Reopen rate = reopenings / resolutions (both counted in the period).
- Deflection rate = resolutions with no human reply in their cycle / resolutions, both
  among cycles in which the customer wrote (a proactive text nobody answered and an
  agent tidied away is no support conversation).
- CSAT = ratings of 4 or 5 / all ratings (by the time of the rating); response rate =
  surveys answered with a rating / surveys sent (by the time the survey was sent, so it
  never exceeds 100%).

Times are averaged and given as medians (p50) and p90 (linear interpolation between the
closest ranks, numpy's default), in wall-clock seconds and in business seconds (the
conversation's queue's schedule, computed when the event is recorded, so a later
change of schedule leaves history alone).
"""

from __future__ import annotations

import enum
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

SATISFIED_MIN = 4  # ratings of 4 and 5 are satisfied customers
MAX_REPORT_DAYS = 400  # a report covers at most this many days


class MetricKind(enum.StrEnum):
    """What a reporting event records."""

    FIRST_RESPONSE = "first_response"  # seconds: clock start -> first human reply
    REPLY = "reply"  # seconds: oldest unanswered customer message -> this reply
    RESOLVED = "resolved"  # seconds: cycle start -> resolution (by a person)
    REOPENED = "reopened"  # seconds: resolution -> reopening
    BOT_HANDOFF = "bot_handoff"  # seconds: clock start -> the automation handed over
    BOT_RESOLVED = "bot_resolved"  # seconds: cycle start -> resolved by the automation
    CSAT_SENT = "csat_sent"  # a survey went out
    CSAT = "csat"  # a rating; seconds: survey sent -> rating


# ---------------------------------------------------------------------- the clocks


@dataclass(frozen=True, slots=True)
class ClockState:
    """Where a conversation stands for the metrics (stored per conversation)."""

    cycle_started_at: datetime  # creation or the last reopening
    frt_started_at: datetime | None = None  # the first-response clock, while it runs
    frt_done: bool = False  # this cycle's first response was measured
    waiting_since: datetime | None = None  # oldest customer message nobody answered
    customer_wrote: bool = False  # in this cycle
    human_replied: bool = False  # in this cycle
    resolved_at: datetime | None = None  # while resolved: since when


@dataclass(frozen=True, slots=True)
class Measure:
    """An event to record: its kind, when, and since when its clock ran (None: untimed)."""

    kind: MetricKind
    at: datetime
    started_at: datetime | None = None
    customer_wrote: bool | None = None  # resolutions: for the deflection rate
    human_replied: bool | None = None
    rating: int | None = None


Step = tuple[ClockState, tuple[Measure, ...]]


def new_clock(created_at: datetime) -> ClockState:
    """A conversation's clock at its creation."""
    return ClockState(cycle_started_at=created_at)


def customer_message(state: ClockState, at: datetime) -> Step:
    """A customer's message landed in the conversation (appended or creating it)."""
    frt = state.frt_started_at
    if frt is None and not state.frt_done:
        frt = at
    waiting = state.waiting_since if state.waiting_since is not None else at
    return replace(
        state, frt_started_at=frt, waiting_since=waiting, customer_wrote=True
    ), ()


def reopened(state: ClockState, at: datetime, *, by_customer: bool) -> Step:
    """A resolved conversation reopened: a new cycle (by the customer's message at `at`,
    which also starts the first-response clock, or by a person's action)."""
    measure = Measure(MetricKind.REOPENED, at, started_at=state.resolved_at)
    fresh = ClockState(cycle_started_at=at)
    if by_customer:
        fresh, _ = customer_message(fresh, at)
    return fresh, (measure,)


def human_reply(state: ClockState, at: datetime) -> Step:
    """A person replied (origin agent)."""
    measures = [Measure(MetricKind.REPLY, at, started_at=state.waiting_since)]
    frt_done = state.frt_done
    if state.frt_started_at is not None:
        measures.append(
            Measure(MetricKind.FIRST_RESPONSE, at, started_at=state.frt_started_at)
        )
        frt_done = True
    after = replace(
        state,
        frt_started_at=None,
        frt_done=frt_done,
        waiting_since=None,
        human_replied=True,
    )
    return after, tuple(measures)


def handoff(state: ClockState, at: datetime) -> Step:
    """The automation handed the conversation to a person: the customer waits for a
    human from now, so the first-response clock (re)starts. Once a person replied in
    the cycle, a hand-off (the automation standing down because they did) changes
    nothing."""
    if state.human_replied:
        return state, ()
    started = state.frt_started_at or state.waiting_since or state.cycle_started_at
    measure = Measure(MetricKind.BOT_HANDOFF, at, started_at=started)
    after = replace(state, frt_started_at=at, frt_done=False, waiting_since=at)
    return after, (measure,)


def resolved(state: ClockState, at: datetime, *, by_bot: bool = False) -> Step:
    """The conversation was resolved (by a person, or by the automation)."""
    kind = MetricKind.BOT_RESOLVED if by_bot else MetricKind.RESOLVED
    measure = Measure(
        kind,
        at,
        started_at=state.cycle_started_at,
        customer_wrote=state.customer_wrote,
        human_replied=state.human_replied,
    )
    after = replace(state, frt_started_at=None, waiting_since=None, resolved_at=at)
    return after, (measure,)


def survey_sent(at: datetime) -> Measure:
    """A CSAT survey went out."""
    return Measure(MetricKind.CSAT_SENT, at)


def rating(at: datetime, value: int, *, sent_at: datetime) -> Measure:
    """A customer rated the survey sent at `sent_at`."""
    return Measure(MetricKind.CSAT, at, started_at=sent_at, rating=value)


def survey_wanted(
    state: ClockState, *, by_bot: bool, repliable: bool, opted_out: bool
) -> bool:
    """Whether a resolution earns a CSAT survey: the customer wrote and a person replied
    in the cycle, it was not the automation that resolved it, and the customer can be
    texted (a number, not opted out). One per conversation is the caller's rule."""
    return (
        state.customer_wrote
        and state.human_replied
        and not by_bot
        and repliable
        and not opted_out
    )


# ---------------------------------------------------------------------- the events


@dataclass(frozen=True, slots=True)
class MetricEvent:
    """A recorded reporting event, as storage returns it."""

    id: int
    kind: MetricKind
    conversation_id: int
    queue: str | None
    user_id: int | None  # the agent: who replied, whose conversation it was, rated
    at: datetime
    started_at: datetime | None
    wall_s: float | None
    business_s: float | None
    rating: int | None = None
    customer_wrote: bool | None = None
    human_replied: bool | None = None


# ---------------------------------------------------------------------- figures


@dataclass(frozen=True, slots=True)
class Durations:
    """Seconds: how many, their mean, median and 90th percentile (None when none)."""

    count: int
    mean_s: float | None
    p50_s: float | None
    p90_s: float | None

    @classmethod
    def of(cls, values: Iterable[float]) -> Durations:
        xs = sorted(values)
        if not xs:
            return cls(0, None, None, None)
        return cls(
            len(xs), math.fsum(xs) / len(xs), quantile(xs, 0.5), quantile(xs, 0.9)
        )


@dataclass(frozen=True, slots=True)
class Timed:
    """One time metric in wall-clock and in business seconds."""

    wall: Durations
    business: Durations


@dataclass(frozen=True, slots=True)
class Figures:
    """Every support metric over a set of events."""

    first_response: Timed
    reply: Timed
    resolution: Timed
    resolutions: int  # by people and by the automation
    bot_resolutions: int
    reopenings: int
    reopen_rate: float | None  # reopenings / resolutions
    deflection_base: int  # resolutions of cycles in which the customer wrote
    deflected: int  # ... with no human reply in the cycle
    deflection_rate: float | None
    handoffs: int
    surveys: int  # sent
    answered: int  # of those surveys, answered with a rating
    response_rate: float | None  # answered / surveys
    ratings: int  # given in the period
    satisfied: int  # ... of 4 or 5
    csat: float | None  # satisfied / ratings
    rating_counts: tuple[int, int, int, int, int]  # how many 1s ... 5s


def quantile(sorted_values: Sequence[float], q: float) -> float:
    """The q-quantile of sorted values, linear between closest ranks (numpy's default)."""
    position = (len(sorted_values) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(sorted_values) - 1)
    fraction = position - low
    return sorted_values[low] + fraction * (sorted_values[high] - sorted_values[low])


def ratio(part: int, whole: int) -> float | None:
    return None if whole == 0 else part / whole


@dataclass(slots=True)
class _Acc:
    frt_wall: list[float] = field(default_factory=list)
    frt_business: list[float] = field(default_factory=list)
    reply_wall: list[float] = field(default_factory=list)
    reply_business: list[float] = field(default_factory=list)
    res_wall: list[float] = field(default_factory=list)
    res_business: list[float] = field(default_factory=list)
    resolutions: int = 0
    bot_resolutions: int = 0
    reopenings: int = 0
    base: int = 0
    deflected: int = 0
    handoffs: int = 0
    surveys: int = 0
    answered: int = 0
    ratings: list[int] = field(default_factory=list)

    def figures(self) -> Figures:
        satisfied = sum(1 for r in self.ratings if r >= SATISFIED_MIN)
        return Figures(
            first_response=_timed(self.frt_wall, self.frt_business),
            reply=_timed(self.reply_wall, self.reply_business),
            resolution=_timed(self.res_wall, self.res_business),
            resolutions=self.resolutions,
            bot_resolutions=self.bot_resolutions,
            reopenings=self.reopenings,
            reopen_rate=ratio(self.reopenings, self.resolutions),
            deflection_base=self.base,
            deflected=self.deflected,
            deflection_rate=ratio(self.deflected, self.base),
            handoffs=self.handoffs,
            surveys=self.surveys,
            answered=self.answered,
            response_rate=ratio(self.answered, self.surveys),
            ratings=len(self.ratings),
            satisfied=satisfied,
            csat=ratio(satisfied, len(self.ratings)),
            rating_counts=(
                self.ratings.count(1),
                self.ratings.count(2),
                self.ratings.count(3),
                self.ratings.count(4),
                self.ratings.count(5),
            ),
        )


def _timed(wall: list[float], business: list[float]) -> Timed:
    return Timed(Durations.of(wall), Durations.of(business))


def _add_times(wall: list[float], business: list[float], event: MetricEvent) -> None:
    if event.wall_s is not None:
        wall.append(event.wall_s)
    if event.business_s is not None:
        business.append(event.business_s)


# A bucket for an event at a time (None: outside every bucket).
BucketOf = Callable[[MetricEvent, datetime], str | None]


def aggregate(
    events: Iterable[MetricEvent], bucket: BucketOf, *, start: datetime, end: datetime
) -> dict[str, Figures]:
    """Figures per bucket over events in [start, end); a rating's survey counts as
    answered in the bucket of the survey's sending (which must be in range too)."""
    accs: dict[str, _Acc] = {}

    def acc_for(event: MetricEvent, when: datetime) -> _Acc | None:
        if not start <= when < end:
            return None
        key = bucket(event, when)
        if key is None:
            return None
        return accs.setdefault(key, _Acc())

    for event in events:
        if event.kind is MetricKind.CSAT and event.started_at is not None:
            sent = acc_for(event, event.started_at)
            if sent is not None:
                sent.answered += 1
        acc = acc_for(event, event.at)
        if acc is None:
            continue
        _count(acc, event)
    return {key: acc.figures() for key, acc in accs.items()}


def _count(acc: _Acc, event: MetricEvent) -> None:
    kind = event.kind
    if kind is MetricKind.FIRST_RESPONSE:
        _add_times(acc.frt_wall, acc.frt_business, event)
    elif kind is MetricKind.REPLY:
        _add_times(acc.reply_wall, acc.reply_business, event)
    elif kind in (MetricKind.RESOLVED, MetricKind.BOT_RESOLVED):
        _add_times(acc.res_wall, acc.res_business, event)
        acc.resolutions += 1
        acc.bot_resolutions += kind is MetricKind.BOT_RESOLVED
        if event.customer_wrote:
            acc.base += 1
            acc.deflected += not event.human_replied
    elif kind is MetricKind.REOPENED:
        acc.reopenings += 1
    elif kind is MetricKind.BOT_HANDOFF:
        acc.handoffs += 1
    elif kind is MetricKind.CSAT_SENT:
        acc.surveys += 1
    elif event.rating is not None:  # CSAT
        acc.ratings.append(event.rating)


EMPTY = _Acc().figures()


# ---------------------------------------------------------------------- the calendar


def day_bounds(tz: ZoneInfo, first: date, last: date) -> tuple[datetime, datetime]:
    """The UTC instants from the start of `first` to the end of `last`, days in `tz`
    (a day of 23 or 25 hours at a DST change is a day all the same)."""
    start = datetime.combine(first, time(), tzinfo=tz).astimezone(UTC)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=tz).astimezone(UTC)
    return start, end


def local_day(at: datetime, tz: ZoneInfo) -> date:
    return at.astimezone(tz).date()


def week_start(day: date) -> date:
    """The Monday of `day`'s ISO week."""
    return day - timedelta(days=day.weekday())


def week_label(monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"{year}-W{week:02d}"


def days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]

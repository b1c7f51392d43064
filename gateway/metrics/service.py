"""MetricsService: the support metrics' reports, and the work after the commits.

Reports: `build_query` validates a request (local dates in the report time zone, a queue,
an agent), `report(query)` reads the events once and adds them up (gateway.metrics.report),
`csv(query, grouping)` is the same as CSV. The API and the dashboard call these, so both
show the same figures.

Work (a task started by the daemon, every `TICK_S` and when woken): business seconds for
the events recorded since (the queues' schedules, `BusinessHours`), and CSAT surveys -
due ones sent (each in one unit: checked, queued through OutboundService, counted),
unanswered ones expired, ones too late to ask skipped. Reports measure first, so they
never show an event without its business seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING

from gateway.config import Settings
from gateway.domain import Enqueued, MessageOrigin, utcnow
from gateway.errors import ConfigError, ConfigProblem, InvalidInput
from gateway.metrics.definitions import MAX_REPORT_DAYS, day_bounds
from gateway.metrics.hours import AlwaysOpen, BusinessHours
from gateway.metrics.records import (
    Grouping,
    Report,
    ReportOptions,
    ReportQuery,
    SurveyToSend,
)
from gateway.metrics.report import build_report, to_csv
from gateway.outbox.service import Draft, OutboundService
from gateway.storage import metrics_queries

if TYPE_CHECKING:
    from gateway.storage.db import Store

_LOGGER = logging.getLogger(__name__)

TICK_S = 10.0  # how often due surveys and unmeasured events are looked for
MEASURE_BATCH = 500  # events measured per unit
SURVEY_BATCH = 50  # surveys sent per pass
# A survey not sent within this long after it was due is not sent at all (the box was
# down, or CSAT was off when the conversation was resolved): a late "how did we do?"
# about a conversation the customer has forgotten is worse than none.
SURVEY_LATE_S = 86400.0
DEFAULT_REPORT_DAYS = 30
MAX_QUEUE_CHARS = 100


class MetricsService:
    """Support metrics for the dashboard and the API; CSAT surveys going out."""

    def __init__(
        self,
        store: Store,
        outbound: OutboundService,
        *,
        settings: Settings,
        hours: BusinessHours | None = None,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._outbound = outbound
        self._settings = settings
        self._hours: BusinessHours = hours or AlwaysOpen()
        self._clock = clock
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()
        self._measure_lock = asyncio.Lock()

    def check(self) -> None:
        """ConfigError naming the [csat] key whose text cannot be sent as an SMS."""
        csat = self._settings.csat
        problems = []
        for key in ("survey_text", "thanks_text"):
            text = getattr(csat, key)
            if not text.strip() or (key == "survey_text" and not csat.enabled):
                continue
            try:
                self._outbound.measure(text)
            except InvalidInput as exc:
                problems.append(
                    ConfigProblem(
                        "csat", key, text, f"a text that can be sent ({exc.reason})"
                    )
                )
        if problems:
            raise ConfigError(problems, source=self._settings.source)

    @property
    def timezone(self) -> str:
        return self._settings.metrics.timezone.key

    @property
    def hours(self) -> BusinessHours:
        """Where business seconds come from."""
        return self._hours

    def set_hours(self, hours: BusinessHours) -> None:
        """Where business seconds come from (the automation's queue schedules)."""
        self._hours = hours

    # -------------------------------------------------------------- reports

    def build_query(
        self,
        *,
        first_day: date | str | None = None,
        last_day: date | str | None = None,
        queue: str | None = None,
        user_id: int | None = None,
    ) -> ReportQuery:
        """A report request checked: dates as YYYY-MM-DD in the report time zone
        (defaults: the last 30 days to today), at most MAX_REPORT_DAYS days; blank
        filters are no filter. InvalidInput naming the field otherwise."""
        tz = self._settings.metrics.timezone
        today = self._clock().astimezone(tz).date()
        last = _day(last_day, "to") or today
        first = _day(first_day, "from") or last - timedelta(
            days=DEFAULT_REPORT_DAYS - 1
        )
        if first > last:
            raise InvalidInput("from", f"{first} is after the end date {last}")
        if (last - first).days + 1 > MAX_REPORT_DAYS:
            raise InvalidInput("from", f"at most {MAX_REPORT_DAYS} days in one report")
        name = queue.strip() if isinstance(queue, str) else None
        if name is not None and len(name) > MAX_QUEUE_CHARS:
            raise InvalidInput("queue", f"at most {MAX_QUEUE_CHARS} characters")
        if user_id is not None and not 1 <= user_id < 2**63:
            raise InvalidInput("agent", "a user id")
        return ReportQuery(first, last, tz, name or None, user_id)

    async def report(self, query: ReportQuery) -> Report:
        """Every figure for the query: totals, by day, week, queue and agent."""
        await self.measure()
        start, end = day_bounds(query.timezone, query.first_day, query.last_day)
        events = await self._store.read(
            metrics_queries.events_between,
            start,
            end,
            queue=query.queue,
            user_id=query.user_id,
        )
        names = await self._store.read(metrics_queries.user_names)
        return build_report(events, query, names)

    async def csv(self, query: ReportQuery, grouping: Grouping | str) -> str:
        """The report's breakdown by `grouping` (day, week, queue, agent) as CSV."""
        try:
            group = Grouping(grouping)
        except ValueError:
            raise InvalidInput(
                "group", f"one of {', '.join(g.value for g in Grouping)}"
            ) from None
        return to_csv(await self.report(query), group)

    async def options(self) -> ReportOptions:
        """The queues and agents the filters offer."""
        queues = await self._store.read(metrics_queries.event_queues)
        names = await self._store.read(metrics_queries.user_names)
        agents = tuple(sorted(names.items(), key=lambda item: item[1].casefold()))
        return ReportOptions(tuple(queues), agents)

    # -------------------------------------------------------------- the work

    async def measure(self) -> int:
        """Business seconds for every event recorded without them; how many."""
        done = 0
        async with self._measure_lock:
            seconds = None
            while True:
                batch = await self._store.run(
                    metrics_queries.unmeasured, limit=MEASURE_BATCH
                )
                if not batch:
                    return done
                if seconds is None:
                    seconds = await self._hours.load()
                values = {e.id: seconds(e.queue, e.started_at, e.at) for e in batch}
                await self._store.run(metrics_queries.set_business_seconds, values)
                done += len(values)

    async def send_due_surveys(self) -> int:
        """Send the surveys that are due; expire and skip the rest. How many went out."""
        csat = self._settings.csat
        now = self._clock()
        after, before = metrics_queries.survey_window(
            now, delay_s=csat.delay_s, late_s=SURVEY_LATE_S
        )
        await self._store.run(metrics_queries.expire_surveys, now=now)
        await self._store.run(
            metrics_queries.skip_late_surveys, resolved_before=after, now=now
        )
        if not csat.enabled:
            return 0
        due = await self._store.run(
            metrics_queries.due_surveys,
            resolved_before=before,
            resolved_after=after,
            limit=SURVEY_BATCH,
        )
        sent = 0
        for survey_id in due:
            enqueued = await self._store.run(
                self._survey_unit, survey_id, self._outbound.healthy_now(), now
            )
            if enqueued is not None:
                self._outbound.announce(enqueued)
                sent += 1
                _LOGGER.info(
                    "csat survey %s sent in conversation %s (message %s)",
                    survey_id,
                    enqueued.message.conversation_id,
                    enqueued.message.id,
                )
        return sent

    def _survey_unit(
        self, survey_id: int, healthy: Collection[str] | None, now: datetime
    ) -> Enqueued | None:
        """ON THE DB THREAD: check the survey, queue its text, count it - one commit."""
        due: SurveyToSend | None = metrics_queries.claim_survey(survey_id, now=now)
        if due is None:
            return None
        text = self._settings.csat.survey_text
        parts, encoding = self._outbound.measure(text)
        enqueued = self._outbound.enqueue_in_unit(
            Draft(due.number, text, parts, encoding),
            now=now,
            healthy=healthy,
            origin=MessageOrigin.AUTOMATION,
            context={"csat_survey": survey_id},
            conversation_id=due.conversation_id,
        )
        metrics_queries.mark_survey_sent(
            survey_id,
            message_id=enqueued.message.id,
            now=now,
            expires_at=now + timedelta(seconds=self._settings.csat.expiry_s),
        )
        return enqueued

    async def start(self) -> None:
        """Start the task that measures events and sends surveys."""
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name="metrics")

    def wake(self) -> None:
        self._wake.set()

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _run(self) -> None:
        while True:
            try:
                await self.measure()
                await self.send_due_surveys()
            except asyncio.CancelledError:
                raise
            except Exception:  # task boundary: the next pass must still run
                _LOGGER.exception(
                    "metrics: a pass failed; trying again in %g s", TICK_S
                )
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(TICK_S):
                    await self._wake.wait()


def _day(value: date | str | None, field: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    text = value.strip()
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidInput(field, f"a date as YYYY-MM-DD, not {text[:40]!r}") from None

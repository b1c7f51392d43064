"""Units of work (and pieces of units) for the support metrics and CSAT surveys.

Recording functions run ON THE DB THREAD inside the unit that makes the change they
record, and never fail it: each runs in a savepoint of its own and a fault is rolled back
and logged (`_guarded`) - a metric is never worth a customer's message or an agent's
reply. The rules (when a clock starts, what a survey needs) are gateway.metrics'
PURE modules; this module keeps their state:

- `metric_clocks`: one row per conversation (`ClockState`); a conversation from before
  the metrics existed gets one derived from its row the first time it is touched.
- `metric_events`: the reporting events, with wall-clock seconds; business seconds are
  filled in by MetricsService right after the commit (`unmeasured`, `set_business_seconds`).
- `csat_surveys`: one survey per conversation.

Where they are called: `record_inbound` at the end of the inbound unit (InboundService),
`record_outbound` in `OutboundService.enqueue_in_unit` (human replies), `record_status`
in `InboxService._status_unit` (resolve, reopen), `record_handoff` by the automation
engine's hand-over (gateway.automation.engine), `record_bot_resolved` for an automation
that resolves a conversation (none does yet), `answer_survey` by the CSAT step of the
inbound pipeline (gateway.metrics.csat_step).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from peewee import fn

from gateway.domain import (
    ConversationRecord,
    ConversationStatus,
    Direction,
    Enqueued,
    MessageOrigin,
    NumberKind,
    PartStatus,
    ThreadedMessage,
    ThreadOutcome,
    WebhookStatus,
)
from gateway.metrics import csat, definitions
from gateway.metrics.definitions import ClockState, Measure, MetricEvent, MetricKind
from gateway.metrics.records import (
    SurveyAnswer,
    SurveyRecord,
    SurveyStatus,
    SurveyToSend,
)
from gateway.storage import queries, webhook_queries
from gateway.storage.metrics_models import CsatSurveyRow, MetricClockRow, MetricEventRow
from gateway.storage.models import (
    DB,
    Conversation,
    InboundPart,
    Message,
    OutboundPart,
    User,
    WebhookAttempt,
    WebhookDelivery,
)

_LOGGER = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# The survey states that end it: a conversation gets no second survey after these.
_SURVEY_DONE = (
    SurveyStatus.SENT,
    SurveyStatus.ANSWERED,
    SurveyStatus.DECLINED,
    SurveyStatus.EXPIRED,
    SurveyStatus.SKIPPED,
)


def _guarded(
    what: str, fn_: Callable[P, R], *args: P.args, **kwargs: P.kwargs
) -> R | None:
    """Run `fn_` in a savepoint; when it raises, roll it back, log, and answer None."""
    try:
        with DB.atomic():
            return fn_(*args, **kwargs)
    except Exception:  # a metric must never fail the unit that records it
        _LOGGER.exception("metrics: %s failed; rolled back, the change is kept", what)
        return None


# ---------------------------------------------------------------------- clocks


def _state(row: Any) -> ClockState:
    return ClockState(
        cycle_started_at=row.cycle_started_at,
        frt_started_at=row.frt_started_at,
        frt_done=bool(row.frt_done),
        waiting_since=row.waiting_since,
        customer_wrote=bool(row.customer_wrote),
        human_replied=bool(row.human_replied),
        resolved_at=row.resolved_at,
    )


def _derived(conversation: ConversationRecord) -> ClockState:
    """The clock of a conversation no metric has touched yet (started by an outbound
    text, or older than the metrics): its current cycle's messages replayed through the
    same rules, so no figure is invented and none is lost."""
    start = conversation.reopened_at or conversation.created_at
    state = definitions.new_clock(start)
    rows: Any = (
        Message.select(Message.direction, Message.origin, Message.created_at)
        .where(
            (Message.conversation == conversation.id) & (Message.created_at >= start)
        )
        .order_by(Message.id)
        .tuples()
    )
    for direction, origin, at in rows:
        if direction == Direction.INBOUND.value:
            state, _ = definitions.customer_message(state, at)
        elif origin == MessageOrigin.AGENT.value:
            state, _ = definitions.human_reply(state, at)
    if conversation.status is ConversationStatus.RESOLVED:
        state = replace(
            state,
            frt_started_at=None,
            waiting_since=None,
            resolved_at=conversation.resolved_at,
        )
    return state


def _load(conversation: ConversationRecord) -> ClockState:
    row = MetricClockRow.get_or_none(MetricClockRow.conversation_id == conversation.id)
    return _derived(conversation) if row is None else _state(row)


def _save(conversation_id: int, state: ClockState, now: datetime) -> None:
    values = {
        "cycle_started_at": state.cycle_started_at,
        "frt_started_at": state.frt_started_at,
        "frt_done": state.frt_done,
        "waiting_since": state.waiting_since,
        "customer_wrote": state.customer_wrote,
        "human_replied": state.human_replied,
        "resolved_at": state.resolved_at,
        "updated_at": now,
    }
    (
        MetricClockRow.insert(conversation_id=conversation_id, **values)
        .on_conflict(conflict_target=[MetricClockRow.conversation_id], update=values)
        .execute()
    )


def _insert(
    measures: Iterable[Measure],
    conversation: ConversationRecord,
    *,
    user_id: int | None,
    message_id: int | None = None,
    queue: str | None = None,
) -> list[int]:
    ids = []
    for m in measures:
        wall = None
        if m.started_at is not None:
            wall = max(0.0, (m.at - m.started_at).total_seconds())
        row = MetricEventRow.create(
            kind=m.kind,
            conversation_id=conversation.id,
            queue=queue if queue is not None else conversation.queue,
            user_id=user_id,
            message_id=message_id,
            at=m.at,
            started_at=m.started_at,
            wall_s=wall,
            business_s=None,
            rating=m.rating,
            customer_wrote=m.customer_wrote,
            human_replied=m.human_replied,
        )
        ids.append(row.id)
    return ids


# ---------------------------------------------------------------------- recording


def record_inbound(threaded: ThreadedMessage, *, now: datetime) -> None:
    """ON THE DB THREAD, at the end of the inbound unit: a customer's message (a new
    conversation, a reopening, or one more message). A rating answering a survey is
    no message to the metrics and is skipped."""
    _guarded(f"message {threaded.message.id}", _record_inbound, threaded, now)


def _record_inbound(threaded: ThreadedMessage, now: datetime) -> None:
    message, conversation = threaded.message, threaded.conversation
    survey = _pending_or_answered_by(threaded)
    if survey is not None and survey.answer_message_id == message.id:
        if survey.status is SurveyStatus.ANSWERED:
            return  # a rating: not a message the team has to answer
    elif survey is not None and survey.status is SurveyStatus.SENT:
        # the first message after a survey decides it; this one was not a rating (or
        # compliance took it: STOP, HELP)
        if survey.expires_at is not None and survey.expires_at <= message.created_at:
            _set_status(survey.id, SurveyStatus.EXPIRED, now)
        else:
            _decline(survey.id, message.id, now)
    at = message.created_at
    if threaded.outcome is ThreadOutcome.CREATED:
        state = definitions.new_clock(conversation.created_at)
        state, measures = definitions.customer_message(state, at)
    elif threaded.outcome is ThreadOutcome.REOPENED:
        state, measures = definitions.reopened(
            _load(conversation), at, by_customer=True
        )
        _cancel_scheduled(conversation.id, now)
    else:
        state, measures = definitions.customer_message(_load(conversation), at)
    _insert(
        measures, conversation, user_id=conversation.assignee_id, message_id=message.id
    )
    if conversation.status is not ConversationStatus.RESOLVED:
        now_status = conversation_status(conversation.id)
        if now_status is ConversationStatus.RESOLVED:
            # the automation resolved it in this unit, after the message opened it (a
            # reply option confirmed): nobody had to act - a deflection, no survey
            state, measures = definitions.resolved(state, now, by_bot=True)
            _insert(measures, conversation, user_id=None)
    _save(conversation.id, state, now)


def record_outbound(enqueued: Enqueued, *, now: datetime) -> None:
    """ON THE DB THREAD, in the unit queueing a text: a human reply (origin agent) stops
    the clocks; nothing else does."""
    message = enqueued.message
    if not enqueued.created or message.origin is not MessageOrigin.AGENT:
        return
    _guarded(f"reply {message.id}", _record_reply, enqueued, now)


def _record_reply(enqueued: Enqueued, now: datetime) -> None:
    message = enqueued.message
    conversation = queries.get_conversation(message.conversation_id)
    state, measures = definitions.human_reply(_load(conversation), message.created_at)
    _insert(measures, conversation, user_id=message.user_id, message_id=message.id)
    _save(conversation.id, state, now)


def record_status(
    conversation: ConversationRecord,
    previous: ConversationStatus,
    *,
    user_id: int | None,
    now: datetime,
) -> None:
    """ON THE DB THREAD, in the unit changing a conversation's status (`conversation` as
    it is now): a resolution (and its CSAT survey) or a reopening by a person."""
    _guarded(
        f"conversation {conversation.id} status",
        _record_status,
        conversation,
        previous,
        user_id,
        now,
        False,
    )


def record_bot_resolved(conversation_id: int, *, now: datetime) -> None:
    """ON THE DB THREAD, in the automation's unit that resolved the conversation (after
    the change): a resolution by the automation; no survey follows it."""

    def unit() -> None:
        conversation = queries.get_conversation(conversation_id)
        _record_status(conversation, ConversationStatus.OPEN, None, now, True)

    _guarded(f"conversation {conversation_id} resolved by the automation", unit)


def _record_status(
    conversation: ConversationRecord,
    previous: ConversationStatus,
    user_id: int | None,
    now: datetime,
    by_bot: bool,
) -> None:
    status = conversation.status
    resolved = ConversationStatus.RESOLVED
    state = _load(conversation)
    if status is resolved and previous is not resolved:
        state, measures = definitions.resolved(state, now, by_bot=by_bot)
        agent = conversation.assignee_id or (None if by_bot else user_id)
        _insert(measures, conversation, user_id=agent)
        _schedule_survey(conversation, state, agent, by_bot, now)
    elif previous is resolved and status is not resolved:
        state, measures = definitions.reopened(state, now, by_customer=False)
        _insert(measures, conversation, user_id=conversation.assignee_id or user_id)
        _cancel_scheduled(conversation.id, now)
    else:
        return
    _save(conversation.id, state, now)


def record_handoff(conversation_id: int, *, now: datetime) -> None:
    """ON THE DB THREAD, in the automation's unit: it handed the conversation to a person;
    the first-response clock starts now."""

    def unit() -> None:
        conversation = queries.get_conversation(conversation_id)
        state = _load(conversation)
        if state.resolved_at is not None:
            # reopened by this very message, not yet recorded (record_inbound comes at
            # the end of the unit): the bot had it for no time at all
            state = ClockState(cycle_started_at=now)
        state, measures = definitions.handoff(state, now)
        _insert(measures, conversation, user_id=None)
        _save(conversation.id, state, now)

    _guarded(f"conversation {conversation_id} hand-off", unit)


# ---------------------------------------------------------------------- surveys


def _survey(row: Any) -> SurveyRecord:
    return SurveyRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        number=row.number,
        status=row.status,
        queue=row.queue,
        user_id=row.user_id,
        resolved_at=row.resolved_at,
        sent_at=row.sent_at,
        expires_at=row.expires_at,
        message_id=row.message_id,
        rating=row.rating,
        answered_at=row.answered_at,
        answer_message_id=row.answer_message_id,
    )


def _schedule_survey(
    conversation: ConversationRecord,
    state: ClockState,
    agent: int | None,
    by_bot: bool,
    now: datetime,
) -> None:
    contact = queries.get_contact(conversation.contact_id)
    wanted = definitions.survey_wanted(
        state,
        by_bot=by_bot,
        repliable=contact.kind is NumberKind.E164,
        opted_out=queries.is_opted_out(contact.number),
    )
    if not wanted:
        return
    row = CsatSurveyRow.get_or_none(CsatSurveyRow.conversation_id == conversation.id)
    if row is not None and row.status in _SURVEY_DONE:
        return  # one survey per conversation
    values = {
        "number": contact.number,
        "status": SurveyStatus.SCHEDULED,
        "queue": conversation.queue,
        "user_id": agent,
        "resolved_at": now,
        "prior_reopened_at": conversation.reopened_at,
        "updated_at": now,
    }
    if row is None:
        CsatSurveyRow.create(conversation_id=conversation.id, created_at=now, **values)
    else:
        CsatSurveyRow.update(**values).where(CsatSurveyRow.id == row.id).execute()


def _cancel_scheduled(conversation_id: int, now: datetime) -> None:
    CsatSurveyRow.update(status=SurveyStatus.CANCELLED, updated_at=now).where(
        (CsatSurveyRow.conversation_id == conversation_id)
        & (CsatSurveyRow.status == SurveyStatus.SCHEDULED)
    ).execute()


def _set_status(survey_id: int, status: SurveyStatus, now: datetime) -> None:
    CsatSurveyRow.update(status=status, updated_at=now).where(
        CsatSurveyRow.id == survey_id
    ).execute()


def _decline(survey_id: int, message_id: int, now: datetime) -> None:
    CsatSurveyRow.update(
        status=SurveyStatus.DECLINED,
        answer_message_id=message_id,
        answered_at=now,
        updated_at=now,
    ).where(CsatSurveyRow.id == survey_id).execute()


def _pending_or_answered_by(threaded: ThreadedMessage) -> SurveyRecord | None:
    """The contact's survey this message answered, or the one waiting for an answer."""
    row = (
        CsatSurveyRow.select()
        .where(
            (CsatSurveyRow.number == threaded.contact.number)
            & (
                (CsatSurveyRow.answer_message_id == threaded.message.id)
                | (CsatSurveyRow.status == SurveyStatus.SENT)
            )
        )
        .order_by(CsatSurveyRow.id.desc())
        .first()
    )
    return None if row is None else _survey(row)


def get_survey(conversation_id: int) -> SurveyRecord | None:
    """The conversation's survey, if it has one."""
    row = CsatSurveyRow.get_or_none(CsatSurveyRow.conversation_id == conversation_id)
    return None if row is None else _survey(row)


def due_surveys(
    *, resolved_before: datetime, resolved_after: datetime, limit: int = 50
) -> list[int]:
    """Scheduled surveys of conversations resolved in (after, before]: due to go out."""
    rows = (
        CsatSurveyRow.select(CsatSurveyRow.id)
        .where(
            (CsatSurveyRow.status == SurveyStatus.SCHEDULED)
            & (CsatSurveyRow.resolved_at <= resolved_before)
            & (CsatSurveyRow.resolved_at > resolved_after)
        )
        .order_by(CsatSurveyRow.resolved_at)
        .limit(limit)
    )
    return [row.id for row in rows]


def skip_late_surveys(*, resolved_before: datetime, now: datetime) -> int:
    """Scheduled surveys too old to send (the box was down, or CSAT was off): skipped."""
    return int(
        CsatSurveyRow.update(status=SurveyStatus.SKIPPED, updated_at=now)
        .where(
            (CsatSurveyRow.status == SurveyStatus.SCHEDULED)
            & (CsatSurveyRow.resolved_at <= resolved_before)
        )
        .execute()
    )


def expire_surveys(*, now: datetime) -> int:
    """Sent surveys nobody answered before they expired."""
    return int(
        CsatSurveyRow.update(status=SurveyStatus.EXPIRED, updated_at=now)
        .where(
            (CsatSurveyRow.status == SurveyStatus.SENT)
            & (CsatSurveyRow.expires_at <= now)
        )
        .execute()
    )


def claim_survey(survey_id: int, *, now: datetime) -> SurveyToSend | None:
    """ON THE DB THREAD, in the unit that sends it: the survey if it may go out now (still
    scheduled, the conversation still resolved, the customer textable and not opted out);
    else it is cancelled or skipped here and the answer is None."""
    row = CsatSurveyRow.get_or_none(CsatSurveyRow.id == survey_id)
    if row is None or row.status is not SurveyStatus.SCHEDULED:
        return None
    conversation = Conversation.get_or_none(Conversation.id == row.conversation_id)
    if conversation is None or conversation.status != ConversationStatus.RESOLVED:
        row.status, row.updated_at = SurveyStatus.CANCELLED, now
        row.save()
        return None
    contact = queries.get_contact(conversation.contact_id)
    if contact.kind is not NumberKind.E164 or queries.is_opted_out(contact.number):
        row.status, row.updated_at = SurveyStatus.SKIPPED, now
        row.save()
        return None
    return SurveyToSend(_survey(row), conversation.id, contact.number)


def mark_survey_sent(
    survey_id: int, *, message_id: int, now: datetime, expires_at: datetime
) -> None:
    """ON THE DB THREAD, in the unit that queued the survey: it is out, and counted."""
    row = CsatSurveyRow.get(CsatSurveyRow.id == survey_id)
    row.status = SurveyStatus.SENT
    row.message_id = message_id
    row.sent_at = now
    row.expires_at = expires_at
    row.updated_at = now
    row.save()
    conversation = queries.get_conversation(row.conversation_id)
    _insert(
        [definitions.survey_sent(now)],
        conversation,
        user_id=row.user_id,
        message_id=message_id,
        queue=row.queue,
    )


def answer_survey(threaded: ThreadedMessage, *, now: datetime) -> SurveyAnswer | None:
    """ON THE DB THREAD, in the inbound unit (the CSAT step): when the customer has a
    survey waiting, their message answers it - a rating is recorded and the conversation
    left as it was (a rating that reopened or started one puts it back to resolved); any
    other message declines it and goes on as a normal message. None: no survey waits."""
    message = threaded.message
    row = (
        CsatSurveyRow.select()
        .where(
            (CsatSurveyRow.number == threaded.contact.number)
            & (CsatSurveyRow.status == SurveyStatus.SENT)
        )
        .order_by(CsatSurveyRow.id.desc())
        .first()
    )
    if row is None:
        return None
    if row.expires_at is not None and row.expires_at <= message.created_at:
        row.status, row.updated_at = SurveyStatus.EXPIRED, now
        row.save()
        return None
    value = csat.parse_rating(message.body)
    if value is None:
        _decline(row.id, message.id, now)
        return SurveyAnswer(_survey(CsatSurveyRow.get_by_id(row.id)), None)
    row.status = SurveyStatus.ANSWERED
    row.rating = value
    row.answered_at = message.created_at
    row.answer_message_id = message.id
    row.updated_at = now
    row.save()
    surveyed = queries.get_conversation(row.conversation_id)
    _insert(
        [definitions.rating(message.created_at, value, sent_at=row.sent_at)],
        surveyed,
        user_id=row.user_id,
        message_id=message.id,
        queue=row.queue,
    )
    _put_back(threaded, row, now)
    return SurveyAnswer(_survey(row), value)


def _put_back(threaded: ThreadedMessage, survey: Any, now: datetime) -> None:
    """A rating that reopened its conversation (or started a new one) leaves it resolved."""
    conversation = threaded.conversation
    if threaded.outcome is ThreadOutcome.APPENDED:
        return  # it went to a conversation already open: leave it to the agents
    row = Conversation.get_by_id(conversation.id)
    previous = ConversationStatus(row.status)
    row.status = ConversationStatus.RESOLVED
    row.updated_at = now
    if threaded.outcome is ThreadOutcome.REOPENED and row.id == survey.conversation_id:
        row.resolved_at = survey.resolved_at
        row.reopened_at = survey.prior_reopened_at
        row.reopen_count = max(0, row.reopen_count - 1)
    else:
        row.resolved_at = threaded.message.created_at
    row.save()
    webhook_queries.conversation_status_changed(
        queries.get_conversation(row.id), previous, now=now
    )


# ---------------------------------------------------------------------- reading


def _event(row: Any) -> MetricEvent:
    return MetricEvent(
        id=row.id,
        kind=row.kind,
        conversation_id=row.conversation_id,
        queue=row.queue,
        user_id=row.user_id,
        at=row.at,
        started_at=row.started_at,
        wall_s=row.wall_s,
        business_s=row.business_s,
        rating=row.rating,
        customer_wrote=None if row.customer_wrote is None else bool(row.customer_wrote),
        human_replied=None if row.human_replied is None else bool(row.human_replied),
    )


def events_between(
    start: datetime,
    end: datetime,
    *,
    queue: str | None = None,
    user_id: int | None = None,
) -> list[MetricEvent]:
    """Events at [start, end), and ratings of surveys sent then (the response rate)."""
    in_range = (MetricEventRow.at >= start) & (MetricEventRow.at < end)
    survey_in_range = (
        (MetricEventRow.kind == MetricKind.CSAT)
        & (MetricEventRow.started_at >= start)
        & (MetricEventRow.started_at < end)
    )
    query = MetricEventRow.select().where(in_range | survey_in_range)
    if queue is not None:
        query = query.where(MetricEventRow.queue == queue)
    if user_id is not None:
        query = query.where(MetricEventRow.user_id == user_id)
    return [_event(row) for row in query.order_by(MetricEventRow.id)]


def events_of(conversation_id: int) -> list[MetricEvent]:
    """A conversation's events, in order."""
    query = (
        MetricEventRow.select()
        .where(MetricEventRow.conversation_id == conversation_id)
        .order_by(MetricEventRow.id)
    )
    return [_event(row) for row in query]


@dataclass(frozen=True, slots=True)
class Unmeasured:
    """A timed event whose business seconds are still to be computed."""

    id: int
    queue: str | None
    started_at: datetime
    at: datetime


def unmeasured(*, limit: int = 500) -> list[Unmeasured]:
    """Timed events without business seconds yet, oldest first."""
    rows = (
        MetricEventRow.select(
            MetricEventRow.id,
            MetricEventRow.queue,
            MetricEventRow.started_at,
            MetricEventRow.at,
        )
        .where(
            MetricEventRow.business_s.is_null()
            & MetricEventRow.started_at.is_null(False)
        )
        .order_by(MetricEventRow.id)
        .limit(limit)
    )
    return [Unmeasured(r.id, r.queue, r.started_at, r.at) for r in rows]


def set_business_seconds(values: Mapping[int, float]) -> None:
    """Store computed business seconds (event id -> seconds)."""
    for event_id, seconds in values.items():
        MetricEventRow.update(business_s=seconds).where(
            MetricEventRow.id == event_id
        ).execute()


def event_queues() -> list[str]:
    """The queues events were recorded under (for the filters)."""
    rows = (
        MetricEventRow.select(MetricEventRow.queue)
        .where(MetricEventRow.queue.is_null(False))
        .distinct()
        .order_by(MetricEventRow.queue)
    )
    return [str(row.queue) for row in rows]


def user_names() -> dict[int, str]:
    """Every user's display name by id (agents of the breakdowns)."""
    return {row.id: row.display_name for row in User.select(User.id, User.display_name)}


# ---------------------------------------------------------------------- operations


@dataclass(frozen=True, slots=True)
class OpsSnapshot:
    """What /metrics reads from the database (and the files), one unit per scrape."""

    messages: dict[tuple[str, str], int]  # (direction, status) -> count
    queue_depths: dict[str, int]  # modem ("" for not yet taken) -> queued parts
    reassemblies: int  # multipart messages with parts still missing
    reassembly_parts: int  # their parts held
    deliveries: dict[str, int]  # webhook delivery status -> count
    attempts: dict[str, int]  # webhook attempt outcome -> count (within retention)
    database_bytes: int  # the SQLite file, or PostgreSQL's pg_database_size
    wal_bytes: int  # SQLite's write-ahead log; 0 on PostgreSQL (the server's)
    surveys: dict[str, int]  # CSAT survey status -> count


def ops_snapshot(database_path: str | None) -> OpsSnapshot:
    """ON THE DB THREAD: the counts /metrics exposes and the database's size (the SQLite
    files at `database_path`, or the PostgreSQL database the store is on)."""
    messages: dict[tuple[str, str], int] = {}
    rows: Any = (
        Message.select(Message.direction, Message.status, fn.COUNT(Message.id))
        .group_by(Message.direction, Message.status)
        .tuples()
    )
    for direction, status, count in rows:
        messages[(str(direction), str(status))] = int(count)
    pending = InboundPart.select().where(InboundPart.message.is_null())
    groups = (
        InboundPart.select(fn.COUNT(fn.DISTINCT(InboundPart.reassembly_key)))
        .where(InboundPart.message.is_null())
        .scalar()
    )
    deliveries = _grouped(WebhookDelivery, WebhookDelivery.status)
    attempts = _grouped(WebhookAttempt, WebhookAttempt.outcome)
    surveys = _grouped(CsatSurveyRow, CsatSurveyRow.status)
    depths: dict[str, int] = {}
    depth_rows: Any = (
        OutboundPart.select(Message.modem, fn.COUNT(OutboundPart.id))
        .join(Message)
        .where(OutboundPart.status == PartStatus.QUEUED)
        .group_by(Message.modem)
        .tuples()
    )
    for modem, count in depth_rows:
        depths[modem or ""] = int(count)
    return OpsSnapshot(
        messages=messages,
        queue_depths=depths,
        reassemblies=int(groups or 0),
        reassembly_parts=pending.count(),
        deliveries={s.value: deliveries.get(s.value, 0) for s in WebhookStatus}
        | deliveries,
        attempts=attempts,
        database_bytes=database_bytes(database_path),
        wal_bytes=0
        if DB.postgresql
        else _size(None if database_path is None else database_path + "-wal"),
        surveys=surveys,
    )


def _grouped(model: Any, column: Any) -> dict[str, int]:
    rows: Any = model.select(column, fn.COUNT(model.id)).group_by(column).tuples()
    return {str(value): int(count) for value, count in rows}


def database_bytes(database_path: str | None) -> int:
    """ON THE DB THREAD: the SQLite file's size at `database_path`, or on PostgreSQL
    pg_database_size of the database the store is on."""
    if DB.postgresql:
        cursor = DB.execute_sql("SELECT pg_database_size(current_database())")
        return int(cursor.fetchone()[0])
    return _size(database_path)


def _size(path: str | None) -> int:
    if path is None:
        return 0
    try:
        return os.stat(path).st_size
    except FileNotFoundError:
        return 0


def survey_window(
    now: datetime, *, delay_s: float, late_s: float
) -> tuple[datetime, datetime]:
    """(resolved after, resolved before): the resolutions whose survey is due now."""
    before = now - timedelta(seconds=delay_s)
    return before - timedelta(seconds=late_s), before


def conversation_status(conversation_id: int) -> ConversationStatus:
    """The conversation's status now."""
    return queries.get_conversation(conversation_id).status

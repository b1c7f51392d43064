"""Values of the metrics service (no storage imports: storage builds them, web renders them)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from gateway.metrics.definitions import Figures


class SurveyStatus(enum.StrEnum):
    """Where a conversation's CSAT survey stands (one survey per conversation)."""

    SCHEDULED = "scheduled"  # resolved; goes out [csat] delay_s after the resolution
    SENT = "sent"  # waiting for the customer's next message, until expires_at
    ANSWERED = "answered"  # rated
    DECLINED = "declined"  # the customer's next message was no rating
    EXPIRED = "expired"  # no answer before expires_at
    CANCELLED = "cancelled"  # reopened (or gone) before it went out
    SKIPPED = "skipped"  # opted out, not textable, or too late to ask when it was due


@dataclass(frozen=True, slots=True)
class SurveyRecord:
    id: int
    conversation_id: int
    number: str
    status: SurveyStatus
    queue: str | None
    user_id: int | None
    resolved_at: datetime
    sent_at: datetime | None
    expires_at: datetime | None
    message_id: int | None
    rating: int | None
    answered_at: datetime | None
    answer_message_id: int | None


@dataclass(frozen=True, slots=True)
class SurveyAnswer:
    """A customer's message read as the answer to their pending survey."""

    survey: SurveyRecord
    rating: int | None  # None: not a rating (the survey is declined)


@dataclass(frozen=True, slots=True)
class SurveyToSend:
    """A due survey, checked in the unit that sends it."""

    survey: SurveyRecord
    conversation_id: int
    number: str


class Grouping(enum.StrEnum):
    DAY = "day"
    WEEK = "week"
    QUEUE = "queue"
    AGENT = "agent"


@dataclass(frozen=True, slots=True)
class ReportQuery:
    """A validated report request: local dates (inclusive) in `timezone`, and filters."""

    first_day: date
    last_day: date
    timezone: ZoneInfo
    queue: str | None = None  # "" never: None is every queue
    user_id: int | None = None

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1


@dataclass(frozen=True, slots=True)
class Row:
    """One line of a breakdown: its key (a date, a week's Monday, a queue, a user id),
    what people read, and the figures."""

    key: str
    label: str
    figures: Figures


@dataclass(frozen=True, slots=True)
class Report:
    query: ReportQuery
    total: Figures
    by_day: tuple[Row, ...]
    by_week: tuple[Row, ...]
    by_queue: tuple[Row, ...]
    by_agent: tuple[Row, ...]

    def rows(self, grouping: Grouping) -> tuple[Row, ...]:
        return {
            Grouping.DAY: self.by_day,
            Grouping.WEEK: self.by_week,
            Grouping.QUEUE: self.by_queue,
            Grouping.AGENT: self.by_agent,
        }[grouping]


@dataclass(frozen=True, slots=True)
class ReportOptions:
    """What the filters offer: queues seen in the events, and the users."""

    queues: tuple[str, ...]
    agents: tuple[tuple[int, str], ...]  # (user id, display name)

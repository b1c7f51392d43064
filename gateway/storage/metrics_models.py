"""peewee models of the support metrics' tables (schema step "metrics"); models only.

The tables are created by the migration step's SQL (shared with new databases, as the
inbox's are). Conversations and users are referred to by id without a foreign key:
reporting history outlives what it reports on.
"""

from __future__ import annotations

import peewee

from gateway.metrics.definitions import MetricKind
from gateway.metrics.records import SurveyStatus
from gateway.storage.models import BaseModel, EnumField, UtcDateTimeField


class MetricEventRow(BaseModel):
    """A reporting event, recorded in the unit of work that made the change."""

    id = peewee.AutoField()
    kind = EnumField(MetricKind)
    conversation_id = peewee.IntegerField()
    queue = peewee.TextField(null=True)
    user_id = peewee.IntegerField(null=True)
    message_id = peewee.BigIntegerField(null=True)
    at = UtcDateTimeField()
    started_at = UtcDateTimeField(null=True)
    wall_s = peewee.FloatField(null=True)
    # computed by MetricsService right after the commit (the queue's schedule)
    business_s = peewee.FloatField(null=True)
    rating = peewee.IntegerField(null=True)
    customer_wrote = peewee.BooleanField(null=True)
    human_replied = peewee.BooleanField(null=True)

    class Meta:
        table_name = "metric_events"


class MetricClockRow(BaseModel):
    """Where a conversation stands for the metrics (gateway.metrics.definitions.ClockState)."""

    conversation_id = peewee.IntegerField(primary_key=True)
    cycle_started_at = UtcDateTimeField()
    frt_started_at = UtcDateTimeField(null=True)
    frt_done = peewee.BooleanField()
    waiting_since = UtcDateTimeField(null=True)
    customer_wrote = peewee.BooleanField()
    human_replied = peewee.BooleanField()
    resolved_at = UtcDateTimeField(null=True)
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "metric_clocks"


class CsatSurveyRow(BaseModel):
    """A conversation's CSAT survey (one per conversation)."""

    id = peewee.AutoField()
    conversation_id = peewee.IntegerField()
    number = peewee.TextField()
    status = EnumField(SurveyStatus)
    queue = peewee.TextField(null=True)
    user_id = peewee.IntegerField(null=True)
    resolved_at = UtcDateTimeField()
    # the conversation's reopened_at when it was resolved: a rating that reopened it
    # puts it back as it was
    prior_reopened_at = UtcDateTimeField(null=True)
    sent_at = UtcDateTimeField(null=True)
    expires_at = UtcDateTimeField(null=True)
    message_id = peewee.BigIntegerField(null=True)
    rating = peewee.IntegerField(null=True)
    answered_at = UtcDateTimeField(null=True)
    answer_message_id = peewee.BigIntegerField(null=True)
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "csat_surveys"


METRICS_MODELS: tuple[type[BaseModel], ...] = (
    MetricEventRow,
    MetricClockRow,
    CsatSurveyRow,
)

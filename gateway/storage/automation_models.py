"""peewee models of support automation's tables; models only.

The tables are created by the automation migration step's SQL (shared with new databases,
as the inbox's are). Rules edited by admins live here; gateway.ini's [automation] gives
the defaults that `automation_settings` rows override.
"""

from __future__ import annotations

import peewee

from gateway.storage.models import (
    BaseModel,
    Conversation,
    JsonField,
    User,
    UtcDateTimeField,
)


class AutomationStateRow(BaseModel):
    """A conversation's automation state (gateway.automation.rules.AutomationState)."""

    conversation = peewee.ForeignKeyField(
        Conversation, primary_key=True, on_delete="CASCADE"
    )
    conversation_id: int
    phase = peewee.TextField()
    flow_id = peewee.IntegerField(null=True)  # no foreign key: a flow may be deleted
    step = peewee.IntegerField(default=0)
    attempts = peewee.IntegerField(default=0)
    prompts = peewee.IntegerField(default=0)
    fields = JsonField(default=dict)
    handover_reason = peewee.TextField(null=True)
    escalated = peewee.BooleanField(default=False)
    routed = peewee.BooleanField(default=False)
    acknowledged = peewee.BooleanField(default=False)
    closed_notice_until = UtcDateTimeField(null=True)
    last_prompt_at = UtcDateTimeField(null=True)
    started_at = UtcDateTimeField(null=True)
    handed_over_at = UtcDateTimeField(null=True)
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "automation_state"


class AutomationSettingRow(BaseModel):
    """An admin's value for an [automation] key (or a triage setting): wins over the ini."""

    key = peewee.TextField(primary_key=True)
    value = JsonField()
    updated_at = UtcDateTimeField()
    updated_by = peewee.TextField()

    class Meta:
        table_name = "automation_settings"


class AutomationFlowRow(BaseModel):
    """Collection of details: the fields asked in turn, then a hand-over."""

    id = peewee.AutoField()
    name = peewee.TextField()
    fields = JsonField(default=list)  # [{name, label, prompt, kind, pattern, ...}]
    done_text = peewee.TextField(default="")
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "automation_flows"
        indexes = ((("name",), True),)


class TriageOptionRow(BaseModel):
    id = peewee.AutoField()
    position = peewee.IntegerField()
    key = peewee.TextField()  # what the customer replies: 1, A
    label = peewee.TextField()
    keywords = JsonField(default=list)
    queue = peewee.TextField(null=True)
    tags = JsonField(default=list)
    assignee = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    assignee_id: int | None
    flow = peewee.ForeignKeyField(AutomationFlowRow, null=True, on_delete="SET NULL")
    flow_id: int | None
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "automation_triage_options"
        indexes = ((("key",), True),)


class RoutingRuleRow(BaseModel):
    id = peewee.AutoField()
    position = peewee.IntegerField()
    name = peewee.TextField()
    kind = peewee.TextField()  # gateway.automation.rules.MatchKind
    key = peewee.TextField(default="")
    value = peewee.TextField()
    queue = peewee.TextField(null=True)
    tags = JsonField(default=list)
    priority = peewee.TextField(null=True)
    assignee = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    assignee_id: int | None
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "automation_routing_rules"


class QueueRow(BaseModel):
    """A queue: its members, how it assigns, its business hours and texts."""

    id = peewee.AutoField()
    name = peewee.TextField()
    description = peewee.TextField(default="")
    assignment = peewee.TextField()  # gateway.automation.rules.Assignment
    timezone = peewee.TextField(null=True)  # None: [gateway] timezone
    hours = peewee.TextField(null=True)  # schedule.parse_week's form; None: always open
    holidays = peewee.TextField(default="")  # schedule.parse_holidays' form
    ack_text = peewee.TextField(default="")
    after_hours_text = peewee.TextField(default="")
    last_assigned = peewee.ForeignKeyField(User, null=True, on_delete="SET NULL")
    last_assigned_id: int | None
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "automation_queues"
        indexes = ((("name",), True),)


class QueueMemberRow(BaseModel):
    queue = peewee.ForeignKeyField(QueueRow, on_delete="CASCADE")
    queue_id: int
    user = peewee.ForeignKeyField(User, on_delete="CASCADE")
    user_id: int

    class Meta:
        table_name = "automation_queue_members"
        primary_key = peewee.CompositeKey("queue", "user")


class AgentStatusRow(BaseModel):
    """An agent's own availability toggle (no row: available)."""

    user = peewee.ForeignKeyField(User, primary_key=True, on_delete="CASCADE")
    user_id: int
    away = peewee.BooleanField(default=False)
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "automation_agent_status"


AUTOMATION_MODELS: tuple[type[BaseModel], ...] = (
    AutomationStateRow,
    AutomationSettingRow,
    AutomationFlowRow,
    TriageOptionRow,
    RoutingRuleRow,
    QueueRow,
    QueueMemberRow,
    AgentStatusRow,
)

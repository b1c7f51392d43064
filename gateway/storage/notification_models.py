"""peewee models of templates, notifications and outbound holds (schema step 8); models only.

The tables are created by migration step 8's SQL, which step 1 runs too, so a new file and
a migrated one are the same (as the inbox's and the Twilio API's tables are).
"""

from __future__ import annotations

import peewee

from gateway.storage.models import BaseModel, JsonField, Message, UtcDateTimeField


class TemplateRow(BaseModel):
    """A canned text (Jinja2, rendered in gateway.templates.engine's sandbox)."""

    id = peewee.AutoField()
    name = peewee.TextField()  # for people: "Delivery late"
    shortcut = peewee.TextField()  # for the composer's picker and the API: "late"
    body = peewee.TextField()
    description = peewee.TextField(null=True)
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()
    updated_by = peewee.TextField()  # the audit log's name of who saved it last

    class Meta:
        table_name = "templates"
        indexes = ((("shortcut",), True),)


class NotificationRow(BaseModel):
    """A proactive text: its message, context, reply options and what the customer chose."""

    id = peewee.AutoField()
    message = peewee.ForeignKeyField(Message, on_delete="CASCADE", index=False)
    message_id: int
    number = peewee.TextField()  # E.164
    template = peewee.TextField(null=True)  # the shortcut it was written from
    context = JsonField(default=dict)
    # [{"key", "value", "aliases", "action", "queue", "reply"}]; empty: one-way
    options = JsonField(default=list)
    expires_at = UtcDateTimeField(null=True)  # reply options close then
    scheduled_at = UtcDateTimeField(null=True)  # as asked (the hold may be later)
    actor = peewee.TextField()
    created_at = UtcDateTimeField()
    selected_key = peewee.TextField(null=True)
    selected_at = UtcDateTimeField(null=True)
    selected_message_id = peewee.BigIntegerField(null=True)  # the customer's reply
    confirmation_message_id = peewee.BigIntegerField(null=True)

    class Meta:
        table_name = "notifications"
        indexes = ((("message",), True), (("number", "id"), False))


class OutboundHold(BaseModel):
    """A message that may not leave before `not_before`, nor in its recipient's night.

    The claim (queries.claim_next_outbound) reads it for a message none of whose parts
    left yet: the parts' `next_attempt_at` already keeps them until `not_before`; quiet
    hours are checked again at the radio, so a message due at 20:59 that waited on a busy
    modem still does not go at 21:05.
    """

    message = peewee.ForeignKeyField(Message, primary_key=True, on_delete="CASCADE")
    message_id: int
    not_before = UtcDateTimeField()
    zones = JsonField(default=list)  # IANA names whose quiet hours hold it; empty: none
    quiet_start = peewee.TextField(null=True)  # "21:00", as configured when queued
    quiet_end = peewee.TextField(null=True)

    class Meta:
        table_name = "outbound_holds"


NOTIFICATION_MODELS: tuple[type[BaseModel], ...] = (
    TemplateRow,
    NotificationRow,
    OutboundHold,
)

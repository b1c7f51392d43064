"""peewee models of the Twilio-compatible API's tables (schema version 7); models only.

The tables are created by migration step 7's SQL (shared with new databases, as the
inbox's are). An account's auth token is not here: it is the secret of the account's
webhook endpoint (kind "twilio"), the one key that both checks its requests and signs its
webhooks, so a rotation changes both at once.
"""

from __future__ import annotations

import peewee

from gateway.storage.models import (
    BaseModel,
    JsonField,
    Message,
    UtcDateTimeField,
    WebhookEndpoint,
)


class TwilioAccountRow(BaseModel):
    """An account of the Twilio-compatible API."""

    id = peewee.AutoField()
    sid = peewee.TextField()  # "AC" + 32 hex
    name = peewee.TextField()
    endpoint = peewee.ForeignKeyField(
        WebhookEndpoint, on_delete="RESTRICT", index=False
    )
    endpoint_id: int
    modems = JsonField(default=list)  # the modems it may send from; empty: all
    created_at = UtcDateTimeField()
    updated_at = UtcDateTimeField()

    class Meta:
        table_name = "twilio_accounts"
        indexes = ((("sid",), True), (("endpoint",), True))


class TwilioMessageRow(BaseModel):
    """A message sent through the Twilio API: by whom, its StatusCallback, its modems."""

    message = peewee.ForeignKeyField(Message, primary_key=True, on_delete="CASCADE")
    message_id: int
    account = peewee.ForeignKeyField(TwilioAccountRow, on_delete="CASCADE")
    account_id: int
    status_callback = peewee.TextField(null=True)
    # the modems it may leave from (the account's, or the one its From named); None: any
    modems = JsonField(null=True)
    # the last status its StatusCallback was told (Twilio's word): each is told once
    reported_status = peewee.TextField(null=True)
    created_at = UtcDateTimeField()

    class Meta:
        table_name = "twilio_messages"


TWILIO_MODELS: tuple[type[BaseModel], ...] = (TwilioAccountRow, TwilioMessageRow)

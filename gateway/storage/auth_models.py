"""peewee models of the sign-in tables (schema version 3): sessions and failed sign-ins.

The users and api_tokens tables are in models.py (they came with version 1).
"""

from __future__ import annotations

import peewee

from gateway.storage.models import BaseModel, User, UtcDateTimeField


class WebSession(BaseModel):
    """A signed-in browser: the cookie holds a random token, this row only its SHA-256."""

    id = peewee.AutoField()
    token_hash = peewee.TextField()
    user = peewee.ForeignKeyField(User, on_delete="CASCADE", backref="sessions")
    user_id: int
    created_at = UtcDateTimeField()
    last_seen_at = UtcDateTimeField()
    # created_at + the absolute lifetime: the idle limit is checked against last_seen_at
    expires_at = UtcDateTimeField()
    address = peewee.TextField(
        null=True
    )  # the client address at sign-in, for the audit
    user_agent = peewee.TextField(null=True)

    class Meta:
        table_name = "web_sessions"
        indexes = (
            (("token_hash",), True),
            (("user",), False),
            (("expires_at",), False),
        )


class LoginFailure(BaseModel):
    """One failed sign-in; counted per username and per address within the window."""

    id = peewee.BigAutoField()
    username = peewee.TextField()  # as typed (lower-cased): unknown names count too
    address = peewee.TextField()
    at = UtcDateTimeField()

    class Meta:
        table_name = "login_failures"
        indexes = ((("username", "at"), False), (("address", "at"), False))


AUTH_MODELS: tuple[type[BaseModel], ...] = (WebSession, LoginFailure)

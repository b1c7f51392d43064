"""Values of the notification service (no storage imports: storage builds them)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gateway.domain import JsonObject, MessageRecord
from gateway.notifications.options import ReplyOption


@dataclass(frozen=True, slots=True)
class Selection:
    """The option a customer's reply picked."""

    key: str
    value: str
    message_id: int  # the customer's reply
    at: datetime
    confirmation_message_id: int | None


@dataclass(frozen=True, slots=True)
class NotificationRecord:
    id: int
    message: MessageRecord  # the text itself (status, conversation, body)
    number: str
    template: str | None  # the shortcut it was written from
    context: JsonObject
    options: tuple[ReplyOption, ...]  # empty: a one-way broadcast
    expires_at: datetime | None  # when reply options close (None without options)
    scheduled_at: datetime | None  # as asked
    not_before: datetime | None  # when it may go (scheduled, then quiet hours)
    zones: tuple[str, ...]  # the recipient's time zones its quiet hours follow
    actor: str
    created_at: datetime
    selected: Selection | None

    def open_at(self, now: datetime) -> bool:
        """Whether a reply now may still pick an option."""
        return (
            bool(self.options)
            and self.selected is None
            and (self.expires_at is None or now < self.expires_at)
        )


@dataclass(frozen=True, slots=True)
class NewNotification:
    """A notification as created: `created` False when its idempotency key was known."""

    notification: NotificationRecord
    created: bool

"""Frozen records of the Twilio-compatible API, shared by storage, the service and web.

An auth token appears only in `AccountToken` (shown once, when made or rotated) and is
never in a repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from gateway.domain import MessageRecord


@dataclass(frozen=True, slots=True)
class TwilioAccount:
    """A Twilio-style account: its SID, and where its webhooks go."""

    id: int
    sid: str  # "AC" + 32 hex
    name: str
    # The hidden webhook endpoint (kind "twilio") that carries its inbound webhooks and
    # status callbacks, signed with the auth token.
    endpoint_id: int
    inbound_url: str | None  # where a received message is posted, Twilio-style
    modems: tuple[str, ...]  # the modems it may send from (and sees); empty: all
    webhooks_active: bool  # False after an admin paused them or a 410 Gone
    webhooks_disabled_reason: str | None
    token_hint: str  # the auth token's first characters, to tell tokens apart
    created_at: datetime
    updated_at: datetime

    def may_use(self, modem: str | None) -> bool:
        """Whether a message on `modem` is this account's to send or see."""
        return not self.modems or modem in self.modems


@dataclass(frozen=True, slots=True)
class AccountToken:
    """An account with its new auth token: shown once, when made or rotated."""

    account: TwilioAccount
    auth_token: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class TwilioMessage:
    """A gateway message as the Twilio API shows it."""

    message: MessageRecord
    # The box's side of it: the modem's own number, else the modem's name (a sender id);
    # None while an outbound message waits for any modem.
    box_number: str | None


@dataclass(frozen=True, slots=True)
class MessageFilter:
    """The Messages list's filters (To, From, DateSent); None everywhere: every message."""

    to: str | None = None
    from_: str | None = None
    sent_from: datetime | None = None  # date_sent at or after
    sent_before: datetime | None = None  # date_sent before


@dataclass(frozen=True, slots=True)
class PageRequest:
    """Where a page starts: after a PageToken, or at an offset (Page without a token)."""

    size: int
    number: int = 0  # Twilio's `page`: zero-based, told back to the client
    older_than: int | None = None  # a "PA" token: messages before this id
    newer_than: int | None = None  # a "PB" token: messages after this id


@dataclass(frozen=True, slots=True)
class MessagePage:
    """One page, newest first, with the tokens of the pages around it."""

    messages: tuple[TwilioMessage, ...]
    number: int
    size: int
    next_token: str | None
    previous_token: str | None

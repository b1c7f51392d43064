"""Frozen records of the webhook relay, shared by storage, the relay, the service and web.

Secrets appear only in `EndpointSecret` (shown once, when made) and `ClaimedDelivery`
(the relay signs with it); neither shows them in repr.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from gateway.domain import JsonObject, WebhookStatus


@dataclass(frozen=True, slots=True)
class EndpointRecord:
    id: int
    url: str
    description: str | None
    kind: str  # how requests are built and signed (gateway.webhooks.formats)
    events: tuple[str, ...]  # the event types it wants; empty means all
    active: bool
    disabled_reason: str | None  # set when the relay disabled it (410 Gone)
    secret_hint: str  # "whsec_AbCd…", to tell secrets apart
    rotating_until: datetime | None  # the previous secret still signs until then
    created_at: datetime
    updated_at: datetime

    def wants(self, event_type: str) -> bool:
        return not self.events or event_type in self.events


@dataclass(frozen=True, slots=True)
class EndpointSecret:
    """An endpoint with its new signing secret: shown once, never stored in the clear
    anywhere else than the endpoint row."""

    endpoint: EndpointRecord
    secret: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class DeliveryRecord:
    id: int
    endpoint_id: int
    event_id: str  # the webhook-id: the same on every attempt and replay
    event_type: str
    conversation_id: int | None
    status: WebhookStatus
    attempts: int
    next_attempt_at: datetime
    queued_at: datetime  # created or last replayed: the dead-letter age counts from it
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    replays: int
    created_at: datetime
    delivered_at: datetime | None
    dead_at: datetime | None


@dataclass(frozen=True, slots=True)
class AttemptRecord:
    id: int
    delivery_id: int
    attempt: int
    at: datetime
    status_code: int | None  # None: no answer (refused, timed out)
    error: str | None
    response: str | None  # the first characters of the receiver's answer
    duration_ms: int
    outcome: str  # gateway.webhooks.policy.Outcome


@dataclass(frozen=True, slots=True)
class DeliveryDetail:
    """A delivery with what it sends and every attempt, oldest first."""

    delivery: DeliveryRecord
    endpoint_url: str
    body: JsonObject  # the JSON the receiver gets (the envelope)
    attempts: tuple[AttemptRecord, ...]


@dataclass(frozen=True, slots=True)
class DeliveryFilter:
    endpoint_id: int | None = None
    status: WebhookStatus | None = None
    event_type: str | None = None


@dataclass(frozen=True, slots=True)
class ClaimedDelivery:
    """A due delivery the relay sends now, with what it needs to build the request."""

    delivery_id: int
    endpoint_id: int
    url: str
    kind: str
    secret: str = field(repr=False)
    previous_secret: str | None = field(repr=False)
    previous_secret_until: datetime | None
    event_id: str
    event_type: str
    event_created_at: datetime
    data: JsonObject = field(repr=False)
    attempts: int  # made before this one
    ordering_key: str | None
    # the node whose lease on it ran out (it stopped mid-request); None: not leased
    expired_lease_of: str | None = None

    def signing_secrets(self, now: datetime) -> tuple[str, ...]:
        """The current secret, and the previous one while its rotation grace lasts."""
        if (
            self.previous_secret is not None
            and self.previous_secret_until is not None
            and now < self.previous_secret_until
        ):
            return (self.secret, self.previous_secret)
        return (self.secret,)


@dataclass(frozen=True, slots=True)
class AttemptResult:
    """What one HTTP request gave."""

    status_code: int | None
    error: str | None
    response: str | None
    duration_ms: int
    retry_after_s: float | None = None
    interrupted: bool = False  # smsgw stopped before the answer came


@dataclass(frozen=True, slots=True)
class Housekept:
    dead: int  # deliveries dead-lettered (their endpoint disabled past max_age_s)
    pruned: int  # finished deliveries deleted past retention_s

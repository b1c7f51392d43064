"""Units of work of the webhook relay, and `record_event`: the durable webhook outbox.

`record_event` runs INSIDE the unit of work that makes the change it reports (the store
runs every unit in a transaction), so the event is committed iff the change is: it writes
one `webhook_events` row and one `webhook_deliveries` row per active endpoint subscribed
to the type, and nothing when none is. Deliveries of one endpoint that share a
conversation carry one `ordering_key` and go out in id order (see `claim_due`).

Endpoints of an addressed kind (`formats.ADDRESSED_KINDS`: a Twilio account's) get only
the events recorded for them by `endpoint_id`, and the Webhooks pages and API neither
list nor change them; `message_received` and `message_status_changed` also record the
Twilio accounts' events (gateway.storage.twilio_queries) in the same unit.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Collection
from datetime import datetime, timedelta
from typing import Any

from peewee import JOIN, SQL, fn

import gateway.storage.twilio_queries as twilio_queries
from gateway.domain import (
    ConsentRecord,
    ContactRecord,
    ConversationRecord,
    ConversationStatus,
    JsonObject,
    MessageRecord,
    MessageStatus,
    WebhookStatus,
)
from gateway.errors import Conflict, NotFound
from gateway.storage.models import (
    DB,
    AuditEvent,
    Contact,
    Conversation,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
    WebhookEvent,
)
from gateway.webhooks import formats, payloads, policy
from gateway.webhooks.payloads import EventType
from gateway.webhooks.records import (
    AttemptRecord,
    AttemptResult,
    ClaimedDelivery,
    DeliveryDetail,
    DeliveryFilter,
    DeliveryRecord,
    EndpointRecord,
    EndpointSecret,
    Housekept,
)

_LOGGER = logging.getLogger(__name__)

EVENT_ID_PREFIX = "evt_"


def new_event_id(now: datetime) -> str:
    """A webhook-id: time-ordered (milliseconds, hex) and unguessable (64 random bits)."""
    return f"{EVENT_ID_PREFIX}{int(now.timestamp() * 1000):012x}{secrets.token_hex(8)}"


def ordering_key(conversation_id: int | None) -> str | None:
    return None if conversation_id is None else f"conversation:{conversation_id}"


def _subscribers(event_type: str) -> list[Any]:
    return [
        row
        for row in WebhookEndpoint.select(WebhookEndpoint.id, WebhookEndpoint.events)
        .where(
            (WebhookEndpoint.active == True)  # noqa: E712 - a peewee expression
            & WebhookEndpoint.kind.not_in(formats.ADDRESSED_KINDS)
        )
        .order_by(WebhookEndpoint.id)
        if not row.events or event_type in row.events
    ]


def _head_due(endpoint_id: int, key: str) -> datetime | None:
    """When the first pending delivery with this key is due (None: there is none)."""
    head = (
        WebhookDelivery.select(WebhookDelivery.next_attempt_at)
        .where(
            (WebhookDelivery.endpoint == endpoint_id)
            & (WebhookDelivery.ordering_key == key)
            & (WebhookDelivery.status == WebhookStatus.PENDING)
        )
        .order_by(WebhookDelivery.id)
        .first()
    )
    return None if head is None else head.next_attempt_at


def record_event(
    event_type: str,
    payload: JsonObject,
    *,
    conversation_id: int | None,
    now: datetime,
    endpoint_id: int | None = None,
) -> str | None:
    """ON THE DB THREAD, inside the unit that makes the change: queue the event for every
    active endpoint subscribed to `event_type` (only `endpoint_id` when given, whatever it
    subscribes to: test events). Its id (the webhook-id), or None when nobody wants it.

    `payload` is the envelope's `data` (gateway.webhooks.payloads builds it); deliveries
    with a `conversation_id` keep their order per endpoint.
    """
    if endpoint_id is None:
        endpoints = [row.id for row in _subscribers(event_type)]
    else:
        endpoints = [endpoint_id]
    if not endpoints:
        return None
    event = WebhookEvent.create(
        event_id=new_event_id(now),
        type=event_type,
        data=dict(payload),
        conversation_id=conversation_id,
        created_at=now,
    )
    key = ordering_key(conversation_id)
    rows = []
    for endpoint in endpoints:
        # A later event waits for the earlier ones anyway; not being due before the
        # head keeps it out of the relay's scans meanwhile.
        head_due = _head_due(endpoint, key) if key is not None else None
        due = now if head_due is None else max(now, head_due)
        rows.append(
            {
                "event": event.id,
                "endpoint": endpoint,
                "event_type": event_type,
                "ordering_key": key,
                "status": WebhookStatus.PENDING,
                "next_attempt_at": due,
                "queued_at": now,
                "created_at": now,
            }
        )
    WebhookDelivery.insert_many(rows).execute()
    _LOGGER.debug(
        "event %s (%s) queued for endpoint(s) %s", event.event_id, event_type, endpoints
    )
    return str(event.event_id)


# ------------------------------------------------------------------ what the gateway reports
# Called by the units of work that make each change (gateway.storage.queries, services).


def message_received(
    message: MessageRecord,
    conversation: ConversationRecord,
    contact: ContactRecord,
    *,
    now: datetime,
) -> str | None:
    """message.received: an inbound message was committed to its conversation (and the
    Twilio accounts' incoming-message webhooks)."""
    twilio_queries.record_inbound(message, now=now)
    return record_event(
        EventType.MESSAGE_RECEIVED,
        payloads.message_received(message, conversation, contact),
        conversation_id=conversation.id,
        now=now,
    )


def message_status_changed(
    message: MessageRecord, previous: MessageStatus | None, *, now: datetime
) -> str | None:
    """message.status: an outbound message's roll-up moved to sent, delivered or failed
    (and its Twilio status callback, for any move Twilio tells)."""
    twilio_queries.record_status(message, previous, now=now)
    if message.status not in payloads.REPORTED_MESSAGE_STATUSES:
        return None
    return record_event(
        EventType.MESSAGE_STATUS,
        payloads.message_status(message, previous),
        conversation_id=message.conversation_id,
        now=now,
    )


def conversation_created(
    conversation: ConversationRecord, contact: ContactRecord, *, now: datetime
) -> str | None:
    return record_event(
        EventType.CONVERSATION_CREATED,
        payloads.conversation_created(conversation, contact),
        conversation_id=conversation.id,
        now=now,
    )


def conversation_status_changed(
    conversation: ConversationRecord,
    previous: ConversationStatus,
    *,
    now: datetime,
) -> str | None:
    """conversation.status_changed (a no-op when the status did not move)."""
    if conversation.status is previous:
        return None
    return record_event(
        EventType.CONVERSATION_STATUS_CHANGED,
        payloads.conversation_status_changed(conversation, previous),
        conversation_id=conversation.id,
        now=now,
    )


def conversation_assigned(
    conversation: ConversationRecord,
    *,
    previous_assignee_id: int | None,
    assignee: JsonObject | None,
    actor: str | None = None,
    now: datetime,
) -> str | None:
    """conversation.assigned; `assignee` is {"id", "username", "display_name"} or None."""
    return record_event(
        EventType.CONVERSATION_ASSIGNED,
        payloads.conversation_assigned(
            conversation,
            previous_assignee_id=previous_assignee_id,
            assignee=assignee,
            actor=actor,
        ),
        conversation_id=conversation.id,
        now=now,
    )


def consent_changed(
    consent: ConsentRecord, *, now: datetime, conversation_id: int | None = None
) -> str | None:
    """contact.opted_out / contact.opted_in. Without `conversation_id` the contact's
    latest conversation orders it (so an agent's opt-in follows the customer's STOP)."""
    contact = Contact.get_or_none(Contact.number == consent.number)
    contact_id = None if contact is None else int(contact.id)
    if conversation_id is None and contact is not None:
        latest = (
            Conversation.select(Conversation.id)
            .where(Conversation.contact == contact.id)
            .order_by(Conversation.id.desc())
            .first()
        )
        conversation_id = None if latest is None else int(latest.id)
    return record_event(
        payloads.consent_event_type(consent),
        payloads.consent_changed(
            consent, contact_id=contact_id, conversation_id=conversation_id
        ),
        conversation_id=conversation_id,
        now=now,
    )


# ------------------------------------------------------------------ records

SECRET_HINT_CHARS = 10  # "whsec_AbCd"
RESPONSE_CHARS = 500  # of a receiver's answer, kept on its attempt row
PRUNE_BATCH = 500


def _endpoint(row: Any) -> EndpointRecord:
    return EndpointRecord(
        id=row.id,
        url=row.url,
        description=row.description,
        kind=row.kind,
        events=tuple(row.events),
        active=bool(row.active),
        disabled_reason=row.disabled_reason,
        secret_hint=row.secret[:SECRET_HINT_CHARS] + "\u2026",
        rotating_until=row.previous_secret_until,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _delivery(row: Any, event: Any) -> DeliveryRecord:
    return DeliveryRecord(
        id=row.id,
        endpoint_id=row.endpoint_id,
        event_id=event.event_id,
        event_type=row.event_type,
        conversation_id=event.conversation_id,
        status=row.status,
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        queued_at=row.queued_at,
        last_attempt_at=row.last_attempt_at,
        last_status_code=row.last_status_code,
        last_error=row.last_error,
        replays=row.replays,
        created_at=row.created_at,
        delivered_at=row.delivered_at,
        dead_at=row.dead_at,
    )


def _attempt(row: Any) -> AttemptRecord:
    return AttemptRecord(
        id=row.id,
        delivery_id=row.delivery_id,
        attempt=row.attempt,
        at=row.at,
        status_code=row.status_code,
        error=row.error,
        response=row.response,
        duration_ms=row.duration_ms,
        outcome=row.outcome,
    )


def _audit(actor: str, action: str, subject: str, now: datetime, **detail: Any) -> None:
    AuditEvent.create(
        actor=actor, action=action, subject=subject, detail=detail, at=now
    )


def _endpoint_row(endpoint_id: int) -> Any:
    row = WebhookEndpoint.get_or_none((WebhookEndpoint.id == endpoint_id) & _listed())
    if row is None:
        raise NotFound("webhook endpoint", endpoint_id)
    return row


# ------------------------------------------------------------------ endpoints


def create_endpoint(
    *,
    url: str,
    description: str | None,
    events: Collection[str],
    active: bool,
    secret: str,
    kind: str,
    now: datetime,
    actor: str,
) -> EndpointSecret:
    """A new endpoint (audited); its secret, once."""
    row = WebhookEndpoint.create(
        url=url,
        description=description,
        kind=kind,
        secret=secret,
        events=sorted(events),
        active=active,
        created_at=now,
        updated_at=now,
    )
    _audit(
        actor,
        "webhook.endpoint.create",
        f"webhook_endpoint:{row.id}",
        now,
        events=sorted(events),
        active=active,
    )
    return EndpointSecret(_endpoint(row), secret)


def _listed() -> Any:
    """The endpoints the Webhooks pages and API manage (not the addressed kinds)."""
    return WebhookEndpoint.kind.not_in(formats.ADDRESSED_KINDS)


def list_endpoints() -> list[EndpointRecord]:
    query = WebhookEndpoint.select().where(_listed()).order_by(WebhookEndpoint.id)
    return [_endpoint(r) for r in query]


def get_endpoint(endpoint_id: int) -> EndpointRecord:
    return _endpoint(_endpoint_row(endpoint_id))


def update_endpoint(
    endpoint_id: int,
    *,
    now: datetime,
    actor: str,
    url: str | None = None,
    description: str | None = None,
    clear_description: bool = False,
    events: Collection[str] | None = None,
    active: bool | None = None,
) -> EndpointRecord:
    """Change what is given (None: unchanged); re-enabling clears the disabled reason.
    Audited with the names of the fields changed."""
    row = _endpoint_row(endpoint_id)
    changed = []
    if url is not None and url != row.url:
        row.url = url
        changed.append("url")
    if clear_description or (
        description is not None and description != row.description
    ):
        row.description = None if clear_description else description
        changed.append("description")
    if events is not None and sorted(events) != list(row.events):
        row.events = sorted(events)
        changed.append("events")
    if active is not None and active != bool(row.active):
        row.active = active
        changed.append("active")
    if active:
        row.disabled_reason = None
    if changed:
        row.updated_at = now
        row.save()
        _audit(
            actor,
            "webhook.endpoint.update",
            f"webhook_endpoint:{row.id}",
            now,
            changed=changed,
            active=bool(row.active),
        )
    return _endpoint(row)


def rotate_secret(
    endpoint_id: int, *, secret: str, grace_until: datetime, now: datetime, actor: str
) -> EndpointSecret:
    """A new secret; the old one keeps signing (a second signature) until `grace_until`."""
    row = _endpoint_row(endpoint_id)
    row.previous_secret = row.secret
    row.previous_secret_until = grace_until
    row.secret = secret
    row.updated_at = now
    row.save()
    _audit(
        actor,
        "webhook.endpoint.rotate_secret",
        f"webhook_endpoint:{row.id}",
        now,
        previous_signs_until=grace_until.isoformat(),
    )
    return EndpointSecret(_endpoint(row), secret)


def delete_endpoint(endpoint_id: int, *, now: datetime, actor: str) -> None:
    """Delete an endpoint with its deliveries and their attempts (audited)."""
    row = _endpoint_row(endpoint_id)
    pending = (
        WebhookDelivery.select()
        .where(
            (WebhookDelivery.endpoint == row.id)
            & (WebhookDelivery.status == WebhookStatus.PENDING)
        )
        .count()
    )
    WebhookDelivery.delete().where(WebhookDelivery.endpoint == row.id).execute()
    row.delete_instance()
    _delete_orphan_events()
    _audit(
        actor,
        "webhook.endpoint.delete",
        f"webhook_endpoint:{endpoint_id}",
        now,
        url_host=_host(row.url),
        pending_dropped=pending,
    )


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0]


def _delete_orphan_events(before: datetime | None = None) -> int:
    """Delete events no delivery refers to any more (created before `before`)."""
    orphans = WebhookEvent.select(WebhookEvent.id).where(
        ~fn.EXISTS(
            WebhookDelivery.select(SQL("1")).where(
                WebhookDelivery.event == WebhookEvent.id
            )
        )
    )
    if before is not None:
        orphans = orphans.where(WebhookEvent.created_at < before)
    return int(WebhookEvent.delete().where(WebhookEvent.id.in_(orphans)).execute())


# ------------------------------------------------------------------ deliveries


def list_deliveries(
    where: DeliveryFilter, *, limit: int, before_id: int | None = None
) -> list[DeliveryRecord]:
    """Deliveries, newest first, `limit` at a time before `before_id`."""
    query = (
        WebhookDelivery.select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent)
        .order_by(WebhookDelivery.id.desc())
        .limit(limit)
    )
    if where.endpoint_id is not None:
        query = query.where(WebhookDelivery.endpoint == where.endpoint_id)
    else:
        listed = WebhookEndpoint.select(WebhookEndpoint.id).where(_listed())
        query = query.where(WebhookDelivery.endpoint.in_(listed))
    if where.status is not None:
        query = query.where(WebhookDelivery.status == where.status)
    if where.event_type is not None:
        query = query.where(WebhookDelivery.event_type == where.event_type)
    if before_id is not None:
        query = query.where(WebhookDelivery.id < before_id)
    return [_delivery(row, row.event) for row in query]


def _delivery_row(delivery_id: int) -> Any:
    row = (
        WebhookDelivery.select(WebhookDelivery, WebhookEvent, WebhookEndpoint)
        .join(WebhookEvent)
        .switch(WebhookDelivery)
        .join(WebhookEndpoint)
        .where(WebhookDelivery.id == delivery_id)
        .first()
    )
    if row is None:
        raise NotFound("webhook delivery", delivery_id)
    return row


def get_delivery(delivery_id: int) -> DeliveryDetail:
    """A delivery, the body it sends and its attempts."""
    row = _delivery_row(delivery_id)
    event = row.event
    attempts = (
        WebhookAttempt.select()
        .where(WebhookAttempt.delivery == row.id)
        .order_by(WebhookAttempt.id)
    )
    own_url = event.data.get("url") if event.type in formats.OWN_URL_EVENTS else None
    return DeliveryDetail(
        delivery=_delivery(row, event),
        endpoint_url=own_url if isinstance(own_url, str) else row.endpoint.url,
        body=payloads.envelope(
            event.event_id, event.type, event.created_at, event.data
        ),
        attempts=tuple(_attempt(a) for a in attempts),
    )


def replay_delivery(delivery_id: int, *, now: datetime, actor: str) -> DeliveryRecord:
    """Queue a delivered or dead delivery again: same webhook-id, a fresh max age; it
    keeps its place in its conversation's order. Conflict while it is pending."""
    row = _delivery_row(delivery_id)
    if row.status == WebhookStatus.PENDING:
        raise Conflict(f"webhook delivery {delivery_id} is still pending")
    _requeue(row, now)
    _audit(
        actor,
        "webhook.delivery.replay",
        f"webhook_delivery:{row.id}",
        now,
        event_id=row.event.event_id,
        was=WebhookStatus(row.status).value,
    )
    return _delivery(WebhookDelivery.get_by_id(row.id), row.event)


def _requeue(row: Any, now: datetime) -> None:
    WebhookDelivery.update(
        status=WebhookStatus.PENDING,
        next_attempt_at=now,
        queued_at=now,
        rejections=0,
        replays=WebhookDelivery.replays + 1,
        delivered_at=None,
        dead_at=None,
    ).where(WebhookDelivery.id == row.id).execute()


def replay_dead(endpoint_id: int, *, now: datetime, actor: str) -> int:
    """Queue every dead delivery of an endpoint again (after its receiver was fixed)."""
    _endpoint_row(endpoint_id)
    count = (
        WebhookDelivery.update(
            status=WebhookStatus.PENDING,
            next_attempt_at=now,
            queued_at=now,
            rejections=0,
            replays=WebhookDelivery.replays + 1,
            dead_at=None,
        )
        .where(
            (WebhookDelivery.endpoint == endpoint_id)
            & (WebhookDelivery.status == WebhookStatus.DEAD)
        )
        .execute()
    )
    _audit(
        actor,
        "webhook.endpoint.replay_dead",
        f"webhook_endpoint:{endpoint_id}",
        now,
        deliveries=count,
    )
    return int(count)


def send_test(endpoint_id: int, *, now: datetime, actor: str) -> DeliveryRecord:
    """Queue a webhook.test event for one endpoint (active or not: it is a test)."""
    _endpoint_row(endpoint_id)
    event_id = record_event(
        payloads.TEST_EVENT,
        payloads.test_event(endpoint_id, actor),
        conversation_id=None,
        now=now,
        endpoint_id=endpoint_id,
    )
    row = (
        WebhookDelivery.select(WebhookDelivery, WebhookEvent)
        .join(WebhookEvent)
        .where(WebhookEvent.event_id == event_id)
        .get()
    )
    _audit(actor, "webhook.endpoint.test", f"webhook_endpoint:{endpoint_id}", now)
    return _delivery(row, row.event)


# ------------------------------------------------------------------ the relay


def claim_due(
    *,
    now: datetime,
    limit: int,
    node: str,
    lease_s: float,
    exclude: Collection[int] = (),
) -> list[ClaimedDelivery]:
    """Up to `limit` deliveries to send now, leased to `node` until `now + lease_s`:
    pending, due, of an active endpoint (a test event goes to an inactive one too), under
    no live lease (another node is sending it; an expired one is a node that stopped
    mid-request, so the delivery goes again), not in `exclude` (this process's own
    requests), and each the first pending one of its endpoint and conversation (later
    ones wait: order is kept, across nodes too, as the head stays pending while leased).

    The rows are picked and leased in this one unit; on PostgreSQL a row another node is
    claiming right now is passed over (FOR UPDATE SKIP LOCKED), not waited for."""
    earlier = WebhookDelivery.alias("earlier")
    blocked = earlier.select(SQL("1")).where(
        (earlier.endpoint == WebhookDelivery.endpoint)
        & (earlier.ordering_key == WebhookDelivery.ordering_key)
        # the column by name: peewee cannot alias an EnumField (its __new__ is typed)
        & (SQL('"earlier"."status"') == WebhookStatus.PENDING.value)
        & (earlier.id < WebhookDelivery.id)
    )
    query = (
        WebhookDelivery.select(WebhookDelivery, WebhookEvent, WebhookEndpoint)
        .join(WebhookEvent)
        .switch(WebhookDelivery)
        .join(WebhookEndpoint)
        .where(
            (WebhookDelivery.status == WebhookStatus.PENDING)
            & (WebhookDelivery.next_attempt_at <= now)
            & (
                WebhookDelivery.claimed_until.is_null()
                | (WebhookDelivery.claimed_until <= now)
            )
            & (
                (WebhookEndpoint.active == True)  # noqa: E712 - a peewee expression
                | (WebhookDelivery.event_type == payloads.TEST_EVENT)
            )
            & (WebhookDelivery.ordering_key.is_null() | ~fn.EXISTS(blocked))
        )
        .order_by(WebhookDelivery.next_attempt_at, WebhookDelivery.id)
        .limit(limit)
    )
    if exclude:
        query = query.where(WebhookDelivery.id.not_in(list(exclude)))
    if DB.postgresql:
        # Only the delivery rows: locking the endpoint's row as well would keep every
        # other node off all of that endpoint's deliveries while this one claims.
        # SERIALIZABLE still settles a race the locks miss (one claim is run again).
        query = query.for_update(of=WebhookDelivery, skip_locked=True)
    rows = list(query)
    if not rows:
        return []
    WebhookDelivery.update(
        claimed_by=node, claimed_until=now + timedelta(seconds=lease_s)
    ).where(WebhookDelivery.id.in_([row.id for row in rows])).execute()
    claimed = []
    for row in rows:
        endpoint, event = row.endpoint, row.event
        claimed.append(
            ClaimedDelivery(
                delivery_id=row.id,
                endpoint_id=endpoint.id,
                url=endpoint.url,
                kind=endpoint.kind,
                secret=endpoint.secret,
                previous_secret=endpoint.previous_secret,
                previous_secret_until=endpoint.previous_secret_until,
                event_id=event.event_id,
                event_type=event.type,
                event_created_at=event.created_at,
                data=event.data,
                attempts=row.attempts,
                ordering_key=row.ordering_key,
                expired_lease_of=row.claimed_by,
            )
        )
    return claimed


def release_claims(node: str) -> int:
    """At a node's start: the leases `node` still holds, left by its previous run (it
    stopped without recording those attempts: a crash, a power cut), are released, so
    the deliveries go now rather than when the leases run out. How many."""
    return int(
        WebhookDelivery.update(claimed_by=None, claimed_until=None)
        .where(
            (WebhookDelivery.status == WebhookStatus.PENDING)
            & (WebhookDelivery.claimed_by == node)
        )
        .execute()
    )


def record_attempt(
    delivery_id: int,
    result: AttemptResult,
    *,
    now: datetime,
    retry: policy.RetryPolicy,
    jitter: float,
) -> policy.Decision | None:
    """Log one attempt, settle its delivery by the policy (gateway.webhooks.policy) and
    end its lease; None when the delivery is gone or no longer pending (deleted,
    dead-lettered meanwhile)."""
    row = WebhookDelivery.get_or_none(WebhookDelivery.id == delivery_id)
    if row is None or row.status != WebhookStatus.PENDING:
        return None
    attempts = row.attempts + 1
    verdict = policy.classify(result.status_code)
    rejections = row.rejections + (verdict is policy.Verdict.REJECTED)
    if result.interrupted:
        decision = policy.Decision(policy.Outcome.INTERRUPTED, next_attempt_at=now)
    elif verdict is policy.Verdict.GONE and (
        row.event_type == payloads.TEST_EVENT
        or row.event_type in formats.OWN_URL_EVENTS
    ):
        # a test goes to a disabled endpoint too: it must not wait for one, nor loop; a
        # URL of the event's own (a StatusCallback) is gone, not its endpoint's
        decision = policy.Decision(
            policy.Outcome.DEAD, reason="the receiver answered 410 Gone"
        )
    else:
        decision = policy.decide(
            retry,
            verdict,
            attempts=attempts,
            rejections=rejections,
            queued_at=row.queued_at,
            now=now,
            jitter=jitter,
            retry_after_s=result.retry_after_s,
            status_code=result.status_code,
        )
    WebhookAttempt.create(
        delivery=row.id,
        attempt=attempts,
        at=now,
        status_code=result.status_code,
        error=result.error,
        response=None if result.response is None else result.response[:RESPONSE_CHARS],
        duration_ms=result.duration_ms,
        outcome=decision.outcome.value,
    )
    row.attempts = attempts
    row.rejections = rejections
    row.claimed_by = None  # settled: the lease ends with the attempt
    row.claimed_until = None
    row.last_attempt_at = now
    row.last_status_code = result.status_code
    row.last_error = result.error if decision.reason is None else decision.reason
    outcome = decision.outcome
    if outcome is policy.Outcome.DELIVERED:
        row.status = WebhookStatus.DELIVERED
        row.delivered_at = now
        row.last_error = None
    elif outcome is policy.Outcome.DEAD:
        row.status = WebhookStatus.DEAD
        row.dead_at = now
    else:
        assert decision.next_attempt_at is not None
        row.next_attempt_at = decision.next_attempt_at
        if row.ordering_key is not None:
            # the ones behind it are not due before it (keeps them out of the scans)
            WebhookDelivery.update(next_attempt_at=decision.next_attempt_at).where(
                (WebhookDelivery.endpoint == row.endpoint_id)
                & (WebhookDelivery.ordering_key == row.ordering_key)
                & (WebhookDelivery.status == WebhookStatus.PENDING)
                & (WebhookDelivery.id > row.id)
                & (WebhookDelivery.next_attempt_at < decision.next_attempt_at)
            ).execute()
    row.save()
    if (
        verdict is policy.Verdict.GONE
        and not result.interrupted
        and row.event_type not in formats.OWN_URL_EVENTS
    ):
        endpoint = WebhookEndpoint.get_by_id(row.endpoint_id)
        if endpoint.active:
            endpoint.active = False
            endpoint.disabled_reason = (
                f"the receiver answered 410 Gone at {now.isoformat()}"
            )
            endpoint.updated_at = now
            endpoint.save()
            _audit(
                "system",
                "webhook.endpoint.disable",
                f"webhook_endpoint:{endpoint.id}",
                now,
                reason="410 Gone",
                delivery_id=row.id,
            )
    return decision


def housekeep(*, now: datetime, max_age_s: float, retention_s: float) -> Housekept:
    """Dead-letter deliveries waiting on a disabled endpoint past max_age_s, and delete
    finished deliveries (with attempts and events) older than retention_s."""
    cutoff = now - timedelta(seconds=max_age_s)
    inactive = WebhookEndpoint.select(WebhookEndpoint.id).where(
        WebhookEndpoint.active == False  # noqa: E712 - a peewee expression
    )
    dead = (
        WebhookDelivery.update(
            status=WebhookStatus.DEAD,
            dead_at=now,
            last_error="its endpoint is disabled",
            # a dead delivery is nobody's: a request under way records nothing
            claimed_by=None,
            claimed_until=None,
        )
        .where(
            (WebhookDelivery.status == WebhookStatus.PENDING)
            & (WebhookDelivery.queued_at < cutoff)
            & WebhookDelivery.endpoint.in_(inactive)
            & (WebhookDelivery.event_type != payloads.TEST_EVENT)
        )
        .execute()
    )
    before = now - timedelta(seconds=retention_s)
    finished = (
        WebhookDelivery.select(WebhookDelivery.id)
        .join(WebhookEvent, JOIN.INNER)
        .where(
            (WebhookDelivery.status != WebhookStatus.PENDING)
            & (WebhookEvent.created_at < before)
            & (
                fn.COALESCE(WebhookDelivery.delivered_at, WebhookDelivery.dead_at)
                < before
            )
        )
        .limit(PRUNE_BATCH)
    )
    ids = [r.id for r in finished]
    pruned = 0
    if ids:
        pruned = int(
            WebhookDelivery.delete().where(WebhookDelivery.id.in_(ids)).execute()
        )
        _delete_orphan_events(before)
    return Housekept(dead=int(dead), pruned=pruned)

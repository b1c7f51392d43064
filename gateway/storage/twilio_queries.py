"""Units of work of the Twilio-compatible API (gateway.twilio), and the Twilio webhooks
recorded inside the units that make the changes they report.

An account is a `twilio_accounts` row plus a hidden webhook endpoint of kind "twilio":
the endpoint's URL is the account's inbound URL ("" for none) and its secret is the auth
token, so the one key both checks the account's requests and signs its webhooks. Its
events go through the webhook outbox like any other (`webhook_queries.record_event` with
the endpoint's id): a status callback carries its message's StatusCallback URL in its
data (`formats.TwilioCallbacks` sends it there).
"""

from __future__ import annotations

import hmac
import logging
from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from gateway.domain import Direction, MessageRecord, MessageStatus
from gateway.errors import NotFound
from gateway.storage import queries, webhook_queries
from gateway.storage.models import AuditEvent, Message, Modem, WebhookEndpoint
from gateway.storage.twilio_models import TwilioAccountRow, TwilioMessageRow
from gateway.twilio import resource
from gateway.twilio.records import (
    AccountToken,
    MessageFilter,
    PageRequest,
    TwilioAccount,
    TwilioMessage,
)
from gateway.webhooks import formats
from gateway.webhooks.records import DeliveryFilter, DeliveryRecord

_LOGGER = logging.getLogger(__name__)

TOKEN_HINT_CHARS = 4


def _account(row: Any, endpoint: Any) -> TwilioAccount:
    return TwilioAccount(
        id=row.id,
        sid=row.sid,
        name=row.name,
        endpoint_id=endpoint.id,
        inbound_url=endpoint.url or None,
        modems=tuple(row.modems),
        webhooks_active=bool(endpoint.active),
        webhooks_disabled_reason=endpoint.disabled_reason,
        token_hint=endpoint.secret[:TOKEN_HINT_CHARS] + "\u2026",
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _with_endpoint() -> Any:
    return TwilioAccountRow.select(TwilioAccountRow, WebhookEndpoint).join(
        WebhookEndpoint
    )


def _account_row(sid: str) -> Any:
    row = _with_endpoint().where(TwilioAccountRow.sid == sid).first()
    if row is None:
        raise NotFound("twilio account", sid)
    return row


def _audit(actor: str, action: str, sid: str, now: datetime, **detail: Any) -> None:
    AuditEvent.create(
        actor=actor,
        action=action,
        subject=f"twilio_account:{sid}",
        detail=detail,
        at=now,
    )


def _host(url: str | None) -> str | None:
    return None if not url else url.split("://", 1)[-1].split("/", 1)[0]


# ------------------------------------------------------------------ accounts


def create_account(
    *,
    sid: str,
    name: str,
    auth_token: str,
    inbound_url: str | None,
    modems: Collection[str],
    now: datetime,
    actor: str,
) -> AccountToken:
    """A new account and its webhook endpoint (audited); its auth token, once."""
    endpoint = WebhookEndpoint.create(
        url=inbound_url or "",
        description=f"Twilio account {sid}",
        kind=formats.TWILIO,
        secret=auth_token,
        events=[],
        active=True,
        created_at=now,
        updated_at=now,
    )
    row = TwilioAccountRow.create(
        sid=sid,
        name=name,
        endpoint=endpoint.id,
        modems=sorted(modems),
        created_at=now,
        updated_at=now,
    )
    _audit(
        actor,
        "twilio.account.create",
        sid,
        now,
        name=name,
        modems=sorted(modems),
        inbound_host=_host(inbound_url),
    )
    return AccountToken(_account(row, endpoint), auth_token)


def list_accounts() -> list[TwilioAccount]:
    rows = _with_endpoint().order_by(TwilioAccountRow.id)
    return [_account(row, row.endpoint) for row in rows]


def get_account(sid: str) -> TwilioAccount:
    """The account; NotFound if there is none."""
    row = _account_row(sid)
    return _account(row, row.endpoint)


def authenticate(sid: str, auth_token: str) -> TwilioAccount | None:
    """The account whose SID and auth token these are; None for any mismatch."""
    row = _with_endpoint().where(TwilioAccountRow.sid == sid).first()
    if row is None:
        return None
    given, expected = auth_token.encode(), str(row.endpoint.secret).encode()
    if not hmac.compare_digest(given, expected):
        return None
    return _account(row, row.endpoint)


def rotate_token(
    sid: str, *, auth_token: str, now: datetime, actor: str
) -> AccountToken:
    """A new auth token: the old one stops working at once, and the new one signs the
    webhooks still to be sent (audited)."""
    row = _account_row(sid)
    endpoint = row.endpoint
    endpoint.secret = auth_token
    endpoint.updated_at = now
    endpoint.save()
    row.updated_at = now
    row.save()
    _audit(actor, "twilio.account.rotate_token", sid, now)
    return AccountToken(_account(row, endpoint), auth_token)


def update_account(
    sid: str,
    *,
    now: datetime,
    actor: str,
    name: str | None = None,
    inbound_url: str | None = None,
    modems: Collection[str] | None = None,
    webhooks_active: bool | None = None,
) -> TwilioAccount:
    """Change what is given (None: unchanged; inbound_url "" removes it). Turning the
    webhooks on again clears why they were off. Audited with the fields changed."""
    row = _account_row(sid)
    endpoint = row.endpoint
    changed = []
    if name is not None and name != row.name:
        row.name = name
        changed.append("name")
    if modems is not None and sorted(modems) != list(row.modems):
        row.modems = sorted(modems)
        changed.append("modems")
    if inbound_url is not None and inbound_url != endpoint.url:
        endpoint.url = inbound_url
        changed.append("inbound_url")
    if webhooks_active is not None and webhooks_active != bool(endpoint.active):
        endpoint.active = webhooks_active
        changed.append("webhooks_active")
    if webhooks_active:
        endpoint.disabled_reason = None
    if changed:
        row.updated_at = endpoint.updated_at = now
        row.save()
        endpoint.save()
        _audit(
            actor,
            "twilio.account.update",
            sid,
            now,
            changed=changed,
            inbound_host=_host(endpoint.url),
        )
    return _account(row, endpoint)


def list_deliveries(
    endpoint_id: int, *, limit: int, before_id: int | None = None
) -> list[DeliveryRecord]:
    """An account's webhook deliveries (incoming messages, status callbacks), newest
    first."""
    return webhook_queries.list_deliveries(
        DeliveryFilter(endpoint_id=endpoint_id), limit=limit, before_id=before_id
    )


# ------------------------------------------------------------------ messages


def box_numbers() -> dict[str, str]:
    """Each modem's number as Twilio shows it: its own number, else its name."""
    rows: Any = Modem.select(Modem.name, Modem.own_number).tuples()
    return {str(name): str(own or name) for name, own in rows}


def modems_answering_to(number: str) -> list[str]:
    """The modems `number` names: by their own number, or by name."""
    return [name for name, shown in box_numbers().items() if number in (shown, name)]


def view(
    message: MessageRecord, numbers: Mapping[str, str] | None = None
) -> TwilioMessage:
    """The message with the box's number on it."""
    numbers = box_numbers() if numbers is None else numbers
    box = None if message.modem is None else numbers.get(message.modem, message.modem)
    return TwilioMessage(message, box)


def record_sent(
    message_id: int,
    *,
    account_id: int,
    status_callback: str | None,
    modems: Collection[str] | None,
    now: datetime,
) -> None:
    """ON THE DB THREAD, in the unit that queues the message: who sent it through the
    Twilio API, where its status goes, which modems it may leave from."""
    TwilioMessageRow.insert(
        message=message_id,
        account=account_id,
        status_callback=status_callback,
        modems=None if modems is None else sorted(modems),
        created_at=now,
    ).execute()


def allowed_modems(message_id: int) -> frozenset[str] | None:
    """The modems a message may leave from; None when any may take it."""
    row: Any = (
        TwilioMessageRow.select(TwilioMessageRow.modems)
        .where(TwilioMessageRow.message == message_id)
        .first()
    )
    if row is None or row.modems is None:
        return None
    return frozenset(row.modems)


def get_message(message_id: int, *, modems: Collection[str] = ()) -> TwilioMessage:
    """A message as the Twilio API shows it; NotFound when there is none or it went
    through none of `modems` (when given)."""
    row = Message.get_or_none(Message.id == message_id)
    if row is None or (modems and row.modem not in modems):
        raise NotFound("message", message_id)
    return view(queries._message(row))


def _direction_number(direction: Direction, number: str) -> Any:
    return (Message.direction == direction) & (Message.number == number)


def _direction_modems(direction: Direction, names: list[str]) -> Any:
    return (Message.direction == direction) & Message.modem.in_(names)


def _sent_between(start: datetime | None, end: datetime | None) -> Any:
    """date_sent in [start, end): an inbound message's arrival, an outbound one's send."""
    inbound, outbound = Message.created_at, Message.sent_at
    in_range_in = Message.direction == Direction.INBOUND
    in_range_out = (Message.direction == Direction.OUTBOUND) & outbound.is_null(False)
    if start is not None:
        in_range_in &= inbound >= start
        in_range_out &= outbound >= start
    if end is not None:
        in_range_in &= inbound < end
        in_range_out &= outbound < end
    return in_range_in | in_range_out


def list_messages(
    where: MessageFilter,
    *,
    page: PageRequest,
    limit: int,
    modems: Collection[str] = (),
) -> list[TwilioMessage]:
    """Up to `limit` messages matching `where`, from `page`'s position, newest first
    (ascending after a "newer than" position: the caller turns them round)."""
    query = Message.select()
    if modems:
        query = query.where(Message.modem.in_(list(modems)))
    if where.to is not None:
        query = query.where(
            _direction_number(Direction.OUTBOUND, where.to)
            | _direction_modems(Direction.INBOUND, modems_answering_to(where.to))
        )
    if where.from_ is not None:
        query = query.where(
            _direction_number(Direction.INBOUND, where.from_)
            | _direction_modems(Direction.OUTBOUND, modems_answering_to(where.from_))
        )
    if where.sent_from is not None or where.sent_before is not None:
        query = query.where(_sent_between(where.sent_from, where.sent_before))
    if page.newer_than is not None:
        query = query.where(Message.id > page.newer_than).order_by(Message.id)
    else:
        query = query.order_by(Message.id.desc())
        if page.older_than is not None:
            query = query.where(Message.id < page.older_than)
        else:
            query = query.offset(page.number * page.size)
    numbers = box_numbers()
    return [view(queries._message(row), numbers) for row in query.limit(limit)]


# ------------------------------------------------------------------ webhooks
# Called by webhook_queries.message_received / message_status_changed, inside the unit
# that commits the change.


def record_inbound(message: MessageRecord, *, now: datetime) -> None:
    """ON THE DB THREAD: the incoming-message webhook of every account with an inbound URL
    and its webhooks on that may use the message's modem."""
    accounts = _with_endpoint().where(
        (WebhookEndpoint.active == True)  # noqa: E712 - a peewee expression
        & (WebhookEndpoint.url != "")
    )
    shown: TwilioMessage | None = None
    for row in accounts:
        if row.modems and message.modem not in row.modems:
            continue
        shown = shown or view(message)
        webhook_queries.record_event(
            formats.TWILIO_INBOUND,
            {"params": dict(resource.inbound_params(shown, row.sid))},
            conversation_id=message.conversation_id,
            now=now,
            endpoint_id=row.endpoint_id,
        )


def record_status(
    message: MessageRecord, previous: MessageStatus | None, *, now: datetime
) -> None:
    """ON THE DB THREAD: the status callback of a message sent with a StatusCallback,
    when its status in Twilio's words moved to one not told yet (never the initial
    `queued`, as Twilio does)."""
    row: Any = (
        TwilioMessageRow.select(TwilioMessageRow, TwilioAccountRow)
        .join(TwilioAccountRow)
        .where(TwilioMessageRow.message == message.id)
        .first()
    )
    if row is None or row.status_callback is None:
        return
    status = resource.twilio_status(message)
    if status in ("queued", row.reported_status):
        return
    shown = view(message)
    webhook_queries.record_event(
        formats.TWILIO_STATUS,
        {
            "url": row.status_callback,
            "params": dict(resource.status_params(shown, row.account.sid)),
        },
        conversation_id=message.conversation_id,
        now=now,
        endpoint_id=row.account.endpoint_id,
    )
    TwilioMessageRow.update(reported_status=status).where(
        TwilioMessageRow.message == message.id
    ).execute()
    _LOGGER.debug("message %s: status callback %s queued", message.id, status)

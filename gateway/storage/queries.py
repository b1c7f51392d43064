"""Units of work: synchronous functions with explicit arguments, run by `Store.run`.

Each function is one step of the gateway's paths and returns frozen records from
gateway.domain, never model instances. They run inside the store's transaction, so a
service may compose several into one unit (one commit) by calling them from its own
function. Every time comes in as `now` (aware): nothing here reads a clock.

Portability (PostgreSQL, issue 8): only peewee expressions that both engines support;
`_claimable_part` is the query to give `FOR UPDATE SKIP LOCKED` there.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Collection, Sequence
from datetime import datetime, timedelta
from typing import Any

import peewee
from peewee import fn

from gateway.domain import (
    ACTIVE_CONVERSATION_STATUSES,
    AuditRecord,
    ClaimedPart,
    ConsentKind,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ContactRecord,
    ConversationRecord,
    ConversationStatus,
    Direction,
    Enqueued,
    InboundPartRecord,
    JsonObject,
    MessageCounts,
    MessageOrigin,
    MessageRecord,
    MessageStatus,
    ModemRecord,
    NodeRecord,
    NumberKind,
    OutboundPartRecord,
    PartOutcome,
    PartStatus,
    Priority,
    RecordedPart,
    ThreadedMessage,
    ThreadOutcome,
    UndecodableRecord,
)
from gateway.errors import Conflict, InvalidInput, NotFound, OptedOut
from gateway.logutil import mask_number
from gateway.storage import schedule_queries, webhook_queries
from gateway.storage.models import (
    DB,
    AuditEvent,
    ConsentEvent,
    Contact,
    Conversation,
    ConversationTag,
    Counter,
    InboundPart,
    Message,
    Modem,
    Node,
    OutboundPart,
    Tag,
    UndecodablePdu,
)
from modem.events import ModemState
from modem.pdu.types import Concat

_LOGGER = logging.getLogger(__name__)

CONCAT_REF_COUNTER = "concat_ref"

# ------------------------------------------------------------------ record conversion


def _contact(row: Any) -> ContactRecord:
    return ContactRecord(
        id=row.id,
        number=row.number,
        kind=row.kind,
        name=row.name,
        attributes=row.attributes,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def _conversation(row: Any) -> ConversationRecord:
    return ConversationRecord(
        id=row.id,
        contact_id=row.contact_id,
        number=row.number,
        status=row.status,
        priority=row.priority,
        assignee_id=row.assignee_id,
        queue=row.queue,
        context=row.context,
        modem=row.modem,
        created_at=row.created_at,
        updated_at=row.updated_at,
        last_inbound_at=row.last_inbound_at,
        last_outbound_at=row.last_outbound_at,
        resolved_at=row.resolved_at,
        reopened_at=row.reopened_at,
        reopen_count=row.reopen_count,
    )


def _message(row: Any) -> MessageRecord:
    return MessageRecord(
        id=row.id,
        conversation_id=row.conversation_id,
        direction=row.direction,
        status=row.status,
        origin=row.origin,
        number=row.number,
        body=row.body,
        modem=row.modem,
        encoding=row.encoding,
        parts_count=row.parts_count,
        concat_ref=row.concat_ref,
        idempotency_key=row.idempotency_key,
        context=row.context,
        error=row.error,
        user_id=row.user_id,
        consent_exempt=row.consent_exempt,
        created_at=row.created_at,
        updated_at=row.updated_at,
        network_at=row.network_at,
        sent_at=row.sent_at,
        delivered_at=row.delivered_at,
        failed_at=row.failed_at,
    )


def _inbound_part(row: Any) -> InboundPartRecord:
    concat = None
    if row.concat_total is not None:
        concat = Concat(
            ref=row.concat_ref,
            total=row.concat_total,
            seq=row.concat_seq,
            ref_bits=row.concat_ref_bits,
        )
    return InboundPartRecord(
        id=row.id,
        modem=row.modem,
        sender=row.sender,
        sender_kind=row.sender_kind,
        pdu_hex=row.pdu_hex,
        text=row.text,
        encoding=row.encoding,
        concat=concat,
        reassembly_key=row.reassembly_key,
        dedupe_key=row.dedupe_key,
        network_at=row.network_at,
        received_at=row.received_at,
        message_id=row.message_id,
    )


def _outbound_part(row: Any) -> OutboundPartRecord:
    return OutboundPartRecord(
        id=row.id,
        message_id=row.message_id,
        seq=row.seq,
        status=row.status,
        attempts=row.attempts,
        modem=row.modem,
        reference=row.reference,
        pdu_hex=row.pdu_hex,
        tpdu_length=row.tpdu_length,
        error=row.error,
        report_status=row.report_status,
        next_attempt_at=row.next_attempt_at,
        claimed_at=row.claimed_at,
        accepted_at=row.accepted_at,
        delivered_at=row.delivered_at,
    )


def _consent(row: Any) -> ConsentRecord:
    return ConsentRecord(
        id=row.id,
        number=row.number,
        kind=row.kind,
        source=row.source,
        actor=row.actor,
        message_id=row.message_id,
        at=row.at,
    )


def _audit(row: Any) -> AuditRecord:
    return AuditRecord(
        id=row.id,
        actor=row.actor,
        action=row.action,
        subject=row.subject,
        detail=row.detail,
        at=row.at,
    )


def _modem(row: Any) -> ModemRecord:
    return ModemRecord(
        name=row.name,
        node=row.node,
        state=row.state,
        imei=row.imei,
        imsi=row.imsi,
        iccid=row.iccid,
        manufacturer=row.manufacturer,
        model=row.model,
        profile=row.profile,
        own_number=row.own_number,
        registration=row.registration,
        operator=row.operator,
        signal_dbm=row.signal_dbm,
        last_error=row.last_error,
        last_seen_at=row.last_seen_at,
        updated_at=row.updated_at,
    )


# ------------------------------------------------------------------ contacts


def upsert_contact(
    number: str,
    kind: NumberKind,
    *,
    now: datetime,
    name: str | None = None,
    attributes: JsonObject | None = None,
) -> ContactRecord:
    """The contact for `number` (already normalised), created if new; `name` and
    `attributes` (merged key by key) are updated when given."""
    row = Contact.get_or_none(Contact.number == number)
    if row is None:
        # Ignoring a conflict keeps this safe when two boxes share a database (issue 8).
        Contact.insert(
            number=number,
            kind=kind,
            name=name,
            attributes=dict(attributes or {}),
            created_at=now,
            updated_at=now,
        ).on_conflict_ignore().execute()
        row = Contact.get(Contact.number == number)
    changes: dict[Any, Any] = {}
    if name is not None and name != row.name:
        changes[Contact.name] = name
    if attributes is not None:
        merged = {**row.attributes, **attributes}
        if merged != row.attributes:
            changes[Contact.attributes] = merged
    if changes:
        changes[Contact.updated_at] = now
        Contact.update(changes).where(Contact.id == row.id).execute()
        row = Contact.get_by_id(row.id)
    return _contact(row)


def get_contact(contact_id: int) -> ContactRecord:
    """The contact; NotFound if there is none."""
    row = Contact.get_or_none(Contact.id == contact_id)
    if row is None:
        raise NotFound("contact", contact_id)
    return _contact(row)


def find_contact(number: str) -> ContactRecord | None:
    """The contact with this (normalised) number, or None when there is none yet."""
    row = Contact.get_or_none(Contact.number == number)
    return None if row is None else _contact(row)


def list_contacts(
    *, limit: int = 50, after_id: int | None = None
) -> list[ContactRecord]:
    """Contacts in id order, `limit` at a time after `after_id`."""
    query = Contact.select().order_by(Contact.id).limit(limit)
    if after_id is not None:
        query = query.where(Contact.id > after_id)
    return [_contact(row) for row in query]


# ------------------------------------------------------------------ conversations


def decide_thread(
    has_active: bool,
    last_resolved_at: datetime | None,
    *,
    now: datetime,
    reopen_window_s: float,
) -> ThreadOutcome:
    """PURE: where a customer's new message goes.

    Their active (open or pending) conversation if they have one; else the last resolved
    one if it was resolved within the window; else a new conversation.
    """
    if has_active:
        return ThreadOutcome.APPENDED
    if (
        last_resolved_at is not None
        and reopen_window_s > 0
        and now - last_resolved_at <= timedelta(seconds=reopen_window_s)
    ):
        return ThreadOutcome.REOPENED
    return ThreadOutcome.CREATED


def _active_conversation(contact_id: int) -> Any:
    return Conversation.get_or_none(
        (Conversation.contact == contact_id)
        & (Conversation.status.in_(ACTIVE_CONVERSATION_STATUSES))
    )


def _new_conversation(
    contact: ContactRecord,
    status: ConversationStatus,
    now: datetime,
    **fields: Any,
) -> Any:
    row = Conversation.create(
        contact=contact.id,
        number=contact.number,
        status=status,
        context={},
        created_at=now,
        updated_at=now,
        **fields,
    )
    webhook_queries.conversation_created(_conversation(row), contact, now=now)
    return row


def _thread_inbound(
    contact: ContactRecord, modem: str, now: datetime, reopen_window_s: float
) -> tuple[Any, ThreadOutcome, ConversationStatus | None]:
    """The customer's conversation for a new message, how it got it, and the status it had
    before (None: new)."""
    active = _active_conversation(contact.id)
    last_resolved = None
    if active is None:
        last_resolved = (
            Conversation.select()
            .where(
                (Conversation.contact == contact.id)
                & (Conversation.status == ConversationStatus.RESOLVED)
            )
            .order_by(Conversation.resolved_at.desc(), Conversation.id.desc())
            .first()
        )
    outcome = decide_thread(
        active is not None,
        last_resolved.resolved_at if last_resolved is not None else None,
        now=now,
        reopen_window_s=reopen_window_s,
    )
    if outcome is ThreadOutcome.APPENDED and active is not None:
        conversation = active
    elif outcome is ThreadOutcome.REOPENED and last_resolved is not None:
        conversation = last_resolved
        conversation.reopened_at = now
        conversation.resolved_at = None
        conversation.reopen_count += 1
    else:
        conversation = _new_conversation(
            contact, ConversationStatus.OPEN, now, modem=modem, last_inbound_at=now
        )
        return conversation, outcome, None
    # The customer wrote: it needs an agent again, and replies go out where they texted.
    previous = conversation.status
    conversation.status = ConversationStatus.OPEN
    conversation.modem = modem
    conversation.last_inbound_at = now
    conversation.updated_at = now
    conversation.save()
    webhook_queries.conversation_status_changed(
        _conversation(conversation), previous, now=now
    )
    return conversation, outcome, previous


def get_conversation(conversation_id: int) -> ConversationRecord:
    """The conversation; NotFound if there is none."""
    row = Conversation.get_or_none(Conversation.id == conversation_id)
    if row is None:
        raise NotFound("conversation", conversation_id)
    return _conversation(row)


def set_conversation_status(
    conversation_id: int, status: ConversationStatus, *, now: datetime
) -> ConversationRecord:
    """Open, park (pending) or resolve a conversation.

    Reopening a resolved one is refused (Conflict) while the contact has another active
    conversation: a contact has at most one.
    """
    row = Conversation.get_or_none(Conversation.id == conversation_id)
    if row is None:
        raise NotFound("conversation", conversation_id)
    if row.status == status:
        return _conversation(row)
    if row.status == ConversationStatus.RESOLVED:
        other = _active_conversation(row.contact_id)
        if other is not None:
            raise Conflict(
                f"conversation {conversation_id} cannot be reopened: conversation "
                f"{other.id} of the same contact is still active"
            )
        row.reopened_at = now
        row.reopen_count += 1
        row.resolved_at = None
    if status == ConversationStatus.RESOLVED:
        row.resolved_at = now
    row.status = status
    row.updated_at = now
    row.save()
    return _conversation(row)


# ------------------------------------------------------------------ messages


def get_message(message_id: int) -> MessageRecord:
    """The message; NotFound if there is none."""
    row = Message.get_or_none(Message.id == message_id)
    if row is None:
        raise NotFound("message", message_id)
    return _message(row)


def list_messages(
    conversation_id: int, *, limit: int = 100, after_id: int | None = None
) -> list[MessageRecord]:
    """A conversation's messages, oldest first, `limit` at a time after `after_id`."""
    query = (
        Message.select()
        .where(Message.conversation == conversation_id)
        .order_by(Message.id)
        .limit(limit)
    )
    if after_id is not None:
        query = query.where(Message.id > after_id)
    return [_message(row) for row in query]


# ------------------------------------------------------------------ inbound


def inbound_dedupe_key(modem: str, pdu: bytes) -> str:
    """What makes a received part the same part when it is read again (after a crash, or
    by the storage sweep after a +CMT): the modem and the PDU's bytes, which include the
    sender and the network's timestamp."""
    return hashlib.sha256(modem.encode() + b"\0" + pdu).hexdigest()


def reassembly_key(
    modem: str, sender: str, concat: Concat | None, dedupe_key: str
) -> str:
    """Parts of one message share this key; a single-part message has a key of its own."""
    if concat is None or concat.total <= 1:
        return f"{modem}|{sender}|single|{dedupe_key}"
    return f"{modem}|{sender}|{concat.ref_bits}:{concat.ref}|{concat.total}"


def record_inbound_part(
    *,
    modem: str,
    sender: str,
    sender_kind: NumberKind,
    pdu: bytes,
    text: str,
    encoding: str,
    concat: Concat | None,
    network_at: datetime,
    received_at: datetime,
) -> RecordedPart:
    """Store one received part unless it is already stored (`new` says which).

    Commit this before the part is deleted from the modem: invariant 1.
    """
    dedupe_key = inbound_dedupe_key(modem, pdu)
    existing = InboundPart.get_or_none(InboundPart.dedupe_key == dedupe_key)
    if existing is not None:
        _LOGGER.debug("part %s from %s read again: dropped", existing.id, modem)
        return RecordedPart(_inbound_part(existing), new=False)
    multipart = concat is not None and concat.total > 1
    row = InboundPart.create(
        modem=modem,
        sender=sender,
        sender_kind=sender_kind,
        pdu_hex=pdu.hex().upper(),
        text=text,
        encoding=encoding,
        concat_ref=concat.ref if multipart and concat else None,
        concat_total=concat.total if multipart and concat else None,
        concat_seq=concat.seq if multipart and concat else None,
        concat_ref_bits=concat.ref_bits if multipart and concat else None,
        reassembly_key=reassembly_key(modem, sender, concat, dedupe_key),
        dedupe_key=dedupe_key,
        network_at=network_at,
        received_at=received_at,
    )
    return RecordedPart(_inbound_part(row), new=True)


def pending_parts(key: str) -> list[InboundPartRecord]:
    """The parts with this reassembly key not yet assembled, in sequence order."""
    query = (
        InboundPart.select()
        .where((InboundPart.reassembly_key == key) & InboundPart.message.is_null())
        .order_by(InboundPart.concat_seq, InboundPart.id)
    )
    return [_inbound_part(row) for row in query]


def join_part_texts(texts: Sequence[str]) -> str:
    """PURE: the parts' texts (in order) as one text; a character outside the BMP split
    across two parts is whole again, and a half whose other half never came is U+FFFD."""
    joined = "".join(texts)
    return joined.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")


def _missing_seqs(parts: Sequence[InboundPartRecord]) -> list[int]:
    concat = parts[0].concat
    if concat is None:
        return []
    have = {p.concat.seq for p in parts if p.concat is not None}
    return [seq for seq in range(1, concat.total + 1) if seq not in have]


def assemble_inbound(
    part_ids: Collection[int],
    *,
    now: datetime,
    reopen_window_s: float,
    complete: bool = True,
) -> ThreadedMessage:
    """Join stored parts into one message and thread it into the sender's conversation.

    `complete=False` delivers what came of a message whose other parts never arrived,
    marked incomplete. Parts already assembled are refused (Conflict).
    """
    rows = list(
        InboundPart.select()
        .where(InboundPart.id.in_(list(part_ids)))
        .order_by(InboundPart.concat_seq, InboundPart.id)
    )
    if len(rows) != len(set(part_ids)) or not rows:
        found = {r.id for r in rows}
        raise NotFound("inbound part", sorted(set(part_ids) - found) or "(none given)")
    parts = [_inbound_part(r) for r in rows]
    if any(p.message_id is not None for p in parts):
        raise Conflict(f"inbound parts {sorted(part_ids)} were already assembled")
    if len({p.reassembly_key for p in parts}) != 1:
        raise InvalidInput("part_ids", "the parts belong to different messages")
    return _assemble(parts, now=now, reopen_window_s=reopen_window_s, complete=complete)


def _assemble(
    parts: Sequence[InboundPartRecord],
    *,
    now: datetime,
    reopen_window_s: float,
    complete: bool,
) -> ThreadedMessage:
    first = parts[0]
    # One text per sequence number: a part stored twice under different bytes counts once.
    texts: dict[int, str] = {}
    for part in parts:
        texts.setdefault(part.concat.seq if part.concat else 1, part.text)
    body = join_part_texts([texts[seq] for seq in sorted(texts)])
    missing = _missing_seqs(parts)
    error = None
    if missing:
        if complete:
            raise InvalidInput("part_ids", f"parts {missing} are missing")
        total = first.concat.total if first.concat else 1
        error = f"incomplete: part(s) {', '.join(map(str, missing))} of {total} never arrived"

    contact = upsert_contact(first.sender, first.sender_kind, now=now)
    conversation, outcome, previous = _thread_inbound(
        contact, first.modem, now, reopen_window_s
    )
    message = Message.create(
        conversation=conversation.id,
        direction=Direction.INBOUND,
        status=MessageStatus.INCOMPLETE if missing else MessageStatus.RECEIVED,
        origin=MessageOrigin.CUSTOMER,
        number=contact.number,
        body=body,
        modem=first.modem,
        encoding=first.encoding,
        parts_count=first.concat.total if first.concat else 1,
        concat_ref=first.concat.ref if first.concat else None,
        context={},
        error=error,
        created_at=now,
        updated_at=now,
        network_at=min(p.network_at for p in parts),
    )
    InboundPart.update(message=message.id).where(
        InboundPart.id.in_([p.id for p in parts])
    ).execute()
    _LOGGER.info(
        "message %s from %s %s conversation %s",
        message.id,
        mask_number(contact.number),
        outcome.value,
        conversation.id,
    )
    return ThreadedMessage(
        message=_message(message),
        conversation=_conversation(conversation),
        contact=contact,
        outcome=outcome,
        previous_status=previous,
    )


def receive_inbound_part(
    *,
    modem: str,
    sender: str,
    sender_kind: NumberKind,
    pdu: bytes,
    text: str,
    encoding: str,
    concat: Concat | None,
    network_at: datetime,
    received_at: datetime,
    reopen_window_s: float,
) -> tuple[RecordedPart, ThreadedMessage | None]:
    """The inbound path in one unit: store the part, and when it completes its message,
    assemble and thread that message too (one commit). The message is None while parts
    are missing and when the part was already stored."""
    recorded = record_inbound_part(
        modem=modem,
        sender=sender,
        sender_kind=sender_kind,
        pdu=pdu,
        text=text,
        encoding=encoding,
        concat=concat,
        network_at=network_at,
        received_at=received_at,
    )
    if not recorded.new:
        return recorded, None
    if recorded.part.concat is None:
        parts = [recorded.part]
    else:
        parts = pending_parts(recorded.part.reassembly_key)
        if _missing_seqs(parts):
            return recorded, None
    threaded = _assemble(
        parts, now=received_at, reopen_window_s=reopen_window_s, complete=True
    )
    return recorded, threaded


def expire_incomplete(
    *, older_than: datetime, now: datetime, reopen_window_s: float, limit: int = 100
) -> list[ThreadedMessage]:
    """Deliver, marked incomplete, every message whose first part came before
    `older_than` and whose other parts never did."""
    # A group whose first part is older than the cutoff has a part older than the cutoff.
    keys = (
        InboundPart.select(InboundPart.reassembly_key)
        .where(InboundPart.message.is_null() & (InboundPart.received_at < older_than))
        .distinct()
        .limit(limit)
    )
    delivered = []
    for row in keys:
        parts = pending_parts(row.reassembly_key)
        delivered.append(
            assemble_inbound(
                [p.id for p in parts],
                now=now,
                reopen_window_s=reopen_window_s,
                complete=not _missing_seqs(parts),
            )
        )
    return delivered


def record_undecodable(
    *, modem: str, pdu: bytes, error: str, received_at: datetime
) -> tuple[UndecodableRecord, bool]:
    """Keep bytes a modem handed over that do not decode (True when new; the same bytes
    read again after a crash are kept once). Commit before the modem deletes them."""
    dedupe_key = inbound_dedupe_key(modem, pdu)
    row = UndecodablePdu.get_or_none(UndecodablePdu.dedupe_key == dedupe_key)
    new = row is None
    if row is None:
        row = UndecodablePdu.create(
            modem=modem,
            pdu_hex=pdu.hex().upper(),
            error=error,
            dedupe_key=dedupe_key,
            received_at=received_at,
        )
    record = UndecodableRecord(
        id=row.id,
        modem=row.modem,
        pdu_hex=row.pdu_hex,
        error=row.error,
        received_at=row.received_at,
    )
    return record, new


def list_undecodable(*, limit: int = 100) -> list[UndecodableRecord]:
    """The undecodable PDUs kept, newest first."""
    query = UndecodablePdu.select().order_by(UndecodablePdu.id.desc()).limit(limit)
    return [
        UndecodableRecord(
            id=row.id,
            modem=row.modem,
            pdu_hex=row.pdu_hex,
            error=row.error,
            received_at=row.received_at,
        )
        for row in query
    ]


def message_counts() -> MessageCounts:
    """Messages per status, for each direction."""
    rows: Any = (
        Message.select(Message.direction, Message.status, fn.COUNT(Message.id))
        .group_by(Message.direction, Message.status)
        .tuples()
    )
    counts: dict[Direction, dict[MessageStatus, int]] = {d: {} for d in Direction}
    for direction, status, count in rows:
        counts[Direction(direction)][MessageStatus(status)] = int(count)
    return MessageCounts(
        inbound=counts[Direction.INBOUND], outbound=counts[Direction.OUTBOUND]
    )


# ------------------------------------------------------------------ conversation flags


def flag_conversation(
    conversation_id: int,
    *,
    tag: str,
    now: datetime,
    actor: str = "system",
    detail: JsonObject | None = None,
    priority: Priority = Priority.HIGH,
) -> ConversationRecord:
    """Draw an agent's attention: tag the conversation, raise its priority to at least
    `priority` and reopen it if it was parked, all audited."""
    row = Conversation.get_or_none(Conversation.id == conversation_id)
    if row is None:
        raise NotFound("conversation", conversation_id)
    Tag.insert(name=tag).on_conflict_ignore().execute()
    tag_row = Tag.get(Tag.name == tag)
    ConversationTag.insert(
        conversation=row.id, tag=tag_row.id, created_at=now
    ).on_conflict_ignore().execute()
    order = list(Priority)
    if order.index(row.priority) < order.index(priority):
        row.priority = priority
    row.updated_at = now
    row.save()
    record_audit(
        actor,
        f"conversation.flag.{tag}",
        f"conversation:{row.id}",
        now=now,
        detail=detail,
    )
    return _conversation(row)


def conversation_tags(conversation_id: int) -> list[str]:
    """The names of a conversation's tags, sorted."""
    rows: Any = (
        Tag.select(Tag.name)
        .join(ConversationTag)
        .where(ConversationTag.conversation == conversation_id)
        .order_by(Tag.name)
        .tuples()
    )
    return [str(name) for (name,) in rows]


# ------------------------------------------------------------------ consent


def consent_state(number: str) -> ConsentState:
    """Whether `number` is opted out now (its latest consent event decides)."""
    row = (
        ConsentEvent.select()
        .where(ConsentEvent.number == number)
        .order_by(ConsentEvent.id.desc())
        .first()
    )
    if row is None:
        return ConsentState(number, opted_out=False, since=None, source=None)
    return ConsentState(
        number,
        opted_out=row.kind == ConsentKind.OPT_OUT,
        since=row.at,
        source=row.source,
    )


def is_opted_out(number: str) -> bool:
    return consent_state(number).opted_out


def opted_out_count() -> int:
    """How many numbers are opted out now."""
    latest = ConsentEvent.select(fn.MAX(ConsentEvent.id)).group_by(ConsentEvent.number)
    return int(
        ConsentEvent.select()
        .where(ConsentEvent.id.in_(latest) & (ConsentEvent.kind == ConsentKind.OPT_OUT))
        .count()
    )


def record_consent(
    number: str,
    kind: ConsentKind,
    source: ConsentSource,
    *,
    now: datetime,
    actor: str | None = None,
    message_id: int | None = None,
) -> ConsentRecord:
    """Append a consent event, and its audit event, in the caller's transaction."""
    row = ConsentEvent.create(
        number=number, kind=kind, source=source, actor=actor, message=message_id, at=now
    )
    record_audit(
        actor or source.value,
        f"consent.{kind.value}",
        f"number:{number}",
        now=now,
        detail={"source": source.value, "message_id": message_id},
    )
    _LOGGER.info("%s %s (%s)", mask_number(number), kind.value, source.value)
    return _consent(row)


# ------------------------------------------------------------------ audit


def record_audit(
    actor: str,
    action: str,
    subject: str,
    *,
    now: datetime,
    detail: JsonObject | None = None,
) -> AuditRecord:
    """Append to the audit log: who did what to which thing."""
    row = AuditEvent.create(
        actor=actor, action=action, subject=subject, detail=dict(detail or {}), at=now
    )
    return _audit(row)


def list_audit(
    *, limit: int = 100, before_id: int | None = None, subject: str | None = None
) -> list[AuditRecord]:
    """Audit events, newest first."""
    query = AuditEvent.select().order_by(AuditEvent.id.desc()).limit(limit)
    if before_id is not None:
        query = query.where(AuditEvent.id < before_id)
    if subject is not None:
        query = query.where(AuditEvent.subject == subject)
    return [_audit(row) for row in query]


# ------------------------------------------------------------------ outbound


def _next_counter(name: str) -> int:
    Counter.insert(name=name, value=1).on_conflict(
        conflict_target=[Counter.name], update={Counter.value: Counter.value + 1}
    ).execute()
    return int(Counter.get_by_id(name).value)


def allocate_concat_ref() -> int:
    """The next 8-bit concatenation reference (refs rotate, so a phone never sees the same
    one for two messages in a row)."""
    return (_next_counter(CONCAT_REF_COUNTER) - 1) % 256


def _parts_of(message_id: int) -> list[Any]:
    return list(
        OutboundPart.select()
        .where(OutboundPart.message == message_id)
        .order_by(OutboundPart.seq)
    )


def enqueue_outbound(
    *,
    number: str,
    body: str,
    parts_count: int,
    encoding: str,
    now: datetime,
    idempotency_key: str | None = None,
    context: JsonObject | None = None,
    modem: str | None = None,
    origin: MessageOrigin = MessageOrigin.API,
    user_id: int | None = None,
    conversation_id: int | None = None,
    consent_exempt: bool = False,
) -> Enqueued:
    """Commit an outbound message as queued, with one queued row per part.

    `number` is E.164 and `parts_count`/`encoding` come from the codec's segment count.
    The same `idempotency_key` again returns the first message (`created` False); reused
    for another recipient or text it is a Conflict. Refuses an opted-out number (OptedOut)
    unless `consent_exempt` (compliance confirmations). `modem` None lets the first free
    modem take it. Threads into the contact's active conversation (or `conversation_id`),
    else starts one waiting on the customer (pending).
    """
    if idempotency_key is not None:
        existing = Message.get_or_none(Message.idempotency_key == idempotency_key)
        if existing is not None:
            if existing.number != number or existing.body != body:
                raise Conflict(
                    f"idempotency key {idempotency_key!r} was used for message "
                    f"{existing.id}, to another recipient or with another text"
                )
            parts = tuple(_outbound_part(p) for p in _parts_of(existing.id))
            return Enqueued(_message(existing), parts, created=False)
    if parts_count < 1:
        raise InvalidInput("parts_count", f"{parts_count} is not a number of parts")
    if not consent_exempt and is_opted_out(number):
        raise OptedOut(number)

    contact = upsert_contact(number, NumberKind.E164, now=now)
    if conversation_id is not None:
        conversation = Conversation.get_or_none(Conversation.id == conversation_id)
        if conversation is None:
            raise NotFound("conversation", conversation_id)
        if conversation.contact_id != contact.id:
            raise InvalidInput(
                "conversation_id",
                f"conversation {conversation_id} is with another contact",
            )
    else:
        conversation = _active_conversation(contact.id) or _new_conversation(
            contact, ConversationStatus.PENDING, now
        )
    conversation.last_outbound_at = now
    conversation.updated_at = now
    if context:
        conversation.context = {**conversation.context, **context}
    conversation.save()

    message = Message.create(
        conversation=conversation.id,
        direction=Direction.OUTBOUND,
        status=MessageStatus.QUEUED,
        origin=origin,
        number=number,
        body=body,
        modem=modem,
        encoding=encoding,
        parts_count=parts_count,
        concat_ref=allocate_concat_ref() if parts_count > 1 else None,
        idempotency_key=idempotency_key,
        context=dict(context or {}),
        user=user_id,
        consent_exempt=consent_exempt,
        created_at=now,
        updated_at=now,
    )
    OutboundPart.insert_many(
        [
            {
                "message": message.id,
                "seq": seq,
                "status": PartStatus.QUEUED,
                "next_attempt_at": now,
                "updated_at": now,
            }
            for seq in range(1, parts_count + 1)
        ]
    ).execute()
    parts = tuple(_outbound_part(p) for p in _parts_of(message.id))
    _LOGGER.info(
        "message %s to %s queued (%d part%s)",
        message.id,
        mask_number(number),
        parts_count,
        "" if parts_count == 1 else "s",
    )
    return Enqueued(_message(message), parts, created=True)


def rollup_status(statuses: Collection[PartStatus]) -> MessageStatus:
    """PURE: an outbound message's status from its parts' statuses."""
    if not statuses:
        return MessageStatus.QUEUED
    if PartStatus.FAILED in statuses:
        return MessageStatus.FAILED
    if all(s == PartStatus.DELIVERED for s in statuses):
        return MessageStatus.DELIVERED
    if all(
        s in (PartStatus.SENT, PartStatus.DELIVERED, PartStatus.UNKNOWN)
        for s in statuses
    ):
        if PartStatus.UNKNOWN in statuses:
            return MessageStatus.UNKNOWN  # the phone may lack a part: not `sent`
        return MessageStatus.SENT
    if all(s == PartStatus.QUEUED for s in statuses):
        return MessageStatus.QUEUED
    return MessageStatus.SENDING


def _roll_up(message: Any, now: datetime, error: str | None = None) -> Any:
    statuses = [p.status for p in _parts_of(message.id)]
    status = rollup_status(statuses)
    if status == message.status and error is None:
        return message
    previous = message.status
    if status != message.status:
        _LOGGER.info("message %s %s", message.id, status.value)
    message.status = status
    message.updated_at = now
    if (
        status in (MessageStatus.SENT, MessageStatus.DELIVERED)
        and message.sent_at is None
    ):
        message.sent_at = now
    if status == MessageStatus.DELIVERED:
        message.delivered_at = now
    if status == MessageStatus.FAILED:
        message.failed_at = message.failed_at or now
        message.error = message.error or error
    if status == MessageStatus.UNKNOWN:
        message.error = message.error or _unknown_parts_error(message.id)
    message.save()
    if status != previous:
        webhook_queries.message_status_changed(_message(message), previous, now=now)
    return message


def _unknown_parts_error(message_id: int) -> str:
    parts = _parts_of(message_id)
    unknown = [p for p in parts if p.status == PartStatus.UNKNOWN]
    seqs = ", ".join(str(p.seq) for p in unknown)
    return f"part {seqs} of {len(parts)}: {unknown[0].error or 'outcome unknown'}"


def roll_up_message(message_id: int, *, now: datetime) -> MessageRecord:
    """Recompute an outbound message's status from its parts (idempotent)."""
    row = Message.get_or_none(Message.id == message_id)
    if row is None:
        raise NotFound("message", message_id)
    return _message(_roll_up(row, now))


def _fail_queued_parts(message_id: int, error: str, now: datetime) -> None:
    OutboundPart.update(status=PartStatus.FAILED, error=error, updated_at=now).where(
        (OutboundPart.message == message_id)
        & (OutboundPart.status == PartStatus.QUEUED)
    ).execute()


def _claimable_part(modem: str, now: datetime) -> Any:
    query = (
        OutboundPart.select(OutboundPart, Message)
        .join(Message)
        .where(
            (OutboundPart.status == PartStatus.QUEUED)
            & (OutboundPart.next_attempt_at <= now)
            & ((Message.modem == modem) | Message.modem.is_null())
        )
        .order_by(Message.id, OutboundPart.seq)
    )
    if DB.postgresql:
        # Several nodes claim from one queue: a part (and its message) another node is
        # claiming right now is passed over, not waited for. SERIALIZABLE still decides
        # who wins a race the locks do not see (gateway.storage.db); this only keeps the
        # nodes from queueing behind each other's row locks.
        query = query.for_update(skip_locked=True)
    return query.first()


def claim_next_outbound(modem: str, *, now: datetime) -> ClaimedPart | None:
    """The next due part for `modem` (its own messages, or one nobody took yet), now
    `sending`; None when there is nothing to send.

    Checks consent here, at the last moment before the radio: a message queued before
    its recipient opted out fails instead of going out (invariant 3).
    """
    while True:
        part = _claimable_part(modem, now)
        if part is None:
            return None
        message = part.message
        if not message.consent_exempt and is_opted_out(message.number):
            _fail_queued_parts(message.id, "recipient opted out", now)
            _roll_up(message, now, error="recipient opted out")
            continue
        if message.status == MessageStatus.QUEUED and schedule_queries.defer_if_quiet(
            message.id, now
        ):
            continue  # the recipient's night: held to its end (nothing of it left yet)
        before = message.status
        if message.modem is None:
            message.modem = modem
            message.save()
        part.status = PartStatus.SENDING
        part.attempts += 1
        part.modem = modem
        part.claimed_at = now
        part.updated_at = now
        part.save()
        message = _roll_up(message, now)
        return ClaimedPart(_outbound_part(part), _message(message), before)


def _sending_part(part_id: int) -> Any:
    part = OutboundPart.get_or_none(OutboundPart.id == part_id)
    if part is None:
        raise NotFound("outbound part", part_id)
    if part.status != PartStatus.SENDING:
        raise Conflict(f"outbound part {part_id} is {part.status.value}, not sending")
    return part


def mark_part_accepted(
    part_id: int,
    *,
    reference: int,
    now: datetime,
    pdu_hex: str | None = None,
    tpdu_length: int | None = None,
) -> PartOutcome:
    """The network accepted a part (+CMGS gave TP-MR `reference`); commit before the next
    part goes out, so a crash never sends it twice."""
    part = _sending_part(part_id)
    part.status = PartStatus.SENT
    part.reference = reference
    part.accepted_at = now
    part.pdu_hex = pdu_hex
    part.tpdu_length = tpdu_length
    part.error = None
    part.updated_at = now
    part.save()
    message = Message.get_by_id(part.message_id)
    before = message.status
    message = _roll_up(message, now)
    return PartOutcome(_outbound_part(part), _message(message), before)


def mark_part_failed(
    part_id: int, *, error: str, now: datetime, retry_at: datetime | None
) -> PartOutcome:
    """A part's send failed. With `retry_at` (transient), it and the message's other
    unsent parts wait until then while other messages go ahead; without (permanent), the
    message fails at once and its unsent parts are never sent."""
    part = _sending_part(part_id)
    message = Message.get_by_id(part.message_id)
    before = message.status
    part.error = error
    part.updated_at = now
    if retry_at is not None:
        part.status = PartStatus.QUEUED
        part.next_attempt_at = retry_at
        part.save()
        OutboundPart.update(next_attempt_at=retry_at).where(
            (OutboundPart.message == message.id)
            & (OutboundPart.status == PartStatus.QUEUED)
            & (OutboundPart.next_attempt_at < retry_at)
        ).execute()
        message = _roll_up(message, now)
    else:
        part.status = PartStatus.FAILED
        part.save()
        _fail_queued_parts(message.id, f"not sent: part {part.seq} failed", now)
        message = _roll_up(message, now, error=error)
    return PartOutcome(_outbound_part(part), _message(message), before)


def mark_part_unknown(part_id: int, *, error: str, now: datetime) -> PartOutcome:
    """The modem took a part but never confirmed it (it may be on its way to the phone):
    it is never sent again (at most once); the message's other parts still go out, with
    the same concatenation reference, and the message ends `unknown`, not `sent`."""
    part = _sending_part(part_id)
    part.status = PartStatus.UNKNOWN
    part.error = error
    part.updated_at = now
    part.save()
    message = Message.get_by_id(part.message_id)
    before = message.status
    message = _roll_up(message, now)
    return PartOutcome(_outbound_part(part), _message(message), before)


def apply_status_report(
    modem: str, reference: int, *, status: int, now: datetime
) -> PartOutcome | None:
    """Apply a status report (TP-ST `status`) to the part `modem` last sent with TP-MR
    `reference`; None when no part matches (e.g. sent before the database was reset).

    TP-MR is 8 bits and wraps, so the most recently accepted part with that reference is
    the one. A report for a part already delivered or failed changes nothing.
    """
    part = (
        OutboundPart.select()
        .where((OutboundPart.modem == modem) & (OutboundPart.reference == reference))
        .order_by(OutboundPart.accepted_at.desc(), OutboundPart.id.desc())
        .first()
    )
    if part is None:
        return None
    message = Message.get_by_id(part.message_id)
    before = message.status
    if part.status == PartStatus.SENT:
        part.report_status = status
        part.updated_at = now
        if status < 0x20:
            part.status = PartStatus.DELIVERED
            part.delivered_at = now
        elif status >= 0x40:
            part.status = PartStatus.FAILED
            part.error = f"status report: not delivered (TP-ST 0x{status:02X})"
        part.save()
    message = _roll_up(message, now, error=part.error)
    return PartOutcome(_outbound_part(part), _message(message), before)


INTERRUPTED_BY_RESTART = "interrupted by a restart: outcome unknown, not sent again"


def recover_interrupted_sends(
    modem: str, *, now: datetime, error: str = INTERRUPTED_BY_RESTART
) -> list[PartOutcome]:
    """After a restart (or once the box that owns `modem` is gone): parts `modem` was
    sending when the process died may have reached the phone, so they are never sent
    again (at most once); they become `unknown`, with `error` saying why."""
    outcomes = []
    parts = OutboundPart.select().where(
        (OutboundPart.modem == modem) & (OutboundPart.status == PartStatus.SENDING)
    )
    for part in parts:
        part.status = PartStatus.UNKNOWN
        part.error = error
        part.updated_at = now
        part.save()
        message = Message.get_by_id(part.message_id)
        before = message.status
        message = _roll_up(message, now)
        outcomes.append(PartOutcome(_outbound_part(part), _message(message), before))
    if outcomes:
        _LOGGER.warning("%s: %d part(s) interrupted mid-send", modem, len(outcomes))
    return outcomes


def expire_outbound(*, queued_before: datetime, now: datetime) -> list[MessageRecord]:
    """Fail messages queued before `queued_before` that still have unsent parts."""
    stale = (
        Message.select()
        .join(OutboundPart)
        .where(
            (Message.direction == Direction.OUTBOUND)
            & (Message.created_at < queued_before)
            & (OutboundPart.status == PartStatus.QUEUED)
            # a scheduled or held message ages from when it may go, not when queued
            & Message.id.not_in(schedule_queries.held_beyond(queued_before))
        )
        .distinct()
    )
    expired = []
    for message in stale:
        error = "expired: not sent in time"
        _fail_queued_parts(message.id, error, now)
        expired.append(_message(_roll_up(message, now, error=error)))
    return expired


def reassign_outbound(
    message_id: int, modem: str | None, *, now: datetime
) -> MessageRecord:
    """Move a message none of whose parts has left to another modem (failover), or to
    whichever modem is free first (`modem` None). Refused (Conflict) once a part left:
    the rest must follow it, or the phone could not join them."""
    message = Message.get_or_none(Message.id == message_id)
    if message is None:
        raise NotFound("message", message_id)
    if any(p.status != PartStatus.QUEUED for p in _parts_of(message_id)):
        raise Conflict(f"message {message_id} has parts that already left its modem")
    message.modem = modem
    message.updated_at = now
    message.save()
    return _message(message)


def reassign_stranded(modems: Collection[str], *, now: datetime) -> list[MessageRecord]:
    """Release the messages waiting on `modems` (gone or failing) that none of whose parts
    left yet, so whichever modem is free first takes them; the others stay (their parts
    must follow the first one), and so do modem tests (they are for that modem only)."""
    if not modems:
        return []
    waiting = Message.select().where(
        (Message.direction == Direction.OUTBOUND)
        & Message.modem.in_(list(modems))
        & (Message.status == MessageStatus.QUEUED)
        & (Message.origin != MessageOrigin.TEST)
    )
    moved = []
    for message in waiting:
        if all(p.status == PartStatus.QUEUED for p in _parts_of(message.id)):
            message.modem = None
            message.updated_at = now
            message.save()
            moved.append(_message(message))
    return moved


def modems_with_sending_parts(node: str | None = None) -> list[str]:
    """Modems that own parts in `sending` (after a crash: interrupted sends to recover);
    with `node`, only those no other box owns (another box's are its own business)."""
    where = (OutboundPart.status == PartStatus.SENDING) & OutboundPart.modem.is_null(
        False
    )
    if node is not None:
        elsewhere = Modem.select(Modem.name).where(
            Modem.node.is_null(False) & (Modem.node != node)
        )
        where &= OutboundPart.modem.not_in(elsewhere)
    rows: Any = OutboundPart.select(OutboundPart.modem).where(where).distinct().tuples()
    return sorted(str(modem) for (modem,) in rows)


def sticky_modem(number: str, conversation_id: int | None = None) -> str | None:
    """The modem a reply to `number` should leave from: the one the customer last texted
    (the conversation's, when one is given), or None when they never texted us."""
    if conversation_id is not None:
        conversation = Conversation.get_or_none(Conversation.id == conversation_id)
        if conversation is not None and conversation.modem is not None:
            return str(conversation.modem)
    last = (
        Message.select(Message.modem)
        .where(
            (Message.number == number)
            & (Message.direction == Direction.INBOUND)
            & Message.modem.is_null(False)
        )
        .order_by(Message.id.desc())
        .first()
    )
    return None if last is None else str(last.modem)


def outbound_parts(message_id: int) -> list[OutboundPartRecord]:
    """A message's parts, in sequence order."""
    return [_outbound_part(p) for p in _parts_of(message_id)]


def outbound_queue_depths() -> dict[str | None, int]:
    """Queued parts per modem (None: not yet taken by any), for choosing the least busy."""
    rows: Any = (
        OutboundPart.select(Message.modem, fn.COUNT(OutboundPart.id))
        .join(Message)
        .where(OutboundPart.status == PartStatus.QUEUED)
        .group_by(Message.modem)
        .tuples()
    )
    return {modem: int(count) for modem, count in rows}


# ------------------------------------------------------------------ modems

_MODEM_FIELDS = frozenset(
    {
        "node",
        "state",
        "imei",
        "imsi",
        "iccid",
        "manufacturer",
        "model",
        "profile",
        "own_number",
        "registration",
        "operator",
        "signal_dbm",
        "last_error",
    }
)


def upsert_modem(
    name: str, *, now: datetime, **fields: str | int | None
) -> ModemRecord:
    """Create or update a modem's row; only the fields given change (None clears one)."""
    unknown = set(fields) - _MODEM_FIELDS
    if unknown:
        raise InvalidInput("fields", f"unknown modem fields {sorted(unknown)}")
    Modem.insert(
        name=name, state="disconnected", updated_at=now
    ).on_conflict_ignore().execute()
    changes: dict[Any, Any] = {
        getattr(Modem, key): value for key, value in fields.items()
    }
    changes[Modem.updated_at] = now
    changes[Modem.last_seen_at] = now
    Modem.update(changes).where(Modem.name == name).execute()
    return _modem(Modem.get(Modem.name == name))


def get_modem(name: str) -> ModemRecord:
    row = Modem.get_or_none(Modem.name == name)
    if row is None:
        raise NotFound("modem", name)
    return _modem(row)


def heartbeat(node: str, *, pid: int, started_at: datetime, now: datetime) -> None:
    """`node` is alive at `now` (its row created on its first beat)."""
    Node.insert(
        name=node, pid=pid, started_at=started_at, heartbeat_at=now
    ).on_conflict(
        conflict_target=[Node.name],
        preserve=[Node.pid, Node.started_at, Node.heartbeat_at],
    ).execute()


def silent_node_modems(node: str, *, alive_since: datetime) -> dict[str, list[str]]:
    """The modems of the other boxes that have not beaten since `alive_since` (gone:
    the texts waiting on their modems may leave through ours), by box."""
    rows: Any = (
        Modem.select(Modem.node, Modem.name)
        .join(Node, on=(Modem.node == Node.name))
        .where((Node.name != node) & (Node.heartbeat_at < alive_since))
        .order_by(Modem.node, Modem.name)
        .tuples()
    )
    silent: dict[str, list[str]] = {}
    for owner, modem in rows:
        silent.setdefault(owner, []).append(modem)
    return silent


def ready_modems(*, alive_since: datetime, other_than: str | None = None) -> list[str]:
    """Modems the table says are ready, on boxes that have beaten since `alive_since`
    (a modem with no box, or a box with no heartbeat yet, counts as alive); with
    `other_than`, not that box's (it knows its own better than the table does)."""
    where = (Modem.state == ModemState.READY.value) & (
        Node.heartbeat_at.is_null() | (Node.heartbeat_at >= alive_since)
    )
    if other_than is not None:
        where &= Modem.node.is_null() | (Modem.node != other_than)
    rows: Any = (
        Modem.select(Modem.name)
        .join(Node, peewee.JOIN.LEFT_OUTER, on=(Modem.node == Node.name))
        .where(where)
        .order_by(Modem.name)
        .tuples()
    )
    return [name for (name,) in rows]


def list_nodes() -> list[NodeRecord]:
    """Every box that ever ran on this database, by name."""
    return [
        NodeRecord(row.name, row.pid, row.started_at, row.heartbeat_at)
        for row in Node.select().order_by(Node.name)
    ]


def list_modems() -> list[ModemRecord]:
    return [_modem(row) for row in Modem.select().order_by(Modem.name)]

"""Units of work (and pieces of units) for support automation: its state per conversation,
its rules, queues and their members, agents' availability, and the facts the rules read
around a customer's message.

Every function runs ON THE DB THREAD, inside `store.run`; records out, never rows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ParamSpec, TypeVar

from peewee import fn

from gateway.automation.records import QueueRecord, RulesSnapshot, UserChoice
from gateway.automation.rules import (
    Agent,
    AutomationState,
    FieldKind,
    FieldSpec,
    Flow,
    MatchKind,
    Phase,
    RoutingRule,
    TriageOption,
)
from gateway.domain import (
    ConversationStatus,
    Direction,
    JsonObject,
    JsonValue,
    MessageOrigin,
    Priority,
)
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.inbox import policy
from gateway.storage.auth_models import WebSession
from gateway.storage.automation_models import (
    AgentStatusRow,
    AutomationFlowRow,
    AutomationSettingRow,
    AutomationStateRow,
    QueueMemberRow,
    QueueRow,
    RoutingRuleRow,
    TriageOptionRow,
)
from gateway.storage.models import DB, Contact, Conversation, Message, User

_LOGGER = logging.getLogger(__name__)

P = ParamSpec("P")
R = TypeVar("R")

# Customer messages since the last reply that the frustration rule looks at, at most.
UNANSWERED_LOOKBACK = 50
# Replies: what counts as an answer to the customer (not the compliance texts).
_REPLY_ORIGINS = (MessageOrigin.AGENT, MessageOrigin.API, MessageOrigin.AUTOMATION)


def in_savepoint(
    what: str, fn: Callable[P, R], /, *args: P.args, **kwargs: P.kwargs
) -> tuple[R | None, bool]:
    """Run `fn` in a savepoint of the current unit: (its value, True), or (None, False)
    with what it did rolled back and logged when it raised.

    Automation must never fail the unit that commits a customer's message: the part would
    stay on the SIM and be read again and again.
    """
    try:
        with DB.atomic():
            return fn(*args, **kwargs), True
    except Exception:
        _LOGGER.exception("%s failed; rolled back, the message is kept", what)
        return None, False


# ---------------------------------------------------------------------- state


def load_state(conversation_id: int) -> AutomationState | None:
    """The conversation's automation state; None when the automation never saw it."""
    row = AutomationStateRow.get_or_none(
        AutomationStateRow.conversation == conversation_id
    )
    if row is None:
        return None
    return AutomationState(
        phase=Phase(row.phase),
        flow_id=row.flow_id,
        step=row.step,
        attempts=row.attempts,
        prompts=row.prompts,
        fields=dict(row.fields),
        handover_reason=row.handover_reason,
        escalated=row.escalated,
        routed=row.routed,
        acknowledged=row.acknowledged,
        closed_notice_until=row.closed_notice_until,
        last_prompt_at=row.last_prompt_at,
        started_at=row.started_at,
        handed_over_at=row.handed_over_at,
    )


def save_state(conversation_id: int, state: AutomationState, *, now: datetime) -> None:
    values = {
        "phase": state.phase.value,
        "flow_id": state.flow_id,
        "step": state.step,
        "attempts": state.attempts,
        "prompts": state.prompts,
        "fields": dict(state.fields),
        "handover_reason": state.handover_reason,
        "escalated": state.escalated,
        "routed": state.routed,
        "acknowledged": state.acknowledged,
        "closed_notice_until": state.closed_notice_until,
        "last_prompt_at": state.last_prompt_at,
        "started_at": state.started_at,
        "updated_at": now,
    }
    row = AutomationStateRow.get_or_none(
        AutomationStateRow.conversation == conversation_id
    )
    if row is None:
        AutomationStateRow.insert(
            conversation=conversation_id,
            handed_over_at=now if state.handed_over else None,
            **values,
        ).execute()
        return
    if state.handed_over and row.handed_over_at is None:
        values["handed_over_at"] = now
    elif not state.handed_over:
        values["handed_over_at"] = None
    AutomationStateRow.update(**values).where(
        AutomationStateRow.conversation == conversation_id
    ).execute()


# ---------------------------------------------------------------------- rules: reading


def _field_spec(raw: Mapping[str, Any]) -> FieldSpec:
    return FieldSpec(
        name=str(raw["name"]),
        label=str(raw.get("label") or raw["name"]),
        prompt=str(raw["prompt"]),
        kind=FieldKind(raw.get("kind", FieldKind.TEXT.value)),
        pattern=raw.get("pattern") or None,
        retry=str(raw.get("retry") or ""),
        save_to_contact=bool(raw.get("save_to_contact", True)),
    )


def field_json(spec: FieldSpec) -> dict[str, JsonValue]:
    return {
        "name": spec.name,
        "label": spec.label,
        "prompt": spec.prompt,
        "kind": spec.kind.value,
        "pattern": spec.pattern,
        "retry": spec.retry,
        "save_to_contact": spec.save_to_contact,
    }


def _flow(row: Any) -> Flow:
    return Flow(
        id=row.id,
        name=row.name,
        fields=tuple(_field_spec(f) for f in row.fields),
        done_text=row.done_text,
    )


def _option(row: Any) -> TriageOption:
    return TriageOption(
        id=row.id,
        key=row.key,
        label=row.label,
        keywords=tuple(row.keywords),
        queue=row.queue,
        tags=tuple(row.tags),
        assignee_id=row.assignee_id,
        flow_id=row.flow_id,
    )


def _rule(row: Any) -> RoutingRule:
    return RoutingRule(
        id=row.id,
        name=row.name,
        kind=MatchKind(row.kind),
        key=row.key,
        value=row.value,
        queue=row.queue,
        tags=tuple(row.tags),
        priority=Priority(row.priority) if row.priority else None,
        assignee_id=row.assignee_id,
    )


def _queue(row: Any, members: Collection[int]) -> QueueRecord:
    return QueueRecord(
        id=row.id,
        name=row.name,
        description=row.description,
        assignment=row.assignment,
        timezone=row.timezone,
        hours=row.hours,
        holidays=row.holidays,
        ack_text=row.ack_text,
        after_hours_text=row.after_hours_text,
        last_assigned_id=row.last_assigned_id,
        members=tuple(sorted(members)),
    )


def _members() -> dict[int, list[int]]:
    found: dict[int, list[int]] = {}
    rows: Any = QueueMemberRow.select(
        QueueMemberRow.queue, QueueMemberRow.user
    ).tuples()
    for queue_id, user_id in rows:
        found.setdefault(queue_id, []).append(user_id)
    return found


def rules_snapshot() -> RulesSnapshot:
    """Every rule row, in order (triage options and routing rules by position)."""
    members = _members()
    return RulesSnapshot(
        overrides={row.key: str(row.value) for row in AutomationSettingRow.select()},
        triage_options=tuple(
            _option(r)
            for r in TriageOptionRow.select().order_by(
                TriageOptionRow.position, TriageOptionRow.id
            )
        ),
        flows=tuple(
            _flow(r) for r in AutomationFlowRow.select().order_by(AutomationFlowRow.id)
        ),
        routing=tuple(
            _rule(r)
            for r in RoutingRuleRow.select().order_by(
                RoutingRuleRow.position, RoutingRuleRow.id
            )
        ),
        queues=tuple(
            _queue(r, members.get(r.id, ()))
            for r in QueueRow.select().order_by(QueueRow.name)
        ),
    )


@dataclass(frozen=True, slots=True)
class SettingRow:
    key: str
    value: str
    updated_at: datetime
    updated_by: str


def setting_rows() -> list[SettingRow]:
    return [
        SettingRow(r.key, str(r.value), r.updated_at, r.updated_by)
        for r in AutomationSettingRow.select().order_by(AutomationSettingRow.key)
    ]


# ---------------------------------------------------------------------- rules: writing


def set_settings(
    values: Mapping[str, str | None], *, now: datetime, actor: str
) -> list[str]:
    """Store the admins' values (None: back to the ini's); the keys that changed."""
    changed = []
    for key, value in values.items():
        row = AutomationSettingRow.get_or_none(AutomationSettingRow.key == key)
        if value is None:
            if row is not None:
                row.delete_instance()
                changed.append(key)
            continue
        if row is not None and row.value == value:
            continue
        AutomationSettingRow.insert(
            key=key, value=value, updated_at=now, updated_by=actor
        ).on_conflict(
            conflict_target=[AutomationSettingRow.key],
            preserve=[
                AutomationSettingRow.value,
                AutomationSettingRow.updated_at,
                AutomationSettingRow.updated_by,
            ],
        ).execute()
        changed.append(key)
    return changed


def _next_position(model: Any) -> int:
    top = model.select(fn.MAX(model.position)).scalar()
    return int(top or 0) + 1


def _saved(
    model: Any,
    item_id: int,
    values: dict[str, Any],
    *,
    what: str,
    now: datetime,
    position: int | None = None,
    ordered: bool = False,
) -> Any:
    """Create (id 0; an `ordered` one goes last unless given a position) or update the
    row with `values`; NotFound naming `what` for an id that is gone. The row as saved."""
    if item_id == 0:
        if ordered:
            values = {"position": position or _next_position(model), **values}
        return model.create(created_at=now, **values)
    if model.get_or_none(model.id == item_id) is None:
        raise NotFound(what, item_id)
    if position is not None:
        values = {**values, "position": position}
    model.update(**values).where(model.id == item_id).execute()
    return model.get_by_id(item_id)


def _deleted(model: Any, item_id: int, *, what: str, record: Callable[[Any], R]) -> R:
    """Delete the row; the record it was. NotFound naming `what` when it is gone."""
    row = model.get_or_none(model.id == item_id)
    if row is None:
        raise NotFound(what, item_id)
    found = record(row)
    row.delete_instance()
    return found


def _check_user(user_id: int | None, field: str) -> None:
    if user_id is not None and User.get_or_none(User.id == user_id) is None:
        raise NotFound("user", user_id)


def _check_flow(flow_id: int | None) -> None:
    if (
        flow_id is not None
        and AutomationFlowRow.get_or_none(AutomationFlowRow.id == flow_id) is None
    ):
        raise NotFound("flow", flow_id)


def save_triage_option(
    option: TriageOption, *, position: int | None, now: datetime
) -> TriageOption:
    """Create (id 0) or update a triage option; Conflict when its key is taken."""
    _check_user(option.assignee_id, "assignee_id")
    _check_flow(option.flow_id)
    taken = TriageOptionRow.get_or_none(
        (TriageOptionRow.key == option.key) & (TriageOptionRow.id != option.id)
    )
    if taken is not None:
        raise Conflict(f"another triage option answers to {option.key!r}")
    values = {
        "key": option.key,
        "label": option.label,
        "keywords": list(option.keywords),
        "queue": option.queue,
        "tags": list(option.tags),
        "assignee": option.assignee_id,
        "flow": option.flow_id,
        "updated_at": now,
    }
    row = _saved(
        TriageOptionRow,
        option.id,
        values,
        what="triage option",
        now=now,
        position=position,
        ordered=True,
    )
    return _option(row)


def delete_triage_option(option_id: int) -> TriageOption:
    return _deleted(TriageOptionRow, option_id, what="triage option", record=_option)


def save_flow(flow: Flow, *, now: datetime) -> Flow:
    """Create (id 0) or update a flow; Conflict when its name is taken."""
    taken = AutomationFlowRow.get_or_none(
        (AutomationFlowRow.name == flow.name) & (AutomationFlowRow.id != flow.id)
    )
    if taken is not None:
        raise Conflict(f"another flow is called {flow.name!r}")
    values = {
        "name": flow.name,
        "fields": [field_json(f) for f in flow.fields],
        "done_text": flow.done_text,
        "updated_at": now,
    }
    return _flow(_saved(AutomationFlowRow, flow.id, values, what="flow", now=now))


def get_flow(flow_id: int) -> Flow:
    row = AutomationFlowRow.get_or_none(AutomationFlowRow.id == flow_id)
    if row is None:
        raise NotFound("flow", flow_id)
    return _flow(row)


def delete_flow(flow_id: int) -> Flow:
    """Delete a flow; triage options that ran it hand over instead."""
    return _deleted(AutomationFlowRow, flow_id, what="flow", record=_flow)


def save_routing_rule(
    rule: RoutingRule, *, position: int | None, now: datetime
) -> RoutingRule:
    """Create (id 0) or update a routing rule."""
    _check_user(rule.assignee_id, "assignee_id")
    values = {
        "name": rule.name,
        "kind": rule.kind.value,
        "key": rule.key,
        "value": rule.value,
        "queue": rule.queue,
        "tags": list(rule.tags),
        "priority": rule.priority.value if rule.priority else None,
        "assignee": rule.assignee_id,
        "updated_at": now,
    }
    row = _saved(
        RoutingRuleRow,
        rule.id,
        values,
        what="routing rule",
        now=now,
        position=position,
        ordered=True,
    )
    return _rule(row)


def delete_routing_rule(rule_id: int) -> RoutingRule:
    return _deleted(RoutingRuleRow, rule_id, what="routing rule", record=_rule)


def save_queue(queue: QueueRecord, *, now: datetime) -> QueueRecord:
    """Create (id 0) or update a queue with its members; Conflict for a taken name."""
    taken = QueueRow.get_or_none(
        (QueueRow.name == queue.name) & (QueueRow.id != queue.id)
    )
    if taken is not None:
        raise Conflict(f"another queue is called {queue.name!r}")
    for user_id in queue.members:
        _check_user(user_id, "members")
    values = {
        "name": queue.name,
        "description": queue.description,
        "assignment": queue.assignment,
        "timezone": queue.timezone,
        "hours": queue.hours,
        "holidays": queue.holidays,
        "ack_text": queue.ack_text,
        "after_hours_text": queue.after_hours_text,
        "updated_at": now,
    }
    if queue.id == 0:
        queue_id = QueueRow.create(created_at=now, **values).id
    else:
        queue_id = queue.id
        if QueueRow.get_or_none(QueueRow.id == queue_id) is None:
            raise NotFound("queue", queue_id)
        QueueRow.update(**values).where(QueueRow.id == queue_id).execute()
        QueueMemberRow.delete().where(QueueMemberRow.queue == queue_id).execute()
    if queue.members:
        QueueMemberRow.insert_many(
            [{"queue": queue_id, "user": u} for u in sorted(set(queue.members))]
        ).execute()
    return get_queue(queue_id)


def get_queue(queue_id: int) -> QueueRecord:
    row = QueueRow.get_or_none(QueueRow.id == queue_id)
    if row is None:
        raise NotFound("queue", queue_id)
    members = [
        m.user_id for m in QueueMemberRow.select().where(QueueMemberRow.queue == row.id)
    ]
    return _queue(row, members)


def delete_queue(queue_id: int) -> QueueRecord:
    """Delete a queue (its conversations keep the name; nobody is assigned from it)."""
    found = get_queue(queue_id)
    QueueRow.delete().where(QueueRow.id == queue_id).execute()
    return found


def advance_round_robin(queue: str, user_id: int, *, now: datetime) -> None:
    QueueRow.update(last_assigned=user_id, updated_at=now).where(
        QueueRow.name == queue
    ).execute()


# ---------------------------------------------------------------------- agents


def set_away(user_id: int, away: bool, *, now: datetime) -> bool:
    """An agent's availability toggle; True when it changed."""
    if User.get_or_none(User.id == user_id) is None:
        raise NotFound("user", user_id)
    row = AgentStatusRow.get_or_none(AgentStatusRow.user == user_id)
    if row is not None and row.away == away:
        return False
    if row is None and not away:
        return False
    AgentStatusRow.insert(user=user_id, away=away, updated_at=now).on_conflict(
        conflict_target=[AgentStatusRow.user],
        preserve=[AgentStatusRow.away, AgentStatusRow.updated_at],
    ).execute()
    return True


def is_away(user_id: int) -> bool:
    """Whether a user set themselves away (no row: available)."""
    row = AgentStatusRow.get_or_none(AgentStatusRow.user == user_id)
    return bool(row is not None and row.away)


def _online_ids(now: datetime, window_s: float) -> set[int]:
    since = now - timedelta(seconds=window_s)
    rows: Any = (
        WebSession.select(WebSession.user)
        .where((WebSession.last_seen_at >= since) & (WebSession.expires_at > now))
        .distinct()
        .tuples()
    )
    return {user_id for (user_id,) in rows}


def _away_ids() -> set[int]:
    rows: Any = (
        AgentStatusRow.select(AgentStatusRow.user)
        .where(AgentStatusRow.away == True)  # noqa: E712 - peewee builds SQL from ==
        .tuples()
    )
    return {user_id for (user_id,) in rows}


def agents(now: datetime, window_s: float) -> dict[int, Agent]:
    """Active users: online (a console session used within the window, not away) and
    how many open conversations each has."""
    online = _online_ids(now, window_s) - _away_ids()
    counted: Any = (
        Conversation.select(Conversation.assignee, fn.COUNT(Conversation.id))
        .where(
            (Conversation.status == ConversationStatus.OPEN)
            & Conversation.assignee.is_null(False)
        )
        .group_by(Conversation.assignee)
        .tuples()
    )
    loads = {int(user_id): int(count) for user_id, count in counted}
    users: Any = User.select(User.id).where(User.active == True).tuples()  # noqa: E712
    return {
        user_id: Agent(user_id, user_id in online, loads.get(user_id, 0))
        for (user_id,) in users
    }


def user_choices(now: datetime, window_s: float) -> tuple[UserChoice, ...]:
    """Every user, for the editor's menus, with whether they are online or away."""
    online = _online_ids(now, window_s)
    away = _away_ids()
    return tuple(
        UserChoice(
            row.id,
            row.username,
            row.display_name,
            row.active,
            online=row.id in online and row.id not in away,
            away=row.id in away,
        )
        for row in User.select().order_by(User.username)
    )


def user_id_by_name(username: str) -> int | None:
    """An active user's id by username (an account owner attribute names them)."""
    row = User.get_or_none((User.username == username.strip().lower()) & User.active)
    return None if row is None else int(row.id)


# ---------------------------------------------------------------------- facts


@dataclass(frozen=True, slots=True)
class MessageFacts:
    """What the rules read around a customer's message, besides its text."""

    last_agent_reply_at: datetime | None
    unanswered: tuple[datetime, ...]
    reply_context: JsonObject
    last_handler_id: int | None


def message_facts(conversation_id: int, message_id: int, number: str) -> MessageFacts:
    """The timing and context around a customer's message (read in its unit)."""
    in_conversation = Message.conversation == conversation_id
    last_agent = (
        Message.select(Message.created_at)
        .where(
            in_conversation
            & (Message.direction == Direction.OUTBOUND)
            & (Message.origin == MessageOrigin.AGENT)
        )
        .order_by(Message.id.desc())
        .first()
    )
    last_reply = (
        Message.select(Message.id)
        .where(
            in_conversation
            & (Message.direction == Direction.OUTBOUND)
            & Message.origin.in_(_REPLY_ORIGINS)
            & (Message.id < message_id)
        )
        .order_by(Message.id.desc())
        .first()
    )
    unanswered = Message.select(Message.created_at).where(
        in_conversation
        & (Message.direction == Direction.INBOUND)
        & (Message.id <= message_id)
    )
    if last_reply is not None:
        unanswered = unanswered.where(Message.id > last_reply.id)
    times = [
        row.created_at
        for row in unanswered.order_by(Message.id.desc()).limit(UNANSWERED_LOOKBACK)
    ]
    replied_to = (
        Message.select(Message.context)
        .where(
            (Message.number == number)
            & (Message.direction == Direction.OUTBOUND)
            & (Message.context != {})
            & (Message.id < message_id)
        )
        .order_by(Message.id.desc())
        .first()
    )
    return MessageFacts(
        last_agent_reply_at=None if last_agent is None else last_agent.created_at,
        unanswered=tuple(sorted(times)),
        reply_context=dict(replied_to.context) if replied_to is not None else {},
        last_handler_id=last_handler(number, conversation_id),
    )


def last_handler(number: str, conversation_id: int) -> int | None:
    """The agent who last handled this customer in another conversation: who last
    replied to them, else that conversation's assignee."""
    agent_reply = (
        Message.select(Message.user)
        .where(
            (Message.number == number)
            & (Message.conversation != conversation_id)
            & (Message.direction == Direction.OUTBOUND)
            & (Message.origin == MessageOrigin.AGENT)
            & Message.user.is_null(False)
        )
        .order_by(Message.id.desc())
        .first()
    )
    if agent_reply is not None:
        return int(agent_reply.user_id)
    earlier = (
        Conversation.select(Conversation.assignee)
        .where(
            (Conversation.number == number)
            & (Conversation.id != conversation_id)
            & Conversation.assignee.is_null(False)
        )
        .order_by(Conversation.id.desc())
        .first()
    )
    return None if earlier is None else int(earlier.assignee_id)


# ---------------------------------------------------------------------- applying


def set_conversation_queue(conversation_id: int, queue: str, *, now: datetime) -> bool:
    """Put the conversation in a queue; True when it moved."""
    row = Conversation.get_or_none(Conversation.id == conversation_id)
    if row is None:
        raise NotFound("conversation", conversation_id)
    if row.queue == queue:
        return False
    row.queue = queue
    row.updated_at = now
    row.save()
    return True


def store_field(
    conversation_id: int,
    contact_id: int,
    name: str,
    value: str,
    *,
    on_contact: bool,
    now: datetime,
) -> bool:
    """A collected detail onto the conversation's context and (when `on_contact` and it
    fits the attribute rules) the contact's attributes; True when the contact changed."""
    row = Conversation.get_by_id(conversation_id)
    row.context = {**row.context, name: value}
    row.updated_at = now
    row.save()
    if not on_contact:
        return False
    contact = Contact.get_by_id(contact_id)
    try:
        patch = policy.attribute_patch({name: value})
        merged = policy.merge_attributes(contact.attributes, patch)
    except InvalidInput as exc:
        _LOGGER.warning(
            "contact %s: collected %s kept on conversation %s only (%s)",
            contact_id,
            name,
            conversation_id,
            exc.reason,
        )
        return False
    if merged == contact.attributes:
        return False
    Contact.update(attributes=merged, updated_at=now).where(
        Contact.id == contact_id
    ).execute()
    return True

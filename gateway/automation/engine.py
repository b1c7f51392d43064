"""The automation stage of the runner: gather the facts around a customer's message,
`rules.decide`, and apply the Decision - all ON THE DB THREAD, in the unit that commits
the message (a savepoint of it: see runner.py), so the message, what the automation did
and the texts it queued commit together or not at all.

Applying: the queue, tags, priority and assignee through the inbox's own query functions
(audited as `automation`, the assignment's webhook recorded in the unit), collected
details onto the conversation's context and the contact's attributes, a hand-over as a
note in the thread, texts through `InboundContext.send` (OutboundService.enqueue_in_unit,
origin automation; never to an opted-out number: the consent is read again in this
unit), the state row. Bus events go out after the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo

from gateway import events
from gateway.automation import ruleset
from gateway.automation.rules import (
    AddTags,
    Assign,
    AutomationState,
    Decision,
    HandOver,
    Inbound,
    NotifyAgents,
    RuleSet,
    SendText,
    SetPriority,
    SetQueue,
    StoreField,
    decide,
)
from gateway.automation.runner import InboundContext
from gateway.config import AutomationSettings
from gateway.domain import ContactRecord, JsonObject, NumberKind, ThreadOutcome
from gateway.errors import InvalidInput
from gateway.inbox import policy
from gateway.storage import (
    automation_queries,
    inbox_queries,
    metrics_queries,
    queries,
    webhook_queries,
)

_LOGGER = logging.getLogger(__name__)

ACTOR = "automation"  # the audit log's name for what the automation does


@dataclass(frozen=True, slots=True)
class LoadedRules:
    rules: RuleSet
    settings: AutomationSettings  # the ini's with the admins' values
    problems: tuple[str, ...]


def load_rules(ini: AutomationSettings, default_tz: tzinfo) -> LoadedRules:
    """ON THE DB THREAD: the rules as stored now, over the ini's defaults."""
    snapshot = automation_queries.rules_snapshot()
    settings, problems = ruleset.effective_settings(ini, snapshot.overrides)
    rules, more = ruleset.build_rules(ini, snapshot, default_tz)
    return LoadedRules(rules, settings, problems + tuple(p for p in more if p))


def owner_id(contact: ContactRecord, attribute: str) -> int | None:
    """ON THE DB THREAD: the active user the contact's owner attribute names, if any."""
    value = contact.attributes.get(attribute) if attribute else None
    if not isinstance(value, str) or not value.strip():
        return None
    return automation_queries.user_id_by_name(value)


def gather(ctx: InboundContext, settings: AutomationSettings) -> Inbound:
    """ON THE DB THREAD: the facts decide reads around the message."""
    message, conversation, contact = ctx.message, ctx.conversation, ctx.contact
    facts = automation_queries.message_facts(
        conversation.id, message.id, contact.number
    )
    reply_context: JsonObject = facts.reply_context
    # the context a hook found: the notification this message answers (its step puts
    # {"id", "context"} under "notification"), or a "context" of its own
    notification = ctx.facts.get("notification")
    for told in (
        notification.get("context") if isinstance(notification, dict) else None,
        ctx.facts.get("context"),
    ):
        if isinstance(told, dict):
            reply_context = {**reply_context, **told}
    keyword = ctx.compliance.keyword
    return Inbound(
        text=message.body,
        new_conversation=ctx.threaded.outcome
        in (ThreadOutcome.CREATED, ThreadOutcome.REOPENED),
        repliable=contact.kind is NumberKind.E164,
        keyword=None if keyword is None else keyword.value,
        compliance_acted=ctx.compliance_acted,
        opted_out=ctx.opted_out(),
        attributes=contact.attributes,
        context=conversation.context,
        reply_context=reply_context,
        queue=conversation.queue,
        assignee_id=conversation.assignee_id,
        priority=conversation.priority,
        last_agent_reply_at=facts.last_agent_reply_at,
        unanswered=facts.unanswered,
        last_handler_id=facts.last_handler_id,
        owner_id=owner_id(contact, settings.owner_attribute),
        agents=automation_queries.agents(ctx.now, settings.online_window_s),
    )


class AutomationEngine:
    """The runner's automation stage (gateway.automation.runner.Automation)."""

    def __init__(
        self,
        ini: AutomationSettings,
        *,
        default_tz: tzinfo,
        bus: events.EventBus,
        on_decision: Callable[[int, Decision], None] | None = None,
    ) -> None:
        self._ini = ini
        self._tz = default_tz
        self._bus = bus
        self._on_decision = on_decision  # tests watch decisions here

    def run(self, ctx: InboundContext) -> None:
        """ON THE DB THREAD, in the message's unit: decide and apply."""
        loaded = load_rules(self._ini, self._tz)
        if not loaded.rules.enabled:
            return
        cid = ctx.conversation.id
        state = automation_queries.load_state(cid) or AutomationState()
        inbound = gather(ctx, loaded.settings)
        decision = decide(state, inbound, loaded.rules, ctx.now)
        apply(ctx, decision, self._bus)
        if decision.actions:
            _LOGGER.info(
                "conversation %s: message %s -> %s",
                cid,
                ctx.message.id,
                ", ".join(type(a).__name__ for a in decision.actions),
            )
        if self._on_decision is not None:
            self._on_decision(ctx.message.id, decision)


def apply(ctx: InboundContext, decision: Decision, bus: events.EventBus) -> None:
    """ON THE DB THREAD: carry out a Decision in the message's unit."""
    cid, now = ctx.conversation.id, ctx.now
    handed_over: HandOver | None = None
    escalated = False
    for action in decision.actions:
        if isinstance(action, SetQueue):
            automation_queries.set_conversation_queue(cid, action.queue, now=now)
        elif isinstance(action, AddTags):
            _tag(ctx, action, bus)
        elif isinstance(action, SetPriority):
            _priority(ctx, action, bus)
        elif isinstance(action, Assign):
            _assign(ctx, action, bus)
        elif isinstance(action, StoreField):
            _store(ctx, action, bus)
        elif isinstance(action, HandOver):
            handed_over = action
        elif isinstance(action, NotifyAgents):
            escalated = True
            _notify(ctx, action, bus)
        elif isinstance(action, SendText):
            ctx.send(action.body)
    automation_queries.save_state(cid, decision.state, now=now)
    if handed_over is not None:
        _hand_over(ctx, handed_over, decision, escalated, bus)


def _tag(ctx: InboundContext, action: AddTags, bus: events.EventBus) -> None:
    cid, now = ctx.conversation.id, ctx.now
    try:
        tags = policy.normalize_tags(list(action.tags))
        added, _ = inbox_queries.change_tags(cid, add=tags, now=now)
    except InvalidInput as exc:  # too many tags already: the rest still applies
        _LOGGER.warning("conversation %s: tags not added (%s)", cid, exc.reason)
        return
    if added:
        queries.record_audit(
            ACTOR,
            "conversation.tag",
            f"conversation:{cid}",
            now=now,
            detail={"tags": list(added)},
        )
        everything = tuple(queries.conversation_tags(cid))
        ctx.after_commit(
            lambda: bus.publish(
                events.ConversationTagged(cid, added, (), everything, now)
            )
        )


def _priority(ctx: InboundContext, action: SetPriority, bus: events.EventBus) -> None:
    cid, now = ctx.conversation.id, ctx.now
    previous, changed = inbox_queries.set_priority(cid, action.priority, now=now)
    if changed:
        queries.record_audit(
            ACTOR,
            "conversation.priority",
            f"conversation:{cid}",
            now=now,
            detail={"from": previous.value, "to": action.priority.value},
        )
        ctx.after_commit(
            lambda: bus.publish(events.PriorityChanged(cid, action.priority.value, now))
        )


def _assign(ctx: InboundContext, action: Assign, bus: events.EventBus) -> None:
    cid, now = ctx.conversation.id, ctx.now
    previous, changed = inbox_queries.assign_conversation(cid, action.user_id, now=now)
    if action.queue is not None and action.how == "round_robin":
        automation_queries.advance_round_robin(action.queue, action.user_id, now=now)
    if not changed:
        return
    badge = inbox_queries.active_user(action.user_id, field="assignee_id")
    queries.record_audit(
        ACTOR,
        "conversation.assign",
        f"conversation:{cid}",
        now=now,
        detail={"from": previous, "to": action.user_id, "how": action.how},
    )
    webhook_queries.conversation_assigned(
        queries.get_conversation(cid),
        previous_assignee_id=previous,
        assignee={
            "id": badge.id,
            "username": badge.username,
            "display_name": badge.display_name,
        },
        actor=ACTOR,
        now=now,
    )
    ctx.after_commit(
        lambda: bus.publish(events.ConversationAssigned(cid, action.user_id, now))
    )


def _store(ctx: InboundContext, action: StoreField, bus: events.EventBus) -> None:
    contact_id, now = ctx.contact.id, ctx.now
    changed = automation_queries.store_field(
        ctx.conversation.id,
        contact_id,
        action.name,
        action.value,
        on_contact=action.on_contact,
        now=now,
    )
    queries.record_audit(
        ACTOR,
        "automation.collect",
        f"conversation:{ctx.conversation.id}",
        now=now,
        detail={"field": action.name, "contact": changed},  # never the value
    )
    if changed:
        ctx.after_commit(
            lambda: bus.publish(events.ContactChanged(contact_id, "updated", now))
        )


def _notify(ctx: InboundContext, action: NotifyAgents, bus: events.EventBus) -> None:
    cid, mid, now = ctx.conversation.id, ctx.message.id, ctx.now
    queries.record_audit(
        ACTOR,
        "automation.escalate",
        f"conversation:{cid}",
        now=now,
        detail={"message_id": mid, "reason": action.reason},
    )
    ctx.after_commit(
        lambda: bus.publish(events.ConversationFlagged(cid, mid, action.reason, now))
    )


def handover_note(reason: str, fields: dict[str, str]) -> str:
    """The note agents see in the thread when the automation hands over."""
    text = f"Automation handed this conversation over: {reason}."
    if fields:
        listed = ", ".join(f"{k} {v}" for k, v in sorted(fields.items()))
        text += f" Collected: {listed}."
    return text


def _hand_over(
    ctx: InboundContext,
    action: HandOver,
    decision: Decision,
    escalated: bool,
    bus: events.EventBus,
) -> None:
    cid, now = ctx.conversation.id, ctx.now
    note = inbox_queries.add_note(
        cid,
        body=handover_note(action.reason, dict(decision.state.fields)),
        author_id=None,
        now=now,
    )
    queries.record_audit(
        ACTOR,
        "automation.handover",
        f"conversation:{cid}",
        now=now,
        detail={"reason": action.reason, "escalated": escalated},
    )
    # the support metrics: the customer waits for a person from now (FRT restarts)
    metrics_queries.record_handoff(cid, now=now)
    after = queries.get_conversation(cid)
    _LOGGER.info(
        "conversation %s handed over to a human (%s)%s",
        cid,
        action.reason,
        " and escalated" if escalated else "",
    )

    def announce() -> None:
        bus.publish(events.NoteAdded(cid, note.id, None, now))
        bus.publish(
            events.AutomationHandedOver(
                cid, action.reason, escalated, after.queue, after.assignee_id, now
            )
        )

    ctx.after_commit(announce)

"""NotificationService: proactive texts with a context, reply options, a schedule and quiet
hours; and the inbound step that turns a customer's answer into a webhook.

`create` commits the message (through OutboundService, so consent and idempotency are
its own), the notification and its hold in ONE unit before it returns. The hold keeps
the parts in the durable queue until `scheduled_at`, and out of quiet hours in the
recipient's time zone (gateway.notifications.quiet) - checked again at the claim, so
nothing leaves early, restarts or not.

`reply_step` runs in the automation runner's hook list, right after compliance, inside
the unit that commits the customer's reply: a reply that picks an open option of the
newest notification that has some (gateway.notifications.options) records the choice,
the `reply.option_selected` webhook (durable outbox) and the option's confirmation
(never to an opted-out number), and stops there - the conversation goes back to how it
was unless the option hands over to a person. Any other reply (or one after expiry, or
to a one-way notification) goes on to the inbox with the notification's context on its
conversation, and in `facts["notification"]` for the automation after.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from gateway import events
from gateway.automation.runner import InboundContext, StepResult
from gateway.compliance_rules import KeywordRules
from gateway.config import Settings
from gateway.domain import (
    ConversationRecord,
    Enqueued,
    JsonObject,
    JsonValue,
    MessageOrigin,
    NumberKind,
    utcnow,
)
from gateway.errors import Conflict, InvalidInput
from gateway.logutil import mask_number
from gateway.notifications import options as reply_options
from gateway.notifications import quiet
from gateway.notifications.options import OptionAction, ReplyOption
from gateway.notifications.records import NewNotification, NotificationRecord
from gateway.outbox.service import Draft, OutboundService
from gateway.storage import (
    notification_queries,
    queries,
    schedule_queries,
    template_queries,
)
from gateway.templates.service import (
    TemplateService,
    contact_variables,
    conversation_variables,
)

if TYPE_CHECKING:
    from gateway.storage.db import Store

_LOGGER = logging.getLogger(__name__)

MAX_SCHEDULE_AHEAD_S = 365 * 86400.0
MAX_TTL_S = 90 * 86400.0
HOOK_NAME = "notification_replies"


@dataclass(frozen=True, slots=True)
class _Plan:
    """What `create` worked out before its unit: the text, options, times, zones."""

    number: str
    body: str
    draft: Draft
    options: tuple[ReplyOption, ...]
    not_before: datetime
    expires_at: datetime | None
    zones: tuple[str, ...]


class NotificationService:
    """Notifications: create (scheduled, quiet hours), read, and the reply step."""

    def __init__(
        self,
        store: Store,
        bus: events.EventBus,
        outbound: OutboundService,
        templates: TemplateService,
        *,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._bus = bus
        self._outbound = outbound
        self._templates = templates
        self._clock = clock
        self._fallback_zone = settings.gateway.timezone
        config = settings.notifications
        self.quiet = quiet.QuietHours(config.quiet_start, config.quiet_end)
        self._ttl_s = config.options_ttl_s
        keywords = settings.compliance
        self._rules = KeywordRules.build(
            keywords.opt_out_keywords, keywords.opt_in_keywords, keywords.help_keywords
        )

    # -------------------------------------------------------------- sending

    async def create(
        self,
        to: str,
        *,
        body: str | None = None,
        template: str | None = None,
        context: JsonObject | None = None,
        options: Mapping[str, JsonValue] | None = None,
        expires_at: datetime | None = None,
        ttl_s: float | None = None,
        scheduled_at: datetime | None = None,
        quiet_hours: bool = True,
        idempotency_key: str | None = None,
        actor: str,
        user_id: int | None = None,
    ) -> NewNotification:
        """Queue a notification; returns it once committed (its text `queued`, held
        until it may go). The same idempotency key again returns the first one.

        Raises InvalidInput naming the field (MissingVariable for a template variable
        without a value: nothing is created), OptedOut, Conflict, NotFound (template).
        """
        now = self._clock()
        context = dict(context or {})
        number = self._outbound.normalize(to, field="to")
        if (body is None) == (template is None):
            raise InvalidInput("body", "give either body or template (one of them)")
        if expires_at is not None and ttl_s is not None:
            raise InvalidInput("ttl_s", "give either expires_at or ttl_s, not both")
        parsed = reply_options.parse_options(options or {}, self._rules)
        contact, conversation = await self._store.run(
            template_queries.contact_facts, number
        )
        variables: dict[str, JsonValue] = {
            "contact": contact_variables(contact, number),
            "conversation": conversation_variables(conversation, context),
            "context": context,
        }
        shortcut = None
        if template is not None:
            record = await self._templates.find(template)
            shortcut = record.shortcut
            body = self._templates.render(record, contact, conversation, variables)
        assert body is not None
        parsed = tuple(self._confirmation(o, variables) for o in parsed)
        zones: tuple[str, ...] = ()
        if quiet_hours and self.quiet.enabled:
            override = None
            if contact is not None:
                value = contact.attributes.get("timezone")
                override = value if isinstance(value, str) else None
            zones = tuple(
                quiet.zone_names(
                    quiet.zones_for(
                        number, override=override, fallback=self._fallback_zone
                    )
                )
            )
        plan = self._plan(
            number, body, parsed, now, scheduled_at, expires_at, ttl_s, zones
        )
        made, enqueued = await self._store.run(
            self._create_unit,
            plan,
            template=shortcut,
            context=context,
            scheduled_at=scheduled_at,
            idempotency_key=idempotency_key,
            actor=actor,
            user_id=user_id,
            now=now,
            healthy=self._outbound.healthy_now(),
        )
        self._outbound.announce(enqueued)
        if made.created:
            _LOGGER.info(
                "notification %s to %s queued as message %s, not before %s",
                made.notification.id,
                mask_number(number),
                made.notification.message.id,
                plan.not_before,
            )
        return made

    def _confirmation(
        self, option: ReplyOption, variables: Mapping[str, JsonValue]
    ) -> ReplyOption:
        """The option with its confirmation rendered now: a missing variable is an
        error before anything is sent, and the text must be sendable."""
        if option.reply is None:
            return option
        field = f"reply_options.{option.key}.reply"
        extra: dict[str, JsonValue] = {
            **variables,
            "option": {"key": option.key, "value": option.value},
        }
        text = self._templates.render(option.reply, None, None, extra, field=field)
        if not text.strip():
            raise InvalidInput(field, "the confirmation renders to no text")
        try:
            self._outbound.measure(text)
        except InvalidInput as exc:
            raise InvalidInput(field, exc.reason) from None
        return ReplyOption(
            option.key,
            option.value,
            option.aliases,
            option.action,
            option.queue,
            text,
        )

    def _plan(
        self,
        number: str,
        body: str,
        options: tuple[ReplyOption, ...],
        now: datetime,
        scheduled_at: datetime | None,
        expires_at: datetime | None,
        ttl_s: float | None,
        zones: tuple[str, ...],
    ) -> _Plan:
        draft = self._outbound.prepare(number, body)
        if scheduled_at is not None:
            if scheduled_at.tzinfo is None:
                raise InvalidInput("scheduled_at", "a time with its zone (Z or +01:00)")
            if scheduled_at - now > timedelta(seconds=MAX_SCHEDULE_AHEAD_S):
                raise InvalidInput("scheduled_at", "at most a year ahead")
        due = max(now, scheduled_at or now)
        found = [z for z in (quiet.zone(name) for name in zones) if z is not None]
        not_before = quiet.release(due, found, self.quiet) or due
        expires = None
        if options:
            if ttl_s is not None:
                if not 0 < ttl_s <= MAX_TTL_S:
                    raise InvalidInput("ttl_s", f"1 to {int(MAX_TTL_S)} seconds")
                expires = not_before + timedelta(seconds=ttl_s)
            elif expires_at is not None:
                if expires_at <= max(now, not_before):
                    raise InvalidInput(
                        "expires_at", "after the notification may be sent"
                    )
                expires = expires_at
            else:
                expires = not_before + timedelta(seconds=self._ttl_s)
        return _Plan(number, body, draft, options, not_before, expires, zones)

    def _create_unit(
        self,
        plan: _Plan,
        *,
        template: str | None,
        context: JsonObject,
        scheduled_at: datetime | None,
        idempotency_key: str | None,
        actor: str,
        user_id: int | None,
        now: datetime,
        healthy: frozenset[str] | None,
    ) -> tuple[NewNotification, Enqueued]:
        """ON THE DB THREAD: the message, the notification and the hold, one commit."""
        enqueued = self._outbound.enqueue_in_unit(
            plan.draft,
            now=now,
            healthy=healthy,
            origin=MessageOrigin.API,
            context=context,
            idempotency_key=idempotency_key,
            user_id=user_id,
        )
        if not enqueued.created:
            known = notification_queries.for_message(enqueued.message.id)
            if known is None:
                raise Conflict(
                    f"idempotency key {idempotency_key!r} was used for message "
                    f"{enqueued.message.id}, which is not a notification"
                )
            return NewNotification(known, created=False), enqueued
        if plan.zones or plan.not_before > now:
            schedule_queries.hold(
                enqueued.message.id,
                not_before=plan.not_before,
                zones=plan.zones,
                quiet=self.quiet,
                now=now,
            )
        made = notification_queries.create_notification(
            enqueued.message,
            template=template,
            context=context,
            options=plan.options,
            expires_at=plan.expires_at,
            scheduled_at=scheduled_at,
            actor=actor,
            now=now,
        )
        return NewNotification(made, created=True), enqueued

    # -------------------------------------------------------------- reading

    async def get(self, notification_id: int) -> NotificationRecord:
        return await self._store.read(
            notification_queries.get_notification, notification_id
        )

    async def list(
        self, *, to: str | None = None, limit: int = 20, before_id: int | None = None
    ) -> list[NotificationRecord]:
        """Newest first; `to` filters by recipient (read in the box's region)."""
        number = None if to is None else self._outbound.normalize(to, field="to")
        return await self._store.read(
            notification_queries.list_notifications,
            number=number,
            limit=limit,
            before_id=before_id,
        )

    # -------------------------------------------------------------- replies

    def reply_step(self, ctx: InboundContext) -> StepResult:
        """ON THE DB THREAD, in the unit committing a customer's message (a hook of the
        automation runner, after compliance): pick an option, or pass the context on."""
        contact = ctx.contact
        if contact.kind is not NumberKind.E164:
            return StepResult.CONTINUE
        open_one, latest = notification_queries.answered_by(
            contact.number, reply_id=ctx.message.id, now=ctx.now
        )
        if latest is None:
            return StepResult.CONTINUE
        if open_one is not None:
            option = reply_options.match(
                ctx.message.body, open_one.options, self._rules
            )
            if option is not None:
                self._select(ctx, open_one, option)
                return StepResult.HANDLED
        # an answer in words, a late one, or to a one-way text: the inbox, in context
        if ctx.conversation.id != latest.message.conversation_id:
            notification_queries.merge_context(
                ctx.conversation.id, latest.context, now=ctx.now
            )
        ctx.facts["notification"] = {"id": latest.id, "context": dict(latest.context)}
        return StepResult.CONTINUE

    def _select(
        self, ctx: InboundContext, notification: NotificationRecord, option: ReplyOption
    ) -> None:
        now, reply = ctx.now, ctx.message
        if ctx.conversation.id != notification.message.conversation_id:
            notification_queries.merge_context(
                ctx.conversation.id, notification.context, now=now
            )
        confirmation = None
        if option.reply is not None:
            # ctx.send never texts an opted-out number
            confirmation = ctx.send(option.reply, context=notification.context)
        chosen = notification_queries.record_selection(
            notification.id,
            option,
            reply=reply,
            confirmation_id=None if confirmation is None else confirmation.message.id,
            now=now,
        )
        conversation: ConversationRecord = ctx.conversation
        status_changed = note = None
        if option.action is OptionAction.HANDOVER:
            conversation, note = notification_queries.hand_over(
                conversation.id,
                queue=option.queue,
                note=f"The customer chose {option.key} ({option.value}) in reply to "
                f"notification {notification.id}: a person takes it from here.",
                now=now,
            )
        else:
            status_changed = notification_queries.settle(
                queries.get_conversation(conversation.id),
                ctx.threaded.previous_status,
                now=now,
            )
            conversation = status_changed or queries.get_conversation(conversation.id)
        notification_queries.option_selected(
            chosen,
            option,
            reply=reply,
            conversation=conversation,
            contact=ctx.contact,
            now=now,
        )
        _LOGGER.info(
            "message %s picked option %s of notification %s (%s)",
            reply.id,
            option.key,
            notification.id,
            option.action.value,
        )
        conversation_id = conversation.id
        bus = self._bus

        def announce() -> None:
            bus.publish(
                events.ReplyOptionSelected(
                    notification.id, conversation_id, reply.id, option.key, now
                )
            )
            if status_changed is not None:
                bus.publish(
                    events.ConversationStatusChanged(
                        conversation_id, status_changed.status.value, now
                    )
                )
            if note is not None:
                bus.publish(events.NoteAdded(conversation_id, note.id, None, now))

        ctx.after_commit(announce)

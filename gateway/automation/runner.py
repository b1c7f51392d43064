"""The automation runner: what happens to a customer's message after compliance, applied
in the SAME unit of work that commits the message.

The pipeline, in order, for each inbound message (InboundService calls `in_unit` on the
db thread right after `ComplianceService.apply_inbound`, then `announce` after the commit):

  1. compliance keywords - STOP/START/HELP (ComplianceService, before the runner). When
     compliance acted (an opt-out or opt-in keyword that changed consent, STOP again,
     HELP), no hook runs: only the compliance reply goes out, and the automation is told
     (STOP ends any flow; HELP hands the conversation to a human).
  2. HOOKS - steps registered with `register()`, in the order registered (notification
     reply options plug in here). A step answers HANDLED when the message is dealt
     with: no later hook and no automation see it.
  3. the automation (gateway.automation.rules.decide): takeover detection -> the active
     flow's step -> triage of new conversations -> routing -> business-hours
     acknowledgement.

Every hook and the automation run in a savepoint of their own: one that raises is rolled
back and logged, and the message is still committed (a unit that raised would leave the
part on the SIM to be read again forever). Texts go out through
`OutboundService.enqueue_in_unit` with origin automation (`InboundContext.send`), never to
an opted-out number; bus events and the senders' wake-ups run after the commit.
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from gateway.compliance import ComplianceOutcome
from gateway.compliance_rules import Keyword
from gateway.domain import (
    ContactRecord,
    ConversationRecord,
    Enqueued,
    JsonObject,
    JsonValue,
    MessageOrigin,
    MessageRecord,
    NumberKind,
    ThreadedMessage,
)
from gateway.errors import InvalidInput
from gateway.logutil import mask_number
from gateway.outbox.service import Draft, OutboundService
from gateway.storage import automation_queries, queries

_LOGGER = logging.getLogger(__name__)

# Run after the commit, in order: bus events, waking a modem's sender.
Announce = Callable[[], None]


class StepResult(enum.Enum):
    """A hook's verdict on a message."""

    CONTINUE = "continue"  # later hooks and the automation see the message too
    HANDLED = "handled"  # dealt with: nothing after this step sees it


@dataclass(slots=True)
class InboundContext:
    """What a pipeline step sees: ON THE DB THREAD, inside the unit committing the message."""

    threaded: ThreadedMessage
    compliance: ComplianceOutcome
    now: datetime
    healthy: Collection[str] | None
    outbound: OutboundService
    # What a step tells later steps and the automation ("notification": its context...).
    facts: dict[str, JsonValue] = field(default_factory=dict)
    announcements: list[Announce] = field(default_factory=list)

    @property
    def message(self) -> MessageRecord:
        return self.threaded.message

    @property
    def conversation(self) -> ConversationRecord:
        return self.threaded.conversation

    @property
    def contact(self) -> ContactRecord:
        return self.threaded.contact

    @property
    def compliance_acted(self) -> bool:
        """True when the message was a compliance keyword that compliance answered or
        applied (STOP, HELP, a START that opted back in): hooks leave it alone."""
        outcome = self.compliance
        return outcome.consent is not None or outcome.keyword in (
            Keyword.OPT_OUT,
            Keyword.HELP,
        )

    def opted_out(self) -> bool:
        """Whether the customer is opted out now (after this message's keyword)."""
        return queries.is_opted_out(self.contact.number)

    def after_commit(self, announce: Announce) -> None:
        """Run `announce` once the unit is committed (publish events there)."""
        self.announcements.append(announce)

    def send(
        self,
        body: str,
        *,
        origin: MessageOrigin = MessageOrigin.AUTOMATION,
        context: JsonObject | None = None,
    ) -> Enqueued | None:
        """Queue a text to the customer in this conversation; None (and nothing queued)
        when they are opted out, cannot be texted, or the text cannot be sent."""
        contact = self.contact
        if contact.kind is not NumberKind.E164 or self.opted_out():
            _LOGGER.info(
                "conversation %s: no automated text to %s (opted out or not a number)",
                self.conversation.id,
                mask_number(contact.number),
            )
            return None
        try:
            parts, encoding = self.outbound.measure(body)
        except InvalidInput as exc:
            _LOGGER.warning(
                "conversation %s: an automated text was not sent (%s)",
                self.conversation.id,
                exc.reason,
            )
            return None
        enqueued = self.outbound.enqueue_in_unit(
            Draft(contact.number, body, parts, encoding),
            now=self.now,
            healthy=self.healthy,
            origin=origin,
            context=context,
            conversation_id=self.conversation.id,
        )
        self.after_commit(lambda: self.outbound.announce(enqueued))
        return enqueued


# A step of the pipeline: ON THE DB THREAD; it may read and write through the storage
# query functions, send through `ctx.send`, and publish with `ctx.after_commit`.
InboundStep = Callable[[InboundContext], StepResult]


class Automation(Protocol):
    """The automation stage (AutomationEngine): takeover, flows, triage, routing, hours."""

    def run(self, ctx: InboundContext) -> None: ...


@dataclass(frozen=True, slots=True)
class Hook:
    name: str
    step: InboundStep


class AutomationRunner:
    """Runs the pipeline on each inbound message, inside the unit that commits it."""

    def __init__(
        self, outbound: OutboundService, automation: Automation | None = None
    ) -> None:
        self._outbound = outbound
        self._automation = automation
        self._hooks: list[Hook] = []

    @property
    def hooks(self) -> tuple[str, ...]:
        """The registered hooks' names, in the order they run."""
        return tuple(h.name for h in self._hooks)

    def register(
        self, name: str, step: InboundStep, *, before: str | None = None
    ) -> None:
        """Add a hook (after the others, or before the one named `before`); it runs
        after compliance and before the automation. Register before the daemon starts."""
        if any(h.name == name for h in self._hooks):
            raise ValueError(f"an inbound hook named {name!r} is registered already")
        hook = Hook(name, step)
        if before is None:
            self._hooks.append(hook)
            return
        names = self.hooks
        if before not in names:
            raise ValueError(f"no inbound hook named {before!r} to go before")
        self._hooks.insert(names.index(before), hook)

    def set_automation(self, automation: Automation | None) -> None:
        self._automation = automation

    def in_unit(
        self,
        threaded: ThreadedMessage,
        compliance: ComplianceOutcome,
        *,
        now: datetime,
        healthy: Collection[str] | None,
    ) -> Announce:
        """ON THE DB THREAD, in the unit committing `threaded`: run the pipeline. Never
        raises for a step's fault; the answer is what to run after the commit."""
        ctx = InboundContext(threaded, compliance, now, healthy, self._outbound)
        handled = False
        if not ctx.compliance_acted:
            for hook in self._hooks:
                verdict = _guarded(
                    f"inbound hook {hook.name} on message {threaded.message.id}",
                    hook.step,
                    ctx,
                )
                if verdict is StepResult.HANDLED:
                    handled = True
                    break
        if not handled and self._automation is not None:
            _guarded(
                f"automation on message {threaded.message.id}",
                self._automation.run,
                ctx,
            )
        announcements = tuple(ctx.announcements)

        def announce() -> None:
            for each in announcements:
                each()

        return announce


def _guarded(
    what: str, step: Callable[[InboundContext], StepResult | None], ctx: InboundContext
) -> StepResult | None:
    """Run a step in a savepoint; when it raises, what it queued is never announced."""
    mark = len(ctx.announcements)
    verdict, ok = automation_queries.in_savepoint(what, step, ctx)
    if not ok:
        del ctx.announcements[mark:]
        return None
    return verdict

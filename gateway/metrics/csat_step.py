"""The CSAT step of the inbound pipeline: a customer's answer to their survey.

Registered first on the automation runner's hook list (after compliance, before
notification reply options and the automation), so it runs in the unit committing the
message, and only when compliance did not act on it. With no survey waiting it does
nothing. When one waits, the message answers it (`metrics_queries.answer_survey`):

- a rating (gateway.metrics.csat.parse_rating) is recorded, the conversation stays as it
  was (a rating that reopened it, or started a new one, leaves it resolved), the
  [csat] thanks_text goes out, and nothing after this step sees the message (HANDLED:
  "5" is no answer to a triage menu);
- anything else declines the survey and goes on as a normal message: it reopens the
  conversation by the usual rules and the agents see it.
"""

from __future__ import annotations

import logging

from gateway import events
from gateway.automation.runner import InboundContext, StepResult
from gateway.config import CsatSettings
from gateway.domain import ConversationStatus
from gateway.storage import metrics_queries

_LOGGER = logging.getLogger(__name__)

CSAT_HOOK = "csat"


class CsatStep:
    """`step(ctx)`: the runner's hook (an InboundStep)."""

    def __init__(self, bus: events.EventBus, settings: CsatSettings) -> None:
        self._bus = bus
        self._settings = settings

    def step(self, ctx: InboundContext) -> StepResult:
        """ON THE DB THREAD, in the inbound unit."""
        answer = metrics_queries.answer_survey(ctx.threaded, now=ctx.now)
        if answer is None or answer.rating is None:
            return StepResult.CONTINUE
        survey = answer.survey
        _LOGGER.info(
            "csat survey %s rated %d (message %s)",
            survey.id,
            answer.rating,
            ctx.message.id,
        )
        if self._settings.thanks_text:
            ctx.send(self._settings.thanks_text, context={"csat_survey": survey.id})
        conversation_id, now = ctx.conversation.id, ctx.now
        if ctx.conversation.status is not ConversationStatus.RESOLVED:
            status_now = metrics_queries.conversation_status(conversation_id)
            if status_now is ConversationStatus.RESOLVED:
                ctx.after_commit(
                    lambda: self._bus.publish(
                        events.ConversationStatusChanged(
                            conversation_id, ConversationStatus.RESOLVED.value, now
                        )
                    )
                )
        return StepResult.HANDLED

"""ComplianceService: STOP/START/HELP keywords, consent, and free-text opt-out flags.

An inbound keyword is acted on in the SAME transaction that commits the message: the
opt-out, its audit entry and the one confirmation text are committed together with the
STOP (which still lands in its conversation), so a crash can neither lose an opt-out nor
send its confirmation twice. The refusal itself is not here: every send goes through
OutboundService, whose transaction refuses an opted-out number (invariant 3).

Decisions where the law and the issue are silent:
- an opt-in keyword from a number that is not opted out changes nothing and gets no reply
  ("YES" is also how people confirm appointments);
- a second STOP from a number already opted out gets no second confirmation;
- HELP from an opted-out number gets no reply (nothing is sent to an opted-out number but
  the opt-out confirmation); the message still reaches an agent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from gateway import compliance_rules, events
from gateway.compliance_rules import Keyword, KeywordRules
from gateway.config import ComplianceSettings
from gateway.domain import (
    ConsentKind,
    ConsentRecord,
    ConsentSource,
    ConsentState,
    ConversationRecord,
    Enqueued,
    MessageOrigin,
    NumberKind,
    ThreadedMessage,
    utcnow,
)
from gateway.errors import ConfigError, ConfigProblem, InvalidInput
from gateway.logutil import mask_number
from gateway.outbox.service import Draft, OutboundService
from gateway.storage import queries, webhook_queries

if TYPE_CHECKING:
    from gateway.storage.db import Store

_LOGGER = logging.getLogger(__name__)

OPT_OUT_FLAG_TAG = "opt-out-request"
OPT_OUT_FLAG_REASON = "free-text opt-out request: an agent should decide"


@dataclass(frozen=True, slots=True)
class ComplianceOutcome:
    """What compliance did about one inbound message (all committed with it)."""

    keyword: Keyword | None = None
    consent: ConsentRecord | None = None  # the consent change recorded, if any
    reply: Enqueued | None = None  # the confirmation or help text queued, if any
    flagged: ConversationRecord | None = None  # flagged for an agent, if it was


class ComplianceService:
    """Keyword rules and consent, from [compliance]."""

    def __init__(
        self,
        store: Store,
        bus: events.EventBus,
        outbound: OutboundService,
        *,
        settings: ComplianceSettings,
        clock: Callable[[], datetime] = utcnow,
        source: str = "gateway.ini",
    ) -> None:
        self._store = store
        self._bus = bus
        self._outbound = outbound
        self._clock = clock
        self.settings = settings
        self.rules = KeywordRules.build(
            settings.opt_out_keywords, settings.opt_in_keywords, settings.help_keywords
        )
        # Checked now: a reply that cannot be queued must not make an inbound STOP fail.
        problems = []
        for key in ("opt_out_reply", "opt_in_reply", "help_reply"):
            text = getattr(settings, key)
            if text:
                try:
                    outbound.measure(text)
                except InvalidInput as exc:
                    problems.append(ConfigProblem("compliance", key, text, exc.reason))
        if problems:
            raise ConfigError(problems, source=source)

    # -------------------------------------------------------------- inbound keywords

    def apply_inbound(
        self,
        threaded: ThreadedMessage,
        *,
        now: datetime,
        healthy: Collection[str] | None,
    ) -> ComplianceOutcome:
        """Runs ON THE DB THREAD, inside the unit that commits `threaded`: act on keywords.

        Never raises for the customer's text: a failure here would keep the message on
        the SIM and have it read again and again.
        """
        contact = threaded.contact
        if contact.kind is not NumberKind.E164:
            return (
                ComplianceOutcome()
            )  # a name or short code: nobody to opt out or answer
        message = threaded.message
        keyword = compliance_rules.classify(message.body, self.rules)
        number = contact.number
        opted_out = queries.is_opted_out(number)
        consent = None
        reply_text = ""
        exempt = False
        if keyword is Keyword.OPT_OUT and not opted_out:
            consent = queries.record_consent(
                number,
                ConsentKind.OPT_OUT,
                ConsentSource.KEYWORD,
                now=now,
                actor=f"customer:{number}",
                message_id=message.id,
            )
            reply_text, exempt = self.settings.opt_out_reply, True
        elif keyword is Keyword.OPT_IN and opted_out:
            consent = queries.record_consent(
                number,
                ConsentKind.OPT_IN,
                ConsentSource.KEYWORD,
                now=now,
                actor=f"customer:{number}",
                message_id=message.id,
            )
            reply_text = self.settings.opt_in_reply
        elif keyword is Keyword.HELP and not opted_out:
            reply_text = self.settings.help_reply
        flagged = None
        if keyword is None and compliance_rules.sounds_like_opt_out(message.body):
            flagged = queries.flag_conversation(
                threaded.conversation.id,
                tag=OPT_OUT_FLAG_TAG,
                now=now,
                detail={"message_id": message.id, "reason": OPT_OUT_FLAG_REASON},
            )
        if consent is not None:
            webhook_queries.consent_changed(
                consent, now=now, conversation_id=threaded.conversation.id
            )
        reply = None
        if reply_text:
            parts, encoding = self._outbound.measure(reply_text)
            reply = self._outbound.enqueue_in_unit(
                Draft(number, reply_text, parts, encoding),
                now=now,
                healthy=healthy,
                origin=MessageOrigin.SYSTEM,
                conversation_id=threaded.conversation.id,
                consent_exempt=exempt,
            )
        return ComplianceOutcome(keyword, consent, reply, flagged)

    def announce(self, threaded: ThreadedMessage, outcome: ComplianceOutcome) -> None:
        """After the commit: events, and the reply's sender woken."""
        if outcome.consent is not None:
            opted_out = outcome.consent.kind is ConsentKind.OPT_OUT
            _LOGGER.info(
                "%s opted %s by keyword (message %s)",
                mask_number(outcome.consent.number),
                "out" if opted_out else "in",
                threaded.message.id,
            )
            self._bus.publish(
                events.ConsentChanged(
                    outcome.consent.number, opted_out, outcome.consent.at
                )
            )
        if outcome.flagged is not None:
            _LOGGER.info(
                "conversation %s flagged: message %s reads like an opt-out request",
                outcome.flagged.id,
                threaded.message.id,
            )
            self._bus.publish(
                events.ConversationFlagged(
                    outcome.flagged.id,
                    threaded.message.id,
                    OPT_OUT_FLAG_REASON,
                    outcome.flagged.updated_at,
                )
            )
        if outcome.reply is not None:
            self._outbound.announce(outcome.reply)

    # -------------------------------------------------------------- agents and the API

    async def consent(self, number: str) -> ConsentState:
        """Whether `number` is opted out now."""
        e164 = self._outbound.normalize(number)
        return await self._store.run(queries.consent_state, e164)

    async def set_consent(
        self,
        number: str,
        *,
        opted_out: bool,
        source: ConsentSource,
        actor: str,
    ) -> ConsentRecord:
        """Opt a number out or in on someone's word (an agent, an import); audited."""
        e164 = self._outbound.normalize(number)
        kind = ConsentKind.OPT_OUT if opted_out else ConsentKind.OPT_IN
        record = await self._store.run(
            _consent_unit, e164, kind, source, now=self._clock(), actor=actor
        )
        self._bus.publish(events.ConsentChanged(e164, opted_out, record.at))
        return record


def _consent_unit(
    number: str, kind: ConsentKind, source: ConsentSource, *, now: datetime, actor: str
) -> ConsentRecord:
    """ON THE DB THREAD: the consent change, its audit entry and its webhook, one commit."""
    record = queries.record_consent(number, kind, source, now=now, actor=actor)
    webhook_queries.consent_changed(record, now=now)
    return record

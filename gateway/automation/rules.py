"""PURE automation rules: `decide(state, inbound, rules, now) -> Decision`.

No I/O: the runner gathers what decide needs (the conversation's automation state, the
customer's message with its contact, context and timing, the rules and the agents'
availability), decide says what to do (actions) and what the state becomes, and the
runner applies it in the unit that commits the message.

The steps, in order, for one customer message:
  0. an agent replied in this conversation since the automation started: it stays out
     (silently);
  1. compliance: STOP (or any message from an opted-out number) ends any flow and sends
     nothing; HELP (its reply already sent) escalates to a human; a START that opted the
     customer back in gets nothing more;
  2. takeover: a takeover word or a frustration signal escalates (priority raised, the
     escalation queue, agents notified, a human takes over, "connecting you" once);
  3. the active flow's step: a triage answer, or a detail asked for (validated, stored,
     asked again at most `max_prompts` times, then a human);
  4. triage of a new conversation: a first message naming an option goes straight to
     it; else the menu is sent (when enabled);
  5. routing (once per conversation, when no question is pending): queue, tags,
     priority, assignee (rule, account owner, sticky agent, round robin or least busy
     among the queue's online agents);
  6. business hours (no question pending, no agent reply within `agent_recent_s`): the
     acknowledgement once per conversation, or after hours when a human will answer.

The guarantees, enforced here whatever the rules (tests/gateway/automation prove them):
  - never a loop: a question is asked again at most `max_prompts` times, and at most
    `max_questions` questions are sent in a conversation; the next would be a hand-over;
  - always a human: every path that stops asking ends in a hand-over, and nothing is
    asked after it;
  - compliance first: no text is decided for a number that is opted out (or that just
    sent STOP), nor for a sender that cannot be replied to.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import TypeVar

from gateway.automation import matching, schedule
from gateway.automation.matching import Choice, FrustrationRules
from gateway.automation.schedule import Schedule
from gateway.domain import JsonObject, JsonValue, Priority

ESCALATED_TAG = "escalated"
HELP_TAG = "help-requested"
# A question asked again: the menu (without its intro) after this; a detail's own retry
# text, else this with its label.
MENU_RETRY = "Sorry, I didn't catch that."
FIELD_RETRY = "Sorry, I couldn't find the {label} in that. Please try again."
WHEN_UNKNOWN = "as soon as we can"  # {when} of a queue that never opens
MAX_FIELD_VALUE_CHARS = 1000  # a contact attribute's limit
PRIORITY_ORDER = tuple(Priority)

A = TypeVar("A")


# ---------------------------------------------------------------------- the rules


class Assignment(enum.StrEnum):
    """How a queue gives conversations to its online members."""

    NONE = "none"  # nobody: agents pick from the queue
    ROUND_ROBIN = "round_robin"
    LEAST_BUSY = "least_busy"  # fewest open conversations assigned


class FieldKind(enum.StrEnum):
    PATTERN = "pattern"  # the first match of a regular expression (an order number)
    YES_NO = "yes_no"  # yes or no (an address confirmation)
    TEXT = "text"  # any answer


class MatchKind(enum.StrEnum):
    """What a routing rule looks at."""

    KEYWORD = "keyword"  # words in the message (value: comma-separated phrases)
    ATTRIBUTE = "attribute"  # a contact attribute (key) equal to value
    CONTEXT = "context"  # the conversation's context or the replied-to text's (key)


@dataclass(frozen=True, slots=True)
class FieldSpec:
    """A detail a flow asks for."""

    name: str  # stored under this key on the conversation's context and the contact
    label: str
    prompt: str
    kind: FieldKind = FieldKind.TEXT
    pattern: str | None = None  # PATTERN: a regular expression
    retry: str = (
        ""  # asked after an answer that does not fit; "" = FIELD_RETRY + prompt
    )
    save_to_contact: bool = True


@dataclass(frozen=True, slots=True)
class Flow:
    """Collection of details: ask each field in turn, then hand over to a human."""

    id: int
    name: str
    fields: tuple[FieldSpec, ...]
    done_text: str = ""  # "" = the connecting text


@dataclass(frozen=True, slots=True)
class TriageOption:
    id: int
    key: str  # what the customer replies: 1, 2, A, B
    label: str  # shown in the menu: "billing"
    keywords: tuple[str, ...] = ()
    queue: str | None = None
    tags: tuple[str, ...] = ()
    assignee_id: int | None = None
    flow_id: int | None = None  # collect details before the hand-over


@dataclass(frozen=True, slots=True)
class Triage:
    intro: str  # before the generated "Reply 1 for billing, 2 for delivery."
    options: tuple[TriageOption, ...]
    ask: bool = True  # send the menu when the first message names no option

    def menu(self, *, intro: bool = True) -> str:
        """The menu text: the intro, then the options as the customer replies to them."""
        entries = ", ".join(f"{o.key} for {o.label}" for o in self.options)
        start = self.intro if intro else ""
        if not entries:
            return start
        return f"{start} Reply {entries}.".strip()


@dataclass(frozen=True, slots=True)
class RoutingRule:
    id: int
    name: str
    kind: MatchKind
    value: str  # KEYWORD: phrases, comma-separated; else the value to equal
    key: str = ""  # ATTRIBUTE / CONTEXT: which key
    queue: str | None = None
    tags: tuple[str, ...] = ()
    priority: Priority | None = None  # raised to, never lowered
    assignee_id: int | None = None


@dataclass(frozen=True, slots=True)
class QueueRules:
    name: str
    assignment: Assignment = Assignment.NONE
    members: tuple[int, ...] = ()  # user ids
    last_assigned_id: int | None = None  # round robin's position
    schedule: Schedule | None = None  # None: always open
    ack_text: str = ""  # "" = the default
    after_hours_text: str = ""  # "" = the default


@dataclass(frozen=True, slots=True)
class RuleSet:
    """Everything decide follows: gateway.ini's [automation] with the admins' changes."""

    enabled: bool = True
    max_prompts: int = 2
    max_questions: int = 6
    takeover_words: tuple[str, ...] = ("agent", "human", "person", "representative")
    frustration: FrustrationRules = field(
        default_factory=lambda: FrustrationRules(
            words=("third time", "ridiculous"),
            messages=3,
            window_s=600.0,
            caps_min_letters=12,
            exclamation_run=3,
        )
    )
    escalation_queue: str = "escalations"
    escalation_priority: Priority = Priority.HIGH
    connecting_text: str = "Thanks - one moment while I connect you to an agent."
    ack_text: str = ""
    after_hours_text: str = ""
    agent_recent_s: float = 1800.0
    default_queue: str = ""
    sticky_agent: bool = True
    triage: Triage | None = None
    flows: Mapping[int, Flow] = field(default_factory=dict)
    routing: tuple[RoutingRule, ...] = ()
    queues: Mapping[str, QueueRules] = field(default_factory=dict)


# ---------------------------------------------------------------------- the state


class Phase(enum.StrEnum):
    IDLE = "idle"  # nothing asked: routing and acknowledgements only
    TRIAGE = "triage"  # the menu was sent; waiting for an answer
    COLLECT = "collect"  # a detail was asked for; waiting for it
    HANDED_OVER = "handed_over"  # a human has it: nothing more is asked, ever


@dataclass(frozen=True, slots=True)
class AutomationState:
    """A conversation's automation state (one row per conversation)."""

    phase: Phase = Phase.IDLE
    flow_id: int | None = None
    step: int = 0  # the field being asked for
    attempts: int = 0  # answers to the pending question that did not fit
    prompts: int = 0  # questions sent in this conversation, asked again or not
    fields: Mapping[str, str] = field(default_factory=dict)
    handover_reason: str | None = None
    escalated: bool = False
    routed: bool = False
    acknowledged: bool = False  # the acknowledgement (or an after-hours reply) was sent
    closed_notice_until: datetime | None = None  # after-hours reply sent until then
    last_prompt_at: datetime | None = None
    started_at: datetime | None = None  # when the automation first saw the conversation
    # when it handed over (storage records it as the hand-over is saved; decide ignores it)
    handed_over_at: datetime | None = None

    @property
    def handed_over(self) -> bool:
        return self.phase is Phase.HANDED_OVER

    @property
    def asking(self) -> bool:
        """A question is pending: the customer's next message answers it."""
        return self.phase in (Phase.TRIAGE, Phase.COLLECT)


# ---------------------------------------------------------------------- the message


@dataclass(frozen=True, slots=True)
class Agent:
    """An active user as assignment sees them."""

    id: int
    online: bool
    open_assigned: int  # open conversations assigned to them now


@dataclass(frozen=True, slots=True)
class Inbound:
    """A customer's message and what the runner knows around it."""

    text: str
    new_conversation: bool  # this message started (or reopened) the conversation
    repliable: bool = True  # a number we can text (not an alphanumeric sender)
    keyword: str | None = None  # compliance: opt_out, opt_in, help (or None)
    compliance_acted: bool = False  # compliance answered or applied the keyword
    opted_out: bool = False  # after this message's keyword
    attributes: JsonObject = field(default_factory=dict)  # the contact's
    context: JsonObject = field(default_factory=dict)  # the conversation's
    reply_context: JsonObject = field(default_factory=dict)  # the replied-to text's
    queue: str | None = None
    assignee_id: int | None = None
    priority: Priority = Priority.NORMAL
    last_agent_reply_at: datetime | None = None
    # the customer's messages since the last reply to them, this one included
    unanswered: tuple[datetime, ...] = ()
    last_handler_id: int | None = None  # the agent who last handled this customer
    owner_id: int | None = None  # their account owner (contact attribute), if a user
    agents: Mapping[int, Agent] = field(default_factory=dict)  # active users


# ---------------------------------------------------------------------- the decision


class TextPurpose(enum.StrEnum):
    PROMPT = "prompt"  # a question (menu or detail)
    REPROMPT = "reprompt"  # the same question again
    CONNECTING = "connecting"  # a human takes over
    ACK = "ack"  # business hours: we typically reply within ...
    AFTER_HOURS = "after_hours"


QUESTIONS = (TextPurpose.PROMPT, TextPurpose.REPROMPT)


@dataclass(frozen=True, slots=True)
class SendText:
    body: str
    purposes: tuple[TextPurpose, ...]  # several texts of one decision go as one SMS

    def describe(self) -> str:
        return f"text the customer ({', '.join(self.purposes)}): {self.body}"


@dataclass(frozen=True, slots=True)
class SetQueue:
    queue: str

    def describe(self) -> str:
        return f"queue: {self.queue}"


@dataclass(frozen=True, slots=True)
class AddTags:
    tags: tuple[str, ...]

    def describe(self) -> str:
        return f"tag: {', '.join(self.tags)}"


@dataclass(frozen=True, slots=True)
class SetPriority:
    priority: Priority

    def describe(self) -> str:
        return f"priority: {self.priority}"


@dataclass(frozen=True, slots=True)
class Assign:
    user_id: int
    how: str  # rule, triage, owner, sticky, round_robin, least_busy
    queue: str | None = None  # round robin: the queue whose position moves

    def describe(self) -> str:
        return f"assign to user {self.user_id} ({self.how.replace('_', ' ')})"


@dataclass(frozen=True, slots=True)
class StoreField:
    name: str
    value: str
    on_contact: bool

    def describe(self) -> str:
        where = "conversation and contact" if self.on_contact else "conversation"
        return f"store {self.name} = {self.value!r} on the {where}"


@dataclass(frozen=True, slots=True)
class HandOver:
    reason: str

    def describe(self) -> str:
        return f"hand over to a human: {self.reason}"


@dataclass(frozen=True, slots=True)
class NotifyAgents:
    reason: str

    def describe(self) -> str:
        return f"notify agents: {self.reason}"


Action = (
    SendText | SetQueue | AddTags | SetPriority | Assign | StoreField | HandOver
) | NotifyAgents


@dataclass(frozen=True, slots=True)
class Decision:
    actions: tuple[Action, ...]
    state: AutomationState
    trace: tuple[str, ...]  # why, step by step (the rule tester shows it)

    @property
    def texts(self) -> tuple[SendText, ...]:
        return tuple(a for a in self.actions if isinstance(a, SendText))

    def of(self, kind: type[A]) -> list[A]:
        return [a for a in self.actions if isinstance(a, kind)]


# ---------------------------------------------------------------------- decide


def decide(
    state: AutomationState, inbound: Inbound, rules: RuleSet, now: datetime
) -> Decision:
    """What the automation does about one customer message, and its state afterwards."""
    draft = _Draft(state, inbound, rules, now)
    if not rules.enabled:
        draft.note("automation is off: the message waits for an agent")
        return draft.finish()
    if inbound.new_conversation or state.started_at is None:
        draft.state = AutomationState(started_at=now)
    draft.run()
    return draft.finish()


class _Draft:
    """decide's working copy: actions so far, the state as it becomes, the trace."""

    def __init__(
        self, state: AutomationState, inbound: Inbound, rules: RuleSet, now: datetime
    ) -> None:
        self.state = state
        self.inbound = inbound
        self.rules = rules
        self.now = now
        self.actions: list[Action] = []
        self.texts: list[tuple[str, TextPurpose]] = []
        self.trace: list[str] = []
        self.queue = inbound.queue  # as this decision leaves it
        # set by an agent, escalation or triage: routing rules keep it
        self.queue_decided = inbound.queue is not None
        self.assignee = inbound.assignee_id
        self.priority = inbound.priority
        # nothing of ours is texted: compliance answered, the number is opted out, or
        # the sender cannot be replied to
        self.silent = not inbound.repliable
        self.connecting = ""  # the hand-over's text, sent once

    # ------------------------------------------------------------ building blocks

    def note(self, text: str) -> None:
        self.trace.append(text)

    def say(self, body: str, purpose: TextPurpose) -> None:
        if body.strip():
            self.texts.append((body.strip(), purpose))

    def set_queue(self, queue: str | None, why: str) -> None:
        if queue and queue != self.queue:
            self.actions.append(SetQueue(queue))
            self.note(f"queue {queue} ({why})")
        if queue:
            self.queue = queue

    def add_tags(self, tags: Sequence[str]) -> None:
        if tags:
            self.actions.append(AddTags(tuple(tags)))

    def raise_priority(self, priority: Priority, why: str) -> None:
        if PRIORITY_ORDER.index(priority) > PRIORITY_ORDER.index(self.priority):
            self.actions.append(SetPriority(priority))
            self.note(f"priority raised to {priority} ({why})")
            self.priority = priority

    def assign(self, user_id: int, how: str, queue: str | None = None) -> None:
        self.actions.append(Assign(user_id, how, queue))
        self.assignee = user_id
        self.note(f"assigned to user {user_id} ({how.replace('_', ' ')})")

    def ask(self, body: str, *, again: bool, why: str) -> None:
        """Send a question, unless it would be one too many: then a human takes over."""
        if self.silent:
            self.hand_over("no question can be texted to this sender", connect=False)
            return
        limit = self.rules.max_questions
        if self.state.prompts >= limit:
            self.note(f"{limit} questions asked already (max_questions)")
            self.hand_over(f"{limit} questions asked without an end", connect=True)
            return
        purpose = TextPurpose.REPROMPT if again else TextPurpose.PROMPT
        self.say(body, purpose)
        self.state = replace(
            self.state, prompts=self.state.prompts + 1, last_prompt_at=self.now
        )
        self.note(f"{'asked again' if again else 'asked'}: {why}")

    def hand_over(self, reason: str, *, connect: bool, text: str = "") -> None:
        """A human takes it from here; the customer is told once (when `connect`)."""
        if self.state.handed_over:
            return
        self.actions.append(HandOver(reason))
        self.state = replace(
            self.state,
            phase=Phase.HANDED_OVER,
            handover_reason=reason,
            flow_id=None,
            step=0,
            attempts=0,
        )
        self.note(f"handed over to a human: {reason}")
        if connect and not self.silent:
            self.connecting = text or self.rules.connecting_text

    def escalate(self, reason: str, *, tag: str = ESCALATED_TAG) -> None:
        """Takeover or frustration: priority up, the escalation queue, agents told."""
        connect = not self.state.handed_over
        if self.rules.escalation_queue:
            self.set_queue(self.rules.escalation_queue, "escalation")
            self.queue_decided = True
            if self.assignee is None:  # someone of the escalation queue takes it
                self.state = replace(self.state, routed=False)
        self.add_tags((tag,))
        self.raise_priority(self.rules.escalation_priority, "escalation")
        self.actions.append(NotifyAgents(reason))
        self.hand_over(reason, connect=connect)
        self.state = replace(self.state, escalated=True)

    # ------------------------------------------------------------ the steps

    def run(self) -> None:
        inbound, state = self.inbound, self.state
        if (
            inbound.last_agent_reply_at is not None
            and state.started_at is not None
            and inbound.last_agent_reply_at >= state.started_at
            and not state.handed_over
        ):
            self.hand_over("an agent replied", connect=False)
            return
        if not self._compliance():
            return
        if self.silent and self.state.asking:
            self.hand_over("no question can be texted to this sender", connect=False)
        if self._takeover():
            pass
        elif self.state.phase is Phase.COLLECT:
            self._collect_step()
        elif self.state.phase is Phase.TRIAGE:
            self._triage_answer()
        elif self.state.phase is Phase.IDLE and inbound.new_conversation:
            self._triage_new()
        if not self.state.asking:
            self._route()
            self._business_hours()

    def _compliance(self) -> bool:
        """False when compliance ends the automation's part for this message."""
        inbound = self.inbound
        if inbound.keyword == "opt_out" or inbound.opted_out:
            # Never asked again: STOP ends any flow for good (a later START finds a
            # human, not the flow).
            if self.state.asking:
                self.note("opted out: the flow ends")
            self.note("opted out: nothing is ever texted")
            self.silent = True
            self.state = replace(
                self.state,
                phase=Phase.HANDED_OVER,
                handover_reason=self.state.handover_reason or "opted out",
                flow_id=None,
                step=0,
                attempts=0,
            )
            if inbound.keyword == "opt_out":
                return False
            self._route()  # their message still finds its agent
            return False
        if inbound.keyword == "help":
            self.note("help keyword: compliance replied; a human is flagged")
            self.silent = True  # the help reply is the one text
            if not self.state.escalated:
                self.escalate("the customer asked for help", tag=HELP_TAG)
            return True
        if inbound.keyword == "opt_in" and inbound.compliance_acted:
            self.note("opted back in: compliance replied; nothing more")
            return False
        return True

    def _takeover(self) -> bool:
        """True when the message escalated (or the conversation is escalated already)."""
        if self.state.escalated:
            return True
        text_words = matching.words(self.inbound.text)
        word = matching.first_phrase(text_words, self.rules.takeover_words)
        if word is not None:
            self.note(f"takeover word {matching.normalise(word)!r}")
            self.escalate(f"the customer asked for a person ({word!r})")
            return True
        signals = matching.frustration_signals(
            self.inbound.text, self.inbound.unanswered, self.now, self.rules.frustration
        )
        if signals:
            self.note(f"frustration: {'; '.join(signals)}")
            self.escalate(f"frustration signals: {'; '.join(signals)}")
            return True
        return False

    # triage

    def _choices(self) -> tuple[Choice, ...]:
        triage = self.rules.triage
        assert triage is not None
        return tuple(Choice(o.key, o.label, o.keywords) for o in triage.options)

    def _triage_new(self) -> None:
        triage = self.rules.triage
        if triage is None or not triage.options:
            return
        picked = matching.pick(self.inbound.text, self._choices(), by_key=False)
        if picked is not None:
            self.note(f"the first message names {triage.options[picked.index].label}")
            self._choose(triage.options[picked.index], picked.how)
            return
        if not triage.ask:
            self.note("the first message names no triage option")
            return
        self.state = replace(self.state, phase=Phase.TRIAGE, attempts=0)
        self.ask(triage.menu(), again=False, why="the triage menu")

    def _triage_answer(self) -> None:
        triage = self.rules.triage
        if triage is None or not triage.options:
            self.hand_over("the triage menu is gone", connect=True)
            return
        picked = matching.pick(self.inbound.text, self._choices(), by_key=True)
        if picked is not None:
            self._choose(triage.options[picked.index], picked.how)
            return
        self._missed(
            "no triage option fits", f"{MENU_RETRY} {triage.menu(intro=False)}"
        )

    def _missed(self, what: str, again: str) -> None:
        """An answer that does not fit the pending question: ask again, or a human."""
        attempts = self.state.attempts + 1
        self.state = replace(self.state, attempts=attempts)
        if attempts > self.rules.max_prompts:
            self.note(
                f"{what}, {attempts} times (max_prompts {self.rules.max_prompts})"
            )
            self.hand_over(f"{what} after {attempts} tries", connect=True)
            return
        self.ask(again, again=True, why=f"{what} (try {attempts})")

    def _choose(self, option: TriageOption, how: str) -> None:
        self.note(f"triage: {option.label} ({how})")
        self.set_queue(option.queue, f"triage {option.label}")
        self.queue_decided = self.queue_decided or bool(option.queue)
        self.add_tags(option.tags)
        if option.assignee_id is not None and self.assignee is None:
            if option.assignee_id in self.inbound.agents:
                self.assign(option.assignee_id, "triage")
            else:
                self.note(f"user {option.assignee_id} of {option.label} is not active")
        flow = self.rules.flows.get(option.flow_id) if option.flow_id else None
        if flow is not None and flow.fields:
            self.state = replace(
                self.state,
                phase=Phase.COLLECT,
                flow_id=flow.id,
                step=0,
                attempts=0,
            )
            self.ask(flow.fields[0].prompt, again=False, why=f"{flow.name}: field 1")
            return
        self.hand_over(f"triage: {option.label}", connect=True)

    # collection

    def _collect_step(self) -> None:
        flow = self.rules.flows.get(self.state.flow_id or 0)
        if flow is None or self.state.step >= len(flow.fields):
            self.hand_over("the flow is gone", connect=True)
            return
        spec = flow.fields[self.state.step]
        value = validate(spec, self.inbound.text)
        if value is None:
            again = spec.retry or FIELD_RETRY.format(label=spec.label)
            self._missed(f"no valid {spec.label}", again)
            return
        self.actions.append(StoreField(spec.name, value, spec.save_to_contact))
        self.note(f"{spec.label}: {value!r}")
        step = self.state.step + 1
        self.state = replace(
            self.state,
            fields={**self.state.fields, spec.name: value},
            step=step,
            attempts=0,
        )
        if step < len(flow.fields):
            nxt = flow.fields[step]
            self.ask(nxt.prompt, again=False, why=f"{flow.name}: field {step + 1}")
            return
        self.hand_over(
            f"{flow.name}: details collected", connect=True, text=flow.done_text
        )

    # routing

    def _route(self) -> None:
        if self.state.routed:
            return
        rules, inbound = self.rules, self.inbound
        self.state = replace(self.state, routed=True)
        matched = [r for r in rules.routing if _matches(r, inbound)]
        for rule in matched:
            self.note(f"routing rule {rule.name!r} matches")
            if not self.queue_decided and rule.queue:
                self.set_queue(rule.queue, f"rule {rule.name!r}")
                self.queue_decided = True
            self.add_tags(rule.tags)
            if rule.priority is not None:
                self.raise_priority(rule.priority, f"rule {rule.name!r}")
        if not self.queue and rules.default_queue:
            self.set_queue(rules.default_queue, "the default queue")
        if self.assignee is not None:
            return
        for rule in matched:
            if rule.assignee_id is not None and rule.assignee_id in inbound.agents:
                self.assign(rule.assignee_id, "rule")
                return
        if inbound.owner_id is not None and inbound.owner_id in inbound.agents:
            self.assign(inbound.owner_id, "owner")
            return
        sticky = inbound.last_handler_id
        if rules.sticky_agent and sticky is not None:
            agent = inbound.agents.get(sticky)
            if agent is not None and agent.online:
                self.assign(sticky, "sticky")
                return
            self.note(f"user {sticky} handled them last but is not online")
        self._auto_assign()

    def _auto_assign(self) -> None:
        queue = self.rules.queues.get(self.queue or "")
        if queue is None or queue.assignment is Assignment.NONE:
            return
        online = sorted(
            m
            for m in queue.members
            if (a := self.inbound.agents.get(m)) is not None and a.online
        )
        if not online:
            self.note(f"nobody in {queue.name} is online: it waits in the queue")
            return
        if queue.assignment is Assignment.ROUND_ROBIN:
            last = queue.last_assigned_id
            after = [m for m in online if last is not None and m > last]
            self.assign((after or online)[0], "round_robin", queue.name)
            return
        loads = self.inbound.agents
        chosen = min(online, key=lambda m: (loads[m].open_assigned, m))
        self.assign(chosen, "least_busy", queue.name)

    # business hours

    def _business_hours(self) -> None:
        if self.silent:
            return
        inbound, rules, state = self.inbound, self.rules, self.state
        last = inbound.last_agent_reply_at
        if last is not None and self.now - last < timedelta(
            seconds=rules.agent_recent_s
        ):
            self.note("an agent replied recently: no acknowledgement")
            return
        queue = rules.queues.get(self.queue or "")
        hours = queue.schedule if queue is not None else None
        if hours is not None and not schedule.is_open(hours, self.now):
            if (
                state.closed_notice_until is not None
                and self.now < state.closed_notice_until
            ):
                self.note("closed: the customer was told when we open already")
                return
            text = (queue.after_hours_text if queue else "") or rules.after_hours_text
            opening = schedule.next_opening(hours, self.now)
            when = (
                schedule.describe_opening(opening, self.now, hours.timezone)
                if opening is not None
                else WHEN_UNKNOWN
            )
            self.state = replace(
                self.state,
                acknowledged=True,
                closed_notice_until=opening or self.now + timedelta(days=1),
            )
            if text:
                self.connecting = ""  # "one moment" would be untrue: this says when
                self.say(text.replace("{when}", when), TextPurpose.AFTER_HOURS)
                self.note(f"closed: a human answers {when}")
            return
        if state.acknowledged:
            return
        text = (queue.ack_text if queue else "") or rules.ack_text
        self.state = replace(self.state, acknowledged=True)
        if text:
            self.say(text, TextPurpose.ACK)
            self.note("acknowledged (open)")

    # the end

    def finish(self) -> Decision:
        texts = list(self.texts)
        if self.connecting:
            texts.insert(
                _first_non_question(texts), (self.connecting, TextPurpose.CONNECTING)
            )
        actions = list(self.actions)
        if texts:
            # the last line of defence; the runner checks the consent again in its unit
            if self.silent or not self.inbound.repliable:
                self.note("no text: compliance answered, or nobody to text")
            elif self.inbound.opted_out or self.inbound.keyword == "opt_out":
                self.note("opted out: no text")
            else:
                body = " ".join(t for t, _ in texts)
                actions.append(SendText(body, tuple(p for _, p in texts)))
        return Decision(tuple(actions), self.state, tuple(self.trace))


def _first_non_question(texts: Sequence[tuple[str, TextPurpose]]) -> int:
    for index, (_, purpose) in enumerate(texts):
        if purpose not in QUESTIONS:
            return index
    return len(texts)


# ---------------------------------------------------------------------- helpers


def validate(spec: FieldSpec, answer: str) -> str | None:
    """The value an answer gives a field, or None when it does not fit."""
    text = answer.strip()
    if not text:
        return None
    if spec.kind is FieldKind.YES_NO:
        said = matching.yes_or_no(text)
        return None if said is None else ("yes" if said else "no")
    if spec.kind is FieldKind.PATTERN:
        try:
            found = re.search(spec.pattern or "", text)
        except re.error:
            return None
        if found is None:
            return None
        value = found.group(1) if found.re.groups else found.group(0)
        return value[:MAX_FIELD_VALUE_CHARS] if value else None
    return text[:MAX_FIELD_VALUE_CHARS]


def _text(value: JsonValue) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def _equal(value: JsonValue, wanted: str) -> bool:
    return matching.normalise(_text(value)) == matching.normalise(wanted)


def _matches(rule: RoutingRule, inbound: Inbound) -> bool:
    if rule.kind is MatchKind.KEYWORD:
        phrases = [p for p in rule.value.split(",") if matching.normalise(p)]
        return matching.first_phrase(matching.words(inbound.text), phrases) is not None
    if rule.kind is MatchKind.ATTRIBUTE:
        return rule.key in inbound.attributes and _equal(
            inbound.attributes[rule.key], rule.value
        )
    merged = {**inbound.context, **inbound.reply_context}
    return rule.key in merged and _equal(merged[rule.key], rule.value)

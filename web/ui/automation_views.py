"""What the Automation page shows: the rules as stored (one read each of the editor's
view and the queues), the settings as inputs, and the rule tester's answer told in words.

Only reads and presentation: AutomationService decides, this module collects and names.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from gateway.automation.records import RulesView, SettingValue, TestResult, TestStep
from gateway.automation.rules import (
    AddTags,
    Assign,
    HandOver,
    NotifyAgents,
    SendText,
    SetPriority,
    SetQueue,
    StoreField,
)
from gateway.automation.service import QueueView
from gateway.config import Boolean, Choice, settings_in
from gateway.errors import InvalidInput, NotFound
from gateway.outbox.service import SegmentCount
from gateway.services import Services
from web.ui.automation_forms import TesterInput

# Settings whose values are sentences or lists: a text area, not a line.
LONG_SETTINGS = frozenset(
    {
        "takeover_words",
        "frustration_words",
        "connecting_text",
        "ack_text",
        "after_hours_text",
    }
)
_USER = re.compile(r"\buser (\d+)\b")


@dataclass(frozen=True, slots=True)
class SettingInput:
    """An [automation] key as its input shows it."""

    key: str
    label: str
    help: str
    form: str  # what the value must be
    value: str  # in force: the admins' value, else gateway.ini's
    ini: str  # gateway.ini's value (the default)
    changed: bool  # the admins' value is in force
    updated_by: str | None
    updated_at: datetime | None
    widget: str  # "select", "textarea" or "input"
    options: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class AutomationPage:
    rules: RulesView
    queues: tuple[QueueView, ...]
    settings: tuple[SettingInput, ...]

    @property
    def user_names(self) -> dict[int, str]:
        return {u.id: u.display_name for u in self.rules.users}

    @property
    def flow_names(self) -> dict[int, str]:
        return {f.id: f.name for f in self.rules.snapshot.flows}

    @property
    def queue_names(self) -> tuple[str, ...]:
        return tuple(q.queue.name for q in self.queues)


async def automation_page(services: Services) -> AutomationPage:
    """The editor's rules, settings and queues (reads only)."""
    rules = await services.automation.view()
    queues = tuple(await services.automation.queues())
    return AutomationPage(rules, queues, setting_inputs(rules.settings))


def setting_inputs(values: Sequence[SettingValue]) -> tuple[SettingInput, ...]:
    types = {s.key: s.type for s in settings_in("automation")}
    found = []
    for value in values:
        kind = types.get(value.key)
        options: tuple[str, ...] = ()
        if isinstance(kind, Boolean):
            options = ("yes", "no")
        elif isinstance(kind, Choice):
            options = tuple(kind.options)
        widget = (
            "select"
            if options
            else "textarea"
            if value.key in LONG_SETTINGS
            else "input"
        )
        found.append(
            SettingInput(
                key=value.key,
                label=value.key.replace("_", " "),
                help=value.help,
                form=value.form,
                value=value.value,
                ini=value.ini,
                changed=value.override is not None,
                updated_by=value.updated_by,
                updated_at=value.updated_at,
                widget=widget,
                options=options,
            )
        )
    return tuple(found)


# ---------------------------------------------------------------------- the tester


@dataclass(frozen=True, slots=True)
class OutText:
    body: str
    purposes: str  # "prompt", "connecting, ack" ...
    parts: int = 1  # SMS parts on the air
    encoding: str = "gsm7"  # "gsm7" or "ucs2"


@dataclass(frozen=True, slots=True)
class StepView:
    """One customer message of a test and what would happen, in words."""

    number: int
    text: str
    at: str  # local time, as the page shows it
    compliance: tuple[str, ...]
    texts: tuple[OutText, ...]  # what the customer would get
    changes: tuple[str, ...]  # queue, tags, priority, assignee, stored details
    handover: str | None
    notify: tuple[str, ...]
    trace: tuple[str, ...]  # why, step by step
    phase: str  # the automation's phase afterwards
    prompts: int  # questions sent so far


@dataclass(frozen=True, slots=True)
class TestOutcome:
    """The whole test: each message's step and where the conversation ends up."""

    steps: tuple[StepView, ...]
    contact: str | None
    queue: str | None
    tags: tuple[str, ...]
    assignee: str | None
    priority: str | None
    handover: str | None
    texts_sent: int


async def run_test(
    services: Services, asked: TesterInput, zone: ZoneInfo
) -> TestOutcome:
    """AutomationService.test over the contact with the number asked (if any)."""
    contact_id = None
    if asked.number:
        try:
            profile = await services.contacts.lookup(asked.number)
        except InvalidInput as exc:
            raise InvalidInput("number", exc.reason) from None
        except NotFound:
            raise InvalidInput(
                "number", "no contact has this number (leave it empty)"
            ) from None
        contact_id = profile.contact.id
    result = await services.automation.test(
        asked.messages,
        contact_id=contact_id,
        context=asked.context,
        at=asked.at,
        start=asked.start,
    )
    return outcome_of(result, zone, services.outbound.count)


def outcome_of(
    result: TestResult,
    zone: ZoneInfo,
    count: Callable[[str], SegmentCount] | None,
) -> TestOutcome:
    """The tester's answer in words: user ids become names; each text with its parts
    when `count` is given."""
    names = result.user_names
    steps = []
    queue = assignee = priority = handover = None
    tags: list[str] = []
    sent = 0
    for number, step in enumerate(result.steps, start=1):
        view = _step(number, step, names, zone, count)
        steps.append(view)
        decision = step.decision
        for action in decision.actions if decision else ():
            if isinstance(action, SetQueue):
                queue = action.queue
            elif isinstance(action, AddTags):
                tags += [t for t in action.tags if t not in tags]
            elif isinstance(action, Assign):
                assignee = _name(action.user_id, names)
            elif isinstance(action, SetPriority):
                priority = action.priority.value
            elif isinstance(action, HandOver) and handover is None:
                handover = action.reason
            elif isinstance(action, SendText):
                sent += 1
    return TestOutcome(
        tuple(steps),
        result.contact,
        queue,
        tuple(tags),
        assignee,
        priority,
        handover,
        sent,
    )


def _step(
    number: int,
    step: TestStep,
    names: Mapping[int, str],
    zone: ZoneInfo,
    count: Callable[[str], SegmentCount] | None,
) -> StepView:
    decision = step.decision
    texts: list[OutText] = []
    changes: list[str] = []
    handover = None
    notify: list[str] = []
    for action in decision.actions if decision else ():
        if isinstance(action, SendText):
            purposes = ", ".join(action.purposes)
            if count is None:
                texts.append(OutText(action.body, purposes))
            else:
                cost = count(action.body)
                texts.append(OutText(action.body, purposes, cost.parts, cost.encoding))
        elif isinstance(action, SetQueue):
            changes.append(f"queue: {action.queue}")
        elif isinstance(action, AddTags):
            changes.append(f"tags: {', '.join(action.tags)}")
        elif isinstance(action, SetPriority):
            changes.append(f"priority: {action.priority.value}")
        elif isinstance(action, Assign):
            how = action.how.replace("_", " ")
            changes.append(f"assigned to {_name(action.user_id, names)} ({how})")
        elif isinstance(action, StoreField):
            where = "conversation and contact" if action.on_contact else "conversation"
            changes.append(f"stores {action.name} = {action.value} on the {where}")
        elif isinstance(action, HandOver):
            handover = action.reason
        elif isinstance(action, NotifyAgents):
            notify.append(action.reason)
    state = decision.state if decision else step.state_before
    trace = decision.trace if decision else ()
    return StepView(
        number=number,
        text=step.text,
        at=step.at.astimezone(zone).strftime("%a %d %b %H:%M"),
        compliance=step.compliance,
        texts=tuple(texts),
        changes=tuple(changes),
        handover=handover,
        notify=tuple(notify),
        trace=tuple(_USER.sub(lambda m: _name(int(m[1]), names), t) for t in trace),
        phase=state.phase.value.replace("_", " "),
        prompts=state.prompts,
    )


def _name(user_id: int, names: Mapping[int, str]) -> str:
    return names.get(user_id, f"user {user_id}")

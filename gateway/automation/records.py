"""Frozen values of automation that storage builds and the web layer renders (no storage
imports here): the admins' rules as stored, queues, the tester's answer.

Triage options, flows and routing rules are the rules module's own dataclasses
(`TriageOption`, `Flow`, `RoutingRule`); storage hands them out in their order.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from gateway.automation.rules import (
    AutomationState,
    Decision,
    Flow,
    RoutingRule,
    RuleSet,
    TriageOption,
)


@dataclass(frozen=True, slots=True)
class QueueRecord:
    """A queue as stored: hours and holidays in their text form (schedule.parse_*)."""

    id: int
    name: str
    description: str
    assignment: str
    timezone: str | None  # None: [gateway] timezone
    hours: str | None  # None: always open
    holidays: str
    ack_text: str
    after_hours_text: str
    last_assigned_id: int | None
    members: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class SettingValue:
    """An [automation] key as the admins see it: the ini's value and theirs, if any."""

    key: str
    help: str
    form: str
    ini: str  # gateway.ini's value (or its default), in the ini's text form
    override: str | None  # the admins' value, or None
    updated_by: str | None = None
    updated_at: datetime | None = None

    @property
    def value(self) -> str:
        return self.ini if self.override is None else self.override


@dataclass(frozen=True, slots=True)
class RulesSnapshot:
    """Every rule row, in order, as one read gives them."""

    overrides: Mapping[str, str]  # [automation] key (or triage_*) -> text
    triage_options: tuple[TriageOption, ...]
    flows: tuple[Flow, ...]
    routing: tuple[RoutingRule, ...]
    queues: tuple[QueueRecord, ...]


@dataclass(frozen=True, slots=True)
class UserChoice:
    """A user the editor offers (assignees, queue members)."""

    id: int
    username: str
    display_name: str
    active: bool
    online: bool = False
    away: bool = False


@dataclass(frozen=True, slots=True)
class RulesView:
    """The rules editor's page: settings, rows, the users to pick from, problems."""

    settings: tuple[SettingValue, ...]
    triage_intro: str
    triage_ask: bool
    snapshot: RulesSnapshot
    rules: RuleSet
    users: tuple[UserChoice, ...]
    problems: tuple[str, ...]  # stored values that no longer read (kept, not applied)


class TestStart(enum.StrEnum):
    """Where the rule tester's conversation stands before its first message."""

    NEW = "new"  # the first message starts the conversation (triage runs)
    OPEN = "open"  # an open conversation the automation asked nothing in yet
    AGENT_REPLIED = "agent_replied"  # an agent replied a few minutes before


@dataclass(frozen=True, slots=True)
class TestStep:
    """One message of a rule test and what would happen."""

    text: str
    at: datetime
    compliance: tuple[str, ...]  # what compliance would do first
    decision: Decision | None  # None: compliance alone (STOP) or a hook's
    state_before: AutomationState


@dataclass(frozen=True, slots=True)
class TestResult:
    """The rule tester's answer: nothing was sent or changed."""

    steps: tuple[TestStep, ...]
    contact: str | None  # who the test played (their display), if a contact was picked
    queue_names: Mapping[int, str] = field(default_factory=dict)
    user_names: Mapping[int, str] = field(default_factory=dict)

"""PURE: the RuleSet decide follows, from gateway.ini's [automation] and the admins' rows.

An admin's value for an [automation] key is stored in the ini's text form and read by the
same type as the ini's (gateway.config.SETTINGS), so both accept exactly the same values.
A stored value that no longer reads (a later version narrowed a range) is reported and
the ini's value used.
"""

from __future__ import annotations

import dataclasses
import zoneinfo
from collections.abc import Mapping
from datetime import tzinfo

from gateway.automation import schedule
from gateway.automation.matching import FrustrationRules
from gateway.automation.records import QueueRecord, RulesSnapshot
from gateway.automation.rules import (
    Assignment,
    QueueRules,
    RuleSet,
    Triage,
)
from gateway.config import AutomationSettings, Setting, settings_in
from gateway.domain import Priority

TRIAGE_INTRO = "triage_intro"
TRIAGE_ASK = "triage_ask"
DEFAULT_TRIAGE_INTRO = "Thanks for your message."
EXTRA_KEYS = (TRIAGE_INTRO, TRIAGE_ASK)


def setting_table() -> dict[str, Setting]:
    """The [automation] keys admins may change, by name."""
    return {s.key: s for s in settings_in("automation")}


def effective_settings(
    ini: AutomationSettings, overrides: Mapping[str, str]
) -> tuple[AutomationSettings, tuple[str, ...]]:
    """The ini's settings with the admins' values in place; the values that do not read."""
    table = setting_table()
    changes = {}
    problems = []
    for key, text in overrides.items():
        setting = table.get(key)
        if setting is None:
            continue  # a triage_* key, or one a later version dropped
        try:
            changes[key] = setting.type.parse(text.strip())
        except ValueError:
            problems.append(f"{key} = {text!r} is not {setting.type.form}; ini used")
    return dataclasses.replace(ini, **changes), tuple(problems)


def render_setting(key: str, value: object) -> str:
    """A typed [automation] value in the ini's text form."""
    return str(setting_table()[key].type.render(value))


def queue_rules(
    queue: QueueRecord, default_tz: tzinfo
) -> tuple[QueueRules, tuple[str, ...]]:
    """A stored queue as decide sees it; hours that do not read leave it always open."""
    problems: list[str] = []
    hours = None
    if queue.hours is not None:
        try:
            tz = zoneinfo.ZoneInfo(queue.timezone) if queue.timezone else default_tz
            hours = schedule.Schedule(
                tz,
                schedule.parse_week(queue.hours),
                schedule.parse_holidays(queue.holidays),
            )
        except (ValueError, zoneinfo.ZoneInfoNotFoundError) as exc:
            problems.append(f"queue {queue.name}: hours ignored ({exc})")
    try:
        assignment = Assignment(queue.assignment)
    except ValueError:
        assignment = Assignment.NONE
        problems.append(f"queue {queue.name}: unknown assignment {queue.assignment!r}")
    rules = QueueRules(
        name=queue.name,
        assignment=assignment,
        members=queue.members,
        last_assigned_id=queue.last_assigned_id,
        schedule=hours,
        ack_text=queue.ack_text,
        after_hours_text=queue.after_hours_text,
    )
    return rules, tuple(problems)


def build_rules(
    ini: AutomationSettings, snapshot: RulesSnapshot, default_tz: tzinfo
) -> tuple[RuleSet, tuple[str, ...]]:
    """The RuleSet, and what in the stored rows could not be used."""
    settings, problems = effective_settings(ini, snapshot.overrides)
    queues = {}
    for queue in snapshot.queues:
        queues[queue.name], more = queue_rules(queue, default_tz)
        problems += more
    overrides = snapshot.overrides
    triage = None
    if snapshot.triage_options:
        triage = Triage(
            intro=overrides.get(TRIAGE_INTRO, DEFAULT_TRIAGE_INTRO),
            options=snapshot.triage_options,
            ask=overrides.get(TRIAGE_ASK, "yes") == "yes",
        )
    rules = RuleSet(
        enabled=settings.enabled,
        max_prompts=settings.max_prompts,
        max_questions=settings.max_questions,
        takeover_words=settings.takeover_words,
        frustration=FrustrationRules(
            words=settings.frustration_words,
            messages=settings.frustration_messages,
            window_s=settings.frustration_window_s,
            caps_min_letters=settings.caps_min_letters,
            exclamation_run=settings.exclamation_run,
        ),
        escalation_queue=settings.escalation_queue,
        escalation_priority=Priority(settings.escalation_priority),
        connecting_text=settings.connecting_text,
        ack_text=settings.ack_text,
        after_hours_text=settings.after_hours_text,
        agent_recent_s=settings.agent_recent_s,
        default_queue=settings.default_queue,
        sticky_agent=settings.sticky_agent,
        triage=triage,
        flows={flow.id: flow for flow in snapshot.flows},
        routing=snapshot.routing,
        queues=queues,
    )
    return rules, problems

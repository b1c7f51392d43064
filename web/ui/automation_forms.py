"""The Automation page's forms: a submitted form read as text, the values a stored rule
shows in its form, and a form turned into the arguments of one AutomationService call.

The service checks every value (gateway.automation.editing names the field); here a form
only becomes arguments, and the names of the inputs are the names the service's errors
use (`key`, `fields.2.pattern`, `hours` ...), so the page can mark the input at fault.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from aiohttp import web

from gateway.automation.editing import MAX_FIELDS, field_spec
from gateway.automation.records import QueueRecord, TestStart
from gateway.automation.rules import FieldSpec, Flow, RoutingRule, TriageOption
from gateway.config import settings_in
from gateway.domain import JsonObject, JsonValue
from gateway.errors import InvalidInput

# Blank field rows a flow's form offers for new fields.
SPARE_FIELD_ROWS = 2
FIELD_PARTS = ("name", "label", "prompt", "kind", "pattern", "retry")
MAX_CONTEXT_LINES = 50
MAX_TEST_CHARS = 4000


@dataclass(frozen=True, slots=True)
class Form:
    """A form's text fields: the first value of each name, and every value of it."""

    values: Mapping[str, str] = field(default_factory=dict)
    lists: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    def get(self, name: str, default: str = "") -> str:
        return self.values.get(name, default)

    def getall(self, name: str) -> tuple[str, ...]:
        return self.lists.get(name, ())

    def has(self, name: str) -> bool:
        return name in self.values

    @classmethod
    def of(cls, pairs: Iterable[tuple[str, str]]) -> Form:
        values: dict[str, str] = {}
        lists: dict[str, list[str]] = {}
        for name, value in pairs:
            values.setdefault(name, value)
            lists.setdefault(name, []).append(value)
        return cls(values, {k: tuple(v) for k, v in lists.items()})


async def read_form(request: web.Request) -> Form:
    """The submitted form (a file field is refused, naming it)."""
    posted = await request.post()
    pairs = []
    for name, value in posted.items():
        if not isinstance(value, str):
            raise InvalidInput(name, "text, not a file")
        pairs.append((name, value))
    return Form.of(pairs)


# ---------------------------------------------------------------------- stored -> form


def option_form(option: TriageOption) -> Form:
    return Form.of(
        [
            ("key", option.key),
            ("label", option.label),
            ("keywords", ", ".join(option.keywords)),
            ("queue", option.queue or ""),
            ("tags", ", ".join(option.tags)),
            ("assignee_id", _id(option.assignee_id)),
            ("flow_id", _id(option.flow_id)),
        ]
    )


def rule_form(rule: RoutingRule) -> Form:
    return Form.of(
        [
            ("name", rule.name),
            ("kind", rule.kind.value),
            ("key", rule.key),
            ("value", rule.value),
            ("queue", rule.queue or ""),
            ("tags", ", ".join(rule.tags)),
            ("priority", rule.priority.value if rule.priority else ""),
            ("assignee_id", _id(rule.assignee_id)),
        ]
    )


def flow_form(flow: Flow) -> Form:
    pairs = [("name", flow.name), ("done_text", flow.done_text)]
    for index, spec in enumerate(flow.fields, start=1):
        where = f"fields.{index}"
        pairs += [
            (f"{where}.name", spec.name),
            (f"{where}.label", spec.label),
            (f"{where}.prompt", spec.prompt),
            (f"{where}.kind", spec.kind.value),
            (f"{where}.pattern", spec.pattern or ""),
            (f"{where}.retry", spec.retry),
        ]
        if spec.save_to_contact:
            pairs.append((f"{where}.save_to_contact", "yes"))
    return Form.of(pairs)


def queue_form(queue: QueueRecord) -> Form:
    pairs = [
        ("name", queue.name),
        ("description", queue.description),
        ("assignment", queue.assignment),
        ("timezone", queue.timezone or ""),
        ("hours", queue.hours or ""),
        ("holidays", queue.holidays),
        ("ack_text", queue.ack_text),
        ("after_hours_text", queue.after_hours_text),
    ]
    pairs += [("members", str(m)) for m in queue.members]
    return Form.of(pairs)


def field_rows(form: Form) -> int:
    """How many field rows a flow's form shows: those filled in, and spare ones."""
    filled = [
        i
        for i in range(1, MAX_FIELDS + 1)
        if any(form.get(f"fields.{i}.{part}").strip() for part in FIELD_PARTS[:3])
    ]
    return min(MAX_FIELDS, max(filled, default=0) + SPARE_FIELD_ROWS)


def _id(value: int | None) -> str:
    return "" if value is None else str(value)


# ---------------------------------------------------------------------- form -> call


def setting_values(form: Form) -> dict[str, str]:
    """The [automation] keys the form carries (other names, the CSRF token, ignored)."""
    return {
        s.key: form.get(s.key) for s in settings_in("automation") if form.has(s.key)
    }


def option_args(form: Form) -> dict[str, Any]:
    """AutomationService.save_triage_option's keyword arguments (but the actor)."""
    return {
        "key": form.get("key"),
        "label": form.get("label"),
        "keywords": form.get("keywords"),
        "queue": form.get("queue") or None,
        "tags": form.get("tags"),
        "assignee_id": form.get("assignee_id") or None,
        "flow_id": form.get("flow_id") or None,
        "position": form.get("position") or None,
    }


def rule_args(form: Form) -> dict[str, Any]:
    """AutomationService.save_routing_rule's keyword arguments (but the actor)."""
    return {
        "name": form.get("name"),
        "kind": form.get("kind"),
        "key": form.get("key"),
        "value": form.get("value"),
        "queue": form.get("queue") or None,
        "tags": form.get("tags"),
        "priority": form.get("priority") or None,
        "assignee_id": form.get("assignee_id") or None,
        "position": form.get("position") or None,
    }


def flow_fields(form: Form) -> list[FieldSpec]:
    """The flow's fields, in the form's order; a row left blank is no field. A row's
    errors name its inputs (fields.3.pattern)."""
    found = []
    for index in range(1, MAX_FIELDS + 1):
        where = f"fields.{index}"
        parts = {part: form.get(f"{where}.{part}") for part in FIELD_PARTS}
        if not any(parts[p].strip() for p in ("name", "label", "prompt", "pattern")):
            continue
        found.append(
            field_spec(
                index,
                name=parts["name"],
                label=parts["label"],
                prompt=parts["prompt"],
                kind=parts["kind"],
                pattern=parts["pattern"],
                retry=parts["retry"],
                save_to_contact=form.get(f"{where}.save_to_contact") == "yes",
            )
        )
    return found


def queue_args(form: Form) -> dict[str, Any]:
    """AutomationService.save_queue's keyword arguments (but the actor)."""
    return {
        "name": form.get("name"),
        "description": form.get("description"),
        "assignment": form.get("assignment") or "none",
        "members": list(form.getall("members")),
        "timezone": form.get("timezone") or None,
        "hours": form.get("hours") or None,
        "holidays": form.get("holidays"),
        "ack_text": form.get("ack_text"),
        "after_hours_text": form.get("after_hours_text"),
    }


# ---------------------------------------------------------------------- the tester


@dataclass(frozen=True, slots=True)
class TesterInput:
    """What the rule tester was asked: the customer's messages (one a line), whose
    number (optional), the conversation's context, when (None: now), and where the
    conversation stands before the first message."""

    messages: tuple[str, ...]
    number: str
    context: JsonObject
    at: datetime | None
    start: TestStart = TestStart.NEW


def tester_input(form: Form, zone: ZoneInfo) -> TesterInput:
    """The tester's form read; InvalidInput names the input at fault."""
    text = form.get("text")
    if len(text) > MAX_TEST_CHARS:
        raise InvalidInput("text", f"at most {MAX_TEST_CHARS} characters")
    return TesterInput(
        messages=tuple(line for line in text.splitlines() if line.strip()),
        number=form.get("number").strip(),
        context=context_lines(form.get("context")),
        at=local_time(form.get("at"), zone),
        start=test_start(form.get("start")),
    )


def test_start(value: str) -> TestStart:
    try:
        return TestStart(value or TestStart.NEW.value)
    except ValueError:
        raise InvalidInput(
            "start", f"one of {', '.join(s.value for s in TestStart)}"
        ) from None


def context_lines(text: str) -> JsonObject:
    """`key = value` lines as the conversation's context (values as text)."""
    found: dict[str, JsonValue] = {}
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) > MAX_CONTEXT_LINES:
        raise InvalidInput("context", f"at most {MAX_CONTEXT_LINES} lines")
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        key, sep, value = line.partition("=")
        if not sep or not key.strip():
            raise InvalidInput("context", f"line {number}: write it as key = value")
        found[key.strip()] = value.strip()
    return found


def local_time(text: str, zone: ZoneInfo) -> datetime | None:
    """A date and time as the browser's datetime-local input sends it, in `zone`."""
    raw = text.strip()
    if not raw:
        return None
    try:
        found = datetime.fromisoformat(raw)
    except ValueError:
        raise InvalidInput(
            "at", f"a date and time such as 2026-03-02T08:30, not {raw[:40]!r}"
        ) from None
    if found.tzinfo is not None:
        raise InvalidInput("at", "a local date and time, without a zone")
    return found.replace(tzinfo=zone)


def local_input(value: datetime | None, zone: ZoneInfo) -> str:
    """A time as the datetime-local input shows it ("" for none)."""
    if value is None:
        return ""
    return value.astimezone(zone).strftime("%Y-%m-%dT%H:%M")

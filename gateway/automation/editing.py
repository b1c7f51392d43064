"""PURE checks of what admins type into the rules editor: each value normalised, or
InvalidInput naming the field and what it should be."""

from __future__ import annotations

import re
import zoneinfo
from collections.abc import Sequence

from gateway.automation import matching, schedule
from gateway.automation.rules import Assignment, FieldKind, FieldSpec, MatchKind
from gateway.domain import Priority
from gateway.errors import InvalidInput
from gateway.inbox import policy

MAX_LABEL_CHARS = 60
MAX_KEY_CHARS = 8
MAX_KEYWORDS = 30
MAX_PHRASE_CHARS = 60
MAX_PATTERN_CHARS = 200
MAX_FIELDS = 10
MAX_NAME_CHARS = 80
MAX_CONTEXT_KEY_CHARS = 60
MAX_VALUE_CHARS = 500
_QUEUE = re.compile(r"[a-z0-9][a-z0-9_-]{0,39}")
_CONTEXT_KEY = re.compile(r"[A-Za-z0-9_.-]+")
WHEN = "{when}"


def text(value: str | None, field: str, *, required: bool = True, limit: int) -> str:
    """One line (or paragraph) of text: trimmed, no control characters."""
    found = " ".join((value or "").split())
    if not found and required:
        raise InvalidInput(field, "required")
    if len(found) > limit:
        raise InvalidInput(field, f"at most {limit} characters")
    if "\x00" in found or not found.isprintable():
        raise InvalidInput(field, "control characters are not allowed")
    return found


def customer_text(
    value: str | None, field: str, *, required: bool, when: bool = False
) -> str:
    """A text the customer gets: no braces but {when} where it is filled in."""
    found = text(value, field, required=required, limit=1600)
    rest = found.replace(WHEN, "") if when else found
    if "{" in rest or "}" in rest:
        raise InvalidInput(
            field,
            "no braces"
            + (f", but {WHEN}" if when else "")
            + ": nothing else is filled in",
        )
    return found


def phrases(value: str | None, field: str) -> tuple[str, ...]:
    """Comma-separated words or phrases, each with a letter or digit."""
    found = []
    for piece in (value or "").split(","):
        phrase = " ".join(piece.split())
        if not phrase:
            continue
        if not matching.normalise(phrase):
            raise InvalidInput(field, f"{phrase!r} has no letter or digit")
        if len(phrase) > MAX_PHRASE_CHARS:
            raise InvalidInput(field, f"{phrase[:20]!r}...: at most {MAX_PHRASE_CHARS}")
        found.append(phrase)
    if len(found) > MAX_KEYWORDS:
        raise InvalidInput(field, f"at most {MAX_KEYWORDS}")
    return tuple(dict.fromkeys(found))


def option_key(value: str | None) -> str:
    """What a customer replies to pick an option: a digit, a letter, a short word."""
    key = (value or "").strip()
    if not key:
        raise InvalidInput("key", "required (1, 2, A, B ...)")
    if (
        len(key) > MAX_KEY_CHARS
        or not key.isalnum()  # "1 2" normalises to itself, yet no reply is two keys
        or matching.normalise(key) != key.casefold()
    ):
        raise InvalidInput(
            "key", f"letters and digits, at most {MAX_KEY_CHARS}, without spaces"
        )
    return key.upper() if key.isalpha() else key


def queue_name(
    value: str | None, field: str = "queue", *, required: bool = False
) -> str | None:
    """A queue's name: lower case, spaces to '-', letters, digits, '_' and '-'."""
    name = "-".join((value or "").strip().lower().split())
    if not name:
        if required:
            raise InvalidInput(field, "required")
        return None
    if not _QUEUE.fullmatch(name):
        raise InvalidInput(
            field, "lower-case letters, digits, '_' and '-', up to 40, not '-' first"
        )
    return name


def tags(value: str | None, field: str = "tags") -> tuple[str, ...]:
    names = [t for t in re.split(r"[,\s]+", value or "") if t]
    return policy.normalize_tags(names, field=field) if names else ()


def user_id(value: str | int | None, field: str) -> int | None:
    if value is None or value == "":
        return None
    try:
        found = int(value)
    except (TypeError, ValueError):
        raise InvalidInput(field, "a user") from None
    return policy.check_id(found, field)


def optional_id(value: str | int | None, field: str) -> int | None:
    return user_id(value, field)


def position(value: str | int | None) -> int | None:
    if value is None or value == "":
        return None
    try:
        found = int(value)
    except (TypeError, ValueError):
        raise InvalidInput("position", "a whole number") from None
    if not 1 <= found <= 10_000:
        raise InvalidInput("position", "from 1 to 10000")
    return found


def priority(value: str | None) -> Priority | None:
    if not value:
        return None
    try:
        return Priority(value)
    except ValueError:
        raise InvalidInput(
            "priority", f"one of {', '.join(p.value for p in Priority)}"
        ) from None


def match_kind(value: str | None) -> MatchKind:
    try:
        return MatchKind(value or "")
    except ValueError:
        raise InvalidInput(
            "kind", f"one of {', '.join(k.value for k in MatchKind)}"
        ) from None


def match_key(kind: MatchKind, value: str | None) -> str:
    key = (value or "").strip()
    if kind is MatchKind.KEYWORD:
        return ""
    if kind is MatchKind.ATTRIBUTE:
        return policy.attribute_key(key, field="key")
    if not _CONTEXT_KEY.fullmatch(key) or len(key) > MAX_CONTEXT_KEY_CHARS:
        raise InvalidInput("key", "a context key: letters, digits, '_', '.', '-'")
    return key


def assignment(value: str | None) -> Assignment:
    try:
        return Assignment(value or Assignment.NONE.value)
    except ValueError:
        raise InvalidInput(
            "assignment", f"one of {', '.join(a.value for a in Assignment)}"
        ) from None


def timezone(value: str | None) -> str | None:
    name = (value or "").strip()
    if not name:
        return None
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise InvalidInput(
            "timezone", "an IANA time zone, e.g. Europe/London (empty: the box's)"
        ) from None
    return name


def hours(value: str | None) -> str | None:
    """Weekly hours as typed (empty: always open), checked and written back tidy."""
    if not (value or "").strip():
        return None
    try:
        return schedule.render_week(schedule.parse_week(value or ""))
    except ValueError as exc:
        raise InvalidInput("hours", str(exc)) from None


def holidays(value: str | None) -> str:
    try:
        return schedule.render_holidays(schedule.parse_holidays(value or ""))
    except ValueError as exc:
        raise InvalidInput("holidays", str(exc)) from None


def field_spec(
    index: int,
    *,
    name: str | None,
    label: str | None,
    prompt: str | None,
    kind: str | None,
    pattern: str | None,
    retry: str | None,
    save_to_contact: bool,
) -> FieldSpec:
    """One field of a flow (`index` from 1, for the error's field name)."""
    where = f"fields.{index}"
    key = policy.attribute_key((name or "").strip(), field=f"{where}.name")
    try:
        found_kind = FieldKind(kind or FieldKind.TEXT.value)
    except ValueError:
        raise InvalidInput(
            f"{where}.kind", f"one of {', '.join(k.value for k in FieldKind)}"
        ) from None
    found_pattern = None
    if found_kind is FieldKind.PATTERN:
        found_pattern = (pattern or "").strip()
        if not found_pattern:
            raise InvalidInput(f"{where}.pattern", "required for a pattern field")
        if len(found_pattern) > MAX_PATTERN_CHARS:
            raise InvalidInput(f"{where}.pattern", f"at most {MAX_PATTERN_CHARS}")
        try:
            compiled = re.compile(found_pattern)
        except re.error as exc:
            raise InvalidInput(
                f"{where}.pattern", f"not a regular expression: {exc}"
            ) from None
        if compiled.groups > 1:
            raise InvalidInput(f"{where}.pattern", "at most one group (the value)")
    return FieldSpec(
        name=key,
        label=text(label, f"{where}.label", required=False, limit=MAX_LABEL_CHARS)
        or key.replace("_", " "),
        prompt=customer_text(prompt, f"{where}.prompt", required=True),
        kind=found_kind,
        pattern=found_pattern,
        retry=customer_text(retry, f"{where}.retry", required=False),
        save_to_contact=save_to_contact,
    )


def flow_fields(fields: Sequence[FieldSpec]) -> tuple[FieldSpec, ...]:
    if not fields:
        raise InvalidInput("fields", "a flow asks for at least one field")
    if len(fields) > MAX_FIELDS:
        raise InvalidInput("fields", f"at most {MAX_FIELDS}")
    names = [f.name for f in fields]
    if len(set(names)) != len(names):
        raise InvalidInput("fields", "each field's name once")
    return tuple(fields)

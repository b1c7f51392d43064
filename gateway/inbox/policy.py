"""PURE rules of the inbox: what input is acceptable, cursors, and who awaits a reply.

No storage, no clock, no I/O: values in, values out, InvalidInput (naming the field) for
anything unacceptable. InboxService and ContactsService call these before any unit of
work starts, so bad input never reaches the database.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from gateway.domain import ConversationStatus, JsonValue, Priority, refuse_nul
from gateway.errors import InvalidInput
from gateway.inbox.records import Cursor, Ownership, ReplyContext, SearchTerms

E = TypeVar("E", ConversationStatus, Priority, Ownership)

MAX_PAGE = 200
MAX_THREAD_PAGE = 500
MAX_FILTER_CHARS = 100  # queue and modem names
MAX_SEARCH_CHARS = 200
MAX_SEARCH_WORDS = 8
MAX_TAG_CHARS = 32
MAX_TAGS_PER_CALL = 20
MAX_NOTE_CHARS = 5000
MAX_NAME_CHARS = 200
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY_CHARS = 40
MAX_ATTRIBUTE_TEXT_CHARS = 1000
# JSON numbers beyond this lose precision in JavaScript (the console) and some CRMs.
MAX_ATTRIBUTE_INT = 2**53 - 1

# Keys a CSV file uses for the contact itself; an attribute may not take their names.
RESERVED_ATTRIBUTE_KEYS = frozenset({"id", "number", "name", "opted_out"})
_ATTRIBUTE_KEY = re.compile(r"[a-z][a-z0-9_]*")
# a tag starts with a letter or digit; then letters, digits, '_' and '-'
_TAG = re.compile(r"[^\W_][\w-]*")
_SPACES = re.compile(r"\s+")
_CURSOR_VERSION = "c1"
_ID_CURSOR_VERSION = "i1"


def _choice(enum_type: type[E], value: E | str, field: str) -> E:
    if isinstance(value, enum_type):
        return value
    try:
        return enum_type(str(value).strip().lower())
    except ValueError:
        allowed = ", ".join(e.value for e in enum_type)
        raise InvalidInput(
            field, f"one of {allowed}, not {str(value)[:40]!r}"
        ) from None


def parse_status(
    value: ConversationStatus | str, *, field: str = "status"
) -> ConversationStatus:
    """A conversation status from outside (open, pending, resolved)."""
    return _choice(ConversationStatus, value, field)


def parse_priority(value: Priority | str, *, field: str = "priority") -> Priority:
    """A priority from outside (low, normal, high, urgent)."""
    return _choice(Priority, value, field)


def parse_ownership(value: Ownership | str, *, field: str = "ownership") -> Ownership:
    """Whose conversations: all, mine, unassigned."""
    return _choice(Ownership, value, field)


def check_id(value: object, field: str) -> int:
    """A database id from outside: a positive whole number (bools are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InvalidInput(field, f"a positive whole number, not {value!r:.40}")
    return value


def check_limit(value: int, *, maximum: int, field: str = "limit") -> int:
    """A page size from 1 to `maximum`."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidInput(field, f"a whole number, not {value!r:.40}")
    if not 1 <= value <= maximum:
        raise InvalidInput(field, f"between 1 and {maximum}, not {value}")
    return value


def filter_text(value: str | None, field: str) -> str | None:
    """A queue or modem name to filter on; None or blank means no filter."""
    if value is None:
        return None
    text = value.strip()
    if not text:
        return None
    if len(text) > MAX_FILTER_CHARS or not text.isprintable():
        raise InvalidInput(
            field, f"a name of at most {MAX_FILTER_CHARS} printable characters"
        )
    return text


# ------------------------------------------------------------------ search


def search_terms(text: str | None, *, number: str | None = None) -> SearchTerms | None:
    """The terms of a search box's text; None when there is nothing to search for."""
    # Quotes, AND/OR/NEAR, '*' and brackets are words or separators here, never query
    # syntax: the storage layer quotes every term.
    if text is None:
        return None
    cleaned = text.strip()
    if not cleaned:
        return None
    if len(cleaned) > MAX_SEARCH_CHARS:
        raise InvalidInput("search", f"at most {MAX_SEARCH_CHARS} characters")
    if any(unicodedata.category(c) == "Cc" and not c.isspace() for c in cleaned):
        raise InvalidInput("search", "control characters are not searchable")
    # A term without a letter or digit ('*', '"', '-') matches nothing: drop it.
    words = tuple(w for w in cleaned.split() if any(c.isalnum() for c in w))[
        :MAX_SEARCH_WORDS
    ]
    if not words and number is None:
        return None
    return SearchTerms(cleaned, words, number)


def looks_like_number(text: str) -> bool:
    """Whether a search text could be a phone number (digits, spaces, + - . ( ))."""
    digits = sum(c.isdigit() for c in text)
    return digits >= 5 and all(c.isdigit() or c in " +-.()" for c in text.strip())


# ------------------------------------------------------------------ cursors


def _pack(*fields: str) -> str:
    return base64.urlsafe_b64encode("|".join(fields).encode()).decode().rstrip("=")


def _unpack(text: str) -> list[str]:
    cleaned = text.strip()
    padded = cleaned + "=" * (-len(cleaned) % 4)
    return base64.urlsafe_b64decode(padded.encode("ascii")).decode().split("|")


def encode_cursor(cursor: Cursor) -> str:
    """An opaque, URL-safe text for a position in the conversation list."""
    return _pack(_CURSOR_VERSION, cursor.at.astimezone(UTC).isoformat(), str(cursor.id))


def decode_cursor(text: str, *, field: str = "cursor") -> Cursor:
    """The position an `encode_cursor` text stands for; InvalidInput for anything else."""
    try:
        version, at, ident = _unpack(text)
        when = datetime.fromisoformat(at)
        number = int(ident)
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidInput(field, "not a cursor this inbox handed out") from None
    if version != _CURSOR_VERSION or when.tzinfo is None or number < 1:
        raise InvalidInput(field, "not a cursor this inbox handed out")
    return Cursor(when.astimezone(UTC), number)


def encode_id_cursor(ident: int) -> str:
    """An opaque text for a position in an id-ordered list (contacts)."""
    return _pack(_ID_CURSOR_VERSION, str(ident))


def decode_id_cursor(text: str, *, field: str = "cursor") -> int:
    """The id an `encode_id_cursor` text stands for; InvalidInput for anything else."""
    try:
        version, ident = _unpack(text)
        number = int(ident)
    except (ValueError, UnicodeError, binascii.Error):
        raise InvalidInput(field, "not a cursor this list handed out") from None
    if version != _ID_CURSOR_VERSION or number < 1:
        raise InvalidInput(field, "not a cursor this list handed out")
    return number


# ------------------------------------------------------------------ conversations


def awaiting_reply(
    last_inbound_id: int | None,
    last_agent_reply_id: int | None,
    *,
    repliable: bool = True,
) -> bool:
    """Whether the customer's last message came after the last agent reply (or none came)."""
    # Automated and system texts (acknowledgements, compliance) are no reply: the
    # customer still waits for a person.
    if last_inbound_id is None or not repliable:  # nobody to answer an "AMAZON"
        return False
    return last_agent_reply_id is None or last_inbound_id > last_agent_reply_id


def reply_contexts(
    inbound_ids: Iterable[int], candidates: Sequence[ReplyContext]
) -> dict[int, ReplyContext]:
    """For each inbound message id, the newest candidate sent before it (ids grow in time)."""
    ordered = sorted(candidates, key=lambda c: c.message_id)
    found: dict[int, ReplyContext] = {}
    index = 0
    latest: ReplyContext | None = None
    for message_id in sorted(inbound_ids):
        while index < len(ordered) and ordered[index].message_id < message_id:
            latest = ordered[index]
            index += 1
        if latest is not None:
            found[message_id] = latest
    return found


def normalize_tag(text: str, *, field: str = "tags") -> str:
    """A tag's canonical name: "  VIP Customer " -> "vip-customer"; InvalidInput if unusable."""
    # NFKC, lower case, inner spaces as '-'; letters, digits, '_' and '-' only.
    if not isinstance(text, str):
        raise InvalidInput(field, f"a tag is text, not {text!r:.40}")
    name = _SPACES.sub("-", unicodedata.normalize("NFKC", text).strip()).casefold()
    if not name:
        raise InvalidInput(field, "a tag cannot be empty")
    if len(name) > MAX_TAG_CHARS:
        raise InvalidInput(field, f"{name[:40]!r} is longer than {MAX_TAG_CHARS}")
    if not _TAG.fullmatch(name):
        raise InvalidInput(
            field,
            f"{name!r}: letters, digits, '_' and '-' only, starting with a letter or digit",
        )
    return name


def normalize_tags(
    tags: Sequence[str] | str, *, field: str = "tags"
) -> tuple[str, ...]:
    """Several tags, normalised, duplicates dropped, order kept; at least one."""
    if isinstance(tags, str):
        tags = [tags]
    if not tags:
        raise InvalidInput(field, "give at least one tag")
    if len(tags) > MAX_TAGS_PER_CALL:
        raise InvalidInput(field, f"at most {MAX_TAGS_PER_CALL} tags at once")
    return tuple(dict.fromkeys(normalize_tag(t, field=field) for t in tags))


def note_body(text: str, *, field: str = "body") -> str:
    """A note's text: not blank, at most MAX_NOTE_CHARS, no NUL or lone surrogates."""
    if not isinstance(text, str):
        raise InvalidInput(field, "text is required")
    body = text.strip()
    if not body:
        raise InvalidInput(field, "the note is empty")
    if len(body) > MAX_NOTE_CHARS:
        raise InvalidInput(field, f"at most {MAX_NOTE_CHARS} characters")
    _storable(body, field)
    return body


def _storable(text: str, field: str) -> None:
    refuse_nul(text, field)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(field, "not valid text (a lone surrogate)") from None


# ------------------------------------------------------------------ contacts


def contact_name(value: str | None, *, field: str = "name") -> str | None:
    """A contact's name: trimmed; blank means none."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise InvalidInput(field, "text is required")
    name = _SPACES.sub(" ", value.strip())
    if not name:
        return None
    if len(name) > MAX_NAME_CHARS:
        raise InvalidInput(field, f"at most {MAX_NAME_CHARS} characters")
    if not name.isprintable():
        raise InvalidInput(field, "control characters are not allowed")
    _storable(name, field)
    return name


def attribute_key(key: object, *, field: str = "attributes") -> str:
    """An attribute's key: lower-case letters, digits and '_', starting with a letter."""
    if not isinstance(key, str) or not _ATTRIBUTE_KEY.fullmatch(key):
        raise InvalidInput(
            field,
            f"key {str(key)[:40]!r}: lower-case letters, digits and '_', starting "
            "with a letter",
        )
    if len(key) > MAX_ATTRIBUTE_KEY_CHARS:
        raise InvalidInput(field, f"key {key[:40]!r} is longer than 40 characters")
    if key in RESERVED_ATTRIBUTE_KEYS:
        raise InvalidInput(field, f"key {key!r} is reserved")
    return key


def attribute_value(value: object, *, field: str) -> str | int | float | bool:
    """One attribute's value: text, a whole or finite number, or true/false."""
    # Lists and objects are refused: routing rules compare single values.
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) > MAX_ATTRIBUTE_INT:
            raise InvalidInput(field, f"at most {MAX_ATTRIBUTE_INT} in size")
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(field, "a finite number")
        return value
    if isinstance(value, str):
        text = value.strip()
        if len(text) > MAX_ATTRIBUTE_TEXT_CHARS:
            raise InvalidInput(field, f"at most {MAX_ATTRIBUTE_TEXT_CHARS} characters")
        if any(unicodedata.category(c) == "Cc" and c not in "\t\n" for c in text):
            raise InvalidInput(field, "control characters are not allowed")
        _storable(text, field)
        return text
    raise InvalidInput(
        field, f"text, a number or true/false, not {type(value).__name__}"
    )


def attribute_patch(
    values: Mapping[str, object] | None, *, field: str = "attributes"
) -> dict[str, JsonValue]:
    """Validated attribute changes: a None value removes the key (JSON merge patch)."""
    if values is None:
        return {}
    if not isinstance(values, Mapping):
        raise InvalidInput(field, "an object of attribute names to values")
    patch: dict[str, JsonValue] = {}
    for key, value in values.items():
        name = attribute_key(key, field=field)
        patch[name] = (
            None if value is None else attribute_value(value, field=f"{field}.{name}")
        )
    return patch


def merge_attributes(
    current: Mapping[str, JsonValue],
    patch: Mapping[str, JsonValue],
    *,
    field: str = "attributes",
) -> dict[str, JsonValue]:
    """`current` with `patch` applied; refused when the result has too many keys."""
    merged = dict(current)
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    if len(merged) > MAX_ATTRIBUTES:
        raise InvalidInput(field, f"at most {MAX_ATTRIBUTES} attributes per contact")
    return merged

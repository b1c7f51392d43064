"""PURE: domain events to and from the JSON that crosses to the other boxes (issue 8).

Boxes sharing one PostgreSQL database pass their events to each other through
LISTEN/NOTIFY (gateway.crossnode); this is the payload. Events carry ids and states, so a
payload is small (PostgreSQL allows 8000 bytes) and holds nothing a customer wrote except
what an event itself names (a modem's reason, a tag).
"""

from __future__ import annotations

import dataclasses
import json
import typing
from datetime import datetime
from functools import cache
from typing import Any

from gateway import events

WIRE_VERSION = 1
# Every event a box may publish: the wire names them by class name.
_TYPES: dict[str, type] = {
    cls.__name__: cls for cls in typing.get_args(events.DomainEvent)
}


class WireError(ValueError):
    """A payload that is not an event of ours (another version, or not JSON)."""


@dataclasses.dataclass(frozen=True, slots=True)
class Envelope:
    """An event and the box it happened on."""

    node: str
    event: events.DomainEvent


@dataclasses.dataclass(frozen=True, slots=True)
class Gap:
    """A box could not tell the others some of its events (its connection dropped, or it
    fell behind): their live views must fetch their state again."""

    node: str


def encode_gap(node: str) -> str:
    """The payload saying `node` missed telling the other boxes something."""
    return json.dumps(
        {"v": WIRE_VERSION, "node": node, "gap": True}, separators=(",", ":")
    )


def encode(node: str, event: events.DomainEvent) -> str:
    """The payload for `event` published on `node`."""
    fields = {}
    for f in dataclasses.fields(event):
        value = getattr(event, f.name)
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, tuple):
            value = list(value)
        fields[f.name] = value
    return json.dumps(
        {
            "v": WIRE_VERSION,
            "node": node,
            "type": type(event).__name__,
            "fields": fields,
        },
        separators=(",", ":"),
        ensure_ascii=False,
    )


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def _plain(value: object, hint: Any) -> bool:
    """Whether a JSON value fits a field typed int, str, bool, or one of those or None."""
    allowed = typing.get_args(hint) or (hint,)
    if isinstance(value, bool):
        return bool in allowed
    return any(
        (t is type(None) and value is None) or (t in (int, str) and type(value) is t)
        for t in allowed
    )


def decode(payload: str) -> Envelope | Gap:
    """The event (or gap notice) in `payload`; WireError naming what is wrong with it."""
    try:
        data = json.loads(payload)
    except ValueError as exc:
        raise WireError(f"not JSON: {exc}") from None
    if not isinstance(data, dict) or data.get("v") != WIRE_VERSION:
        raise WireError(f"not an event of wire version {WIRE_VERSION}")
    if "gap" in data:
        if data["gap"] is not True or not isinstance(data.get("node"), str):
            raise WireError("a gap notice needs gap: true and its node")
        return Gap(data["node"])
    node, name, fields = data.get("node"), data.get("type"), data.get("fields")
    cls = _TYPES.get(name) if isinstance(name, str) else None
    if not isinstance(node, str) or cls is None or not isinstance(fields, dict):
        raise WireError(f"unknown event type {name!r} or no node/fields")
    hints = _hints(cls)
    values: dict[str, Any] = {}
    for f in dataclasses.fields(cls):
        if f.name not in fields:
            raise WireError(f"{name} without {f.name!r}")
        value = fields[f.name]
        hint = hints[f.name]
        if hint is datetime:
            try:
                value = datetime.fromisoformat(value)
            except (TypeError, ValueError):
                raise WireError(f"{name}.{f.name}: not a time: {value!r}") from None
        elif typing.get_origin(hint) is tuple:
            if not isinstance(value, list) or not all(
                isinstance(v, str) for v in value
            ):
                raise WireError(f"{name}.{f.name}: not a list of strings")
            value = tuple(value)
        elif not _plain(value, hint):
            raise WireError(f"{name}.{f.name}: {value!r} is not {hint}")
        values[f.name] = value
    return Envelope(node, cls(**values))

"""The payload that carries an event to the other boxes: every event type survives the
trip unchanged, and anything else is refused with what is wrong with it."""

from __future__ import annotations

import dataclasses
import json
import typing
from datetime import UTC, datetime
from typing import Any

import pytest

from gateway import events, eventwire

AT = datetime(2026, 11, 28, 9, 30, 15, 123456, tzinfo=UTC)


def _sample(hint: Any, n: int) -> Any:
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    if typing.get_origin(hint) is tuple:
        return ("vip", f"tag {n}", "café ✓")
    if args:  # X | None
        return _sample(args[0], n)
    return {
        int: n,
        str: f"value {n} «ü»",
        bool: True,
        datetime: AT,
    }[hint]


def every_event() -> list[events.DomainEvent]:
    made = []
    for cls in typing.get_args(events.DomainEvent):
        hints = typing.get_type_hints(cls)
        values = {
            f.name: _sample(hints[f.name], i)
            for i, f in enumerate(dataclasses.fields(cls), start=1)
        }
        made.append(cls(**values))
    return made


@pytest.mark.parametrize("event", every_event(), ids=lambda e: type(e).__name__)
def test_every_event_crosses_unchanged(event: events.DomainEvent) -> None:
    envelope = eventwire.decode(eventwire.encode("pi-b", event))
    assert envelope == eventwire.Envelope("pi-b", event)


def test_a_gap_notice_crosses() -> None:
    assert eventwire.decode(eventwire.encode_gap("pi-b")) == eventwire.Gap("pi-b")


def test_none_crosses_as_none() -> None:
    event = events.ConversationAssigned(4, None, AT)
    assert eventwire.decode(eventwire.encode("a", event)).event == event


def _payload(**changes: Any) -> str:
    data = json.loads(
        eventwire.encode("pi-b", events.ConversationStatusChanged(3, "open", AT))
    )
    data.update(changes)
    return json.dumps(data)


def _fields(**changes: Any) -> dict[str, Any]:
    return {"conversation_id": 3, "status": "open", "at": AT.isoformat(), **changes}


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "wire version 1"),
        (_payload(v=2), "wire version 1"),
        (_payload(type="DropTables"), "unknown event type 'DropTables'"),
        (_payload(node=None), "no node"),
        (_payload(fields={"conversation_id": 3}), "without 'status'"),
        (_payload(fields=_fields(at="yesterday")), "at: not a time"),
        (_payload(fields=_fields(conversation_id="3")), "conversation_id: '3' is not"),
        (
            _payload(fields=_fields(conversation_id=True)),
            "conversation_id: True is not",
        ),
        (_payload(fields=_fields(status=None)), "status: None is not"),
        ('{"v": 1, "node": "pi-b", "gap": 1}', "gap notice needs gap: true"),
        ('{"v": 1, "gap": true}', "gap notice needs gap: true and its node"),
    ],
)
def test_anything_else_is_refused_naming_what_is_wrong(payload: str, says: str) -> None:
    with pytest.raises(eventwire.WireError, match=says):
        eventwire.decode(payload)


def test_tags_must_be_a_list_of_strings() -> None:
    data = json.loads(
        eventwire.encode("a", events.ConversationTagged(1, ("x",), (), ("x",), AT))
    )
    data["fields"]["tags"] = [1]
    with pytest.raises(eventwire.WireError, match="tags: not a list of strings"):
        eventwire.decode(json.dumps(data))

"""The inbox's pure rules: input checks, cursors, who awaits a reply, reply contexts."""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.domain import ConversationStatus, Priority
from gateway.errors import InvalidInput
from gateway.inbox import policy
from gateway.inbox.records import Cursor, Ownership, ReplyContext
from gateway.storage.inbox_queries import contact_match, message_match

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)


def test_choices_accept_their_values_in_any_case() -> None:
    assert policy.parse_status(" Resolved ") is ConversationStatus.RESOLVED
    assert policy.parse_status(ConversationStatus.OPEN) is ConversationStatus.OPEN
    assert policy.parse_priority("URGENT") is Priority.URGENT
    assert policy.parse_ownership("mine") is Ownership.MINE
    with pytest.raises(InvalidInput) as info:
        policy.parse_status("closed")
    assert info.value.field == "status"
    assert "open, pending, resolved" in info.value.reason


@given(st.datetimes(timezones=st.just(UTC)), st.integers(min_value=1, max_value=2**62))
def test_cursors_round_trip(at: datetime, ident: int) -> None:
    text = policy.encode_cursor(Cursor(at, ident))
    assert text.isascii()
    assert "=" not in text
    assert policy.decode_cursor(text) == Cursor(at, ident)


@given(st.text(max_size=60))
def test_anything_else_is_not_a_cursor(text: str) -> None:
    # decodes to a cursor (a valid one by chance) or raises InvalidInput naming it
    with contextlib.suppress(InvalidInput):
        assert policy.decode_cursor(text).id >= 1


def test_a_cursor_keeps_its_instant_in_utc() -> None:
    local = datetime(2026, 3, 1, 10, 0, tzinfo=UTC) + timedelta(microseconds=7)
    assert policy.decode_cursor(policy.encode_cursor(Cursor(local, 3))).at == local
    assert policy.decode_id_cursor(policy.encode_id_cursor(42)) == 42
    with pytest.raises(InvalidInput):
        policy.decode_id_cursor(policy.encode_cursor(Cursor(local, 3)))
    with pytest.raises(InvalidInput):
        policy.decode_cursor(policy.encode_id_cursor(42))


@pytest.mark.parametrize(
    ("inbound", "agent", "waiting"),
    [
        (None, None, False),
        (5, None, True),
        (5, 4, True),
        (5, 6, False),
        (None, 3, False),
    ],
)
def test_awaiting_reply(inbound: int | None, agent: int | None, waiting: bool) -> None:
    assert policy.awaiting_reply(inbound, agent) is waiting
    assert policy.awaiting_reply(inbound, agent, repliable=False) is False


def _ctx(message_id: int) -> ReplyContext:
    return ReplyContext(message_id, 1, f"m{message_id}", {"n": message_id}, T0)


def test_each_inbound_message_gets_the_newest_context_before_it() -> None:
    found = policy.reply_contexts([1, 4, 6, 9], [_ctx(8), _ctx(3), _ctx(5)])
    assert {k: v.message_id for k, v in found.items()} == {4: 3, 6: 5, 9: 8}
    assert policy.reply_contexts([], [_ctx(1)]) == {}
    assert policy.reply_contexts([2], []) == {}


@pytest.mark.parametrize(
    ("text", "tag"),
    [
        ("VIP", "vip"),
        ("  VIP   Customer ", "vip-customer"),
        ("opt-out-request", "opt-out-request"),
        ("Ｒｅｆｕｎｄ", "refund"),  # NFKC
        ("café", "café"),
        ("under_score", "under_score"),
        ("x" * 32, "x" * 32),
    ],
)
def test_tags_are_normalised(text: str, tag: str) -> None:
    assert policy.normalize_tag(text) == tag


@pytest.mark.parametrize("text", ["", "  ", "-x", "_x", "a/b", "a.b", "x" * 33, "<b>"])
def test_bad_tags_are_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as info:
        policy.normalize_tag(text)
    assert info.value.field == "tags"


def test_tags_dedupe_in_order() -> None:
    assert policy.normalize_tags(["b", "A", "a", "B "]) == ("b", "a")
    assert policy.normalize_tags("one") == ("one",)
    with pytest.raises(InvalidInput):
        policy.normalize_tags([])
    with pytest.raises(InvalidInput):
        policy.normalize_tags([f"t{n}" for n in range(21)])


def test_search_terms() -> None:
    assert policy.search_terms(None) is None
    assert policy.search_terms("  ") is None
    assert policy.search_terms(' * " - ') is None
    terms = policy.search_terms('  late "parcel" A-1 * ')
    assert terms is not None
    assert terms.words == ("late", '"parcel"', "A-1")
    assert policy.search_terms("*", number="+447700900123") is not None
    with pytest.raises(InvalidInput):
        policy.search_terms("x" * 201)
    with pytest.raises(InvalidInput):
        policy.search_terms("tab\tnot\x00ok")
    many = policy.search_terms(" ".join("w" * 9))
    assert many is not None
    assert len(many.words) == policy.MAX_SEARCH_WORDS
    tabbed = policy.search_terms("late\tparcel\n")
    assert tabbed is not None
    assert tabbed.words == ("late", "parcel")


@given(st.text(max_size=80))
def test_every_term_is_one_quoted_string(text: str) -> None:
    try:
        terms = policy.search_terms(text)
    except InvalidInput:
        return
    if terms is None:
        return
    for query in (message_match(terms), contact_match(terms)):
        if query is None:
            continue
        # quotes balance: every '"' inside a term was doubled
        assert query.count('"') % 2 == 0


def test_numbers_look_like_numbers() -> None:
    assert policy.looks_like_number("+44 7700 900123")
    assert policy.looks_like_number("(0)7700-900.123")
    assert not policy.looks_like_number("1234")
    assert not policy.looks_like_number("order 12345")


def test_attribute_checks() -> None:
    assert policy.attribute_patch(
        {"vip": True, "tier": 2, "score": 1.5, "note": " x "}
    ) == {
        "vip": True,
        "tier": 2,
        "score": 1.5,
        "note": "x",
    }
    assert policy.attribute_patch({"gone": None}) == {"gone": None}
    for bad, field in (
        ({"Region": "x"}, "attributes"),
        ({"1st": "x"}, "attributes"),
        ({"name": "x"}, "attributes"),
        ({"number": "x"}, "attributes"),
        ({"k" * 41: "x"}, "attributes"),
        ({"list": [1]}, "attributes.list"),
        ({"obj": {"a": 1}}, "attributes.obj"),
        ({"big": 2**60}, "attributes.big"),
        ({"nan": float("nan")}, "attributes.nan"),
        ({"long": "x" * 1001}, "attributes.long"),
        ({"ctl": "a\x07b"}, "attributes.ctl"),
    ):
        with pytest.raises(InvalidInput) as info:
            policy.attribute_patch(bad)
        assert info.value.field == field, bad
    with pytest.raises(InvalidInput):
        policy.attribute_patch(["not", "a", "mapping"])  # type: ignore[arg-type]
    merged = policy.merge_attributes({"a": 1, "b": 2}, {"b": None, "c": 3})
    assert merged == {"a": 1, "c": 3}
    with pytest.raises(InvalidInput):
        policy.merge_attributes({f"k{n}": n for n in range(50)}, {"one_more": 1})


def test_names_and_notes() -> None:
    assert policy.contact_name("  Ada   Lovelace ") == "Ada Lovelace"
    assert policy.contact_name("   ") is None
    assert policy.contact_name(None) is None
    for bad in ("x" * 201, "bell\x07", "lone \ud800"):
        with pytest.raises(InvalidInput) as info:
            policy.contact_name(bad)
        assert info.value.field == "name"
    assert policy.note_body(" hi ") == "hi"
    with pytest.raises(InvalidInput):
        policy.note_body("lone \udc00 surrogate")


def test_ids_and_limits() -> None:
    assert policy.check_id(3, "id") == 3
    for bad in (0, -2, True, 1.0, "3", None):
        with pytest.raises(InvalidInput):
            policy.check_id(bad, "id")
    assert policy.check_limit(200, maximum=200) == 200
    with pytest.raises(InvalidInput):
        policy.check_limit(True, maximum=10)  # type: ignore[arg-type]

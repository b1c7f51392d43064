"""Text matching (PURE): the normal form, close spellings, menu answers by key, keyword
and close spelling (never a guess between two), yes/no, frustration signals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.automation.matching import (
    Choice,
    FrustrationRules,
    close,
    edit_distance,
    find_phrase,
    frustration_signals,
    normalise,
    pick,
    words,
    yes_or_no,
)

MENU = (
    Choice("1", "billing", ("invoice", "payment", "refund")),
    Choice("2", "delivery", ("parcel", "late", "courier")),
    Choice("A", "appointments", ("reschedule",)),
)
T0 = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
RULES = FrustrationRules(
    words=("third time", "ridiculous"),
    messages=3,
    window_s=600.0,
    caps_min_letters=12,
    exclamation_run=3,
)


def test_the_normal_form() -> None:
    assert normalise("  Délivery!!  LATE… ") == "delivery late"
    assert normalise("Ｄｅｌｉｖｅｒｙ") == "delivery"  # full-width
    assert words("it's the 3rd time") == ("it", "s", "the", "3rd", "time")


@pytest.mark.parametrize(
    ("a", "b", "distance"),
    [
        ("delivery", "delivery", 0),
        ("deliverry", "delivery", 1),
        ("delviery", "delivery", 1),  # two neighbours swapped
        ("dlivry", "delivery", 2),
        ("billing", "delivery", 3),  # capped at limit + 1
    ],
)
def test_edit_distance(a: str, b: str, distance: int) -> None:
    assert edit_distance(a, b, 2) == distance


def test_close_spellings_depend_on_the_words_length() -> None:
    assert close("deliverry", "delivery")
    assert close("agnet", "agent")
    assert not close("urgent", "agent")
    assert not close("to", "no")  # short words only exactly
    assert not close("yes", "yet")


@given(
    st.text(alphabet="abcdefgh", max_size=10), st.text(alphabet="abcdefgh", max_size=10)
)
def test_edit_distance_is_symmetric_and_zero_only_for_equal(a: str, b: str) -> None:
    d = edit_distance(a, b, 20)
    assert d == edit_distance(b, a, 20)
    assert (d == 0) == (a == b)


@pytest.mark.parametrize(
    ("answer", "index", "how"),
    [
        ("1", 0, "key 1"),
        ("2 please", 1, "key 2"),
        ("a", 2, "key A"),
        ("(2)", 1, "key 2"),
        ("billing", 0, "keyword 'billing'"),
        ("my parcel is late", 1, "keyword 'parcel'"),
        ("deliverry", 1, "close to 'delivery'"),
        ("I need to reshedule", 2, "close to 'reschedule'"),
    ],
)
def test_a_menu_answer_picks_by_key_keyword_or_close_spelling(
    answer: str, index: int, how: str
) -> None:
    picked = pick(answer, MENU, by_key=True)
    assert picked is not None
    assert (picked.index, picked.how) == (index, how)


@pytest.mark.parametrize(
    "answer",
    [
        "",
        "!!!",
        "3",
        "hello",
        "my invoice for the late parcel",  # two options: ask again, never guess
        "I have 2 questions about my bill",  # a key inside a sentence is not a choice
    ],
)
def test_answers_that_pick_nothing(answer: str) -> None:
    assert pick(answer, MENU, by_key=True) is None


def test_a_first_message_is_never_read_as_a_key() -> None:
    assert pick("1", MENU, by_key=False) is None
    picked = pick("My delivery is late", MENU, by_key=False)
    assert picked is not None
    assert picked.index == 1


def test_phrases_match_words_in_a_row() -> None:
    text = words("This is the THIRD time I ask")
    assert find_phrase(text, "third time")
    assert not find_phrase(text, "time third")
    assert not find_phrase(words("thirdtime"), "third time")


@pytest.mark.parametrize(
    ("answer", "said"),
    [
        ("yes", True),
        ("Yes, that's right", True),
        ("y", True),
        ("OK", True),
        ("no", False),
        ("Nope - we moved", False),
        ("maybe", None),
        ("not sure", None),
        ("", None),
    ],
)
def test_yes_or_no(answer: str, said: bool | None) -> None:
    assert yes_or_no(answer) is said


def test_frustration_signals() -> None:
    calm = frustration_signals("Where is my parcel?", (T0,), T0, RULES)
    assert calm == ()
    assert frustration_signals("WHERE IS MY PARCEL PLEASE", (T0,), T0, RULES) == (
        "written in capitals",
    )
    assert frustration_signals("OK", (T0,), T0, RULES) == ()  # too short to shout
    assert frustration_signals("where is it ! ! !", (T0,), T0, RULES) == ("!!!",)
    assert frustration_signals("This is ridiculous", (T0,), T0, RULES) == (
        "said 'ridiculous'",
    )
    burst = (T0 - timedelta(minutes=9), T0 - timedelta(minutes=4), T0)
    assert frustration_signals("hello?", burst, T0, RULES) == (
        "3 messages without a reply within 10 minutes",
    )
    slow = (T0 - timedelta(minutes=30), T0 - timedelta(minutes=4), T0)
    assert frustration_signals("hello?", slow, T0, RULES) == ()

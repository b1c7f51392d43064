"""Opt-out keyword rules: whole message, trimmed, any case; free text is only flagged."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.compliance_rules import (
    DEFAULT_OPT_OUT,
    Keyword,
    KeywordRules,
    classify,
    sounds_like_opt_out,
)

RULES = KeywordRules.build()


@pytest.mark.parametrize("word", DEFAULT_OPT_OUT)
def test_every_listed_opt_out_word(word: str) -> None:
    assert classify(word, RULES) is Keyword.OPT_OUT
    assert classify(f"  {word.lower()}  ", RULES) is Keyword.OPT_OUT


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("Stop", Keyword.OPT_OUT),
        ("STOP!", Keyword.OPT_OUT),
        ("stop.", Keyword.OPT_OUT),
        ("Stop  all", Keyword.OPT_OUT),
        ("opt out", Keyword.OPT_OUT),
        (
            "\uff33\uff34\uff2f\uff30",
            Keyword.OPT_OUT,
        ),  # full-width STOP from some keyboards
        ("start", Keyword.OPT_IN),
        ("Yes", Keyword.OPT_IN),
        ("unstop", Keyword.OPT_IN),
        ("help", Keyword.HELP),
        ("INFO?", Keyword.HELP),
        ("stop the delivery please", None),
        ("don't stop", None),
        ("yes please, Tuesday works", None),
        ("", None),
        ("stopp", None),
    ],
)
def test_classify(body: str, expected: Keyword | None) -> None:
    assert classify(body, RULES) is expected


@pytest.mark.parametrize(
    "body",
    [
        "please stop texting me",
        "Don't text me again",
        "unsubscribe me from this",
        "remove me from your list",
        "I want to opt-out",
        "NO MORE TEXTS",
    ],
)
def test_free_text_opt_out_is_flagged(body: str) -> None:
    assert classify(body, RULES) is None  # never applied silently
    assert sounds_like_opt_out(body)


@pytest.mark.parametrize(
    "body",
    ["where is my order?", "don't stop the delivery", "I'll be out, textbook case"],
)
def test_ordinary_text_is_not_flagged(body: str) -> None:
    assert not sounds_like_opt_out(body)


def test_custom_lists_and_conflicts() -> None:
    rules = KeywordRules.build(
        opt_out=("ARRET", "STOP"), opt_in=("START",), help=("AIDE",)
    )
    assert classify("arrêt".replace("ê", "e"), rules) is Keyword.OPT_OUT
    assert classify("aide", rules) is Keyword.HELP
    assert classify("help", rules) is None
    with pytest.raises(ValueError, match="STOP"):
        KeywordRules.build(opt_out=("STOP",), opt_in=("stop",))


@given(st.text(max_size=40))
def test_classify_never_raises_and_keywords_survive_padding(text: str) -> None:
    kind = classify(text, RULES)
    if kind is not None:
        assert classify(f" \t{text}\n ", RULES) is kind

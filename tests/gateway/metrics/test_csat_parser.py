"""The CSAT reply reader (PURE): generous with the forms a rating takes, strict about doubt."""

from __future__ import annotations

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from gateway.metrics.csat import MAX_CHARS, parse_rating

WORDS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


@pytest.mark.parametrize(
    ("text", "rating"),
    [
        ("5", 5),
        (" 4 ", 4),
        ("5!", 5),
        ("3.", 3),
        ("5/5", 5),
        ("4 / 5", 4),
        ("4 out of 5", 4),
        ("five out of five", 5),
        ("10/10", 5),  # out of ten: halved, rounded up
        ("7/10", 4),
        ("1/10", 1),
        ("five", 5),
        ("Four stars", 4),
        ("5 stars!", 5),
        ("⭐⭐⭐⭐", 4),
        ("★★★☆☆", 3),
        ("5⭐", 5),
        ("⑤", 5),  # NFKC: circled and full-width digits are digits
        ("５", 5),
        ("4 thanks", 4),
        ("5, great service", 5),
        ("I'd give it a 4 thanks", 4),
        ("I’d give you a 5", 5),  # a curly apostrophe
        ("my rating is 3", 3),
        ("Solid 4 from me", 4),
        ("Excellent!", 5),
        ("very good", 5),
        ("Good", 4),
        ("average", 3),
        ("poor", 2),
        ("very bad", 1),
        ("Terrible!!!", 1),
        ("Great, thanks!", 5),
        ("5 5", 5),  # the same rating twice is one rating
    ],
)
def test_ratings_in_the_forms_customers_write_them(text: str, rating: int) -> None:
    assert parse_rating(text) == rating


@pytest.mark.parametrize(
    "text",
    [
        "",
        "ok",  # an acknowledgement, not a rating
        "thanks",
        "STOP",
        "1 or 2",  # two ratings
        "4-5",
        "3 to 4",
        "between 2 and 3",
        "4.5",  # a decimal: no rating of ours
        "4.5/5",
        "0",
        "6",
        "rate 6",
        "3/4",  # another scale
        "not 5",  # a negation
        "not good",
        "wouldn't give it a 5",
        "great but slow",  # a contrast
        "I have 2 questions",  # a number in a sentence without a rating word
        "4 - thanks for sorting it out",
        "order 4839201",
        "5 of my 12 orders",  # another number beside it
        "2nd time asking where is my refund",
        "⭐⭐⭐⭐⭐⭐",  # more stars than there are
        "Where is my refund though?",
        "5" + " thanks" * 60,  # too long to be a rating
    ],
)
def test_anything_doubtful_is_no_rating(text: str) -> None:
    assert parse_rating(text) is None


@given(st.text(max_size=MAX_CHARS + 20))
def test_any_text_is_a_rating_1_to_5_or_none_and_never_an_error(text: str) -> None:
    assert parse_rating(text) in (None, 1, 2, 3, 4, 5)


SURROUNDINGS = st.sampled_from(
    [
        "{n}",
        "{n}!",
        "  {n}  ",
        "{n}/5",
        "{n} out of 5",
        "{n} stars",
        "{n} thanks",
        "I'd give it a {n} thanks",
        "my rating is {n}",
        "{w}",
        "{w} stars",
        "{w} out of five",
    ]
)


@given(
    st.integers(1, 5),
    SURROUNDINGS,
    st.sampled_from([str.lower, str.upper, str.title, str]),
    st.sampled_from(["", ".", "!!", " :)", " 🙂", "\n"]),
)
def test_a_rating_reads_the_same_however_it_is_dressed(
    n: int, template: str, case: object, tail: str
) -> None:
    text = template.format(n=n, w=WORDS[n])
    assert callable(case)
    assert parse_rating(case(text) + tail) == n


@given(
    st.integers(1, 5),
    st.integers(1, 5),
    st.sampled_from(["{a} or {b}", "{a}-{b}", "{a} to {b}", "{a} and {b}", "{a}, {b}"]),
)
def test_two_different_ratings_are_no_rating(a: int, b: int, template: str) -> None:
    assume(a != b)
    assert parse_rating(template.format(a=a, b=b)) is None


@given(st.integers(1, 5), st.integers(6, 10**9))
def test_another_number_beside_a_rating_makes_it_no_rating(n: int, other: int) -> None:
    assert parse_rating(f"{n} for order {other}") is None


@given(
    st.lists(
        st.sampled_from(
            [
                "where",
                "is",
                "my",
                "order",
                "please",
                "help",
                "when",
                "the",
                "parcel",
                "arrive",
                "address",
                "change",
                "thanks",
                "hello",
                "?",
                "!",
                "refund",
            ]
        ),
        max_size=12,
    )
)
def test_words_without_a_number_or_an_opinion_are_no_rating(words: list[str]) -> None:
    assert parse_rating(" ".join(words)) is None

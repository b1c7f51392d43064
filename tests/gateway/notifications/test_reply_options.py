"""Reply options: which option a customer's reply picks (a property over random option
maps and replies), and how option maps are checked."""

from __future__ import annotations

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from gateway import compliance_rules
from gateway.compliance_rules import KeywordRules
from gateway.errors import InvalidInput
from gateway.notifications.options import (
    OptionAction,
    ReplyOption,
    match,
    normalise,
    parse_options,
)

RULES = KeywordRules.build()
COMPLIANCE_WORDS = sorted(RULES.opt_out | RULES.opt_in | RULES.help)

words = st.text(
    alphabet=st.sampled_from("abcdefgh12345 ABC.!#"), min_size=1, max_size=6
)
option_specs = st.dictionaries(
    keys=words,
    values=st.one_of(
        words,
        st.fixed_dictionaries({"value": words, "aliases": st.lists(words, max_size=3)}),
    ),
    max_size=5,
)
decorations = st.sampled_from(["{}", " {} ", "{}.", "({})", "Option {}", "#{}", "{}!"])


def usable(raw: dict[str, object]) -> tuple[ReplyOption, ...] | None:
    try:
        return parse_options(raw, RULES)  # type: ignore[arg-type]
    except InvalidInput:
        return None


@settings(max_examples=400, deadline=None)
@given(raw=option_specs, reply=st.one_of(words, st.sampled_from(COMPLIANCE_WORDS)))
def test_an_option_is_picked_iff_the_reply_is_one_options_name(
    raw: dict[str, object], reply: str
) -> None:
    options = usable(raw)
    assume(options is not None)
    assert options is not None
    picked = match(reply, options, RULES)
    said = normalise(reply)
    owners = [o for o in options if said and said in o.names(RULES)]
    if compliance_rules.classify(reply, RULES) is not None:
        assert picked is None  # never for STOP/START/HELP (and their lists)
    elif len(owners) == 1:
        assert picked == owners[0]
    else:
        assert picked is None


@settings(max_examples=200, deadline=None)
@given(raw=option_specs, data=st.data())
def test_each_options_key_picks_it_however_it_is_dressed(
    raw: dict[str, object], data: st.DataObject
) -> None:
    options = usable(raw)
    assume(options)
    assert options is not None
    option = data.draw(st.sampled_from(options))
    reply = data.draw(decorations).format(option.key)
    assume(compliance_rules.classify(reply, RULES) is None)
    assert match(reply, options, RULES) == option


@settings(max_examples=200, deadline=None)
@given(raw=option_specs, keyword=st.sampled_from(COMPLIANCE_WORDS), dress=decorations)
def test_compliance_keywords_never_pick(
    raw: dict[str, object], keyword: str, dress: str
) -> None:
    options = usable(raw)
    assume(options is not None)
    assert options is not None
    reply = dress.format(keyword.lower())
    if compliance_rules.classify(reply, RULES) is not None:
        assert match(reply, options, RULES) is None


@pytest.mark.parametrize(
    "reply", ["2", " 2 ", "2.", "(2)", "Option 2", "option #2", "#2", "２", "opt 2"]
)
def test_the_forms_of_two(reply: str) -> None:
    options = parse_options({"1": "confirm", "2": "reschedule"}, RULES)
    picked = match(reply, options, RULES)
    assert picked is not None
    assert picked.key == "2"


@pytest.mark.parametrize(
    ("reply", "key"),
    [("confirm", "1"), ("RESCHEDULE", "2"), ("later!", "2"), ("Reschedule.", "2")],
)
def test_values_and_aliases_pick(reply: str, key: str) -> None:
    options = parse_options(
        {"1": "confirm", "2": {"value": "reschedule", "aliases": ["later"]}}, RULES
    )
    picked = match(reply, options, RULES)
    assert picked is not None
    assert picked.key == key


@pytest.mark.parametrize(
    "reply", ["STOP", "stop.", "Help", "START", "yes", "1 2", "twelve", "", "  ", "21"]
)
def test_these_pick_nothing(reply: str) -> None:
    options = parse_options({"1": "confirm", "2": "reschedule"}, RULES)
    assert match(reply, options, RULES) is None


def test_an_option_value_that_is_a_keyword_is_not_a_name() -> None:
    # "cancel" opts out: the option is picked by its key only
    (option,) = parse_options({"3": "cancel"}, RULES)
    assert match("cancel", (option,), RULES) is None
    assert match("3", (option,), RULES) == option


@pytest.mark.parametrize(
    ("raw", "field", "reason"),
    [
        ({"STOP": "x"}, "reply_options.STOP", "compliance keyword"),
        (
            {"1": {"value": "a", "aliases": ["help"]}},
            "reply_options.1.aliases",
            "keyword",
        ),
        ({"1": "a", "2": {"value": "b", "aliases": ["A"]}}, "reply_options.2", "both"),
        ({"1": "x", "01": "y"}, "reply_options.01", None),
        (
            {"1": {"value": "x", "action": "maybe"}},
            "reply_options.1.action",
            "handover",
        ),
        ({"1": {"value": "x", "queue": "no/slash"}}, "reply_options.1.queue", "queue"),
        ({"1": {"value": "x", "colour": "red"}}, "reply_options.1", "unknown field"),
        ({"1": 5}, "reply_options.1", "object"),
        ({"1": ""}, "reply_options.1.value", "1 to"),
        ({str(i): "x" + str(i) for i in range(11)}, "reply_options", "at most"),
    ],
)
def test_bad_option_maps_are_refused_naming_the_option(
    raw: dict[str, object], field: str, reason: str | None
) -> None:
    if field == "reply_options.01":
        # "01" and "1" are two names: both fine
        assert len(parse_options(raw, RULES)) == 2  # type: ignore[arg-type]
        return
    with pytest.raises(InvalidInput) as caught:
        parse_options(raw, RULES)  # type: ignore[arg-type]
    assert caught.value.field == field
    if reason:
        assert reason in caught.value.reason


def test_options_round_trip_through_json() -> None:
    (option,) = parse_options(
        {
            "2": {
                "value": "reschedule",
                "action": "handover",
                "queue": "bookings",
                "reply": "We'll call you",
                "aliases": ["later"],
            }
        },
        RULES,
    )
    assert option.action is OptionAction.HANDOVER
    assert ReplyOption.from_json(option.as_json()) == option

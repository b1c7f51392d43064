"""What admins type into the rules editor: a triage option's key is one reply."""

from __future__ import annotations

import pytest

from gateway.automation import editing
from gateway.errors import InvalidInput


@pytest.mark.parametrize(("typed", "key"), [("1", "1"), ("b", "B"), ("vip2", "vip2")])
def test_a_key_is_a_digit_a_letter_or_a_short_word(typed: str, key: str) -> None:
    assert editing.option_key(typed) == key


@pytest.mark.parametrize("typed", ["", "1 2", "1.", "é", "ninechars"])
def test_anything_else_is_refused_naming_key(typed: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        editing.option_key(typed)
    assert refused.value.field == "key"

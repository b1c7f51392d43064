"""Numbers in logs: enough to tell them apart, not enough to text them."""

from __future__ import annotations

import pytest

from gateway.logutil import mask_number


@pytest.mark.parametrize(
    ("number", "masked"),
    [
        ("+447912341234", "+4479\u20261234"),
        ("+12015550123", "+1201\u20260123"),
        ("07700900123", "07700\u20260123"),
        ("12345", "\u202645"),
        ("+44", "\u202644"),
        ("1", "\u2026"),
        ("AMAZON", "AMAZON"),  # a business name is not personal data
        ("", ""),
    ],
)
def test_mask_number(number: str, masked: str) -> None:
    assert mask_number(number) == masked

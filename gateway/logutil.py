"""Logging helpers shared by the gateway: what may appear in a log line at INFO and above."""

from __future__ import annotations

# A phone number is personal data: INFO+ lines keep enough to tell numbers apart in an
# incident (country and operator prefix, last digits) and no more.
_MASK_KEEP_HEAD = 5  # "+4479"
_MASK_KEEP_TAIL = 4  # "1234"
_MASK = "\u2026"  # one character, so masked numbers line up


def mask_number(number: str) -> str:
    """`+447912341234` -> `+4479…1234`; short numbers keep only their last two digits.

    Alphanumeric senders ("AMAZON") name a business, not a person, and are kept as they are.
    """
    digits = number.lstrip("+")
    if not digits.isdigit():
        return number
    if len(number) <= _MASK_KEEP_HEAD + _MASK_KEEP_TAIL:
        return _MASK + number[-2:] if len(number) > 2 else _MASK
    return number[:_MASK_KEEP_HEAD] + _MASK + number[-_MASK_KEEP_TAIL:]

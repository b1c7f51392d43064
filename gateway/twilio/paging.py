"""PURE: the Messages list's pages, Twilio-style: PageSize, Page, and an opaque PageToken.

Pages are keyset pages over message ids, newest first, so a page never repeats or skips
a message because new ones arrived meanwhile. "PA<hex id>" continues after (older than)
that message, "PB<hex id>" goes back before (newer than) it. A token only says where to
start, so it need not be secret; one this box did not make is refused. `Page` without a
token is an offset (Twilio's older style).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from gateway.twilio.errors import invalid_parameter
from gateway.twilio.records import MessagePage, PageRequest, TwilioMessage

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000  # Twilio's own bound
MAX_PAGE_NUMBER = 100_000
_TOKEN_RE = re.compile(r"P([AB])([0-9a-f]{1,16})")


def older_than_token(message_id: int) -> str:
    return f"PA{message_id:x}"


def newer_than_token(message_id: int) -> str:
    return f"PB{message_id:x}"


def token_of(page: PageRequest) -> str | None:
    """The PageToken that asked for `page` (None for a first or offset page)."""
    if page.older_than is not None:
        return older_than_token(page.older_than)
    if page.newer_than is not None:
        return newer_than_token(page.newer_than)
    return None


def request(*, size: int, number: int, token: str | None) -> PageRequest:
    """The page asked for; TwilioApiError (invalid parameter) for values out of range."""
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise invalid_parameter("PageSize", f"1 to {MAX_PAGE_SIZE}, not {size}")
    if not 0 <= number <= MAX_PAGE_NUMBER:
        raise invalid_parameter("Page", f"0 to {MAX_PAGE_NUMBER}, not {number}")
    if token is None:
        return PageRequest(size, number)
    match = _TOKEN_RE.fullmatch(token)
    if match is None:
        raise invalid_parameter("PageToken", "not a token this list gave")
    direction, position = match.groups()
    message_id = int(position, 16)
    if direction == "A":
        return PageRequest(size, number, older_than=message_id)
    return PageRequest(size, number, newer_than=message_id)


def page_of(rows: Sequence[TwilioMessage], asked: PageRequest) -> MessagePage:
    """The page from up to size + 1 rows read from `asked`'s position (ascending for a
    "newer than" position, newest first otherwise)."""
    size = asked.size
    if asked.newer_than is not None:
        newer_left = len(rows) > size
        shown = tuple(reversed(rows[:size]))
        has_older = bool(shown)  # the token's own message at least
        has_newer = newer_left
    else:
        shown = tuple(rows[:size])
        has_older = len(rows) > size
        has_newer = asked.older_than is not None or asked.number > 0
    ids = [view.message.id for view in shown]
    return MessagePage(
        messages=shown,
        number=asked.number,
        size=size,
        next_token=older_than_token(ids[-1]) if has_older and ids else None,
        previous_token=newer_than_token(ids[0]) if has_newer and ids else None,
    )

"""Cursors of the API's id-ordered lists (messages, audit): opaque, checked, bound to
the list and its filters.

A cursor is URL-safe base64 of a checksum and `[version, list, filters, last id]`. It
is not a secret and grants nothing: a keyset position only picks where a listing the
caller may read anyway resumes. The checksum and the binding make a cursor that was
cut short, edited by hand, taken from another list or sent with other filters a 400
naming `cursor`, instead of a page that quietly skips or repeats rows.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping

from gateway.errors import InvalidInput

VERSION = 1
MAX_CURSOR_CHARS = 200
# A checksum key, not a secret (see the module docstring): it only tells our cursors
# from anything else.
_KEY = b"smsgw api cursor"
_MAC_BYTES = 8
_REFUSED = "not a cursor of this list with these filters; start again without it"


def _fingerprint(filters: Mapping[str, object]) -> str:
    canonical = json.dumps(filters, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _mac(payload: bytes) -> bytes:
    return hmac.new(_KEY, payload, hashlib.sha256).digest()[:_MAC_BYTES]


def encode(listing: str, filters: Mapping[str, object], last_id: int) -> str:
    """The cursor for the page after the row `last_id` of `listing` with `filters`."""
    payload = json.dumps(
        [VERSION, listing, _fingerprint(filters), last_id], separators=(",", ":")
    ).encode()
    return base64.urlsafe_b64encode(_mac(payload) + payload).decode().rstrip("=")


def decode(
    text: str, listing: str, filters: Mapping[str, object], *, field: str = "cursor"
) -> int:
    """The last id a cursor of `listing` with `filters` stands for; InvalidInput else."""
    if not text or len(text) > MAX_CURSOR_CHARS:
        raise InvalidInput(field, _REFUSED)
    try:
        raw = base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
    except (binascii.Error, ValueError):
        raise InvalidInput(field, _REFUSED) from None
    mac, payload = raw[:_MAC_BYTES], raw[_MAC_BYTES:]
    if not hmac.compare_digest(mac, _mac(payload)):
        raise InvalidInput(field, _REFUSED)
    try:
        version, name, fingerprint, last_id = json.loads(payload)
    except (ValueError, TypeError):
        raise InvalidInput(field, _REFUSED) from None
    if (version, name, fingerprint) != (VERSION, listing, _fingerprint(filters)) or (
        isinstance(last_id, bool) or not isinstance(last_id, int) or last_id < 1
    ):
        raise InvalidInput(field, _REFUSED)
    return last_id

"""PURE: Twilio identifiers - account SIDs and auth tokens (random), and message SIDs
derived from message ids.

A message SID is "SM" + 16 hex of a keyed checksum + 16 hex of the message id: stable
(the same message has the same SID in every answer and callback, after any restart),
reversible without a lookup table, and a made-up SID is refused before the database is
asked. The key is fixed: it guards integrity, not secrecy (a SID grants nothing; every
request is authenticated and every message checked against the account).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

ACCOUNT_PREFIX = "AC"
MESSAGE_PREFIX = "SM"
TOKEN_BYTES = 16  # 32 hex characters, as Twilio's auth tokens
ID_HEX = 16  # 64-bit message ids
_SID_KEY = b"smsgw twilio message sid v1"
_ACCOUNT_RE = re.compile(r"AC[0-9a-f]{32}")
_MESSAGE_RE = re.compile(r"SM([0-9a-f]{16})([0-9a-f]{16})")


def new_account_sid() -> str:
    """A fresh account SID: "AC" + 32 random hex digits."""
    return ACCOUNT_PREFIX + secrets.token_hex(16)


def new_auth_token() -> str:
    """A fresh auth token: 32 random hex digits (128 bits)."""
    return secrets.token_hex(TOKEN_BYTES)


def is_account_sid(text: str) -> bool:
    return _ACCOUNT_RE.fullmatch(text) is not None


def _tag(id_hex: str) -> str:
    digest = hmac.new(_SID_KEY, id_hex.encode("ascii"), hashlib.sha256).hexdigest()
    return digest[:ID_HEX]


def message_sid(message_id: int) -> str:
    """The SID of a message: "SM" + checksum + id, 32 hex digits in all."""
    if not 0 < message_id < 2**63:
        raise ValueError(f"not a message id: {message_id}")
    id_hex = f"{message_id:0{ID_HEX}x}"
    return f"{MESSAGE_PREFIX}{_tag(id_hex)}{id_hex}"


def message_id(sid: str) -> int | None:
    """The message id a SID stands for; None for anything this box did not make."""
    match = _MESSAGE_RE.fullmatch(sid)
    if match is None:
        return None
    tag, id_hex = match.groups()
    if not hmac.compare_digest(tag, _tag(id_hex)):
        return None
    value = int(id_hex, 16)
    return value if 0 < value < 2**63 else None

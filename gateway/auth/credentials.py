"""Pure rules of credentials: random tokens and their hashes, CSRF tokens, session expiry,
login throttling and the forms of usernames and display names."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import secrets
import unicodedata
from collections.abc import Sequence
from datetime import datetime, timedelta

from gateway.errors import InvalidInput

TOKEN_BYTES = (
    32  # 256 bits: unguessable, so a plain SHA-256 of it is a safe stored form
)
API_TOKEN_PREFIX = "smsgw_"
API_TOKEN_SHOWN_CHARS = 14  # "smsgw_" and 8 more: enough to tell tokens apart in a list
USERNAME_RE = re.compile(r"[a-z0-9][a-z0-9._@+-]{0,63}")
MAX_DISPLAY_NAME = 100
MAX_TOKEN_NAME = 100


def new_session_token() -> str:
    """A fresh session cookie value."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_api_token() -> str:
    """A fresh API token; the prefix makes leaked ones easy to spot (secret scanners, logs)."""
    return API_TOKEN_PREFIX + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    """The stored form of a session or API token: hex SHA-256."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def csrf_token(session_token: str) -> str:
    """The session's CSRF token: derived from the cookie value, so nothing more is stored,
    and one-way, so a CSRF token seen in a page does not reveal the session."""
    digest = hmac.new(session_token.encode("utf-8"), b"smsgw csrf", "sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def csrf_matches(expected: str, given: str | None) -> bool:
    """Constant-time comparison of the session's CSRF token with what a request sent."""
    if not given:
        return False
    return hmac.compare_digest(expected.encode("utf-8"), given.encode("utf-8"))


def session_expiry_reason(
    *,
    last_seen_at: datetime,
    expires_at: datetime,
    now: datetime,
    idle_timeout_s: float,
) -> str | None:
    """Why a session is over at `now` ("expired" or "idle"), or None while it is valid."""
    if now >= expires_at:
        return "expired"
    if now >= last_seen_at + timedelta(seconds=idle_timeout_s):
        return "idle"
    return None


def throttle_wait_s(
    failures: Sequence[datetime], *, limit: int, window_s: float, now: datetime
) -> float | None:
    """Seconds until one more sign-in may be tried, or None when it may be tried now.

    `failures` are the failed attempts within the window, newest first. Sign-in is refused
    while `limit` of them are in the window: until the limit-th newest leaves it.
    """
    if len(failures) < limit:
        return None
    leaves_at = failures[limit - 1] + timedelta(seconds=window_s)
    wait = (leaves_at - now).total_seconds()
    return wait if wait > 0 else None


def normal_username(text: str, *, field: str = "username") -> str:
    """The username as stored (lower case); InvalidInput unless it has the accepted form."""
    username = text.strip().lower()
    if not USERNAME_RE.fullmatch(username):
        raise InvalidInput(
            field,
            "1 to 64 characters: letters, digits and . _ @ + - (starting with a letter "
            "or a digit)",
        )
    return username


def normal_label(text: str, *, field: str, max_length: int) -> str:
    """A display name or token name: trimmed, printable, not empty, not too long."""
    label = " ".join(unicodedata.normalize("NFC", text).split())
    if not label:
        raise InvalidInput(field, "must not be empty")
    if len(label) > max_length:
        raise InvalidInput(field, f"at most {max_length} characters")
    if any(unicodedata.category(ch).startswith("C") for ch in label):
        raise InvalidInput(field, "control characters are not allowed")
    return label

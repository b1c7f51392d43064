"""PURE: Standard Webhooks signatures (https://www.standardwebhooks.com).

A secret is "whsec_" + base64 of random bytes; the HMAC key is those bytes. A request is
signed over `f"{webhook_id}.{webhook_timestamp}.{body}"` with HMAC-SHA256, and the
`webhook-signature` header holds "v1," + base64 of the digest - several of them,
space-separated, while a rotated secret's old key still signs. `verify` is what a
receiver does (the tests use it, and integrators may copy it).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32  # the spec asks for 24 to 64
SIGNATURE_VERSION = "v1"
TOLERANCE_S = 300  # how far a receiver accepts webhook-timestamp from its clock

ID_HEADER = "webhook-id"
TIMESTAMP_HEADER = "webhook-timestamp"
SIGNATURE_HEADER = "webhook-signature"


class InvalidSignature(ValueError):
    """A request that is not signed with the secret (or too old, or malformed)."""


def new_secret(key: bytes | None = None) -> str:
    """A signing secret, "whsec_" + base64 of `key` (SECRET_BYTES random bytes if None)."""
    key = secrets.token_bytes(SECRET_BYTES) if key is None else key
    return SECRET_PREFIX + base64.b64encode(key).decode("ascii")


def secret_key(secret: str) -> bytes:
    """The HMAC key of a "whsec_..." secret; ValueError when it is not one."""
    if not secret.startswith(SECRET_PREFIX):
        raise ValueError(f"a webhook secret starts with {SECRET_PREFIX!r}")
    try:
        key = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except binascii.Error as exc:
        raise ValueError("a webhook secret is whsec_ followed by base64") from exc
    if not key:
        raise ValueError("a webhook secret has a key after whsec_")
    return key


def sign(secret: str, webhook_id: str, timestamp: int, body: bytes) -> str:
    """One signature: "v1," + base64(HMAC-SHA256(key, id.timestamp.body))."""
    signed = f"{webhook_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret_key(secret), signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def headers(
    webhook_id: str, timestamp: int, body: bytes, secrets_: Iterable[str]
) -> dict[str, str]:
    """The three Standard Webhooks headers, signed with every secret given."""
    signatures = " ".join(sign(s, webhook_id, timestamp, body) for s in secrets_)
    if not signatures:
        raise ValueError("at least one secret signs a request")
    return {
        ID_HEADER: webhook_id,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signatures,
    }


def verify(
    secret: str,
    request_headers: Mapping[str, str],
    body: bytes,
    *,
    now: float,
    tolerance_s: float = TOLERANCE_S,
) -> str:
    """Check a received request as a receiver would; its webhook-id, or InvalidSignature.

    `request_headers` may use any case; `body` is the raw bytes, before any JSON parsing.
    """
    lowered = {k.lower(): v for k, v in request_headers.items()}
    try:
        webhook_id = lowered[ID_HEADER]
        stamp = lowered[TIMESTAMP_HEADER]
        received = lowered[SIGNATURE_HEADER]
    except KeyError as exc:
        raise InvalidSignature(f"missing header {exc.args[0]}") from None
    try:
        timestamp = int(stamp)
    except ValueError:
        raise InvalidSignature(f"{TIMESTAMP_HEADER} is not a number") from None
    if abs(now - timestamp) > tolerance_s:
        raise InvalidSignature(f"{TIMESTAMP_HEADER} is outside the tolerance")
    expected = sign(secret, webhook_id, timestamp, body).partition(",")[2]
    for candidate in received.split():
        version, _, value = candidate.partition(",")
        if version == SIGNATURE_VERSION and hmac.compare_digest(value, expected):
            return webhook_id
    raise InvalidSignature("no signature matches the secret")

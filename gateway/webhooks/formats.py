"""How a delivery becomes an HTTP request, per endpoint `kind`: the pluggable part.

`standard` is Standard Webhooks: a JSON envelope and the webhook-id / webhook-timestamp /
webhook-signature headers. Another format (Twilio's form-encoded callbacks, signed with
X-Twilio-Signature) is a class with `build` added to FORMATS under its kind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from gateway.webhooks import payloads, signing
from gateway.webhooks.records import ClaimedDelivery

USER_AGENT = "smsgw-webhooks/1"
STANDARD = "standard"


@dataclass(frozen=True, slots=True)
class OutgoingRequest:
    url: str
    headers: Mapping[str, str]
    body: bytes = field(repr=False)


class Format(Protocol):
    def build(self, delivery: ClaimedDelivery, *, now: datetime) -> OutgoingRequest:
        """The request for one attempt of `delivery` at `now` (signed then)."""
        ...


def body_of(delivery: ClaimedDelivery) -> bytes:
    """The JSON body: the same bytes on every attempt and replay."""
    envelope = payloads.envelope(
        delivery.event_id,
        delivery.event_type,
        delivery.event_created_at,
        delivery.data,
    )
    return json.dumps(envelope, ensure_ascii=False, separators=(",", ":")).encode()


class StandardWebhooks:
    """JSON, signed the Standard Webhooks way with the endpoint's secret(s)."""

    def build(self, delivery: ClaimedDelivery, *, now: datetime) -> OutgoingRequest:
        body = body_of(delivery)
        headers = signing.headers(
            delivery.event_id,
            int(now.timestamp()),
            body,
            delivery.signing_secrets(now),
        )
        headers["content-type"] = "application/json"
        headers["user-agent"] = USER_AGENT
        return OutgoingRequest(delivery.url, headers, body)


FORMATS: Mapping[str, Format] = {STANDARD: StandardWebhooks()}

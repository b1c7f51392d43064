"""How a delivery becomes an HTTP request, per endpoint `kind`: the pluggable part.

`standard` is Standard Webhooks: a JSON envelope and the webhook-id / webhook-timestamp /
webhook-signature headers. `twilio` is Twilio's form-encoded webhooks (an incoming
message, a status callback) signed with X-Twilio-Signature; its endpoints are the hidden
ones of Twilio accounts, which get only the events addressed to them. Another format is
a class with `build` added to FORMATS under its kind.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from urllib.parse import urlencode

from gateway.compliance_rules import Keyword, KeywordRules, classify
from gateway.webhooks import payloads, signing, twilio_signing
from gateway.webhooks.records import ClaimedDelivery

USER_AGENT = "smsgw-webhooks/1"
STANDARD = "standard"
TWILIO = "twilio"
# Twilio events: `data` holds the form fields ("params") and, for a status callback, the
# message's own StatusCallback URL ("url"), which the account's endpoint URL gives way to.
TWILIO_INBOUND = "twilio.inbound"
TWILIO_STATUS = "twilio.status"
# Kinds whose endpoints get only the events addressed to them, never a subscription (and
# that the Webhooks pages and API do not list: their owner manages them).
ADDRESSED_KINDS = frozenset({TWILIO})
# Events sent to a URL of their own: a 410 Gone from it ends that delivery only.
OWN_URL_EVENTS = frozenset({TWILIO_STATUS})
IDEMPOTENCY_HEADER = "I-Twilio-Idempotency-Token"  # Twilio's: the same on every retry
_OPT_OUT_TYPES = {
    Keyword.OPT_OUT: "STOP",
    Keyword.OPT_IN: "START",
    Keyword.HELP: "HELP",
}


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


class TwilioCallbacks:
    """Form fields, signed Twilio's way (X-Twilio-Signature) with the account's auth
    token, which is its endpoint's secret."""

    def __init__(self, rules: KeywordRules | None = None) -> None:
        # the box's keyword lists give an incoming message its OptOutType
        self._rules = KeywordRules.build() if rules is None else rules

    def params(self, delivery: ClaimedDelivery) -> dict[str, str]:
        """The form fields of the request (the same on every attempt)."""
        raw = delivery.data.get("params")
        if not isinstance(raw, Mapping):
            raise TypeError(f"a {delivery.event_type} event without its parameters")
        params = {str(k): str(v) for k, v in raw.items()}
        if delivery.event_type == TWILIO_INBOUND:
            keyword = classify(params.get("Body", ""), self._rules)
            if keyword is not None:
                params["OptOutType"] = _OPT_OUT_TYPES[keyword]
        return params

    def build(self, delivery: ClaimedDelivery, *, now: datetime) -> OutgoingRequest:
        params = self.params(delivery)
        own_url = delivery.data.get("url")
        url = own_url if isinstance(own_url, str) and own_url else delivery.url
        headers = {
            "content-type": "application/x-www-form-urlencoded",
            "user-agent": USER_AGENT,
            twilio_signing.SIGNATURE_HEADER: twilio_signing.sign(
                delivery.secret, url, params
            ),
            IDEMPOTENCY_HEADER: delivery.event_id,
        }
        return OutgoingRequest(url, headers, urlencode(sorted(params.items())).encode())


def formats(rules: KeywordRules | None = None) -> dict[str, Format]:
    """Every request format, the Twilio one with the box's keyword lists."""
    return {STANDARD: StandardWebhooks(), TWILIO: TwilioCallbacks(rules)}


FORMATS: Mapping[str, Format] = formats()

"""PURE: a gateway message in Twilio's shapes - the Message resource's JSON, the status
callback's form fields and the incoming-message webhook's form fields - and the mapping
of the gateway's statuses and errors onto Twilio's.

Status mapping (the README's table):
  queued -> queued, sending -> sending, sent -> sent, delivered -> delivered,
  failed -> undelivered once the network had taken every part (a status report said it
  failed), else failed; unknown -> sent (a part may or may not have reached the phone,
  and is never resent: Twilio's "sent" is "the carrier took it, no receipt since");
  received and incomplete -> received.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import urlencode

import phonenumbers

from gateway.domain import Direction, JsonValue, MessageRecord, MessageStatus
from gateway.twilio import paging, sids
from gateway.twilio.errors import UNSUBSCRIBED
from gateway.twilio.records import MessagePage, PageRequest, TwilioMessage

API_VERSION = "2010-04-01"
# Twilio's error codes on a message: an unsubscribed recipient, a handset the network
# could not reach (a failed status report), anything else
UNDELIVERED_CODE = 30003
UNKNOWN_ERROR_CODE = 30008
OPTED_OUT_ERROR = "recipient opted out"  # the claim's words (gateway.storage.queries)

_STATUSES = {
    MessageStatus.QUEUED: "queued",
    MessageStatus.SENDING: "sending",
    MessageStatus.SENT: "sent",
    MessageStatus.DELIVERED: "delivered",
    MessageStatus.UNKNOWN: "sent",
    MessageStatus.RECEIVED: "received",
    MessageStatus.INCOMPLETE: "received",
}


def rfc2822(when: datetime | None) -> str | None:
    """A time as Twilio writes it: "Thu, 30 Jul 2015 20:12:31 +0000"."""
    return None if when is None else format_datetime(when.astimezone(UTC))


def account_path(account_sid: str) -> str:
    return f"/{API_VERSION}/Accounts/{account_sid}"


def message_uri(account_sid: str, sid: str) -> str:
    return f"{account_path(account_sid)}/Messages/{sid}.json"


def twilio_status(message: MessageRecord) -> str:
    """The message's status in Twilio's words."""
    if message.status is MessageStatus.FAILED:
        return "undelivered" if message.sent_at is not None else "failed"
    return _STATUSES[message.status]


def twilio_error(message: MessageRecord) -> tuple[int, str] | None:
    """(error_code, error_message) of a failed or undelivered message, else None."""
    if message.status is not MessageStatus.FAILED:
        return None
    text = message.error or "the message could not be sent"
    if OPTED_OUT_ERROR in text:
        return UNSUBSCRIBED, "Attempt to send to unsubscribed recipient"
    if message.sent_at is not None:
        return UNDELIVERED_CODE, text
    return UNKNOWN_ERROR_CODE, text


def date_sent(message: MessageRecord) -> datetime | None:
    """When it left the box (outbound, once sent) or came in (inbound)."""
    if message.direction is Direction.INBOUND:
        return message.created_at
    return message.sent_at


def parties(view: TwilioMessage) -> tuple[str | None, str | None]:
    """(from, to): the customer and the box's number, in the message's direction."""
    customer = view.message.number
    if view.message.direction is Direction.INBOUND:
        return customer, view.box_number
    return view.box_number, customer


def message_json(view: TwilioMessage, account_sid: str) -> dict[str, JsonValue]:
    """The Message resource, as Twilio's API answers it."""
    message = view.message
    sid = sids.message_sid(message.id)
    sender, recipient = parties(view)
    error = twilio_error(message)
    return {
        "account_sid": account_sid,
        "api_version": API_VERSION,
        "body": message.body,
        "date_created": rfc2822(message.created_at),
        "date_sent": rfc2822(date_sent(message)),
        "date_updated": rfc2822(message.updated_at),
        "direction": (
            "inbound" if message.direction is Direction.INBOUND else "outbound-api"
        ),
        "error_code": None if error is None else error[0],
        "error_message": None if error is None else error[1],
        "from": sender,
        "messaging_service_sid": None,
        "num_media": "0",
        "num_segments": str(message.parts_count),
        "price": None,
        "price_unit": None,
        "sid": sid,
        "status": twilio_status(message),
        "subresource_uris": {
            "media": f"{account_path(account_sid)}/Messages/{sid}/Media.json"
        },
        "to": recipient,
        "uri": message_uri(account_sid, sid),
    }


def page_json(
    page: MessagePage,
    *,
    asked: PageRequest,
    path: str,
    given: Sequence[tuple[str, str]],
    account_sid: str,
) -> dict[str, JsonValue]:
    """A page of the Messages list as Twilio writes it: the messages and the URIs of
    this page, the first, the next and the previous one (filters `given` kept)."""

    def uri(number: int, token: str | None) -> str:
        params = [*given, ("PageSize", str(page.size)), ("Page", str(number))]
        if token is not None:
            params.append(("PageToken", token))
        return f"{path}?{urlencode(params)}"

    start = page.number * page.size
    previous = page.previous_token
    return {
        "end": start + max(len(page.messages) - 1, 0),
        "first_page_uri": uri(0, None),
        "messages": [message_json(m, account_sid) for m in page.messages],
        "next_page_uri": (
            None if page.next_token is None else uri(page.number + 1, page.next_token)
        ),
        "page": page.number,
        "page_size": page.size,
        "previous_page_uri": (
            None if previous is None else uri(max(page.number - 1, 0), previous)
        ),
        "start": start,
        "uri": uri(page.number, paging.token_of(asked)),
    }


def country_of(number: str | None) -> str | None:
    """The ISO country of an E.164 number (None for a name or an unplaceable one)."""
    if not number or not number.startswith("+"):
        return None
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    # the number's own region when it is a valid one, else its calling code's main one
    region = phonenumbers.region_code_for_number(
        parsed
    ) or phonenumbers.region_code_for_country_code(parsed.country_code or 0)
    return None if region in (None, "ZZ", "001") else region


def _common(view: TwilioMessage, account_sid: str) -> dict[str, str]:
    sid = sids.message_sid(view.message.id)
    sender, recipient = parties(view)
    return {
        "AccountSid": account_sid,
        "ApiVersion": API_VERSION,
        "From": sender or "",
        "MessageSid": sid,
        "SmsSid": sid,
        "To": recipient or "",
    }


def status_params(view: TwilioMessage, account_sid: str) -> dict[str, str]:
    """The form fields of a status callback for the message's current status."""
    params = _common(view, account_sid)
    status = twilio_status(view.message)
    params["MessageStatus"] = status
    params["SmsStatus"] = status
    error = twilio_error(view.message)
    if error is not None:
        params["ErrorCode"] = str(error[0])
    return params


def inbound_params(view: TwilioMessage, account_sid: str) -> dict[str, str]:
    """The form fields of the incoming-message webhook (OptOutType is added when sent:
    it depends on the box's keyword lists)."""
    message = view.message
    params = _common(view, account_sid)
    params["SmsMessageSid"] = params["MessageSid"]
    params["Body"] = message.body
    params["NumMedia"] = "0"
    params["NumSegments"] = str(message.parts_count)
    params["SmsStatus"] = "received"
    for name, number in (("FromCountry", params["From"]), ("ToCountry", params["To"])):
        country = country_of(number)
        if country is not None:
            params[name] = country
    return params

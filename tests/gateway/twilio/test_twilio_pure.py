"""The pure parts of the Twilio API: SIDs, the status and error mapping, the resource's
JSON and form fields, page tokens, and X-Twilio-Signature checked by Twilio's own
RequestValidator."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st
from twilio.base import deserialize
from twilio.request_validator import RequestValidator

from gateway.domain import Direction, MessageOrigin, MessageRecord, MessageStatus
from gateway.twilio import paging, resource, sids
from gateway.twilio.errors import TwilioApiError
from gateway.twilio.records import PageRequest, TwilioMessage
from gateway.webhooks import twilio_signing

T0 = datetime(2026, 3, 1, 9, 0, 5, tzinfo=UTC)


def message(**changes: object) -> MessageRecord:
    base = MessageRecord(
        id=42,
        conversation_id=7,
        direction=Direction.OUTBOUND,
        status=MessageStatus.QUEUED,
        origin=MessageOrigin.API,
        number="+447700900123",
        body="Your parcel is on its way",
        modem="usb0",
        encoding="gsm7",
        parts_count=2,
        concat_ref=None,
        idempotency_key=None,
        context={},
        error=None,
        user_id=None,
        consent_exempt=False,
        created_at=T0,
        updated_at=T0 + timedelta(seconds=3),
        network_at=None,
        sent_at=None,
        delivered_at=None,
        failed_at=None,
    )
    return dataclasses.replace(base, **changes)  # type: ignore[arg-type]


# ---------------------------------------------------------------- SIDs


@given(st.integers(min_value=1, max_value=2**63 - 1))
def test_a_message_sid_is_twilio_shaped_and_gives_its_id_back(message_id: int) -> None:
    sid = sids.message_sid(message_id)
    assert len(sid) == 34
    assert sid.startswith("SM")
    assert all(c in "0123456789abcdef" for c in sid[2:])
    assert sids.message_id(sid) == message_id


def test_a_made_up_or_altered_sid_is_nobody() -> None:
    sid = sids.message_sid(42)
    flipped = sid[:-1] + ("0" if sid[-1] != "0" else "1")  # another id, same checksum
    for text in (
        flipped,
        "SM" + "0" * 32,
        sid.upper(),
        sid[:-1],
        "MM" + sid[2:],
        "",
        sid + "0",
    ):
        assert sids.message_id(text) is None, text
    with pytest.raises(ValueError, match="not a message id"):
        sids.message_sid(0)


def test_accounts_and_tokens_are_random_and_twilio_shaped() -> None:
    made = {sids.new_account_sid() for _ in range(50)}
    assert len(made) == 50
    assert all(sids.is_account_sid(sid) for sid in made)
    token = sids.new_auth_token()
    assert len(token) == 32
    assert not sids.is_account_sid("AC123")
    assert not sids.is_account_sid("SM" + "0" * 32)


# ---------------------------------------------------------------- status mapping


@pytest.mark.parametrize(
    ("status", "sent_at", "error", "expected", "code"),
    [
        (MessageStatus.QUEUED, None, None, "queued", None),
        (MessageStatus.SENDING, None, None, "sending", None),
        (MessageStatus.SENT, T0, None, "sent", None),
        (MessageStatus.DELIVERED, T0, None, "delivered", None),
        (MessageStatus.UNKNOWN, None, "part 2 of 2: no answer", "sent", None),
        (MessageStatus.FAILED, None, "+CMS ERROR: 500", "failed", 30008),
        (MessageStatus.FAILED, None, "recipient opted out", "failed", 21610),
        (MessageStatus.FAILED, T0, "status report: 0x41", "undelivered", 30003),
        (MessageStatus.RECEIVED, None, None, "received", None),
        (MessageStatus.INCOMPLETE, None, "part 2 missing", "received", None),
    ],
)
def test_statuses_and_errors_in_twilio_words(
    status: MessageStatus,
    sent_at: datetime | None,
    error: str | None,
    expected: str,
    code: int | None,
) -> None:
    record = message(status=status, sent_at=sent_at, error=error)
    assert resource.twilio_status(record) == expected
    found = resource.twilio_error(record)
    assert (None if found is None else found[0]) == code


def test_the_resource_json_is_what_twilio_answers() -> None:
    shown = TwilioMessage(
        message(status=MessageStatus.SENT, sent_at=T0 + timedelta(seconds=1)),
        "+447700900001",
    )
    body = resource.message_json(shown, "AC" + "a" * 32)
    sid = sids.message_sid(42)
    assert body["sid"] == sid
    assert body["num_segments"] == "2"  # a string, as Twilio writes it
    assert body["num_media"] == "0"
    assert body["direction"] == "outbound-api"
    assert (body["from"], body["to"]) == ("+447700900001", "+447700900123")
    assert body["date_created"] == "Sun, 01 Mar 2026 09:00:05 +0000"
    assert deserialize.rfc2822_datetime(body["date_sent"]) == T0 + timedelta(seconds=1)  # type: ignore[arg-type]
    assert body["uri"] == f"/2010-04-01/Accounts/AC{'a' * 32}/Messages/{sid}.json"
    assert (body["error_code"], body["price"], body["messaging_service_sid"]) == (
        None,
        None,
        None,
    )
    inbound = resource.message_json(
        TwilioMessage(
            message(direction=Direction.INBOUND, status=MessageStatus.RECEIVED),
            "+447700900001",
        ),
        "AC" + "a" * 32,
    )
    assert (inbound["from"], inbound["to"], inbound["direction"]) == (
        "+447700900123",
        "+447700900001",
        "inbound",
    )
    assert inbound["date_sent"] == inbound["date_created"]  # when it came in


def test_callback_and_webhook_fields() -> None:
    account = "AC" + "b" * 32
    failed = TwilioMessage(
        message(status=MessageStatus.FAILED, error="recipient opted out"), "usb0"
    )
    params = resource.status_params(failed, account)
    assert params["MessageStatus"] == params["SmsStatus"] == "failed"
    assert params["ErrorCode"] == "21610"
    assert params["MessageSid"] == params["SmsSid"] == sids.message_sid(42)
    assert (params["From"], params["To"], params["ApiVersion"]) == (
        "usb0",
        "+447700900123",
        "2010-04-01",
    )
    sent = resource.status_params(
        TwilioMessage(message(status=MessageStatus.SENT), "+447700900001"), account
    )
    assert "ErrorCode" not in sent
    inbound = resource.inbound_params(
        TwilioMessage(
            message(direction=Direction.INBOUND, status=MessageStatus.RECEIVED),
            "+4915112345678",
        ),
        account,
    )
    assert inbound["SmsMessageSid"] == inbound["MessageSid"]
    assert (inbound["Body"], inbound["NumSegments"], inbound["NumMedia"]) == (
        "Your parcel is on its way",
        "2",
        "0",
    )
    assert (inbound["FromCountry"], inbound["ToCountry"]) == ("GB", "DE")
    named = resource.inbound_params(
        TwilioMessage(
            message(direction=Direction.INBOUND, number="AMAZON"), "+447700900001"
        ),
        account,
    )
    assert named["From"] == "AMAZON"
    assert "FromCountry" not in named


# ---------------------------------------------------------------- pages


def test_page_tokens_round_trip_and_refuse_others() -> None:
    asked = paging.request(size=2, number=3, token=paging.older_than_token(500))
    assert (asked.older_than, asked.newer_than, asked.number) == (500, None, 3)
    asked = paging.request(size=2, number=1, token=paging.newer_than_token(9))
    assert asked.newer_than == 9
    for size, number, token, name in (
        (0, 0, None, "PageSize"),
        (1001, 0, None, "PageSize"),
        (5, -1, None, "Page"),
        (5, 0, "PAxyz", "PageToken"),
        (5, 0, "PC10", "PageToken"),
    ):
        with pytest.raises(TwilioApiError, match=name) as caught:
            paging.request(size=size, number=number, token=token)
        assert caught.value.twilio_code == 20001


def test_a_page_knows_its_neighbours() -> None:
    def rows(*ids: int) -> list[TwilioMessage]:
        return [TwilioMessage(message(id=i), None) for i in ids]

    first = paging.page_of(rows(9, 8, 7), PageRequest(2))
    assert [m.message.id for m in first.messages] == [9, 8]
    assert (first.next_token, first.previous_token) == ("PA8", None)
    last = paging.page_of(rows(7), PageRequest(2, 1, older_than=8))
    assert (last.next_token, last.previous_token) == (None, "PB7")
    back = paging.page_of(rows(8, 9, 10), PageRequest(2, 0, newer_than=7))
    assert [m.message.id for m in back.messages] == [9, 8]  # newest first again
    assert (back.next_token, back.previous_token) == ("PA8", "PB9")


# ---------------------------------------------------------------- signatures


@given(
    st.dictionaries(
        st.text(st.characters(codec="utf-8"), min_size=1, max_size=12),
        st.text(st.characters(codec="utf-8"), max_size=40),
        max_size=8,
    )
)
def test_our_signature_is_twilios(params: dict[str, str]) -> None:
    token = "12345"
    url = "https://crm.example.com:8443/hooks/sms?account=7&x=%20y"
    signature = twilio_signing.sign(token, url, params)
    assert signature == RequestValidator(token).compute_signature(url, params)
    assert RequestValidator(token).validate(url, params, signature)

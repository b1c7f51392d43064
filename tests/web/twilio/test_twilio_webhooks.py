"""MUST SHOW (issue 7): the incoming-message webhook and the status callbacks, as a local
receiver gets them, pass `twilio.request_validator.RequestValidator` with the account's
auth token (the URL as configured + the form fields), and an altered parameter, URL or
token fails it. They go through the durable webhook outbox: a message's callbacks
arrive in order (sending, sent, delivered) even when the receiver refused the first
tries, each attempt logged, as the account's deliveries."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from twiliohelpers import Box, HookReceiver, call, fast_relay, twilio_box

from gateway.twilio import sids
from tests.gateway.gwhelpers import CUSTOMER, MODEM_NUMBERS, OTHER, eventually

MODEM = MODEM_NUMBERS[0]
INBOUND = "/twilio/sms?tenant=7&kind=inbound"
STATUS = "/twilio/status?ref=order-17"


@pytest.fixture(autouse=True)
def _fast_relay(monkeypatch: pytest.MonkeyPatch) -> None:
    fast_relay(monkeypatch)


@pytest.fixture
async def receiver() -> AsyncIterator[HookReceiver]:
    hooks = HookReceiver()
    await hooks.up()
    yield hooks
    await hooks.down()


async def test_signed_as_twilio_signs_inbound_and_status_callbacks(
    tmp_path: Path, receiver: HookReceiver
) -> None:
    async with twilio_box(tmp_path, inbound_url=receiver.url(INBOUND)) as box:
        token = box.account.auth_token
        sid = box.account.account.sid
        box.rig.text("Hello there")
        box.rig.text("stop")
        inbound = await eventually(
            lambda: len(receiver.at("/twilio/sms")) == 2 and receiver.at("/twilio/sms")
        )
        hello, stop = inbound
        assert all(hook.valid(token) for hook in inbound)
        assert hello.url == receiver.url(INBOUND)  # the URL as configured, query too
        assert hello.params["Body"] == "Hello there"
        assert (hello.params["From"], hello.params["To"]) == (CUSTOMER, MODEM)
        assert hello.params["AccountSid"] == sid
        assert hello.params["ApiVersion"] == "2010-04-01"
        assert (hello.params["NumSegments"], hello.params["NumMedia"]) == ("1", "0")
        assert hello.params["FromCountry"] == "GB"
        assert hello.params["SmsMessageSid"] == hello.params["MessageSid"]
        assert sids.message_id(hello.params["MessageSid"]) is not None
        assert "OptOutType" not in hello.params
        assert stop.params["OptOutType"] == "STOP"  # the box's keyword lists
        assert hello.headers["Content-Type"] == "application/x-www-form-urlencoded"

        # the message the webhook names is the one the API shows
        fetched = await call(
            lambda: box.client.messages(hello.params["MessageSid"]).fetch()
        )
        assert (fetched.body, fetched.direction) == ("Hello there", "inbound")

        # a status callback per status change of a message sent with StatusCallback
        sent = await call(
            lambda: box.client.messages.create(
                to=OTHER,
                body="Your table is ready",
                status_callback=receiver.url(STATUS),
            )
        )
        callbacks = await eventually(
            lambda: (
                _statuses(receiver) == ["sending", "sent", "delivered"]
                and receiver.at("/twilio/status")
            ),
            what="sending, sent, delivered",
        )
        assert all(hook.valid(token) for hook in callbacks)
        last = callbacks[-1]
        assert last.params["MessageSid"] == last.params["SmsSid"] == sent.sid
        assert last.params["SmsStatus"] == "delivered"
        assert (last.params["From"], last.params["To"]) == (MODEM, OTHER)
        assert last.params["AccountSid"] == sid
        assert "ErrorCode" not in last.params
        # Twilio's idempotency header: one per event, the same on every retry
        tokens = {h.headers["I-Twilio-Idempotency-Token"] for h in callbacks}
        assert len(tokens) == 3

        # altered requests fail Twilio's own check
        for hook in (hello, stop, last):
            changed = dict(hook.params, Body="Send me money")
            assert not _validates(token, hook.url, changed, hook.signature)
            extra = dict(hook.params, Extra="1")
            assert not _validates(token, hook.url, extra, hook.signature)
            other_url = hook.url.replace("tenant=7", "tenant=8").replace("17", "18")
            assert not _validates(token, other_url, hook.params, hook.signature)
            assert not _validates("0" * 32, hook.url, hook.params, hook.signature)


def _statuses(receiver: HookReceiver) -> list[str]:
    return [h.params["MessageStatus"] for h in receiver.at("/twilio/status")]


def _validates(token: str, url: str, params: dict[str, str], signature: str) -> bool:
    from twilio.request_validator import RequestValidator

    return bool(RequestValidator(token).validate(url, params, signature))


async def test_callbacks_are_retried_in_order_through_the_outbox(
    tmp_path: Path, receiver: HookReceiver
) -> None:
    receiver.refuse = 3  # the first tries get 503
    async with twilio_box(tmp_path) as box:
        sent = await call(
            lambda: box.client.messages.create(
                to=OTHER, body="Retried", status_callback=receiver.url(STATUS)
            )
        )
        await eventually(
            lambda: _statuses(receiver) == ["sending", "sent", "delivered"],
            what="every callback, in order",
        )
        assert len(receiver.refused) == 3
        assert all(h.params["MessageSid"] == sent.sid for h in receiver.refused)
        assert all(h.valid(box.account.auth_token) for h in receiver.hooks)

        # the account's deliveries: three, each delivered, the first after refusals
        twilio = box.rig.services.twilio
        deliveries = await eventually(
            lambda: _all_delivered(box), what="every delivery recorded"
        )
        assert [d.event_type for d in deliveries] == ["twilio.status"] * 3
        attempts = sorted(d.attempts for d in deliveries)
        assert sum(attempts) == 3 + 3
        detail = await box.rig.services.webhooks.get_delivery(deliveries[-1].id)
        assert detail.endpoint_url == receiver.url(STATUS)  # the message's own URL
        assert [a.status_code for a in detail.attempts][-1] == 200
        # the native Webhooks list does not show a Twilio account's deliveries
        assert await box.rig.services.webhooks.list_deliveries() == []
        assert await box.rig.services.webhooks.list_endpoints() == []
        assert (await twilio.get_account(box.account.account.sid)).webhooks_active


async def _all_delivered(box: Box) -> list[object] | None:
    found = await box.rig.services.twilio.deliveries(box.account.account.sid)
    if len(found) == 3 and all(d.status.value == "delivered" for d in found):
        return sorted(found, key=lambda d: d.id)  # type: ignore[no-any-return]
    return None


async def test_a_rotated_token_signs_what_follows(
    tmp_path: Path, receiver: HookReceiver
) -> None:
    async with twilio_box(tmp_path, inbound_url=receiver.url(INBOUND)) as box:
        twilio = box.rig.services.twilio
        rotated = await twilio.rotate_token(box.account.account.sid, actor="test")
        assert rotated.auth_token != box.account.auth_token
        box.rig.text("After the rotation")
        (hook,) = await eventually(lambda: receiver.at("/twilio/sms"))
        assert hook.valid(rotated.auth_token)
        assert not hook.valid(box.account.auth_token)

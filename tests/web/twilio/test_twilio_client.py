"""MUST SHOW (issue 7): the real `twilio` package's Client, its API base URL pointed at
the box, sends, fetches and lists messages (paging followed across pages), filters by
To, From and DateSent, and gets TwilioRestException with Twilio's codes: 21610 for a
phone that texted STOP through the real inbound path, 21211, 21602, 21604, 21617, 20003
and 20404. The messages really go out through the simulated modem."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.rest import Client
from twiliohelpers import FAST_OUTBOUND, Box, call, twilio_box

from gateway.domain import MessageStatus
from gateway.twilio import sids
from tests.gateway.gwhelpers import CUSTOMER, MODEM_NUMBERS, OTHER, eventually

MODEM = MODEM_NUMBERS[0]
OLD_TWILIO_NUMBER = "+15005550006"  # what the integration sent From at Twilio: ignored
LONG = "Your order has shipped and will arrive tomorrow between nine and noon. " * 3


async def _all_delivered(box: Box, count: int) -> bool:
    messages = await box.rig.services.messages.list(limit=100)
    outbound = [m for m in messages if m.direction.value == "outbound"]
    return len(outbound) == count and all(
        m.status is MessageStatus.DELIVERED for m in outbound
    )


async def test_send_fetch_and_list_with_the_twilio_client(tmp_path: Path) -> None:
    async with twilio_box(tmp_path) as box:
        client, r = box.client, box.rig
        r.text("Hi, is my order ready?")
        await eventually(r.messages)

        sent = []
        for i, to in enumerate((CUSTOMER, OTHER, CUSTOMER, OTHER, CUSTOMER)):
            sent.append(
                await call(
                    lambda i=i, to=to: client.messages.create(
                        to=to, from_=OLD_TWILIO_NUMBER, body=f"Update {i}"
                    )
                )
            )
        first = sent[0]
        assert first.status == "queued"
        assert first.direction == "outbound-api"
        assert (first.to, first.from_, first.body) == (CUSTOMER, MODEM, "Update 0")
        assert first.account_sid == box.account.account.sid
        assert first.num_segments == "1"
        assert (first.num_media, first.price, first.error_code) == ("0", None, None)
        assert first.sid is not None
        assert sids.message_id(first.sid) is not None
        assert isinstance(first.date_created, datetime)
        assert first.date_sent is None  # not sent yet
        assert first.uri == (
            f"/2010-04-01/Accounts/{first.account_sid}/Messages/{first.sid}.json"
        )
        long = await call(lambda: client.messages.create(to=OTHER, body=LONG))
        assert long.num_segments == "2"

        # they really go out through the simulated modem, and are delivered
        await eventually(lambda: _all_delivered(box, 6), what="all delivered")
        assert [m.text for m in r.inbox(OTHER)] == ["Update 1", "Update 3", LONG]
        fetched = await call(lambda: client.messages(first.sid).fetch())
        assert (fetched.sid, fetched.status) == (first.sid, "delivered")
        assert fetched.from_ == MODEM
        assert isinstance(fetched.date_sent, datetime)

        # the list, newest first, paging followed two at a time
        box.requests.clear()
        everything = await call(lambda: client.messages.list(page_size=2))
        assert len(everything) == 7  # the customer's text, and the six sent
        ids = [sids.message_id(m.sid or "") for m in everything]
        assert ids == sorted((i for i in ids if i is not None), reverse=True)
        assert everything[-1].direction == "inbound"
        assert (everything[-1].from_, everything[-1].to) == (CUSTOMER, MODEM)
        assert everything[-1].status == "received"
        listed = box.listed()
        assert len(listed) == 4  # 2 + 2 + 2 + 1
        assert all("PageToken=PA" in path for path in listed[1:])
        limited = await call(lambda: client.messages.list(limit=3, page_size=2))
        assert [m.sid for m in limited] == [m.sid for m in everything[:3]]
        streamed = await call(
            lambda: [m.sid for m in client.messages.stream(page_size=2)]
        )
        assert streamed == [m.sid for m in everything]

        # and back: a page's previous page is the one before it
        page = await call(lambda: client.messages.page(page_size=3))
        second = await call(page.next_page)
        assert second is not None
        again = await call(second.previous_page)
        assert again is not None
        assert [m.sid for m in again] == [m.sid for m in everything[:3]]

        # filters: To, From (the box's number or the customer's), DateSent
        to_other = await call(lambda: client.messages.list(to=OTHER, page_size=2))
        assert [m.body for m in to_other] == [LONG, "Update 3", "Update 1"]
        from_customer = await call(lambda: client.messages.list(from_=CUSTOMER))
        assert [m.body for m in from_customer] == ["Hi, is my order ready?"]
        from_box = await call(lambda: client.messages.list(from_=MODEM))
        assert len(from_box) == 6
        to_box = await call(lambda: client.messages.list(to=MODEM))
        assert [m.sid for m in to_box] == [everything[-1].sid]
        day = everything[0].date_sent
        assert day is not None
        on_the_day = await call(lambda: client.messages.list(date_sent=day))
        assert {m.sid for m in on_the_day} == {
            m.sid
            for m in everything
            if m.date_sent is not None and m.date_sent.date() == day.date()
        }
        later = day + timedelta(hours=1)
        assert await call(lambda: client.messages.list(date_sent_after=later)) == []
        earlier = everything[-1].date_sent - timedelta(hours=1)  # type: ignore[operator]
        assert await call(lambda: client.messages.list(date_sent_before=earlier)) == []
        middle = everything[3].date_sent
        assert middle is not None
        since = await call(lambda: client.messages.list(date_sent_after=middle))
        assert {m.sid for m in since} == {
            m.sid for m in everything if m.date_sent and m.date_sent >= middle
        }


async def _opted_out(box: Box, number: str) -> bool:
    return (await box.rig.services.compliance.consent(number)).opted_out


async def _refused(work: Any) -> TwilioRestException:
    with pytest.raises(TwilioRestException) as caught:
        await call(work)
    return caught.value


async def test_twilio_errors_with_the_twilio_client(tmp_path: Path) -> None:
    async with twilio_box(tmp_path) as box:
        client, r = box.client, box.rig
        r.text("STOP")  # through the real inbound path: the modem, compliance
        await eventually(lambda: _opted_out(box, CUSTOMER), what="opted out")
        create = client.messages.create

        refused = await _refused(lambda: create(to=CUSTOMER, body="Still there?"))
        assert (refused.code, refused.status) == (21610, 400)
        assert "unsubscribed" in refused.msg
        for to, body, code in (
            ("not a number", "Hello", 21211),
            ("", "Hello", 21604),
            (OTHER, "", 21602),
            (OTHER, "   ", 21602),
            (OTHER, "ж" * 1000, 21617),  # 15 UCS-2 parts; [outbound] max_parts is 10
        ):
            refused = await _refused(lambda to=to, body=body: create(to=to, body=body))
            assert (refused.code, refused.status) == (code, 400), (to, body)
        refused = await _refused(
            lambda: create(to=OTHER, body="Hi", status_callback="ftp://crm/status")
        )
        assert refused.code == 21609

        missing = sids.message_sid(10_000)
        for sid in (missing, "SM" + "0" * 32):
            refused = await _refused(lambda sid=sid: client.messages(sid).fetch())
            assert (refused.code, refused.status) == (20404, 404)

        account = box.account.account
        wrong = Client(account.sid, "0" * 32)
        wrong.api.base_url = box.base_url
        for work in (
            lambda: wrong.messages.create(to=OTHER, body="Hi"),
            lambda: wrong.messages(missing).fetch(),
        ):
            refused = await _refused(work)
            assert (refused.code, refused.status) == (20003, 401)
        # a list's page is read by twilio's Page, which raises its plain TwilioException
        with pytest.raises(TwilioException) as caught:
            await call(lambda: wrong.messages.list(limit=1))
        response = caught.value.args[1]
        assert (response.status_code, json.loads(response.text)["code"]) == (401, 20003)

        # another account's path, with this account's own (good) credentials
        other = await r.services.twilio.create_account("crm", actor="test")
        theirs = box.client_for(other).api.v2010.accounts(account.sid).messages
        refused = await _refused(lambda: theirs.create(to=OTHER, body="Hi"))
        assert (refused.code, refused.status) == (20003, 401)

        # nothing was queued by any of it: the STOP and its confirmation, no more
        await r.settle()
        assert len(await r.services.messages.list(limit=100)) == 2
        assert r.inbox(OTHER) == []
        assert ["unsubscribed" in m.text for m in r.inbox(CUSTOMER)] == [True]


async def test_an_account_limited_to_one_modem(tmp_path: Path) -> None:
    async with twilio_box(tmp_path, FAST_OUTBOUND, modems=2) as box:
        r = box.rig
        limited = await r.services.twilio.create_account(
            "shop", modems=["usb1"], actor="test"
        )
        client = box.client_for(limited)
        r.text("Via the first modem", to="usb0")
        r.text("Via the second modem", to="usb1", sender=OTHER)
        await eventually(lambda: r.messages(OTHER))
        await eventually(r.messages)

        sent = [
            await call(
                lambda i=i: client.messages.create(to=CUSTOMER, body=f"Reply {i}")
            )
            for i in range(3)
        ]
        # the customer texted usb0, but this account may only send from usb1
        assert {m.from_ for m in sent} == {MODEM_NUMBERS[1]}
        await eventually(lambda: len(r.inbox(CUSTOMER)) == 3)
        messages = await r.services.messages.list(limit=100)
        assert {m.modem for m in messages if m.body.startswith("Reply")} == {"usb1"}

        seen = await call(lambda: client.messages.list())
        assert "Via the first modem" not in [m.body for m in seen]
        assert "Via the second modem" in [m.body for m in seen]
        hidden = next(m for m in messages if m.body == "Via the first modem")
        refused = await _refused(
            lambda: client.messages(sids.message_sid(hidden.id)).fetch()
        )
        assert refused.code == 20404

        # From picks a modem by its number: one of its own, or refused
        chosen = await call(
            lambda: client.messages.create(
                to=OTHER, from_=MODEM_NUMBERS[1], body="From usb1"
            )
        )
        assert chosen.from_ == MODEM_NUMBERS[1]
        refused = await _refused(
            lambda: client.messages.create(
                to=OTHER, from_=MODEM_NUMBERS[0], body="From usb0"
            )
        )
        assert (refused.code, refused.status) == (21606, 400)
        # the unrestricted account sees everything, and may send from usb0
        everything = await call(lambda: box.client.messages.list())
        assert "Via the first modem" in [m.body for m in everything]
        via_usb0 = await call(
            lambda: box.client.messages.create(
                to=OTHER, from_=MODEM_NUMBERS[0], body="From usb0"
            )
        )
        assert via_usb0.from_ == MODEM_NUMBERS[0]

"""MUST SHOW (issue 5, parts 7-9): notifications with reply options, templates and quiet
hours, through the real daemon (real drivers, simulated modems and phones) and a local
webhook receiver.

- a reschedule through option "2": the notification reaches the phone, the phone answers
  "2", reply.option_selected reaches the receiver with the context, the confirmation
  reaches the phone, and (handover) the conversation waits in its queue with the context;
  a "1" (confirm) leaves no open conversation behind;
- an unmatched reply lands in the inbox with the notification's context shown;
- a reply after the options expired lands in the inbox;
- STOP after a notification: only the opt-out confirmation, never the option's;
- a template with a missing variable is refused before anything is sent;
- quiet hours on a fixed clock: a notification for 23:00 recipient time goes at 08:00
  there, while an agent's reply at 23:00 goes at once;
- a scheduled notification survives a restart and goes when due, not before.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from gateway.config import ModemSettings
from gateway.daemon import Daemon
from gateway.domain import ConversationStatus, Direction, utcnow
from gateway.inbox.records import SYSTEM
from gateway.services import Services
from gateway.storage import queries
from gateway.storage.db import Store
from gateway.templates.errors import MissingVariable
from modem.events import ModemState
from modem.sim.network import SimNetwork
from modem.sim.server import loopback_opener
from modem.transport import PortOpener
from tests.gateway.gwhelpers import (
    CUSTOMER,
    MODEM_NUMBERS,
    WAIT_S,
    eventually,
    messages_of_contact,
    settings_for,
)
from tests.gateway.webhooks.receiver import Receiver
from tests.integration.daemonbox import (
    Clock,
    fast_daemon,  # noqa: F401 (the fixture every test here uses)
)

INI = """
[outbound]
parts_per_minute = 600
[automation]
enabled = no
"""
NEW_YORK_PHONE = "+12125550123"  # America/New_York to phonenumbers
APPOINTMENT = {"appointment_id": "APT-77", "when": "Tuesday 10:00"}
OPTIONS = {
    "1": {"value": "confirm", "reply": "Thanks, see you {{ context.when }}."},
    "2": {
        "value": "reschedule",
        "action": "handover",
        "queue": "bookings",
        "reply": "OK - someone from bookings will text you to find a new time.",
    },
}
NOTICE = "Your technician comes Tuesday 10:00. Reply 1 to confirm, 2 to reschedule."


# short idle polls (a fixed clock moves only when told: the loops must look again soon)
# and the relay's short test timings
pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("fast_daemon")]


@dataclass
class Box:
    network: SimNetwork
    daemon: Daemon
    services: Services
    store: Store

    async def messages(self, number: str) -> list[Any]:
        contact = await self.store.run(queries.find_contact, number)
        if contact is None:
            return []
        return await self.store.run(messages_of_contact, contact.id)

    def texts(self, number: str) -> list[str]:
        return [m.text for m in self.network.inbox(number)]

    def phone(self, number: str, text: str) -> None:
        self.network.send_text(number, MODEM_NUMBERS[0], text)


@asynccontextmanager
async def box(
    tmp_path: Path,
    *,
    clock: Callable[[], datetime] = utcnow,
    network: SimNetwork | None = None,
) -> AsyncIterator[Box]:
    """The daemon over one simulated modem (usb0), on `clock`."""
    settings = settings_for(tmp_path, INI, modems=1)
    own = network is None
    network = network or SimNetwork()
    sim = network.modems.get(MODEM_NUMBERS[0]) or network.add_modem(MODEM_NUMBERS[0])

    def opener_for(config: ModemSettings) -> PortOpener:
        return loopback_opener(sim)

    timers = asyncio.create_task(network.run()) if own else None
    daemon = Daemon(settings, opener_for=opener_for, clock=clock)
    services = await daemon.start()
    assert daemon.store is not None
    try:
        for modem in services.modems:
            await modem.wait_state(ModemState.READY, WAIT_S)  # type: ignore[attr-defined]
        yield Box(network, daemon, services, daemon.store)
    finally:
        await daemon.stop()
        if timers is not None:
            timers.cancel()
            await asyncio.gather(timers, return_exceptions=True)


async def rows(b: Box, **filters: Any) -> tuple[Any, ...]:
    """The inbox list's rows (empty: falsy, for `eventually`)."""
    return (await b.services.inbox.list_conversations(**filters)).rows


async def receiver_for(b: Box) -> Receiver:
    receiver = Receiver()
    await receiver.up()
    made = await b.services.webhooks.create_endpoint(
        receiver.url,
        description="crm",
        events=("reply.option_selected",),
        actor="test",
    )
    receiver.secrets.append(made.secret)
    return receiver


async def notify(b: Box, to: str = CUSTOMER, **kwargs: Any) -> Any:
    made = await b.services.notifications.create(
        to,
        body=kwargs.pop("body", NOTICE),
        context=kwargs.pop("context", APPOINTMENT),
        options=kwargs.pop("options", OPTIONS),
        # whatever the hour of the run: the quiet-hours test sets its own clock
        quiet_hours=kwargs.pop("quiet_hours", False),
        actor="token:crm#1",
        **kwargs,
    )
    return made.notification


async def test_a_reschedule_through_option_2(tmp_path: Path) -> None:
    async with box(tmp_path) as b:
        receiver = await receiver_for(b)
        try:
            sent = await notify(b)
            await eventually(lambda: b.texts(CUSTOMER) == [NOTICE])
            b.phone(CUSTOMER, "2")
            # the confirmation reaches the phone
            await eventually(lambda: len(b.texts(CUSTOMER)) == 2)
            assert b.texts(CUSTOMER)[1] == str(OPTIONS["2"]["reply"])  # type: ignore[index]
            # reply.option_selected reaches the receiver, signed, with the context
            (hook,) = await eventually(lambda: receiver.accepted())
            assert hook.verified
            event = hook.json
            assert event["type"] == "reply.option_selected"
            data = event["data"]
            assert data["notification"]["id"] == sent.id
            assert data["option"] == {
                "key": "2",
                "value": "reschedule",
                "action": "handover",
                "queue": "bookings",
            }
            assert data["context"] == APPOINTMENT
            assert data["message"]["body"] == "2"
            assert data["contact"]["number"] == CUSTOMER
            assert data["conversation"]["queue"] == "bookings"
            assert data["confirmation_message_id"] is not None
            # handover: an agent finds it in the bookings queue, with the context
            page = await b.services.inbox.list_conversations(queue="bookings")
            (row,) = page.rows
            assert row.status is ConversationStatus.OPEN
            thread = await b.services.inbox.thread(row.id)
            assert thread.context["appointment_id"] == "APT-77"
            notes = [item for item in thread.items if item.kind == "note"]
            assert "chose 2 (reschedule)" in notes[-1].body
            got = await b.services.notifications.get(sent.id)
            assert got.selected is not None
            assert got.selected.key == "2"
        finally:
            await receiver.down()


async def test_a_confirm_leaves_nothing_open_for_agents(tmp_path: Path) -> None:
    async with box(tmp_path) as b:
        await notify(b)
        await eventually(lambda: b.texts(CUSTOMER) == [NOTICE])
        b.phone(CUSTOMER, "Option 1.")
        await eventually(lambda: len(b.texts(CUSTOMER)) == 2)
        assert b.texts(CUSTOMER)[1] == "Thanks, see you Tuesday 10:00."
        open_ones = await b.services.inbox.list_conversations(status="open")
        assert open_ones.rows == ()
        resolved = await b.services.inbox.list_conversations(status="resolved")
        assert len(resolved.rows) == 1


async def test_an_unmatched_reply_lands_in_the_inbox_with_the_context(
    tmp_path: Path,
) -> None:
    async with box(tmp_path) as b:
        receiver = await receiver_for(b)
        try:
            sent = await notify(b)
            await eventually(lambda: b.texts(CUSTOMER) == [NOTICE])
            b.phone(CUSTOMER, "Can we do Thursday instead?")
            (row,) = await eventually(lambda: rows(b, status="open"))
            assert row.awaiting_reply
            thread = await b.services.inbox.thread(row.id)
            question = thread.messages[-1]
            assert question.body == "Can we do Thursday instead?"
            assert question.replying_to is not None
            assert question.replying_to.message_id == sent.message.id
            assert dict(question.replying_to.context) == APPOINTMENT
            assert thread.context["appointment_id"] == "APT-77"
            await b.daemon.services.inbound.drain()  # type: ignore[union-attr]
            assert b.texts(CUSTOMER) == [NOTICE]  # no confirmation
            assert (await b.services.notifications.get(sent.id)).selected is None
            assert receiver.accepted() == []
        finally:
            await receiver.down()


async def test_a_reply_after_expiry_lands_in_the_inbox(tmp_path: Path) -> None:
    clock = Clock(utcnow())
    async with box(tmp_path, clock=clock) as b:
        sent = await notify(b, ttl_s=600)
        await eventually(lambda: b.texts(CUSTOMER) == [NOTICE])
        clock.set(clock.now + timedelta(minutes=11))
        b.phone(CUSTOMER, "1")
        (row,) = await eventually(lambda: rows(b, status="open"))
        thread = await b.services.inbox.thread(row.id)
        late = thread.messages[-1]
        assert late.body == "1"
        assert late.replying_to is not None
        assert dict(late.replying_to.context) == APPOINTMENT
        assert b.texts(CUSTOMER) == [NOTICE]
        assert (await b.services.notifications.get(sent.id)).selected is None


async def test_stop_after_a_notification_gets_only_the_opt_out_text(
    tmp_path: Path,
) -> None:
    async with box(tmp_path) as b:
        sent = await notify(b)
        await eventually(lambda: b.texts(CUSTOMER) == [NOTICE])
        b.phone(CUSTOMER, "STOP")
        opt_out = b.services.settings.compliance.opt_out_reply
        await eventually(lambda: b.texts(CUSTOMER) == [NOTICE, opt_out])
        assert (await b.services.notifications.get(sent.id)).selected is None
        # an option after STOP: recorded (the customer chose), never texted
        b.phone(CUSTOMER, "1")
        chosen = await eventually(lambda: _selected(b, sent.id))
        assert chosen.key == "1"
        assert chosen.confirmation_message_id is None
        outbound = [
            m for m in await b.messages(CUSTOMER) if m.direction is Direction.OUTBOUND
        ]
        assert len(outbound) == 2  # the notification and the opt-out confirmation
        assert b.texts(CUSTOMER) == [NOTICE, opt_out]


async def _selected(b: Box, notification_id: int) -> Any:
    return (await b.services.notifications.get(notification_id)).selected


async def test_a_template_with_a_missing_variable_is_refused_before_sending(
    tmp_path: Path,
) -> None:
    async with box(tmp_path) as b:
        await b.services.templates.create(
            name="Appointment",
            shortcut="appointment",
            body="Hi {{ contact.first_name | default('there') }}, see you "
            "{{ context.when }} at {{ context.address }}.",
            actor="user:admin",
        )
        with pytest.raises(MissingVariable) as caught:
            await b.services.notifications.create(
                CUSTOMER,
                template="appointment",
                context=APPOINTMENT,  # no address
                actor="token:crm#1",
            )
        assert caught.value.variable == "context.address"
        assert await b.messages(CUSTOMER) == []
        # with the address it goes, personalised
        made = await b.services.notifications.create(
            CUSTOMER,
            template="/appointment",
            context={**APPOINTMENT, "address": "12 High St"},
            quiet_hours=False,
            actor="token:crm#1",
        )
        text = "Hi there, see you Tuesday 10:00 at 12 High St."
        assert made.notification.message.body == text
        await eventually(lambda: b.texts(CUSTOMER) == [text])


def new_york(*args: int) -> datetime:
    from zoneinfo import ZoneInfo

    return datetime(*args, tzinfo=ZoneInfo("America/New_York")).astimezone(UTC)


async def test_quiet_hours_hold_a_notification_not_an_agents_reply(
    tmp_path: Path,
) -> None:
    clock = Clock(new_york(2026, 3, 2, 22, 50))
    async with box(tmp_path, clock=clock) as b:
        b.phone(NEW_YORK_PHONE, "Is my technician still coming?")
        (row,) = await eventually(lambda: rows(b))
        sent = await notify(
            b,
            NEW_YORK_PHONE,
            scheduled_at=new_york(2026, 3, 2, 23, 0),
            quiet_hours=True,
        )
        assert sent.zones == ("America/New_York",)
        assert sent.not_before == new_york(2026, 3, 3, 8, 0)
        # 23:00 there: an agent's reply goes at once
        clock.set(new_york(2026, 3, 2, 23, 0))
        await b.services.inbox.reply(row.id, "Yes, tomorrow morning.", actor=SYSTEM)
        await eventually(lambda: b.texts(NEW_YORK_PHONE) == ["Yes, tomorrow morning."])
        # 07:59 there: a later text goes, the held one still waits
        clock.set(new_york(2026, 3, 3, 7, 59))
        await b.services.outbound.send(NEW_YORK_PHONE, "ping", conversation_id=row.id)
        await eventually(lambda: "ping" in b.texts(NEW_YORK_PHONE))
        assert NOTICE not in b.texts(NEW_YORK_PHONE)
        # 08:00 there: the notification goes
        clock.set(new_york(2026, 3, 3, 8, 0))
        await eventually(lambda: NOTICE in b.texts(NEW_YORK_PHONE))
        (message,) = [
            m for m in await b.messages(NEW_YORK_PHONE) if m.id == sent.message.id
        ]
        assert message.sent_at is not None
        assert message.sent_at >= new_york(2026, 3, 3, 8, 0)


async def test_a_scheduled_notification_survives_a_restart(tmp_path: Path) -> None:
    clock = Clock(datetime(2026, 3, 2, 12, 0, tzinfo=UTC))
    network = SimNetwork()
    timers = asyncio.create_task(network.run())
    try:
        async with box(tmp_path, clock=clock, network=network) as b:
            sent = await notify(b, scheduled_at=clock.now + timedelta(hours=2))
            assert sent.not_before == clock.now + timedelta(hours=2)
            await b.services.outbound.send(CUSTOMER, "before")
            await eventually(lambda: b.texts(CUSTOMER) == ["before"])
        clock.set(clock.now + timedelta(hours=1, minutes=59))
        async with box(tmp_path, clock=clock, network=network) as b:
            await b.services.outbound.send(CUSTOMER, "still before")
            await eventually(lambda: b.texts(CUSTOMER) == ["before", "still before"])
            clock.set(clock.now + timedelta(minutes=1))
            await eventually(
                lambda: b.texts(CUSTOMER) == ["before", "still before", NOTICE]
            )
            got = await b.services.notifications.get(sent.id)
            assert got.message.id == sent.message.id
    finally:
        timers.cancel()
        await asyncio.gather(timers, return_exceptions=True)

"""TwilioService and its storage over a real SQLite file: accounts (validation, tokens
shown once, rotation, audit), the modem limit in the outbound path (choice, failover and
the rescue of stranded messages stay within the account's modems), the Twilio events
recorded in the units that make the changes (atomic, deduplicated, addressed to the
account's hidden endpoint only), a 410 from a StatusCallback URL, and schema step 7."""

from __future__ import annotations

import io
import logging
import sqlite3
import textwrap
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from gateway.config import Settings
from gateway.domain import MessageStatus, NumberKind, utcnow
from gateway.errors import InvalidInput, NotFound
from gateway.outbox import dispatcher as dispatcher_module
from gateway.storage import migrations, queries, twilio_queries, webhook_queries
from gateway.storage.db import Store, open_database
from gateway.storage.models import Modem, WebhookDelivery, WebhookEvent
from gateway.twilio import cli
from gateway.twilio.errors import TwilioApiError
from gateway.twilio.service import TwilioService
from gateway.webhooks.formats import TWILIO_INBOUND, TWILIO_STATUS
from gateway.webhooks.relay import WebhookRelay
from modem.errors import CmsError
from tests.gateway.gwhelpers import (
    CUSTOMER,
    MODEM_NUMBERS,
    OTHER,
    FakeModem,
    eventually,
    fake_rig,
    settings_for,
)
from tests.gateway.webhooks.receiver import Receiver
from tests.gateway.webhooks.test_webhook_relay import FAST

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
FAST_OUTBOUND = "[outbound]\nparts_per_minute = 600\nretry_base_s = 60s\n"


async def _add_modems(store: Store, *names: str) -> None:
    for i, name in enumerate(names):
        await store.run(
            queries.upsert_modem,
            name,
            now=utcnow(),
            state="ready",
            own_number=MODEM_NUMBERS[i],
        )


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    store = await open_database(settings_for(tmp_path))
    await _add_modems(store, "usb0", "usb1", "usb2")
    yield store
    await store.close()


def service(store: Store, settings: Settings) -> TwilioService:
    from gateway.events import EventBus
    from gateway.outbox.service import OutboundService

    outbound = OutboundService(store, EventBus(), settings=settings)
    return TwilioService(store, outbound, settings=settings)


# ---------------------------------------------------------------- accounts


async def test_accounts_tokens_and_their_audit(
    store: Store, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    twilio = service(store, settings_for(tmp_path))
    made = await twilio.create_account(
        "  Help   desk ", modems=["usb1"], actor="user:admin"
    )
    account = made.account
    assert account.name == "Help desk"
    assert account.modems == ("usb1",)
    assert account.inbound_url is None
    assert made.auth_token not in repr(made)
    assert account.token_hint == made.auth_token[:4] + "\u2026"
    assert await twilio.authenticate(account.sid, made.auth_token) == account
    for sid, token in (
        (account.sid, "0" * 32),
        (account.sid, ""),
        ("AC" + "0" * 32, made.auth_token),
        ("not a sid", made.auth_token),
    ):
        with pytest.raises(TwilioApiError) as caught:
            await twilio.authenticate(sid, token)
        assert (caught.value.twilio_code, caught.value.status) == (20003, 401)

    rotated = await twilio.rotate_token(account.sid, actor="user:admin")
    assert rotated.auth_token != made.auth_token
    with pytest.raises(TwilioApiError):
        await twilio.authenticate(account.sid, made.auth_token)  # stops at once
    assert await twilio.authenticate(account.sid, rotated.auth_token)

    updated = await twilio.update_account(
        account.sid,
        inbound_url="https://crm.example.com/sms",
        modems=[],
        webhooks_active=False,
        actor="user:admin",
    )
    assert (updated.inbound_url, updated.modems, updated.webhooks_active) == (
        "https://crm.example.com/sms",
        (),
        False,
    )
    cleared = await twilio.update_account(account.sid, inbound_url="", actor="test")
    assert cleared.inbound_url is None
    assert [a.sid for a in await twilio.list_accounts()] == [account.sid]

    for kwargs, field in (
        ({"name": " "}, "name"),
        ({"modems": ["usb9"]}, "modems"),
        ({"inbound_url": "ftp://crm.example.com"}, "inbound_url"),
        ({"inbound_url": "https://user:pw@crm.example.com"}, "inbound_url"),
    ):
        with pytest.raises(InvalidInput) as invalid:
            await twilio.update_account(account.sid, actor="test", **kwargs)
        assert invalid.value.field == field
    with pytest.raises(NotFound):
        await twilio.get_account("AC" + "1" * 32)

    audit = await store.run(queries.list_audit, limit=20)
    actions = [a.action for a in audit if a.subject == f"twilio_account:{account.sid}"]
    assert sorted(set(actions)) == [
        "twilio.account.create",
        "twilio.account.rotate_token",
        "twilio.account.update",
    ]
    # (peewee's own DEBUG logger prints SQL parameters: docs/internals.md says so)
    logged = [r.getMessage() for r in caplog.records if r.name != "peewee"]
    for token in (made.auth_token, rotated.auth_token):
        assert all(token not in line for line in logged)
        assert all(token not in str(a.detail) for a in audit)


def test_the_cli_creates_lists_and_rotates(tmp_path: Path) -> None:
    ini = tmp_path / "gateway.ini"
    ini.write_text(
        textwrap.dedent(
            f"""
            [gateway]
            default_region = GB
            data_dir = {tmp_path}
            [simulator]
            enabled = no
            """
        )
    )
    out, err = io.StringIO(), io.StringIO()
    status = cli.main(
        ["account", "create", "--name", "crm", "-c", str(ini)], out=out, err=err
    )
    assert status == 0, err.getvalue()
    lines = dict(line.split("=", 1) for line in out.getvalue().splitlines())
    sid, token = lines["ACCOUNT_SID"], lines["AUTH_TOKEN"]
    assert sid.startswith("AC")
    assert len(token) == 32
    assert "shown only now" in err.getvalue()

    out = io.StringIO()
    assert cli.main(["account", "list", "-c", str(ini)], out=out, err=err) == 0
    assert sid in out.getvalue()
    assert token not in out.getvalue()
    out = io.StringIO()
    assert cli.main(["account", "rotate-token", sid, "-c", str(ini)], out=out) == 0
    assert f"ACCOUNT_SID={sid}" in out.getvalue()
    assert token not in out.getvalue()
    err = io.StringIO()
    status = cli.main(
        ["account", "rotate-token", "AC" + "0" * 32, "-c", str(ini)], err=err
    )
    assert status == 1
    assert "not found" in err.getvalue()
    assert cli.main(["account", "-c", str(ini)], err=io.StringIO()) == 2


# ---------------------------------------------------------------- the modem limit


async def test_a_limited_account_fails_over_within_its_modems_only(
    tmp_path: Path,
) -> None:
    flaky = FakeModem("usb0", fail=lambda part: CmsError("AT+CMGS=20", 42))
    other = FakeModem("usb1")
    allowed = FakeModem("usb2")
    async with fake_rig(tmp_path, FAST_OUTBOUND, modems=(flaky, other, allowed)) as r:
        await _add_modems(r.store, "usb0", "usb1", "usb2")
        settings = settings_for(tmp_path, FAST_OUTBOUND)
        twilio = TwilioService(r.store, r.outbound, settings=settings)
        made = await twilio.create_account("shop", modems=["usb0", "usb2"], actor="t")
        for i in range(4):
            sent = await twilio.send(made.account, to=CUSTOMER, body=f"Order {i}")
            assert sent.message.modem in ("usb0", "usb2")
        await eventually(lambda: len(allowed.sent) == 4)
        assert other.sent == []  # never the modem the account may not use
        assert flaky.sent == []


async def test_stranded_limited_messages_stay_within_their_modems(
    store: Store, tmp_path: Path
) -> None:
    twilio = service(store, settings_for(tmp_path))
    made = await twilio.create_account("shop", modems=["usb0", "usb2"], actor="t")
    free = await twilio.create_account("all", actor="t")
    limited = await twilio.send(made.account, to=CUSTOMER, body="limited")
    anywhere = await twilio.send(free.account, to=OTHER, body="anywhere")
    assert limited.message.modem == "usb0"
    await store.run(
        queries.reassign_outbound, anywhere.message.id, "usb0", now=utcnow()
    )
    assert await store.run(twilio_queries.allowed_modems, limited.message.id) == {
        "usb0",
        "usb2",
    }
    assert await store.run(twilio_queries.allowed_modems, anywhere.message.id) is None

    moved = await store.run(
        dispatcher_module._rescue, {"usb0"}, now=utcnow(), healthy={"usb1", "usb2"}
    )
    assert {m.id: m.modem for m in moved} == {
        limited.message.id: "usb2",  # a healthy one of its own
        anywhere.message.id: None,  # whichever modem is free first
    }
    moved = await store.run(
        dispatcher_module._rescue, {"usb2"}, now=utcnow(), healthy={"usb1"}
    )
    assert [m.modem for m in moved] == ["usb0"]  # none healthy: still one of its own


async def test_from_picks_a_modem_and_an_account_needs_one_of_its_own(
    store: Store, tmp_path: Path
) -> None:
    twilio = service(store, settings_for(tmp_path))
    free = (await twilio.create_account("all", actor="t")).account
    by_number = await twilio.send(free, to=CUSTOMER, body="a", from_=MODEM_NUMBERS[2])
    by_name = await twilio.send(free, to=CUSTOMER, body="b", from_="usb1")
    national = await twilio.send(free, to=CUSTOMER, body="c", from_="07700 900002")
    unknown = await twilio.send(free, to=CUSTOMER, body="d", from_="+15005550006")
    assert [m.message.modem for m in (by_number, by_name, national)] == [
        "usb2",
        "usb1",
        "usb1",
    ]
    assert by_number.box_number == MODEM_NUMBERS[2]
    assert unknown.message.modem is not None
    assert await store.run(twilio_queries.allowed_modems, by_name.message.id) == {
        "usb1"
    }
    assert await store.run(twilio_queries.allowed_modems, unknown.message.id) is None

    gone = (await twilio.create_account("gone", modems=["usb1"], actor="t")).account
    # its only modem left the box (removed from gateway.ini, its row deleted)
    await store.run(lambda: Modem.delete().where(Modem.name == "usb1").execute())
    with pytest.raises(TwilioApiError) as caught:
        await twilio.send(gone, to=CUSTOMER, body="nowhere to go")
    assert caught.value.twilio_code == 21606


# ---------------------------------------------------------------- events


def _events(kind: str) -> list[tuple[str, dict[str, Any], int]]:
    return [
        (e.type, e.data, d.endpoint_id)
        for e in WebhookEvent.select().where(WebhookEvent.type == kind)
        for d in WebhookDelivery.select().where(WebhookDelivery.event == e.id)
    ]


def _statuses() -> list[str]:
    return [data["params"]["MessageStatus"] for _, data, _ in _events(TWILIO_STATUS)]


async def test_status_callbacks_are_recorded_in_the_unit_and_told_once(
    store: Store, tmp_path: Path
) -> None:
    twilio = service(store, settings_for(tmp_path))
    made = await twilio.create_account("shop", actor="t")
    quiet = await twilio.send(made.account, to=OTHER, body="no callback", from_="usb0")
    sent = await twilio.send(
        made.account,
        to=CUSTOMER,
        body="with callback",
        from_="usb0",
        status_callback="https://crm.example.com/status?ref=1",
    )
    assert await store.run(_statuses) == []  # never for the initial "queued"

    def claim_then_fail() -> None:
        queries.claim_next_outbound("usb0", now=utcnow())  # quiet: nothing to tell
        queries.claim_next_outbound("usb0", now=utcnow())  # sending: a callback
        assert _statuses() == ["sending"]
        raise RuntimeError("the unit fails after the change")

    with pytest.raises(RuntimeError):
        await store.run(claim_then_fail)
    assert await store.run(_statuses) == []  # rolled back with the change

    quiet_claim = await store.run(queries.claim_next_outbound, "usb0", now=utcnow())
    claim = await store.run(queries.claim_next_outbound, "usb0", now=utcnow())
    assert quiet_claim is not None
    assert quiet_claim.message.id == quiet.message.id
    assert claim is not None
    assert claim.message.id == sent.message.id
    # a transient failure puts it back to queued, then it is claimed again: "sending"
    # is told once, "queued" never
    await store.run(
        queries.mark_part_failed,
        claim.part.id,
        error="busy",
        now=utcnow(),
        retry_at=utcnow(),
    )
    again = await store.run(queries.claim_next_outbound, "usb0", now=utcnow())
    assert again is not None
    await store.run(
        queries.mark_part_accepted, again.part.id, reference=7, now=utcnow()
    )
    assert await store.run(_statuses) == ["sending", "sent"]
    (_, data, endpoint_id) = (await store.run(_events, TWILIO_STATUS))[-1]
    assert data["url"] == "https://crm.example.com/status?ref=1"
    assert data["params"]["AccountSid"] == made.account.sid
    assert endpoint_id == made.account.endpoint_id
    message = await store.run(queries.get_message, sent.message.id)
    assert message.status is MessageStatus.SENT


async def test_inbound_webhooks_go_to_the_accounts_that_want_them(
    store: Store, tmp_path: Path
) -> None:
    twilio = service(store, settings_for(tmp_path))
    url = "https://crm.example.com/sms"
    wants = await twilio.create_account("all", inbound_url=url, actor="t")
    await twilio.create_account("no url", actor="t")
    await twilio.create_account(
        "usb1 only", inbound_url=url, modems=["usb1"], actor="t"
    )
    off = await twilio.create_account("off", inbound_url=url, actor="t")
    await twilio.update_account(off.account.sid, webhooks_active=False, actor="t")
    # a native endpoint that wants every event gets none of the Twilio ones
    native = await store.run(
        lambda: webhook_queries.create_endpoint(
            url="https://hooks.example.com",
            description=None,
            events=[],
            active=True,
            secret="whsec_AAAA",
            kind="standard",
            now=utcnow(),
            actor="t",
        )
    )

    def receive() -> None:
        _, threaded = queries.receive_inbound_part(
            modem="usb0",
            sender=CUSTOMER,
            sender_kind=NumberKind.E164,
            pdu=b"\x00pdu",
            text="STOP",
            encoding="gsm7",
            concat=None,
            network_at=T0,
            received_at=T0,
            reopen_window_s=3600.0,
        )
        assert threaded is not None
        webhook_queries.message_received(
            threaded.message, threaded.conversation, threaded.contact, now=T0
        )

    await store.run(receive)
    inbound = await store.run(_events, TWILIO_INBOUND)
    assert [endpoint for _, _, endpoint in inbound] == [wants.account.endpoint_id]
    params = inbound[0][1]["params"]
    assert (params["From"], params["To"], params["Body"]) == (
        CUSTOMER,
        MODEM_NUMBERS[0],
        "STOP",
    )
    assert "OptOutType" not in params  # the format adds it, from the box's keywords
    received = await store.run(
        lambda: [d.endpoint_id for d in WebhookDelivery.select()]
    )
    assert native.endpoint.id in received
    native_deliveries = await store.run(
        lambda: [
            d.event_type
            for d in WebhookDelivery.select().where(
                WebhookDelivery.endpoint == native.endpoint.id
            )
        ]
    )
    assert TWILIO_INBOUND not in native_deliveries
    # the Webhooks pages and API neither list nor change a Twilio account's endpoint
    listed = await store.run(webhook_queries.list_endpoints)
    assert [e.id for e in listed] == [native.endpoint.id]
    with pytest.raises(NotFound):
        await store.run(webhook_queries.get_endpoint, wants.account.endpoint_id)


async def test_a_gone_status_callback_url_ends_that_delivery_only(
    store: Store, tmp_path: Path
) -> None:
    receiver = Receiver(mode="410")
    await receiver.up()
    relay = WebhookRelay(store, _bus(), FAST, node="test")
    await relay.start()
    try:
        twilio = service(store, settings_for(tmp_path))
        made = await twilio.create_account("shop", actor="t")
        sent = await twilio.send(
            made.account, to=CUSTOMER, body="x", status_callback=receiver.url
        )
        await store.run(queries.claim_next_outbound, "usb0", now=utcnow())
        relay.wake()
        await eventually(lambda: receiver.answered(410))
        dead = await eventually(
            lambda: _dead(store, made.account.endpoint_id), what="dead-lettered"
        )
        assert dead == 1
        account = await twilio.get_account(made.account.sid)
        assert account.webhooks_active  # the account's endpoint was not disabled
        assert sent.message.id
    finally:
        await relay.stop()
        await receiver.down()


def _bus() -> Any:
    from gateway.events import EventBus

    return EventBus()


async def _dead(store: Store, endpoint_id: int) -> int:
    def count() -> int:
        return int(
            WebhookDelivery.select()
            .where(
                (WebhookDelivery.endpoint == endpoint_id)
                & (WebhookDelivery.status == "dead")
            )
            .count()
        )

    return await store.run(count)


# ---------------------------------------------------------------- schema


@pytest.mark.sqlite_only
async def test_a_version_6_file_gets_the_twilio_tables_as_new_files_have_them(
    tmp_path: Path,
) -> None:
    settings = settings_for(tmp_path)
    store = await open_database(settings)
    await store.close()
    path = str(settings.database.path)

    def schema() -> set[tuple[str, str]]:
        with sqlite3.connect(path) as raw:
            rows = raw.execute(
                "SELECT name, sql FROM sqlite_master WHERE sql IS NOT NULL"
            ).fetchall()
        return {(name, sql) for name, sql in rows}

    fresh = schema()
    assert any(name == "twilio_accounts" for name, _ in fresh)
    with sqlite3.connect(path) as raw:
        raw.execute('DROP TABLE "twilio_messages"')
        raw.execute('DROP TABLE "twilio_accounts"')
        raw.execute("PRAGMA user_version = 6")
    store = await open_database(settings)
    await store.close()
    assert schema() == fresh
    with sqlite3.connect(path) as raw:
        version = raw.execute("PRAGMA user_version").fetchone()[0]
    assert version == len(migrations.STEPS)

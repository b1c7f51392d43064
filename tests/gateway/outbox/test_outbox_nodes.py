"""Several boxes on one database (issue 8): the modems of a box that stopped beating are
taken as gone after [gateway] node_timeout_s - their waiting texts leave through ours,
their parts caught mid-send become unknown - while a live box keeps its own; a reply to
a customer who texted a live box's modem is queued for that modem."""

from __future__ import annotations

import logging
import socket
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from gateway.domain import (
    ConversationStatus,
    MessageOrigin,
    MessageStatus,
    NumberKind,
    PartStatus,
    utcnow,
)
from gateway.storage import queries
from gateway.storage.db import Store
from gateway.storage.models import Contact, Conversation
from tests.gateway.gwhelpers import CUSTOMER, FakeModem, eventually, fake_rig

INI = "[outbound]\nparts_per_minute = 600\n"  # [gateway] node_timeout_s: 120 s
HERE = socket.gethostname()  # [gateway] node_name's default


async def _box(store: Store, node: str, modem: str, *, beat: datetime) -> None:
    await store.run(queries.heartbeat, node, pid=1, started_at=beat, now=beat)
    await store.run(queries.upsert_modem, modem, now=beat, node=node, state="ready")


async def _queue(store: Store, modem: str, body: str) -> int:
    enqueued = await store.run(
        queries.enqueue_outbound,
        number=CUSTOMER,
        body=body,
        parts_count=1,
        encoding="gsm7",
        now=utcnow(),
        modem=modem,
    )
    return enqueued.message.id


async def test_a_silent_box_s_texts_leave_through_ours_and_a_live_box_keeps_its_own(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    modem = FakeModem("usb0")
    async with fake_rig(tmp_path, INI, modems=(modem,)) as r:
        now = utcnow()
        await _box(r.store, "pi-live", "live0", beat=now - timedelta(seconds=100))
        await _box(r.store, "pi-gone", "gone0", beat=now - timedelta(seconds=121))
        mid_send = await _queue(r.store, "gone0", "caught mid-send")
        claimed = await r.store.run(queries.claim_next_outbound, "gone0", now=utcnow())
        assert claimed is not None
        assert claimed.message.id == mid_send
        waiting = await _queue(r.store, "gone0", "waiting on the gone box")
        kept = await _queue(r.store, "live0", "waiting on the live box")

        with caplog.at_level(logging.WARNING, logger="gateway.outbox.dispatcher"):
            await r.dispatcher.housekeep()
        assert "node pi-gone has not beaten for over 120 s" in caplog.text
        assert "pi-live" not in caplog.text

        await eventually(lambda: len(modem.sent) == 1)
        moved = await r.store.run(queries.get_message, waiting)
        assert moved.modem == "usb0"
        (part,) = await r.store.run(queries.outbound_parts, mid_send)
        assert part.status is PartStatus.UNKNOWN  # it may have reached the phone
        assert part.error is not None
        assert "stopped mid-send" in part.error
        assert (await r.store.run(queries.get_message, kept)).modem == "live0"
        assert await r.store.run(queries.outbound_queue_depths) == {"live0": 1}

        # a second round moves nothing more and logs nothing new
        caplog.clear()
        await r.dispatcher.housekeep()
        assert "pi-gone" not in caplog.text
        assert len(modem.sent) == 1


async def test_a_restart_leaves_another_box_s_sends_alone(tmp_path: Path) -> None:
    async with fake_rig(tmp_path, INI, modems=(FakeModem("usb0"),), start=False) as r:
        now = utcnow()
        await _box(r.store, "pi-live", "live0", beat=now)
        theirs = await _queue(r.store, "live0", "being sent by the other box")
        assert await r.store.run(queries.claim_next_outbound, "live0", now=utcnow())
        await r.dispatcher.start()
        try:
            (part,) = await r.store.run(queries.outbound_parts, theirs)
            assert part.status is PartStatus.SENDING  # not ours to call unknown
            assert await r.store.run(queries.modems_with_sending_parts, HERE) == []
            assert await r.store.run(queries.modems_with_sending_parts) == ["live0"]
        finally:
            await r.dispatcher.stop()


def _conversation_on(modem: str) -> int:
    now = utcnow()
    contact = Contact.create(
        number=CUSTOMER, kind=NumberKind.E164, created_at=now, updated_at=now
    )
    return Conversation.create(
        contact=contact,
        number=CUSTOMER,
        status=ConversationStatus.OPEN,
        modem=modem,
        created_at=now,
        updated_at=now,
    ).id


async def test_a_reply_stays_on_a_live_box_s_modem_and_leaves_a_gone_one_s(
    tmp_path: Path,
) -> None:
    async with fake_rig(tmp_path, INI, modems=(FakeModem("usb0"),)) as r:
        now = utcnow()
        await _box(r.store, "pi-live", "live0", beat=now)
        conversation = await r.store.run(_conversation_on, "live0")
        reply = await r.outbound.send(
            CUSTOMER, "hi", conversation_id=conversation, origin=MessageOrigin.AGENT
        )
        assert reply.modem == "live0"  # the number the customer texted

        # the box falls silent: the next reply leaves from a modem that can send
        await r.store.run(
            queries.heartbeat,
            "pi-live",
            pid=1,
            started_at=now,
            now=now - timedelta(seconds=121),
        )
        again = await r.outbound.send(
            CUSTOMER, "still here", conversation_id=conversation
        )
        assert again.modem == "usb0"
        # and with no dispatcher (smsgw send), the table's view is the same
        await r.store.run(
            queries.upsert_modem, "usb0", now=now, node=HERE, state="ready"
        )
        assert await r.store.run(
            queries.ready_modems, alive_since=now - timedelta(seconds=120)
        ) == ["usb0"]
        message = await r.store.run(queries.get_message, again.id)
        assert message.status in (MessageStatus.QUEUED, MessageStatus.SENT)

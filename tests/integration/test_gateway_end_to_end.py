"""End to end through the real daemon and the simulator over TCP: a phone texts, the text
is in its conversation; a reply reaches the phone; multipart both ways; delivery status
rolls up. Then the daemon as a process: systemd notify, `smsgw send` from another process,
SIGTERM, and SIGKILL at a busy moment followed by a clean restart."""

from __future__ import annotations

import asyncio
import signal
import textwrap
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bench.harness import GatewayProcess
from gateway import cli, events
from gateway.config import load_settings
from gateway.daemon import Daemon
from gateway.domain import Direction, MessageRecord, MessageStatus
from gateway.events import EventBus
from gateway.outbox.service import OutboundService
from gateway.storage import queries
from gateway.storage.db import Store, open_database
from modem.events import ModemState
from modem.sim.network import SimNetwork
from modem.sim.server import TcpPort, serve_tcp
from tests.gateway.gwhelpers import (
    CUSTOMER,
    WAIT_S,
    Recorder,
    eventually,
    messages_of_contact,
)

pytestmark = pytest.mark.integration

MODEM = "+447700900001"
LONG_QUESTION = "".join(
    f"Question {i}: where is my parcel, it was due. " for i in range(7)
)
LONG_REPLY = "".join(
    f"Answer {i}: it left the depot this morning 🚚. " for i in range(4)
)


def write_ini(tmp_path: Path, port_url: str) -> Path:
    path = tmp_path / "gateway.ini"
    path.write_text(
        textwrap.dedent(
            f"""
            [gateway]
            default_region = GB
            [web]
            enabled = no
            [outbound]
            parts_per_minute = 600
            [modem:usb0]
            port = {port_url}
            """
        ),
        encoding="utf-8",
    )
    return path


@asynccontextmanager
async def simulator_over_tcp() -> AsyncIterator[tuple[SimNetwork, TcpPort]]:
    network = SimNetwork()
    sim = network.add_modem(MODEM)
    timers = asyncio.create_task(network.run())
    tcp = await serve_tcp(sim, "127.0.0.1", 0)
    try:
        yield network, tcp
    finally:
        await tcp.close()
        timers.cancel()
        await asyncio.gather(timers, return_exceptions=True)


async def messages(store: Store) -> list[MessageRecord]:
    """Every message with the customer, in order."""
    contact = await store.run(queries.find_contact, CUSTOMER)
    if contact is None:
        return []
    return await store.run(messages_of_contact, contact.id)


async def test_a_conversation_end_to_end_through_the_daemon_over_tcp(
    tmp_path: Path,
) -> None:
    async with simulator_over_tcp() as (network, tcp):
        box = Daemon(load_settings(write_ini(tmp_path, tcp.url)))
        services = await box.start()
        assert box.store is not None
        store = box.store
        recorder = Recorder(services.bus)
        try:
            (modem,) = services.modems
            await modem.wait_state(ModemState.READY, WAIT_S)  # type: ignore[attr-defined]
            # a phone texts a long question: one message in a new conversation
            network.send_text(CUSTOMER, MODEM, LONG_QUESTION)
            (question,) = await eventually(lambda: messages(store))
            assert question.body == LONG_QUESTION
            assert question.parts_count > 1
            assert question.direction is Direction.INBOUND
            # the agent's long reply (UCS-2: an emoji) reaches the phone whole
            reply = await services.outbound.send(
                CUSTOMER, LONG_REPLY, conversation_id=question.conversation_id
            )
            assert reply.parts_count > 1
            delivered = await eventually(lambda: _delivered(store, reply.id))
            (got,) = network.inbox(CUSTOMER)
            assert got.text == LONG_REPLY
            assert got.sender == MODEM
            assert got.parts == reply.parts_count
            assert delivered.delivered_at is not None
            conversation = await store.run(
                queries.get_conversation, reply.conversation_id
            )
            assert conversation.id == question.conversation_id
            await services.inbound.drain()
            assert [e.status for e in recorder.of(events.MessageStatusChanged)] == [
                "sending",
                "sent",
                "delivered",
            ]
        finally:
            await recorder.close()
            await box.stop()


async def _delivered(store: Store, message_id: int) -> object:
    message = await store.run(queries.get_message, message_id)
    return message if message.status is MessageStatus.DELIVERED else None


# ---------------------------------------------------------------- the process
# (bench.harness.GatewayProcess: the same helper the crash harness and benchmarks use)


async def test_the_daemon_process_under_systemd_signals_and_sigkill(
    tmp_path: Path,
) -> None:
    async with simulator_over_tcp() as (network, tcp):
        config = write_ini(tmp_path, tcp.url)
        settings = load_settings(config)
        # as systemd runs it: notify socket, watchdog, no timestamps
        daemon = GatewayProcess(tmp_path, config, watchdog_s=2.0, under_systemd=True)
        store = await open_database(settings)
        try:
            await daemon.start()
            await daemon.expect("WATCHDOG=1")
            network.send_text(CUSTOMER, MODEM, "hello from the phone")
            (hello,) = await eventually(lambda: messages(store))
            assert hello.body == "hello from the phone"
            # another process queues a reply; the daemon's poll sends it
            code = await asyncio.to_thread(
                cli.main, ["send", "-c", str(config), "--to", CUSTOMER, "hello back"]
            )
            assert code == 0
            await eventually(lambda: [m.text for m in network.inbox(CUSTOMER)])
            assert await daemon.signal(signal.SIGTERM) == 0
            await daemon.expect("STOPPING=1")

            # SIGKILL while texts come in and go out; a restart finishes the work
            await daemon.start()
            outbound = OutboundService(store, EventBus(), settings=settings)
            queued = [await outbound.send(CUSTOMER, f"out {i}") for i in range(5)]
            for i in range(5):
                network.send_text(CUSTOMER, MODEM, f"in {i}")

            def inbound_bodies(found: list[MessageRecord]) -> list[str]:
                return [m.body for m in found if m.direction is Direction.INBOUND]

            async def inbound_count(n: int) -> bool:
                return len(inbound_bodies(await messages(store))) >= n

            await eventually(lambda: inbound_count(3))  # in the middle of the work
            assert await daemon.signal(signal.SIGKILL) == -signal.SIGKILL
            await daemon.start()
            await eventually(lambda: inbound_count(6), within=30)
            bodies = inbound_bodies(await messages(store))
            assert Counter(bodies) == Counter(
                ["hello from the phone"] + [f"in {i}" for i in range(5)]
            )  # every text exactly once
            assert network.modem(MODEM).state.storage("SM").used == 0

            async def all_settled() -> bool:
                finals = {
                    MessageStatus.DELIVERED,
                    MessageStatus.SENT,
                    MessageStatus.FAILED,
                    MessageStatus.UNKNOWN,  # with the modem when the kill came
                }
                for message in queued:
                    got = await store.run(queries.get_message, message.id)
                    if got.status not in finals:
                        return False
                return True

            await eventually(all_settled, within=30)
            received = Counter(m.text for m in network.inbox(CUSTOMER))
            for message in queued:  # at most once, and every delivered one got there
                got = await store.run(queries.get_message, message.id)
                assert received[message.body] <= 1
                if got.status is MessageStatus.DELIVERED:
                    assert received[message.body] == 1
            assert await daemon.signal(signal.SIGTERM) == 0
        finally:
            await daemon.close()
            await store.close()

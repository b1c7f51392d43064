"""MUST SHOW (issue 6): GET /metrics over HTTP from the real daemon after real traffic,
parsed by prometheus_client's own text parser, each value matching what the test sent.

The daemon runs its web server on a free port over one simulated modem (real driver,
real AT engine). Traffic: three texts in (two phones) and half of a two-part one, two
replies out that are delivered, one that fails with +CMS ERROR: 21 (the simulator's fault
injection), and every received text offered to two webhook endpoints - one receiver
accepts, one refuses (400) and, with max_rejected_attempts = 1, each of its deliveries is
dead at once. Then the senders stop and a two-part text waits: a second scrape shows it
in the queue."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from prometheus_client.parser import text_string_to_metric_families
from prometheus_client.samples import Sample

from gateway import daemon as daemon_module
from gateway.config import ModemSettings
from gateway.daemon import Daemon
from gateway.domain import MessageStatus
from gateway.services import Services
from gateway.storage import queries
from gateway.webhooks import relay as relay_module
from gateway.webhooks.relay import WebhookRelay
from modem.events import ModemState
from modem.pdu import encode_deliver
from modem.sim.faults import FaultSpec
from modem.sim.network import SimNetwork
from modem.sim.server import loopback_opener
from modem.transport import PortOpener
from tests.gateway.gwhelpers import (
    CUSTOMER,
    MODEM_NUMBERS,
    OTHER,
    WAIT_S,
    eventually,
    settings_for,
)
from tests.gateway.webhooks.receiver import Receiver
from tests.gateway.webhooks.test_webhook_relay import FAST

pytestmark = pytest.mark.integration

INI = """
[automation]
enabled = no
"""


@dataclass
class Box:
    network: SimNetwork
    daemon: Daemon
    services: Services
    url: str


@pytest.fixture(autouse=True)
def _fast_relay(monkeypatch: pytest.MonkeyPatch) -> None:
    """The relay with short timings; a refused (4xx) delivery is dead at once."""
    monkeypatch.setattr(relay_module, "POLL_INTERVAL_S", 0.02)
    monkeypatch.setattr(relay_module, "SHUTDOWN_GRACE_S", 0.2)
    fast = dataclasses.replace(FAST, max_rejected_attempts=1)

    def relay(store: Any, bus: Any, settings: Any, **kwargs: Any) -> WebhookRelay:
        return WebhookRelay(store, bus, fast, **kwargs)

    monkeypatch.setattr(daemon_module, "WebhookRelay", relay)


@asynccontextmanager
async def serving(tmp_path: Path) -> AsyncIterator[Box]:
    """The daemon with its web server on a free port, over one simulated modem."""
    settings = settings_for(tmp_path, INI, modems=1)
    # port 0 lets the system choose (an operator's gateway.ini may not say 0)
    settings = dataclasses.replace(
        settings, web=dataclasses.replace(settings.web, enabled=True, port=0)
    )
    network = SimNetwork()
    sim = network.add_modem(MODEM_NUMBERS[0])
    opener = loopback_opener(sim)

    def opener_for(config: ModemSettings) -> PortOpener:
        return opener

    daemon = Daemon(settings, opener_for=opener_for)
    services = await daemon.start()
    try:
        for modem in services.modems:
            await modem.wait_state(ModemState.READY, WAIT_S)  # type: ignore[attr-defined]
        assert daemon.web_url is not None
        yield Box(network, daemon, services, daemon.web_url)
    finally:
        await daemon.stop()


async def status_is(box: Box, message_id: int, status: MessageStatus) -> bool:
    assert box.daemon.store is not None
    message = await box.daemon.store.run(queries.get_message, message_id)
    return bool(message.status is status)


def samples(text: str) -> dict[str, list[Sample]]:
    """Every sample of the exposition, by family name, through prometheus_client."""
    return {f.name: f.samples for f in text_string_to_metric_families(text)}


def value(
    found: dict[str, list[Sample]],
    family: str,
    sample: str | None = None,
    **labels: str,
) -> float:
    """The one sample of `family` (named `sample`, default the family) with `labels`."""
    name = sample or family
    matching = [
        s
        for s in found[family]
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items())
    ]
    assert len(matching) == 1, (family, name, labels, found[family])
    return matching[0].value


async def test_metrics_over_http_match_the_traffic_sent(tmp_path: Path) -> None:
    accepting, refusing = Receiver(), Receiver(mode="400")
    await accepting.up()
    await refusing.up()
    try:
        async with serving(tmp_path) as box:
            hooks = box.services.webhooks
            for receiver in (accepting, refusing):
                made = await hooks.create_endpoint(
                    receiver.url, events=["message.received"], actor="test"
                )
                receiver.secrets.append(made.secret)
            modem_number = MODEM_NUMBERS[0]

            # three texts in
            box.network.send_text(CUSTOMER, modem_number, "Where is my parcel?")
            box.network.send_text(OTHER, modem_number, "Hello, is anyone there?")
            box.network.send_text(CUSTOMER, modem_number, "Order 12345")
            await eventually(lambda: len(accepting.accepted()) == 3, what="3 hooks")
            await eventually(
                lambda: len(refusing.answered(400)) == 3, what="3 refusals"
            )
            # and the first half of a two-part text whose second half never comes
            sim = box.network.modem(modem_number)
            half, _ = encode_deliver(
                OTHER,
                "y" * 200,
                timestamp=datetime.now(UTC),
                concat_ref=77,
                smsc=sim.state.csca,
            )
            sim.deliver(half, len(half) - 1 - half[0])
            await eventually(
                lambda: box.services.inbound.stats.parts == 4, what="the lone part"
            )

            # two replies delivered, then one refused by the network (+CMS ERROR: 21)
            outbound = box.services.outbound
            ok = [await outbound.send(CUSTOMER, f"Reply {n}") for n in (1, 2)]
            for message in ok:
                await eventually(
                    lambda m=message: status_is(box, m.id, MessageStatus.DELIVERED),
                    what=f"message {message.id} delivered",
                )
            sim.apply_faults(
                FaultSpec.from_dict(
                    {
                        "cms_error": 21,
                        "cms_error_count": 1,
                        "cms_error_command": "AT+CMGS",
                    }
                )
            )
            doomed = await outbound.send(OTHER, "This one will not go")
            await eventually(
                lambda: status_is(box, doomed.id, MessageStatus.FAILED), what="failed"
            )

            async def all_dead() -> bool:
                dead = await hooks.list_deliveries(status="dead", limit=50)
                return len(dead) == 3

            await eventually(all_dead, what="the refused deliveries dead")

            async with (
                aiohttp.ClientSession() as session,
                session.get(f"{box.url}/metrics") as response,
            ):
                assert response.status == 200
                assert response.content_type == "text/plain"
                text = await response.text()

            # then the senders stop and a two-part text waits in the queue
            await box.services.dispatcher.stop()
            waiting = await outbound.send(CUSTOMER, "x" * 200)
            assert waiting.parts_count == 2
            async with (
                aiohttp.ClientSession() as session,
                session.get(f"{box.url}/metrics") as response,
            ):
                later = samples(await response.text())
    finally:
        await accepting.down()
        await refusing.down()

    found = samples(text)
    # messages by direction and status: 3 in; 2 delivered and 1 failed out
    assert value(found, "smsgw_messages", direction="inbound", status="received") == 3
    assert value(found, "smsgw_messages", direction="outbound", status="delivered") == 2
    assert value(found, "smsgw_messages", direction="outbound", status="failed") == 1
    assert sum(s.value for s in found["smsgw_messages"]) == 6
    # nothing left in the queue of any modem
    assert sum(s.value for s in found["smsgw_outbound_queue_depth"]) == 0
    # AT+CMGS: three sends (one part each), the third answered +CMS ERROR: 21
    cmgs = {"modem": "usb0", "command": "AT+CMGS"}
    hist = "smsgw_at_command_duration_seconds"
    assert value(found, hist, f"{hist}_count", **cmgs) == 3
    assert value(found, hist, f"{hist}_bucket", le="+Inf", **cmgs) == 3
    assert 0 < value(found, hist, f"{hist}_sum", **cmgs) < 3 * WAIT_S
    outcomes = "smsgw_at_commands"
    assert (
        value(found, outcomes, f"{outcomes}_total", modem="usb0", outcome="cms_error")
        == 1
    )
    errors = "smsgw_modem_errors"
    assert (
        value(found, errors, f"{errors}_total", modem="usb0", kind="cms", code="21")
        == 1
    )
    assert len(found[errors]) == 1  # no other +CMS/+CME error happened
    # the modem: ready, registered at home, a signal, never reconnected
    assert value(found, "smsgw_modem_state", modem="usb0", state="ready") == 1
    assert (
        value(found, "smsgw_modem_registration", modem="usb0", registration="home") == 1
    )
    assert value(found, "smsgw_modem_signal_dbm", modem="usb0") < 0
    reconnects = "smsgw_modem_reconnects"
    assert value(found, reconnects, f"{reconnects}_total", modem="usb0") == 0
    # its message store as the driver's poll read it (at start, before any text)
    capacity = sim.state.storages["SM"].capacity
    assert (
        value(found, "smsgw_modem_storage_capacity", modem="usb0", storage="SM")
        == capacity
    )
    assert value(found, "smsgw_modem_storage_used", modem="usb0", storage="SM") == 0
    # four parts in (three texts and the lone half), none read twice; one reassembly
    # waits for its second part
    assert value(found, "smsgw_inbound_parts", "smsgw_inbound_parts_total") == 4
    assert (
        value(found, "smsgw_inbound_duplicates", "smsgw_inbound_duplicates_total") == 0
    )
    assert value(found, "smsgw_inbound_reassemblies_pending") == 1
    assert value(found, "smsgw_inbound_reassembly_parts_pending") == 1
    # webhooks: 3 events x 2 endpoints = 6 deliveries; 3 delivered, 3 dead; each after
    # one attempt
    deliveries = "smsgw_webhook_deliveries"
    assert value(found, deliveries, status="delivered") == 3
    assert value(found, deliveries, status="dead") == 3
    assert value(found, deliveries, status="pending") == 0
    attempts = "smsgw_webhook_attempts"
    assert value(found, attempts, outcome="delivered") == 3
    assert value(found, attempts, outcome="dead") == 3
    assert value(found, "smsgw_database_bytes", file="main") > 0
    # the waiting text: queued, its two parts in the queue of the modem it is for
    modem = waiting.modem or ""
    assert value(later, "smsgw_outbound_queue_depth", modem=modem) == 2
    assert value(later, "smsgw_messages", direction="outbound", status="queued") == 1

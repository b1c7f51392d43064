"""A modem test goes through the modem it names, or nowhere: never failed over, never
rescued to another modem; and the composer's counter."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.domain import MessageOrigin, MessageStatus, PartStatus, utcnow
from gateway.errors import NotFound
from gateway.outbox import dispatcher as dispatcher_mod
from gateway.outbox import pacing
from gateway.outbox.service import TEST_MESSAGE
from gateway.storage import queries
from modem.errors import CmsError
from modem.events import ModemState
from tests.gateway.gwhelpers import CUSTOMER, FakeModem, eventually, fake_rig

FAST = "[outbound]\nparts_per_minute = 600\nretry_base_s = 60s\n"


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pacing, "PACING_BURST_PARTS", 1000)


async def _recorded(r: object, *names: str) -> None:
    for name in names:
        await r.store.run(queries.upsert_modem, name, now=utcnow(), state="ready")  # type: ignore[attr-defined]


async def test_a_test_goes_through_the_modem_it_names(tmp_path: Path) -> None:
    usb0, usb1 = FakeModem("usb0"), FakeModem("usb1")
    async with fake_rig(tmp_path, FAST, modems=(usb0, usb1)) as r:
        await _recorded(r, "usb0", "usb1")
        # usb0 is busier: a plain message would go to usb1
        await r.outbound.send("+447700900001", "plain", idempotency_key="busy")
        queued = await r.outbound.send_test("usb1", CUSTOMER)
        assert queued.created
        message = queued.message
        assert (message.modem, message.origin) == ("usb1", MessageOrigin.TEST)
        assert message.body == TEST_MESSAGE.format(modem="usb1")
        await eventually(lambda: len(usb1.sent) >= 1)
        with pytest.raises(NotFound, match="modem usb9 not found"):
            await r.outbound.send_test("usb9", CUSTOMER, "hello?")


async def test_a_failing_test_is_retried_on_its_modem_never_failed_over(
    tmp_path: Path,
) -> None:
    broken = FakeModem("usb0", fail=lambda part: CmsError("AT+CMGS=20", 42))
    healthy = FakeModem("usb1")
    async with fake_rig(tmp_path, FAST, modems=(broken, healthy)) as r:
        await _recorded(r, "usb0", "usb1")
        test = (await r.outbound.send_test("usb0", CUSTOMER, "test usb0")).message
        plain = await r.store.run(
            queries.enqueue_outbound,
            number="+447700900002",
            body="plain on usb0",
            parts_count=1,
            encoding="gsm7",
            now=utcnow(),
            modem="usb0",
        )
        await eventually(lambda: len(healthy.sent) == 1)  # the plain one failed over

        async def test_tried() -> bool:
            (part,) = await r.store.run(queries.outbound_parts, test.id)
            return part.attempts >= 1 and part.status is PartStatus.QUEUED

        await eventually(test_tried)
        message = await r.store.run(queries.get_message, test.id)
        assert (message.modem, message.status) == ("usb0", MessageStatus.QUEUED)
        moved = await r.store.run(queries.get_message, plain.message.id)
        assert moved.modem == "usb1"


async def test_a_test_stays_on_a_modem_that_stays_down(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatcher_mod, "HOUSEKEEPING_INTERVAL_S", 3600)
    down = FakeModem("usb0", state=ModemState.DISCONNECTED)
    up = FakeModem("usb1")
    async with fake_rig(tmp_path, FAST, modems=(down, up)) as r:
        await _recorded(r, "usb0", "usb1")
        test = (await r.outbound.send_test("usb0", CUSTOMER)).message
        moved = await r.store.run(queries.reassign_stranded, ["usb0"], now=utcnow())
        assert moved == []
        message = await r.store.run(queries.get_message, test.id)
        assert message.modem == "usb0"
        assert up.sent == []


async def test_the_counter_measures_without_refusing(tmp_path: Path) -> None:
    async with fake_rig(tmp_path, "[outbound]\nmax_parts = 2\n") as r:
        count = r.outbound.count("Thanks! 👍")
        assert (count.encoding, count.parts, count.units) == ("ucs2", 1, 10)
        assert (count.units_left, count.non_gsm_chars) == (60, ("👍",))
        assert count.sendable
        empty = r.outbound.count("")
        assert (empty.parts, empty.units, empty.sendable) == (1, 0, False)
        long = r.outbound.count("x" * 400)
        assert (long.parts, long.max_parts, long.sendable) == (3, 2, False)

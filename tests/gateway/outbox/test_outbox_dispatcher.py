"""The dispatcher over fake modems: a poisoned message or a failing modem never delays the
others, pacing holds, unconfirmed sends are never repeated, stranded messages move, old
ones expire, and a stop lets a send under way finish (bounded)."""

from __future__ import annotations

import asyncio
import itertools
from datetime import timedelta
from pathlib import Path

import pytest

from gateway import events
from gateway.domain import MessageStatus, PartStatus, utcnow
from gateway.outbox import dispatcher as dispatcher_mod
from gateway.outbox import pacing
from gateway.storage import queries
from modem import pdu
from modem.driver import ModemNotReady, SendUnconfirmed
from modem.errors import CmsError
from modem.events import ModemState
from modem.pdu.types import EncodedPart, SmsSubmit
from tests.gateway.gwhelpers import CUSTOMER, FakeModem, eventually, fake_rig

POISON = "+447700900666"
FAST = "[outbound]\nparts_per_minute = 600\n"
SLOW_RETRIES = FAST + "retry_base_s = 60s\nretry_max_s = 10m\n"


def destination(part: EncodedPart) -> str:
    value = pdu.decode(part.data)
    assert isinstance(value, SmsSubmit)
    return value.destination.number


def numbers(n: int) -> list[str]:
    return [f"+4477009002{i:02d}" for i in range(n)]


@pytest.fixture(autouse=True)
def fast(monkeypatch: pytest.MonkeyPatch) -> None:
    # pacing is tested on its own below; here it would only slow the queue down
    monkeypatch.setattr(pacing, "PACING_BURST_PARTS", 1000)


async def sent_to(modem: FakeModem) -> list[str]:
    return [destination(p) for p in modem.sent]


@pytest.mark.parametrize("code", [42, 21], ids=["transient", "permanent"])
async def test_a_poisoned_message_does_not_delay_the_ones_behind_it(
    tmp_path: Path, code: int
) -> None:
    def poison(part: EncodedPart) -> BaseException | None:
        if destination(part) == POISON:
            return CmsError("AT+CMGS=20", code)
        return None

    modem = FakeModem("usb0", fail=poison)
    async with fake_rig(tmp_path, SLOW_RETRIES, modems=(modem,)) as r:
        bad = await r.outbound.send(POISON, "never goes")
        good = [await r.outbound.send(n, f"hello {n}") for n in numbers(20)]
        await eventually(lambda: len(modem.sent) == 20, within=5.0)
        assert await sent_to(modem) == numbers(20)  # in order, none waited
        message = await r.store.run(queries.get_message, bad.id)
        (part,) = await r.store.run(queries.outbound_parts, bad.id)
        assert part.attempts == 1
        if code == 42:
            assert message.status is MessageStatus.QUEUED  # waiting for its retry
            assert part.next_attempt_at > utcnow() + timedelta(seconds=50)
        else:
            assert message.status is MessageStatus.FAILED
            assert message.error == "modem usb0: +CMS ERROR: 21"
        for m in good:
            assert (await r.store.run(queries.get_message, m.id)).status in (
                MessageStatus.SENT,
                MessageStatus.DELIVERED,
            )


async def test_a_modem_failing_every_send_does_not_delay_the_others(
    tmp_path: Path,
) -> None:
    broken = FakeModem("usb0", fail=lambda part: CmsError("AT+CMGS=20", 42))
    healthy = FakeModem("usb1")
    async with fake_rig(tmp_path, SLOW_RETRIES, modems=(broken, healthy)) as r:
        loop = asyncio.get_running_loop()
        started = loop.time()
        messages = await asyncio.gather(
            *(r.outbound.send(n, "your order shipped") for n in numbers(10))
        )
        assert {m.modem for m in messages} == {"usb0", "usb1"}  # least busy: both
        await eventually(lambda: len(healthy.sent) == 10, within=5.0)
        assert loop.time() - started < 5.0  # nobody waited for the 60 s retry
        assert sorted(await sent_to(healthy)) == numbers(10)  # each exactly once
        assert broken.sent == []
        assert "usb0" not in r.dispatcher.healthy()  # cooling down after failures


async def test_pacing_spaces_parts_per_minute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pacing, "PACING_BURST_PARTS", 2)
    loop = asyncio.get_running_loop()
    times: list[float] = []

    def stamp(part: EncodedPart) -> None:
        times.append(loop.time())

    modem = FakeModem("usb0", fail=stamp)  # type: ignore[arg-type]
    async with fake_rig(
        tmp_path, "[outbound]\nparts_per_minute = 600\n", modems=(modem,)
    ) as r:
        for n in numbers(5):
            await r.outbound.send(n, "paced")
        await eventually(lambda: len(modem.sent) == 5)
    # a token bucket of 2 refilled every 0.1 s (600 a minute): any n consecutive sends
    # span at least (n - 2) refills. Only lower bounds: a loaded machine (slow enqueues
    # let the bucket refill meanwhile) may be slower, never faster.
    for i, j in itertools.combinations(range(len(times)), 2):
        assert times[j] - times[i] >= (j - i - 1) * 0.1 - 0.01, (i, j, times)
    assert times[-1] - times[0] >= 0.29


async def test_an_unconfirmed_send_is_unknown_and_never_repeated(
    tmp_path: Path,
) -> None:
    calls = 0

    def hang_once(part: EncodedPart) -> BaseException | None:
        nonlocal calls
        calls += 1
        return SendUnconfirmed("usb0", "no answer to AT+CMGS") if calls == 1 else None

    modem = FakeModem("usb0", fail=hang_once)
    async with fake_rig(tmp_path, FAST, modems=(modem,)) as r:
        message = await r.outbound.send(CUSTOMER, "maybe sent")
        later = await r.outbound.send(CUSTOMER, "certainly sent")
        await eventually(lambda: len(modem.sent) == 1)
        (part,) = await r.store.run(queries.outbound_parts, message.id)
        assert part.status is PartStatus.UNKNOWN
        assert "may have been sent" in (part.error or "")
        assert (await r.store.run(queries.get_message, message.id)).status is (
            MessageStatus.UNKNOWN  # it may have gone, or not: never claimed as sent
        )
        assert [destination(p) for p in modem.sent] == [CUSTOMER]
        assert calls == 2  # the unknown part was never offered again
        assert (await r.store.run(queries.get_message, later.id)).status is (
            MessageStatus.SENT
        )


async def test_a_modem_not_ready_puts_the_part_back_for_later(tmp_path: Path) -> None:
    modem = FakeModem(
        "usb0", fail=lambda part: ModemNotReady("usb0", ModemState.SEARCHING)
    )
    async with fake_rig(tmp_path, SLOW_RETRIES, modems=(modem,)) as r:
        message = await r.outbound.send(CUSTOMER, "later")
        part = await eventually(lambda: _attempted(r, message.id))
        assert part.status is PartStatus.QUEUED
        assert "searching" in (part.error or "")


async def _attempted(r: object, message_id: int) -> object:
    (part,) = await r.store.run(queries.outbound_parts, message_id)  # type: ignore[attr-defined]
    return part if part.attempts and part.status is PartStatus.QUEUED else None


async def test_messages_stranded_on_a_modem_that_stays_down_move(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatcher_mod, "HOUSEKEEPING_INTERVAL_S", 0.02)
    monkeypatch.setattr(dispatcher_mod, "MODEM_DOWN_GRACE_S", 0.1)
    down = FakeModem("usb0", state=ModemState.DISCONNECTED)
    up = FakeModem("usb1")
    async with fake_rig(tmp_path, modems=(down, up)) as r:
        queued = await r.store.run(
            queries.enqueue_outbound,
            number=CUSTOMER,
            body="stuck on usb0",
            parts_count=1,
            encoding="gsm7",
            now=utcnow(),
            modem="usb0",
        )
        await eventually(lambda: len(up.sent) == 1)
        message = await r.store.run(queries.get_message, queued.message.id)
        assert message.modem == "usb1"


async def test_messages_not_sent_in_time_expire(tmp_path: Path) -> None:
    now = [utcnow()]
    down = FakeModem("usb0", state=ModemState.DISCONNECTED)
    async with fake_rig(
        tmp_path, "[outbound]\nmax_age_s = 1h\n", modems=(down,), clock=lambda: now[0]
    ) as r:
        sub = r.bus.subscribe(events.MessageStatusChanged)
        message = await r.outbound.send(CUSTOMER, "too late")
        now[0] += timedelta(hours=2)
        await r.dispatcher.housekeep()
        expired = await r.store.run(queries.get_message, message.id)
        assert expired.status is MessageStatus.FAILED
        assert expired.error == "expired: not sent in time"
        event = sub.queue.get_nowait()
        assert (event.message_id, event.status) == (message.id, "failed")


async def test_stop_lets_a_send_under_way_finish_then_records_the_rest_as_unknown(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatcher_mod, "SHUTDOWN_SEND_GRACE_S", 0.2)
    entered = asyncio.Event()

    class Wedged(FakeModem):
        async def send_pdu(self, part: EncodedPart) -> int:
            entered.set()
            await asyncio.Event().wait()  # never answers
            raise AssertionError

    modem = Wedged("usb0")
    async with fake_rig(tmp_path, modems=(modem,), start=False) as r:
        await r.dispatcher.start()
        message = await r.outbound.send(CUSTOMER, "in flight at shutdown")
        await asyncio.wait_for(entered.wait(), 5.0)
        assert r.dispatcher.in_flight == 1
        await r.dispatcher.stop()
        (part,) = await r.store.run(queries.outbound_parts, message.id)
        assert part.status is PartStatus.UNKNOWN  # may have left: never resent


async def test_messages_of_a_modem_no_longer_configured_move_at_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dispatcher_mod, "HOUSEKEEPING_INTERVAL_S", 0.02)
    modem = FakeModem("usb0")
    async with fake_rig(tmp_path, FAST, modems=(modem,)) as r:
        await r.store.run(
            queries.upsert_modem, "far", now=utcnow(), node="other-box", state="ready"
        )
        for gone in ("usb7", "far"):
            await r.store.run(
                queries.enqueue_outbound,
                number=CUSTOMER,
                body=f"queued for {gone}",
                parts_count=1,
                encoding="gsm7",
                now=utcnow(),
                modem=gone,
            )
        await eventually(lambda: len(modem.sent) == 1)
        await r.dispatcher.housekeep()
        assert len(modem.sent) == 1  # another box's modem keeps its messages
        depths = await r.store.run(queries.outbound_queue_depths)
        assert depths == {"far": 1}

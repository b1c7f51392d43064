"""`smsgw run`, `smsgw send` and `smsgw status` through `gateway.cli.main`."""

from __future__ import annotations

import asyncio
import json
import logging
import textwrap
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from gateway import cli
from gateway.config import load_settings
from gateway.domain import MessageStatus, utcnow
from gateway.outbox import dispatcher
from gateway.storage import queries
from gateway.storage.db import open_database
from tests.gateway.gwhelpers import CUSTOMER, eventually, rig

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)

INI = textwrap.dedent(
    """
    [gateway]
    default_region = GB
    [web]
    enabled = no
    [simulator]
    enabled = no
    """
)


def write_ini(tmp_path: Path, extra: str = "") -> str:
    path = tmp_path / "gateway.ini"
    path.write_text(INI + extra, encoding="utf-8")
    return str(path)


def test_send_queues_and_prints_the_message(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_ini(tmp_path)
    argv = ["send", "--config", config, "--to", "07700 900123", "Your order shipped"]
    assert cli.main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["status"] == "queued"
    assert printed["to"] == CUSTOMER
    assert printed["parts"] == 1
    again = [*argv[:-1], "--idempotency-key", "k1", argv[-1]]
    assert cli.main(again) == 0
    assert cli.main(again) == 0  # the same key: the same message
    first, second = (json.loads(line) for line in capsys.readouterr().out.splitlines())
    assert first["id"] == second["id"] != printed["id"]


def test_send_refuses_bad_input_with_status_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_ini(tmp_path)
    assert cli.main(["send", "-c", config, "--to", "not-a-number", "hi"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("smsgw send: to: 'not-a-number' is not a phone number")


def test_send_with_a_broken_config_says_why(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "gateway.ini"
    config.write_text("[gateway]\n", encoding="utf-8")
    assert cli.main(["send", "-c", str(config), "--to", CUSTOMER, "hi"]) == 1
    assert "[gateway] default_region: missing" in capsys.readouterr().err


def test_run_with_an_invalid_config_starts_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_ini(tmp_path, "[outbound]\nparts_per_minute = lots\n[modem:usb0]\n")
    assert cli.main(["run", "--config", config]) == 1
    err = capsys.readouterr().err
    assert "smsgw: not starting" in err
    assert "[outbound] parts_per_minute = 'lots': expected a whole number" in err
    assert "[modem:usb0] port: missing" in err
    assert not (tmp_path / "var").exists()  # no database, no data directory


def test_status_of_an_empty_box(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_ini(tmp_path)
    assert cli.main(["status", "-c", config]) == 0
    out = capsys.readouterr().out
    assert "(none recorded yet: is the daemon running?)" in out
    assert "opted-out numbers: 0" in out


async def test_status_lists_every_node_sharing_the_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_ini(tmp_path)
    store = await open_database(load_settings(config))
    try:
        for name, pid in (("site-a", 11), ("site-b", 22)):
            await store.run(queries.heartbeat, name, pid=pid, started_at=T0, now=T0)
        now = utcnow()  # site-b beats now; site-a last beat at T0, long ago
        await store.run(queries.heartbeat, "site-b", pid=22, started_at=T0, now=now)
        await store.run(
            queries.upsert_modem, "b-usb0", now=now, node="site-b", state="ready"
        )
    finally:
        await store.close()
    code = await asyncio.to_thread(cli.main, ["status", "-c", config, "--json"])
    assert code == 0
    nodes = json.loads(capsys.readouterr().out)["nodes"]
    assert [(n["name"], n["pid"], n["alive"]) for n in nodes] == [
        ("site-a", 11, False),
        ("site-b", 22, True),
    ]
    assert nodes[0]["heartbeat_at"] == T0.isoformat()
    assert await asyncio.to_thread(cli.main, ["status", "-c", config]) == 0
    out = capsys.readouterr().out
    assert (
        "nodes:\n  site-a: GONE (silent for over 120 s: what waits on its modems goes "
        "out through the others), last heartbeat 2026-03-01 09:00:00 UTC (pid 11"
    ) in out
    assert "\n  site-b: alive, last heartbeat" in out
    assert "\n  b-usb0 (on site-b): ready," in out


async def test_send_and_status_work_beside_a_running_daemon(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Another process's `smsgw send` is picked up by the daemon's poll; an opted-out
    number is refused there too; `smsgw status` shows what the daemon recorded."""
    monkeypatch.setattr(dispatcher, "IDLE_POLL_S", 0.05)
    config = write_ini(tmp_path, "[modem:usb0]\nport = socket://127.0.0.1:9\n")
    async with rig(tmp_path) as r:
        await r.services.modems.drain()  # the modems table says usb0 is ready
        code = await asyncio.to_thread(
            cli.main, ["send", "-c", config, "--to", CUSTOMER, "from the CLI"]
        )
        assert code == 0
        sent = json.loads(capsys.readouterr().out)
        assert sent["modem"] == "usb0"  # the modems table says usb0 is ready
        await eventually(lambda: [m.text for m in r.inbox()] == ["from the CLI"])
        await eventually(lambda: _delivered(r, sent["id"]))

        r.text("STOP")
        await eventually(lambda: r.store.run(queries.is_opted_out, CUSTOMER))
        code = await asyncio.to_thread(
            cli.main, ["send", "-c", config, "--to", CUSTOMER, "after the STOP"]
        )
        assert code == 1
        assert "has opted out" in capsys.readouterr().err

        await r.settle()
        await r.services.modems.drain()
        code = await asyncio.to_thread(cli.main, ["status", "-c", config, "--json"])
        assert code == 0
        status = json.loads(capsys.readouterr().out)
        (modem,) = status["modems"]
        assert modem["name"] == "usb0"
        assert modem["state"] == "ready"
        assert modem["signal_dbm"] is not None
        assert modem["operator"]
        assert status["messages"]["inbound"] == {"received": 1}
        assert status["messages"]["outbound"] == {
            "delivered": 2
        }  # ours + the confirmation
        assert status["opted_out"] == 1
        code = await asyncio.to_thread(cli.main, ["status", "-c", config])
        assert "usb0: ready" in capsys.readouterr().out


async def _delivered(r: object, message_id: int) -> bool:
    message = await r.store.run(queries.get_message, message_id)  # type: ignore[attr-defined]
    return message.status is MessageStatus.DELIVERED


@pytest.fixture
def keep_logging() -> Iterator[None]:
    """`smsgw run` sets up logging for the process; put the test run's back after."""
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    yield
    root.handlers[:] = saved[0]
    root.setLevel(saved[1])


@pytest.mark.usefixtures("keep_logging")
@pytest.mark.sqlite_only
def test_run_with_an_unwritable_data_dir_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("", encoding="utf-8")
    config = write_ini(tmp_path, "")
    text = Path(config).read_text(encoding="utf-8")
    Path(config).write_text(
        text.replace("[gateway]\n", f"[gateway]\ndata_dir = {blocker}/var\n"),
        encoding="utf-8",
    )
    assert cli.main(["run", "--config", config]) == 1
    assert "not starting" in capsys.readouterr().err

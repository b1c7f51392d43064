"""The daemon as `make run` starts it: the shipped gateway.ini with its embedded simulated
modem and control API; systemd notify; plain log lines under systemd; modem states in
the modems table; a start-up that fails cleans up after itself."""

from __future__ import annotations

import asyncio
import io
import logging
import os
import socket
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import pytest

from gateway import systemd
from gateway.config import load_settings
from gateway.daemon import Daemon, configure_logging
from gateway.errors import ConfigError
from gateway.storage import queries
from tests.conftest import ROOT
from tests.gateway.gwhelpers import CUSTOMER, eventually, rig


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def shipped_ini(tmp_path: Path, control_port: int) -> Path:
    """The gateway.ini of the repository, with the control API and the web server on
    free ports."""
    text = (ROOT / "gateway.ini").read_text(encoding="utf-8")
    assert "# control_port = 8081" in text
    text = text.replace("# control_port = 8081", f"control_port = {control_port}")
    assert (
        "# port = 8080" in text
    )  # [web]: on a free port too, so tests run side by side
    text = text.replace("# port = 8080", f"port = {free_port()}")
    path = tmp_path / "gateway.ini"
    path.write_text(text, encoding="utf-8")
    return path


async def test_the_shipped_config_runs_a_simulated_modem_the_readme_can_drive(
    tmp_path: Path,
) -> None:
    port = free_port()
    settings = load_settings(shipped_ini(tmp_path, port))
    box = Daemon(settings)
    services = await box.start()
    assert box.simulator is not None
    assert box.store is not None
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            sim = box.simulator.settings.number
            await eventually(lambda: services.dispatcher.healthy() == {"sim"})
            async with http.post(
                f"{base}/phones/{CUSTOMER}/send",
                json={"to": sim, "text": "Hi, is my order on its way?"},
            ) as response:
                assert response.status == 202
            messages = await eventually(
                lambda: box.store.run(queries.list_messages, 1)  # type: ignore[union-attr]
            )
            assert messages[0].body == "Hi, is my order on its way?"
            reply = await services.outbound.send(
                CUSTOMER, "Yes, it arrives tomorrow.", conversation_id=1
            )
            assert reply.modem == "sim"

            async def inbox() -> list[str]:
                async with http.get(f"{base}/phones/{CUSTOMER}/inbox") as got:
                    body = await got.json()
                return [m["text"] for m in body["messages"]]

            await eventually(lambda: _equals(inbox(), ["Yes, it arrives tomorrow."]))
    finally:
        await box.stop()
    if not os.environ.get("SMSGW_TEST_DATABASE_URL"):  # SQLite: a file in data_dir
        assert (
            tmp_path / "var" / "gateway.db"
        ).exists()  # data_dir is next to the file


async def _equals(value: object, expected: object) -> bool:
    return await value == expected  # type: ignore[misc]


async def test_a_busy_control_port_stops_the_start_and_cleans_up(
    tmp_path: Path,
) -> None:
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        box = Daemon(load_settings(shipped_ini(tmp_path, port)))
        with pytest.raises(ConfigError) as info:
            await box.start()
    (problem,) = info.value.problems
    assert (problem.section, problem.key) == ("simulator", "control_port")
    assert "a port this box can listen on" in problem.expected
    assert box.store is not None
    with pytest.raises(Exception, match="closed"):
        await box.store.run(queries.list_modems)


async def test_modem_states_are_recorded(tmp_path: Path) -> None:
    ini = "[modem:usb0]\nport = socket://127.0.0.1:9\nown_number = +447700900001\n"
    async with rig(tmp_path, ini) as r:
        await r.services.modems.drain()
        (modem,) = await r.store.run(queries.list_modems)
        assert modem.name == "usb0"
        assert modem.state == "ready"
        assert modem.imei
        assert modem.signal_dbm is not None
        assert modem.registration == "home"
        assert modem.own_number == "+447700900001"
    after = await _modems_after_stop(tmp_path)
    assert after[0].state == "stopped"


async def _modems_after_stop(tmp_path: Path) -> list[object]:
    from gateway.storage.db import open_database
    from tests.gateway.gwhelpers import settings_for

    store = await open_database(settings_for(tmp_path))
    try:
        return list(await store.run(queries.list_modems))
    finally:
        await store.close()


@pytest.fixture
def notify_socket(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[socket.socket]:
    path = tmp_path / "notify.sock"
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(path))
    sock.setblocking(False)
    monkeypatch.setenv("NOTIFY_SOCKET", str(path))
    monkeypatch.setenv("WATCHDOG_USEC", "100000")
    monkeypatch.delenv("WATCHDOG_PID", raising=False)
    yield sock
    sock.close()


async def receive(sock: socket.socket, want: str) -> list[str]:
    """Datagrams until one contains `want`."""
    loop = asyncio.get_running_loop()
    got: list[str] = []
    async with asyncio.timeout(10):
        while not any(want in g for g in got):
            got.append((await loop.sock_recv(sock, 4096)).decode())
    return got


async def test_systemd_hears_ready_watchdog_and_stopping(
    tmp_path: Path, notify_socket: socket.socket
) -> None:
    port = free_port()
    box = Daemon(load_settings(shipped_ini(tmp_path, port)))
    stop = asyncio.Event()
    running = asyncio.create_task(box.run(stop))
    got = await receive(notify_socket, "READY=1")
    assert got[-1].startswith("READY=1\nSTATUS=running with 1 modem")
    assert "WATCHDOG=1" in (await receive(notify_socket, "WATCHDOG=1"))[-1]
    stop.set()
    await asyncio.wait_for(running, 10)
    assert any("STOPPING=1" in g for g in await receive(notify_socket, "STOPPING=1"))


def test_notify_is_a_no_op_outside_systemd(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    assert not systemd.notify("READY=1")
    assert systemd.watchdog_interval_s() is None
    monkeypatch.setenv("WATCHDOG_USEC", "30000000")
    monkeypatch.setenv("WATCHDOG_PID", "1")  # another process's watchdog
    assert systemd.watchdog_interval_s() is None
    monkeypatch.setenv("NOTIFY_SOCKET", "@smsgw-test-nobody-listens")
    assert not systemd.notify("READY=1")


@pytest.mark.parametrize("systemd_run", [True, False])
def test_log_lines_are_plain_under_systemd(
    monkeypatch: pytest.MonkeyPatch, systemd_run: bool
) -> None:
    if systemd_run:
        monkeypatch.setenv("INVOCATION_ID", "0123456789abcdef")
    else:
        monkeypatch.delenv("INVOCATION_ID", raising=False)
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    out = io.StringIO()
    try:
        configure_logging("info", stream=out)
        logging.getLogger("gateway.test").info("message %s queued", 12)
        logging.getLogger("gateway.test").debug("not shown")
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])
    line = out.getvalue()
    assert line.endswith("INFO gateway.test: message 12 queued\n")
    assert line.startswith("INFO") is systemd_run  # journald adds the time itself


def test_trace_level_is_known() -> None:
    root = logging.getLogger()
    saved = (list(root.handlers), root.level)
    try:
        configure_logging("trace", stream=io.StringIO())
        assert root.level == 5
    finally:
        root.handlers[:] = saved[0]
        root.setLevel(saved[1])


async def test_a_modem_named_like_the_simulated_one_is_refused(tmp_path: Path) -> None:
    text = shipped_ini(tmp_path, free_port()).read_text(encoding="utf-8")
    text = text.replace("# enabled = auto", "enabled = yes", 1)
    text += "\n[modem:sim]\nport = socket://127.0.0.1:9\n"
    path = tmp_path / "gateway.ini"
    path.write_text(text, encoding="utf-8")
    settings = load_settings(path)
    assert settings.simulator.enabled
    box = Daemon(settings)
    with pytest.raises(ConfigError, match=r"\[modem:sim\]: expected another name"):
        await box.start()

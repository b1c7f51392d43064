"""Third-party AT clients accept the simulator: Debian's gammu and gammu-smsd drive it over a PTY.

The simulator runs as `python -m modem.sim --pty ... --control ...`, the way an operator
starts it; the tests talk to its control API over HTTP and to gammu through its CLI.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

# via the package path: a bare "conftest" is whichever conftest.py pytest imported last
from tests.conftest import ROOT, require_tool

pytestmark = [pytest.mark.integration, pytest.mark.peer, pytest.mark.slow]

MODEM = "+15550100001"
PHONE = "+4915112345678"
GAMMU_TIMEOUT_S = 60.0  # gammu's init alone takes ~4 s of deliberately slow writes
START_TIMEOUT_S = 20.0


def wait_until(predicate: Callable[[], bool], within: float, step: float = 0.2) -> None:
    """Poll a condition of another process, within a bound."""
    deadline = time.monotonic() + within
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"condition not met within {within:g} s")
        time.sleep(step)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class Simulator:
    """A `python -m modem.sim` process and its control API."""

    process: subprocess.Popen[bytes]
    link: Path
    control: str
    log: Path

    def call(self, method: str, path: str, body: object | None = None) -> Any:
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(
            self.control + path,
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)

    def inbox(self, number: str) -> list[dict[str, Any]]:
        messages: list[dict[str, Any]] = self.call("GET", f"/phones/{number}/inbox")[
            "messages"
        ]
        return messages

    def texts(self, number: str) -> list[str]:
        return [m["text"] for m in self.inbox(number)]

    def up(self) -> bool:
        if self.process.poll() is not None:
            raise RuntimeError(f"simulator exited: {self.log.read_text()}")
        try:
            self.call("GET", "/state")
        except (urllib.error.URLError, ConnectionError):
            return False
        return self.link.is_symlink()


@pytest.fixture
def profile() -> str:
    return "generic"


@pytest.fixture
def simulator(tmp_path: Path, profile: str) -> Iterator[Simulator]:
    require_tool("gammu", "gammu-smsd")
    link = tmp_path / "ttySIM0"
    port = free_port()
    log = tmp_path / "sim.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "modem.sim",
                "--pty",
                str(link),
                "--control",
                f"127.0.0.1:{port}",
                "--number",
                MODEM,
                "--profile",
                profile,
                "--log-level",
                "DEBUG",
            ],
            cwd=ROOT,
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
    sim = Simulator(process, link, f"http://127.0.0.1:{port}", log)
    try:
        wait_until(sim.up, START_TIMEOUT_S)
        yield sim
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    assert process.returncode == 0, log.read_text()
    assert not link.exists(), "the simulator leaves no symlink behind"


def gammurc(tmp_path: Path, sim: Simulator) -> Path:
    rc = tmp_path / "gammurc"
    rc.write_text(f"[gammu]\ndevice = {sim.link}\nconnection = at115200\n")
    return rc


def gammu(rc: Path, *args: str) -> str:
    result = subprocess.run(
        ["gammu", "-c", str(rc), *args],
        capture_output=True,
        text=True,
        timeout=GAMMU_TIMEOUT_S,
        check=False,
    )
    assert result.returncode == 0, (
        f"gammu {args} failed:\n{result.stdout}\n{result.stderr}"
    )
    return result.stdout


@pytest.mark.timeout(180)
def test_gammu_identifies_sends_and_reads(tmp_path: Path, simulator: Simulator) -> None:
    rc = gammurc(tmp_path, simulator)
    identity = gammu(rc, "--identify")
    assert "490154203237518" in identity  # IMEI
    assert "SIM-27005" in identity  # model
    assert "SmsGw" in identity  # manufacturer

    out = gammu(rc, "sendsms", "TEXT", PHONE, "-text", "hello")
    assert "OK, message reference=1" in out
    assert simulator.texts(PHONE) == ["hello"]

    sent = simulator.call(
        "POST", f"/phones/{PHONE}/send", {"to": MODEM, "text": "Hi from the phone ✓"}
    )
    assert sent["parts"] == 1
    listing = gammu(rc, "getallsms")
    assert PHONE in listing
    assert "Hi from the phone ✓" in listing

    long_text = "A long reply that gammu splits into concatenated parts. " * 4
    out = gammu(
        rc, "sendsms", "TEXT", PHONE, "-len", str(len(long_text)), "-text", long_text
    )
    assert "Sending SMS 2/2" in out
    last = simulator.inbox(PHONE)[-1]
    assert (last["text"], last["parts"]) == (long_text, 2)

    state = simulator.call("GET", "/state")["modems"][0]
    assert state["submitted"] == 3
    assert state["commands"]["ATE"] >= 1  # gammu needs echo (ATE1) and got it


@pytest.mark.timeout(120)
@pytest.mark.parametrize(
    ("profile", "model"),
    [("simcom", "SIMCOM_SIM800L"), ("quectel", "EC25"), ("huawei", "E3372")],
)
def test_gammu_accepts_every_vendor_profile(
    tmp_path: Path, simulator: Simulator, model: str
) -> None:
    # boot banners, ^RSSI noise, COMMAND NOT SUPPORT and 0-based slots must not upset it
    identity = gammu(gammurc(tmp_path, simulator), "--identify")
    assert model in identity
    simulator.call("POST", f"/phones/{PHONE}/send", {"to": MODEM, "text": "hi " * 70})
    listing = gammu(gammurc(tmp_path, simulator), "getallsms")
    assert "2 SMS parts in 2 SMS sequences" in listing


@pytest.mark.timeout(240)
def test_gammu_smsd_sends_its_outbox_and_fills_its_inbox(
    tmp_path: Path, simulator: Simulator
) -> None:
    spool = tmp_path / "smsd"
    dirs = {name: spool / name for name in ("inbox", "outbox", "sent", "error")}
    for folder in dirs.values():
        folder.mkdir(parents=True)
    config = spool / "smsdrc"
    config.write_text(
        f"""[gammu]
device = {simulator.link}
connection = at115200

[smsd]
service = files
logfile = {spool / "smsd.log"}
debuglevel = 1
inboxpath = {dirs["inbox"]}/
outboxpath = {dirs["outbox"]}/
sentsmspath = {dirs["sent"]}/
errorsmspath = {dirs["error"]}/
inboxformat = unicode
outboxformat = detail
transmitformat = auto
commtimeout = 1
sendtimeout = 30
receivefrequency = 1
statusfrequency = 0
loopsleep = 1
checksecurity = 0
checkbattery = 0
checksignal = 0
checknetwork = 0
phoneid = sim
"""
    )
    inject = subprocess.run(
        ["gammu-smsd-inject", "-c", str(config), "TEXT", PHONE, "-text", "from smsd"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert inject.returncode == 0, inject.stdout + inject.stderr

    smsd = subprocess.Popen(
        ["gammu-smsd", "-c", str(config), "-X", "200"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_until(lambda: simulator.texts(PHONE) == ["from smsd"], 90)
        wait_until(lambda: any(dirs["sent"].iterdir()), 30)

        simulator.call(
            "POST", f"/phones/{PHONE}/send", {"to": MODEM, "text": "to smsd ✓"}
        )

        def received() -> list[str]:
            # "unicode" inbox files are UTF-16 with a BOM and a NUL terminator
            return [
                f.read_bytes().decode("utf-16").rstrip("\x00")
                for f in sorted(dirs["inbox"].iterdir())
                if f.name.startswith("IN")
            ]

        wait_until(lambda: "to smsd ✓" in received(), 60)
        assert any(PHONE in f.name for f in dirs["inbox"].iterdir())
        # smsd deletes what it stored in its inbox: the SIM is empty again
        wait_until(
            lambda: (
                simulator.call("GET", "/state")["modems"][0]["storage"]["SM"]["used"]
                == 0
            ),
            30,
        )
    finally:
        smsd.send_signal(signal.SIGTERM)
        try:
            smsd.wait(timeout=20)
        except subprocess.TimeoutExpired:
            smsd.kill()
            smsd.wait()
        with contextlib.suppress(OSError):
            log = (spool / "smsd.log").read_text()
            if smsd.returncode not in (0, -signal.SIGTERM):
                print(log)
    assert not any(dirs["error"].iterdir()), os.listdir(dirs["error"])


@pytest.mark.timeout(180)
def test_smstools_sends_and_receives(tmp_path: Path, simulator: Simulator) -> None:
    require_tool("smsd")
    spool = tmp_path / "smstools"
    names = (
        "outgoing",
        "checked",
        "failed",
        "incoming",
        "sent",
        "report",
        "stats",
        "tmp",
    )
    dirs = {name: spool / name for name in names}
    for folder in dirs.values():
        folder.mkdir(parents=True)
    config = spool / "smsd.conf"
    config.write_text(
        f"""devices = GSM1
outgoing = {dirs["outgoing"]}
checked = {dirs["checked"]}
failed = {dirs["failed"]}
incoming = {dirs["incoming"]}
sent = {dirs["sent"]}
report = {dirs["report"]}
stats = {dirs["stats"]}
logfile = {spool / "smsd.log"}
loglevel = 7
delaytime = 1
delaytime_mainprocess = 1
autosplit = 3
incoming_utf8 = yes
decode_unicode_text = yes
outgoing_utf8 = yes

[GSM1]
device = {simulator.link}
incoming = yes
baudrate = 115200
rtscts = no
mode = new
check_memory_method = 1
memory_start = 1
keep_open = yes
"""
    )
    # a spool file is written aside and moved in, so smsd never reads half of it
    draft = dirs["tmp"] / "hello"
    draft.write_text(f"To: {PHONE[1:]}\nAlphabet: UTF-8\n\nfrom smstools ✓\n")
    draft.rename(dirs["outgoing"] / "hello")
    smsd = subprocess.Popen(
        [
            "smsd",
            "-t",
            "-c",
            str(config),
            "-p",
            str(spool / "smsd.pid"),
            "-i",
            str(spool / "info"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # smsd forks a modem process; its group is ours to end
    )
    try:
        # smsd sends the spool file's body as it is, final newline included
        wait_until(lambda: simulator.texts(PHONE) == ["from smstools ✓\n"], 60)
        simulator.call(
            "POST", f"/phones/{PHONE}/send", {"to": MODEM, "text": "to smstools ✓"}
        )

        def received() -> str:
            return "".join(
                f.read_text(errors="replace") for f in dirs["incoming"].iterdir()
            )

        wait_until(lambda: "to smstools ✓" in received(), 60)
        assert f"From: {PHONE[1:]}" in received()
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(smsd.pid, signal.SIGTERM)
        try:
            smsd.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(smsd.pid, signal.SIGKILL)
            smsd.wait()
    assert not any(dirs["failed"].iterdir())

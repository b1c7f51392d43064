"""Outgoing throughput: our modem driver and gammu-smsd against the same simulated modem.

    .venv/bin/python bench/modem_throughput.py [--messages 500] [--gammu-messages 100]
        [--variants memory,pty,tcp] [--skip-gammu] [--smstools-messages N]
        [--long-every 4] [--json PATH] [--profile N]

A benchmark that prints figures, not a test. The simulated modem answers at once (no
latency fault), so what is measured is the sender: its AT round trips, its own sleeps and
its CPU. Every 4th message is a 3-part text, the rest fit one part (`--long-every`).

Our driver (`modem.driver.Modem`) sends N messages, one `send_pdu` per part and one part at
a time (the modem allows one command in flight), to a simulated modem that is
- memory: in this process, joined by `loopback_opener` (the simulator's CPU counts as ours),
- pty:    `python -m modem.sim --pty LINK` in a subprocess, opened by its PTY path,
- tcp:    `python -m modem.sim --tcp HOST:PORT` in a subprocess, opened by socket:// URL.
The rate is N / (wall time of the send phase, which starts once the driver's init is done).
The AT+CMGS round trip is timed around each `send_pdu`; CPU is `time.process_time()` of this
process (and /proc for the simulator subprocess). AT commands are counted by the simulator
(`command_counts`, each command of a `;` chain once).

gammu-smsd 1.42 (files backend, tuned for throughput as in ../shared/peers: loopsleep 0,
no status/security/battery/signal/network checks, a long receive period) gets its outbox
filled with gammu-smsd-inject before it starts, then pushes it through the same simulator
over a PTY. Its rate is (parts - 1) / (last - first AT+CMGS) by the simulator's clock
(`GET /submissions`), turned into messages/s by the mix's parts per message: the steady
state, without its ~5 s of slow init. Its AT commands and CPU per message are taken
between the first and the last message it files as sent. smstools' smsd (also tuned, see
SMSTOOLS_CONF) runs the same way when `--smstools-messages` asks for it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import itertools
import json
import math
import os
import platform
import pstats
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: the repository root is the import root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.args import not_negative_int, positive_int
from modem.driver import Modem
from modem.events import ModemEvent, ModemState
from modem.pdu import encode_submit
from modem.pdu.types import EncodedPart
from modem.sim.network import SimNetwork
from modem.sim.server import loopback_opener
from modem.transport import PortOpener, url_opener

ROOT = Path(__file__).resolve().parent.parent
MODEM_NUMBER = "+15550100001"
PHONE = "+4915112345678"
VARIANTS = ("memory", "pty", "tcp")
OURS = "smsgw driver"

READY_TIMEOUT_S = 30.0  # driver start until READY
SIM_START_TIMEOUT_S = 20.0  # `python -m modem.sim` until its control API answers
STOP_TIMEOUT_S = 10.0  # SIGTERM until a child must have exited (then SIGKILL)
SETTLE_QUIET_S = 0.1  # no AT command for this long: the driver's init is done
SETTLE_TIMEOUT_S = 5.0
# first message filed: gammu-smsd's init alone is ~6 s of deliberately slow writes
PEER_FIRST_MESSAGE_TIMEOUT_S = 60.0
PEER_STALL_TIMEOUT_S = 20.0  # no message filed for this long: the daemon is stuck
PEER_POLL_S = 0.05  # its spool directories
# ../shared/peers/results, tuned configurations, 200 one-part messages, 3 runs
RECORDED_PEERS = {
    "gammu-smsd": (1.34, "LoopSleep=0, Check*=0, StatusFrequency=0"),
    "smstools": (1.99, "delaytime=1, input detection off"),
}

SHORT_TEXT = (
    "Order {i}: your parcel left our warehouse and arrives tomorrow, 9:00-12:00. "
    "Reply to this text to talk to us."
)
LONG_TEXT = (
    "Hello, this is the support team about your request {i}. We looked at the order and "
    "the payment went through, but the courier could not reach your address on Monday. "
    "They will try again on Thursday between 8:00 and 18:00; somebody needs to sign for "
    "the parcel. If that day does not suit you, reply with a better day or the address "
    "of a neighbour who can take it, and we will tell the courier. Thank you!"
)


class BenchError(Exception):
    """A variant could not be measured (the reason is printed, the run goes on)."""


# ---------------------------------------------------------------- the messages


def make_texts(count: int, long_every: int) -> list[str]:
    """`count` distinct GSM-7 texts: every `long_every`-th is 3 parts, the rest 1 part."""
    return [
        (
            LONG_TEXT if long_every and i % long_every == long_every - 1 else SHORT_TEXT
        ).format(i=i + 1)
        for i in range(count)
    ]


def encode_all(texts: Sequence[str]) -> list[list[EncodedPart]]:
    return [
        encode_submit(PHONE, text, concat_ref=i % 255 + 1)
        for i, text in enumerate(texts)
    ]


# ---------------------------------------------------------------- figures


@dataclass
class Figures:
    """One sender against one simulator set-up."""

    variant: str
    sender: str
    messages: int = 0
    parts: int = 0
    seconds: float = 0.0  # the send phase (gammu-smsd: first to last AT+CMGS)
    messages_per_s: float = 0.0
    parts_per_s: float = 0.0
    at_per_message: float = 0.0  # send phase only
    at_per_message_total: float = 0.0  # init included
    cmgs_ms_p50: float | None = None  # AT+CMGS round trip (ours only)
    cmgs_ms_p99: float | None = None
    gap_ms_p50: float | None = None  # between consecutive parts leaving
    gap_ms_p99: float | None = None
    cpu_ms_per_message: float | None = None  # the sender's process
    sim_cpu_ms_per_message: float | None = None  # the simulator's process, when apart
    cpu_note: str = ""
    init_s: float | None = None  # start until the first part could go
    encode_ms_per_message: float | None = None  # encode_submit, outside the send phase
    commands: dict[str, float] = field(default_factory=dict)  # per message, send phase
    error: str | None = None


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


def counts_delta(after: Mapping[str, int], before: Mapping[str, int]) -> Counter[str]:
    delta = Counter({k: v - before.get(k, 0) for k, v in after.items()})
    return +delta  # drop zeros


def per_message_counts(counts: Counter[str], messages: float) -> dict[str, float]:
    """Commands per message, most frequent first."""
    return {k: round(v / messages, 3) for k, v in counts.most_common()}


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of another process (Linux /proc), None elsewhere."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- child processes


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def stop_process(process: subprocess.Popen[bytes], *, group: bool = False) -> None:
    """SIGTERM a child we started (or the session it leads), then SIGKILL if it stays."""

    def send(sig: int) -> None:
        with contextlib.suppress(ProcessLookupError):
            if group:
                os.killpg(process.pid, sig)  # its own session: only what it forked
            else:
                process.send_signal(sig)

    if process.poll() is None or group:
        send(signal.SIGTERM)
        try:
            process.wait(timeout=STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            send(signal.SIGKILL)
            process.wait()


@dataclass
class SimProcess:
    """A `python -m modem.sim` subprocess and its control API."""

    process: subprocess.Popen[bytes]
    control: str
    log: Path
    link: Path | None
    tcp_url: str | None

    def call(self, path: str) -> Any:
        with urllib.request.urlopen(self.control + path, timeout=10) as response:
            return json.load(response)

    def modem_state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.call("/state")["modems"][0]
        return state

    def counts(self) -> dict[str, int]:
        counts: dict[str, int] = self.modem_state()["commands"]
        return counts

    def submission_times(self) -> list[float]:
        (modem,) = self.call("/submissions")["modems"]
        return [datetime.fromisoformat(s["at"]).timestamp() for s in modem["submitted"]]

    def cpu_s(self) -> float | None:
        return process_cpu_s(self.process.pid)

    def up(self) -> bool:
        if self.process.poll() is not None:
            raise BenchError(f"simulator exited: {self.log_tail()}")
        try:
            self.call("/state")
        except (urllib.error.URLError, ConnectionError):
            return False
        return self.link is None or self.link.is_symlink()

    def log_tail(self, lines: int = 20) -> str:
        with contextlib.suppress(OSError):
            return "\n".join(self.log.read_text().splitlines()[-lines:])
        return "(no log)"


@contextlib.contextmanager
def sim_process(workdir: Path, *, pty: bool, tcp: bool) -> Iterator[SimProcess]:
    """Run the simulator as an operator would, on a PTY and/or TCP, with zero latency."""
    control = free_port()
    args = [
        sys.executable,
        "-m",
        "modem.sim",
        "--number",
        MODEM_NUMBER,
        "--control",
        f"127.0.0.1:{control}",
        "--log-level",
        "WARNING",  # INFO logs a line per message: that would be the simulator's cost
    ]
    link = workdir / "ttySIM0" if pty else None
    tcp_url = None
    if link is not None:
        args += ["--pty", str(link)]
    if tcp:
        port = free_port()
        args += ["--tcp", f"127.0.0.1:{port}"]
        tcp_url = f"socket://127.0.0.1:{port}"
    log = workdir / "sim.log"
    with log.open("wb") as log_file:
        process = subprocess.Popen(
            args,
            cwd=ROOT,
            stdin=subprocess.DEVNULL,
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us; we stop it in order
        )
    sim = SimProcess(process, f"http://127.0.0.1:{control}", log, link, tcp_url)
    try:
        deadline = time.monotonic() + SIM_START_TIMEOUT_S
        while not sim.up():
            if time.monotonic() > deadline:
                raise BenchError(f"simulator did not come up: {sim.log_tail()}")
            time.sleep(0.05)
        yield sim
    finally:
        stop_process(process)


# ---------------------------------------------------------------- our driver


@dataclass
class _Target:
    """Where the driver connects, and how to read the simulator's counters."""

    opener: PortOpener
    counts: Callable[[], Mapping[str, int]]
    sim_cpu_s: Callable[[], float | None]
    cpu_note: str


async def _settle(counts: Callable[[], Mapping[str, int]]) -> None:
    """Wait until the simulator has seen no command for a moment."""
    deadline = time.monotonic() + SETTLE_TIMEOUT_S
    seen = dict(counts())
    while time.monotonic() < deadline:
        await asyncio.sleep(SETTLE_QUIET_S)
        now = dict(counts())
        if now == seen:
            return
        seen = now


async def _drive(
    variant: str, target: _Target, texts: Sequence[str], profile_top: int
) -> Figures:
    figures = Figures(variant=variant, sender=OURS, cpu_note=target.cpu_note)
    events: list[ModemEvent] = []
    modem = Modem("bench", target.opener, on_event=events.append)
    start_counts = dict(target.counts())
    started = time.perf_counter()
    await modem.start()
    try:
        try:
            await modem.wait_state(ModemState.READY, READY_TIMEOUT_S)
        except TimeoutError:
            raise BenchError(
                f"driver not READY within {READY_TIMEOUT_S:g} s (state "
                f"{modem.state.value}, last error {modem.stats.last_error})"
            ) from None
        figures.init_s = time.perf_counter() - started
        # READY comes before the start-up CMGL sweep ends; let it finish first
        await _settle(target.counts)

        cpu = time.process_time()
        messages = encode_all(texts)
        figures.encode_ms_per_message = (time.process_time() - cpu) * 1000 / len(texts)

        rtts: list[float] = []
        starts: list[float] = []
        before = dict(target.counts())
        sim_cpu0 = target.sim_cpu_s()
        profiler = cProfile.Profile() if profile_top else None
        cpu0 = time.process_time()
        t0 = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        for parts in messages:
            for part in parts:
                sent = time.perf_counter()
                await modem.send_pdu(part)
                rtts.append(time.perf_counter() - sent)
                starts.append(sent)
        if profiler is not None:
            profiler.disable()
        elapsed = time.perf_counter() - t0
        cpu_s = time.process_time() - cpu0
        sim_cpu1 = target.sim_cpu_s()
        after = dict(target.counts())
    finally:
        await modem.stop()

    n, p = len(messages), len(rtts)
    send_counts = counts_delta(after, before)
    figures.messages, figures.parts, figures.seconds = n, p, elapsed
    figures.messages_per_s = n / elapsed
    figures.parts_per_s = p / elapsed
    figures.at_per_message = send_counts.total() / n
    figures.at_per_message_total = counts_delta(after, start_counts).total() / n
    figures.commands = per_message_counts(send_counts, n)
    figures.cmgs_ms_p50 = percentile(rtts, 50) * 1000
    figures.cmgs_ms_p99 = percentile(rtts, 99) * 1000
    gaps = [b - a for a, b in itertools.pairwise(starts)]
    if gaps:
        figures.gap_ms_p50 = percentile(gaps, 50) * 1000
        figures.gap_ms_p99 = percentile(gaps, 99) * 1000
    figures.cpu_ms_per_message = cpu_s * 1000 / n
    if sim_cpu0 is not None and sim_cpu1 is not None:
        figures.sim_cpu_ms_per_message = (sim_cpu1 - sim_cpu0) * 1000 / n
    if send_counts["AT+CMGS"] != p:
        raise BenchError(f"the simulator saw {send_counts['AT+CMGS']} AT+CMGS for {p}")
    if profiler is not None:
        out = io.StringIO()
        stats = pstats.Stats(profiler, stream=out).strip_dirs()
        stats.sort_stats("tottime").print_stats(profile_top)
        print(f"\n--- profile of the send phase ({variant}), by own time ---")
        print(out.getvalue().strip())
    return figures


def run_memory(texts: Sequence[str], profile_top: int) -> Figures:
    async def run() -> Figures:
        network = SimNetwork()
        sim = network.add_modem(MODEM_NUMBER)
        world = asyncio.create_task(network.run())
        target = _Target(
            opener=loopback_opener(sim),
            counts=lambda: sim.state.command_counts,
            sim_cpu_s=lambda: None,
            cpu_note="includes the simulator (same process)",
        )
        try:
            return await _drive("memory", target, texts, profile_top)
        finally:
            world.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await world

    return asyncio.run(run())


def run_subprocess(variant: str, texts: Sequence[str], profile_top: int) -> Figures:
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-{variant}-") as tmp,
        sim_process(Path(tmp), pty=variant == "pty", tcp=variant == "tcp") as sim,
    ):
        if variant == "pty":
            assert sim.link is not None
            url = str(sim.link)
        else:
            assert sim.tcp_url is not None
            url = sim.tcp_url
        target = _Target(
            opener=url_opener(url),
            counts=sim.counts,
            sim_cpu_s=sim.cpu_s,
            cpu_note="driver alone (simulator in a subprocess)",
        )
        return asyncio.run(_drive(variant, target, texts, profile_top))


# ---------------------------------------------------------------- third-party daemons

GAMMU_SMSDRC = """\
[gammu]
device = {device}
connection = at115200

[smsd]
service = files
logfile = {workdir}/smsd.log
debuglevel = 1
inboxpath = {workdir}/inbox/
outboxpath = {workdir}/outbox/
sentsmspath = {workdir}/sent/
errorsmspath = {workdir}/error/
inboxformat = unicode
outboxformat = detail
transmitformat = auto
deliveryreport = no
commtimeout = 1
sendtimeout = 30
receivefrequency = 3600
statusfrequency = 0
loopsleep = 0
checksecurity = 0
checkbattery = 0
checksignal = 0
checknetwork = 0
phoneid = bench
"""

# smstools' best from ../shared/peers: no input detection around each command, 1 s
# delays; and no receiving, as gammu-smsd's long receive period has none either.
SMSTOOLS_CONF = """\
devices = GSM1
outgoing = {workdir}/outgoing
checked = {workdir}/checked
failed = {workdir}/failed
incoming = {workdir}/incoming
sent = {workdir}/sent
report = {workdir}/report
logfile = {workdir}/smsd.log
loglevel = 5
delaytime = 1
delaytime_mainprocess = 1
autosplit = 3
receive_before_send = no

[GSM1]
device = {device}
incoming = no
baudrate = 115200
rtscts = no
mode = new
report = no
detect_unexpected_input = no
detect_message_routing = no
keep_open = yes
"""


def _prepare_gammu(
    workdir: Path, device: Path, texts: Sequence[str], lifetime_s: float
) -> list[str]:
    for name in ("inbox", "outbox", "sent", "error"):
        (workdir / name).mkdir(parents=True)
    config = workdir / "smsdrc"
    config.write_text(GAMMU_SMSDRC.format(device=device, workdir=workdir))
    for text in texts:
        inject = subprocess.run(
            [
                *("gammu-smsd-inject", "-c", str(config), "TEXT", PHONE),
                *(
                    "-len",
                    str(len(text)),
                    "-textutf8",
                    text,
                ),  # -len: concatenated parts
            ],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if inject.returncode != 0:
            raise BenchError(f"gammu-smsd-inject failed: {inject.stderr.strip()}")
    # -X: it ends itself even if this script is killed before it can stop it
    return ["gammu-smsd", "-c", str(config), "-X", str(round(lifetime_s))]


def _prepare_smstools(
    workdir: Path, device: Path, texts: Sequence[str], lifetime_s: float
) -> list[str]:
    del lifetime_s  # smsd has no such option
    names = ("outgoing", "checked", "failed", "incoming", "sent", "report", "tmp")
    for name in names:
        (workdir / name).mkdir(parents=True)
    config = workdir / "smsd.conf"
    config.write_text(SMSTOOLS_CONF.format(device=device, workdir=workdir))
    for i, text in enumerate(texts):
        draft = workdir / "tmp" / f"bench{i:05d}"
        draft.write_text(f"To: {PHONE[1:]}\n\n{text}")
        draft.rename(workdir / "outgoing" / draft.name)  # smsd never sees half a file
    return [
        *("smsd", "-t", "-c", str(config)),
        *("-p", str(workdir / "smsd.pid"), "-i", str(workdir / "smsd.info")),
    ]


@dataclass(frozen=True)
class Peer:
    """A third-party SMS daemon with a spool: queue first, then start it, watch the spool."""

    name: str
    tools: tuple[str, ...]
    # (workdir, device, texts, seconds it may live) -> its command line
    prepare: Callable[[Path, Path, Sequence[str], float], list[str]]
    sent: str  # spool directories it files messages into
    failed: str
    part_s: float  # roughly, per part (for the estimate printed before it runs)

    def missing(self) -> list[str]:
        return [t for t in self.tools if shutil.which(t) is None]

    def estimate_s(self, texts: Sequence[str]) -> float:
        """A rough run time, init and queueing included."""
        return sum(len(p) for p in encode_all(texts)) * self.part_s + 10


PEERS = {
    "gammu-smsd": Peer(
        "gammu-smsd",
        ("gammu-smsd", "gammu-smsd-inject"),
        _prepare_gammu,
        "sent",
        "error",
        part_s=0.72,  # its own sleeps around the PDU (../shared/peers, section 4.1)
    ),
    "smstools": Peer(
        "smstools",
        ("smsd",),
        _prepare_smstools,
        "sent",
        "failed",
        part_s=0.5,  # its spooler hands the modem process ~2 files/s
    ),
}


@dataclass(frozen=True)
class _Sample:
    """What the simulator and the daemon's CPU clock said at one moment."""

    submitted: int
    counts: dict[str, int]
    peer_cpu: float | None
    sim_cpu: float | None

    @classmethod
    def take(cls, sim: SimProcess, peer_pid: int) -> _Sample:
        state = sim.modem_state()
        return cls(
            state["submitted"], state["commands"], process_cpu_s(peer_pid), sim.cpu_s()
        )


def run_peer(peer: Peer, texts: Sequence[str]) -> Figures:
    """The daemon sends `texts` (queued before it starts) through a simulator's PTY."""
    figures = Figures(
        variant="pty",
        sender=peer.name,
        cpu_note=f"{peer.name} alone (simulator in a subprocess)",
    )
    expected_parts = sum(len(parts) for parts in encode_all(texts))
    with (
        tempfile.TemporaryDirectory(prefix=f"bench-{peer.name}-") as tmp,
        sim_process(Path(tmp), pty=True, tcp=False) as sim,
    ):
        assert sim.link is not None
        workdir = Path(tmp) / "spool"
        command = peer.prepare(
            workdir, sim.link, texts, peer.estimate_s(texts) * 3 + 60
        )
        sent, failed = workdir / peer.sent, workdir / peer.failed
        start_counts = sim.counts()
        started = time.time()  # the simulator's clock: its submissions say when
        daemon = subprocess.Popen(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,  # its own group: smsd forks a modem process
        )
        try:
            # Watch its spool, not the simulator: polling the control API would cost
            # the simulator CPU. Two samples of the simulator bracket the steady state.
            first: _Sample | None = None
            filed, last_change = 0, time.monotonic()
            while filed < len(texts):
                time.sleep(PEER_POLL_S)
                now = time.monotonic()
                done = count_files(sent) + count_files(failed)
                if done > filed:
                    filed, last_change = done, now
                    if first is None:
                        first = _Sample.take(sim, daemon.pid)
                    continue
                if daemon.poll() is not None:
                    raise BenchError(
                        f"{peer.name} exited ({daemon.returncode}) after {filed} of "
                        f"{len(texts)} messages: {tail(workdir / 'smsd.log')}"
                    )
                limit = (
                    PEER_FIRST_MESSAGE_TIMEOUT_S if not filed else PEER_STALL_TIMEOUT_S
                )
                if now - last_change > limit:
                    raise BenchError(
                        f"{peer.name} filed nothing for {limit:g} s ({filed} of "
                        f"{len(texts)} messages): {tail(workdir / 'smsd.log')}"
                    )
            last = _Sample.take(sim, daemon.pid)
        finally:
            stop_process(daemon, group=True)
        times = sim.submission_times()
        if count_files(failed):
            raise BenchError(
                f"{peer.name} failed {count_files(failed)} messages: "
                f"{tail(workdir / 'smsd.log')}"
            )
    if last.submitted != expected_parts:
        raise BenchError(
            f"the simulator got {last.submitted} parts, expected {expected_parts}"
        )
    n, p = len(texts), len(times)
    span = times[-1] - times[0]
    if p < 2 or span <= 0:
        raise BenchError("too few parts to time; queue more messages")
    figures.messages, figures.parts, figures.seconds = n, p, span
    figures.init_s = times[0] - started
    figures.parts_per_s = (p - 1) / span
    figures.messages_per_s = figures.parts_per_s * n / p
    gaps = [b - a for a, b in itertools.pairwise(times)]
    figures.gap_ms_p50 = percentile(gaps, 50) * 1000
    figures.gap_ms_p99 = percentile(gaps, 99) * 1000
    figures.at_per_message_total = counts_delta(last.counts, start_counts).total() / n
    # The steady state: from the first message filed as sent to the last. Its AT+CMGS
    # count delimits it (the next part's AT+CMGS may already be in when the file moves).
    window = counts_delta(last.counts, first.counts) if first is not None else None
    if first is not None and window and window["AT+CMGS"] > 0:
        per_message = p / n / window["AT+CMGS"]  # window totals -> per message
        figures.at_per_message = window.total() * per_message
        figures.commands = per_message_counts(window, 1 / per_message)
        if last.peer_cpu is not None and first.peer_cpu is not None:
            figures.cpu_ms_per_message = (
                (last.peer_cpu - first.peer_cpu) * 1000 * per_message
            )
        if last.sim_cpu is not None and first.sim_cpu is not None:
            figures.sim_cpu_ms_per_message = (
                (last.sim_cpu - first.sim_cpu) * 1000 * per_message
            )
    return figures


def count_files(folder: Path) -> int:
    return sum(1 for _ in folder.iterdir())


def tail(path: Path, lines: int = 8) -> str:
    with contextlib.suppress(OSError):
        return " | ".join(path.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


# ---------------------------------------------------------------- output


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def _rate(value: float) -> str:
    return _num(value, 2 if value < 10 else 0)


def render(results: Sequence[Figures], notes: Sequence[str]) -> str:
    header = (
        f"{'sender':<14} {'port':<7} {'msgs':>5} {'parts':>5} {'msg/s':>8} "
        f"{'parts/s':>8} {'AT/msg':>6} {'AT/msg':>6} {'CMGS ms':>13} {'gap ms':>13} "
        f"{'CPU ms/msg':>10} {'sim CPU':>8} {'init':>6}"
    )
    sub = (
        f"{'':<14} {'':<7} {'':>5} {'':>5} {'':>8} {'':>8} {'send':>6} {'+init':>6} "
        f"{'p50 / p99':>13} {'p50 / p99':>13} {'sender':>10} {'ms/msg':>8} {'s':>6}"
    )
    lines = [header, sub, "-" * len(header)]
    for f in results:
        if f.error is not None:
            lines.append(f"{f.sender:<14} {f.variant:<7} FAILED: {f.error}")
            continue
        cmgs = (
            f"{_num(f.cmgs_ms_p50, 2)} / {_num(f.cmgs_ms_p99, 2)}"
            if f.cmgs_ms_p50 is not None
            else "-"
        )
        gap = f"{_num(f.gap_ms_p50, 2)} / {_num(f.gap_ms_p99, 2)}"
        lines.append(
            f"{f.sender:<14} {f.variant:<7} {f.messages:>5} {f.parts:>5} "
            f"{_rate(f.messages_per_s):>8} {_rate(f.parts_per_s):>8} "
            f"{_num(f.at_per_message, 2):>6} {_num(f.at_per_message_total, 2):>6} "
            f"{cmgs:>13} {gap:>13} {_num(f.cpu_ms_per_message, 2):>10} "
            f"{_num(f.sim_cpu_ms_per_message, 2):>8} {_num(f.init_s, 2):>6}"
        )
    return "\n".join([*lines, "", *notes])


def ratios(results: Sequence[Figures]) -> dict[str, dict[str, float]]:
    """messages/s of each of our variants over each daemon's: {"gammu-smsd": {"pty": x}}."""
    ours = [r for r in results if r.sender == OURS and r.error is None]
    return {
        peer.sender: {r.variant: r.messages_per_s / peer.messages_per_s for r in ours}
        for peer in results
        if peer.sender != OURS and peer.error is None and peer.messages_per_s > 0
    }


# ---------------------------------------------------------------- command line


def _variants(text: str) -> list[str]:
    chosen = [v.strip() for v in text.split(",") if v.strip()]
    unknown = sorted(set(chosen) - set(VARIANTS))
    if unknown or not chosen:
        raise argparse.ArgumentTypeError(
            f"expected a comma-separated subset of {','.join(VARIANTS)}"
        )
    return chosen


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/modem_throughput.py",
        description="Messages/s and AT commands/message: our driver and gammu-smsd "
        "against a zero-latency simulated modem.",
    )
    parser.add_argument(
        "--messages", type=positive_int, default=500, help="for our driver (500)"
    )
    parser.add_argument(
        "--gammu-messages",
        type=positive_int,
        default=100,
        help="for gammu-smsd, ~0.7 s per part (100)",
    )
    parser.add_argument("--skip-gammu", action="store_true")
    parser.add_argument(
        "--smstools-messages",
        type=not_negative_int,
        default=0,
        metavar="N",
        help="also smstools' smsd, ~0.5 s per message (0: not run)",
    )
    parser.add_argument(
        "--variants",
        type=_variants,
        default=list(VARIANTS),
        help="how our driver reaches the simulator (memory,pty,tcp)",
    )
    parser.add_argument(
        "--long-every",
        type=not_negative_int,
        default=4,
        metavar="K",
        help="every K-th message is a 3-part text, the rest 1 part; 0: all 1-part (4)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write JSON")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="print the N functions with most own time in our send phase",
    )
    return parser.parse_args(list(argv))


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table (and write JSON); 0 unless a variant failed."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        results, notes = measure(args)
    except KeyboardInterrupt:
        print("interrupted; children stopped, temporary files removed", file=sys.stderr)
        return 130
    report(args, results, notes)
    return 1 if any(r.error for r in results) else 0


def measure(args: argparse.Namespace) -> tuple[list[Figures], list[str]]:
    """Every variant and daemon in turn; a failure is recorded, the rest still runs."""
    texts = make_texts(args.messages, args.long_every)
    parts = sum(len(p) for p in encode_all(texts))
    print(
        f"{args.messages} messages ({parts} parts, every "
        f"{args.long_every or 'no'}{'th' if args.long_every else ''} message 3 parts)"
        f" to a zero-latency simulated modem; {os.cpu_count()} CPUs, "
        f"Python {platform.python_version()}",
        flush=True,
    )
    results: list[Figures] = []
    notes: list[str] = []
    for variant in args.variants:
        print(f"  our driver, {variant} ...", flush=True)
        try:
            if variant == "memory":
                results.append(run_memory(texts, args.profile))
            else:
                results.append(run_subprocess(variant, texts, args.profile))
        except (BenchError, OSError) as exc:
            results.append(Figures(variant, OURS, error=str(exc)))
    runs = [
        ("gammu-smsd", args.gammu_messages, "--skip-gammu" if args.skip_gammu else ""),
        (
            "smstools",
            args.smstools_messages,
            "" if args.smstools_messages else "by default",
        ),
    ]
    for name, count, skipped in runs:
        peer = PEERS[name]
        if skipped:
            notes.append(f"{name}: skipped ({skipped})")
            continue
        if missing := peer.missing():
            notes.append(f"{name}: skipped, not installed ({', '.join(missing)})")
            continue
        peer_texts = make_texts(count, args.long_every)
        print(
            f"  {name}, pty, {count} messages (~{peer.estimate_s(peer_texts):.0f} s) ...",
            flush=True,
        )
        try:
            results.append(run_peer(peer, peer_texts))
        except (BenchError, OSError) as exc:
            results.append(Figures("pty", name, error=str(exc)))
    return results, notes


def report(
    args: argparse.Namespace, results: Sequence[Figures], measured: Sequence[str]
) -> None:
    """Print the table and the notes; write the JSON file when asked to."""
    notes = list(measured)
    notes += [
        "msg/s: ours = messages / send-phase wall time; daemons = steady state by the "
        "simulator's clock, (parts-1)/(last-first AT+CMGS) x messages/parts.",
        "AT/msg: commands the simulator counted (a ';' chain counts each command); send = "
        "send phase only, +init = including connect and init.",
        "CMGS ms: send_pdu round trip; gap ms: between consecutive parts leaving; "
        "init s: from start until READY (ours) or the first AT+CMGS (daemons).",
        "CPU: memory = driver and simulator in one process; pty/tcp = our process alone "
        "(sim CPU: the simulator subprocess); daemons: their processes, steady state.",
    ]
    ratio = ratios(results)
    notes += [
        f"ours / {peer} (msg/s): " + ", ".join(f"{v} {r:,.0f}x" for v, r in by.items())
        for peer, by in ratio.items()
    ]
    notes += [
        f"recorded in ../shared/peers/results: {name} {rate} msg/s ({how}; 200 one-part "
        "messages against a recording fake modem)"
        for name, (rate, how) in RECORDED_PEERS.items()
    ]
    print()
    print(render(results, notes))
    if args.json is not None:
        document = {
            "benchmark": "modem_throughput",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "host": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "settings": {
                "messages": args.messages,
                "gammu_messages": None if args.skip_gammu else args.gammu_messages,
                "smstools_messages": args.smstools_messages or None,
                "long_every": args.long_every,
                "variants": args.variants,
            },
            "results": [asdict(r) for r in results],
            "ratio_ours_to_peer": ratio,
            "notes": notes,
        }
        args.json.write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    # SIGTERM cleans up like Ctrl-C: children stopped, temporary directories removed
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(main())

"""The gateway's pipeline, end to end: the daemon against 1, 4 and 16 simulated modems,
and gammu-smsd against the same simulator in the same run.

    .venv/bin/python bench/pipeline.py [--modems 1,4,16] [--outbound 2000]
        [--inbound 300] [--inbound-rate 20] [--gammu-messages 40] [--gammu-inbound 12]
        [--skip-gammu] [--status-reports] [--paced] [--no-strace] [--automation]
        [--database-url URL] [--json PATH]

For each modem count, a simulator (`python -m modem.sim --tcp ... --modems N`, zero
latency) and the daemon each run in a process of their own; the daemon is `smsgw run`
with one [modem:mN] section per simulated modem, its pacing lifted (bench/unpaced.py:
a SIM is paced at 600 parts/min at most, which would be all a throughput test measured;
`--paced` keeps it) and status reports off (gammu-smsd runs with delivery reports off
too; `--status-reports` turns ours on). Each modem count starts from an empty database: a
new SQLite file, or with `--database-url` (by default SMSGW_DATABASE_URL, when set) a
database made for it on that PostgreSQL server and dropped after.

Outbound: `--outbound` messages (every 4th 3 parts, the rest 1: bench/modem_throughput's
mix) are queued through OutboundService before the daemon starts, as `smsgw send`
would queue them. messages/s = (parts - 1) / (last - first AT+CMGS, the simulator's
clock) x messages/parts - the steady state, measured the way modem_throughput measures
gammu-smsd.
Inbound: phones text the modems round-robin at `--inbound-rate` per second (1-part
texts). Latency = when this process first sees the message committed (a read-only
connection of its own, bench.harness.DatabaseReader, polled every 2 ms) minus when the
simulator handed the text to the modem (the `at` of POST /phones/N/send, the
simulator's clock; both clocks are this machine's). p50/p99 by nearest rank.
fsyncs per message: the daemon runs under `strace -f --seccomp-bpf -e
trace=fsync,fdatasync` (only those calls stop it), and the calls made between the
phase's first and last event are counted - the WAL's (one per committed transaction)
and the database file's (checkpoints). Queueing the outbound messages costs commits in
the queueing process as well: counted from its store's stats and shown apart. On
PostgreSQL the server makes the fsyncs, not the daemon: not counted there.
CPU per message: the daemon's utime + stime (/proc/PID/stat, all its threads) over the
phase, divided by the phase's messages; the simulator's likewise, shown apart.

gammu-smsd 1.42 (files backend, tuned as in ../shared/peers): outbound through
bench/modem_throughput's harness (its `run_peer`, the same simulator on a PTY); inbound
latency with ReceiveFrequency = 1 (its tuned poll), one text at a time at a random
moment, until its inbox file appears; its fsyncs (also under strace) per received text.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import platform
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: the repository root is the import root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import modem_throughput as mt
from bench.args import not_negative_int, positive_int, postgresql_url
from bench.harness import (
    DatabaseReader,
    GatewayProcess,
    HarnessError,
    SimServer,
    first_child,
    process_cpu_s,
    scratch_database,
    server_url,
    wait_until,
    write_config,
)
from gateway.config import Settings, load_settings
from gateway.domain import MessageOrigin
from gateway.events import EventBus
from gateway.outbox.service import OutboundService
from gateway.storage.db import open_database

OURS = "smsgw"
GAMMU = "gammu-smsd"
ENQUEUE_CHUNK = 200  # sends in flight at once while queueing (group commit)
LATENCY_POLL_S = 0.002
DRAIN_TIMEOUT_S = 300.0
INBOUND_TIMEOUT_S = 60.0  # the last text of the inbound phase until it is committed
GAMMU_READ_TIMEOUT_S = 15.0  # one text until gammu-smsd files it
GAMMU_START_TIMEOUT_S = 60.0  # its slow init until its first read of the SIM
INBOUND_PHONE_BASE = 447700900301
FSYNC_CALLS = ("fsync", "fdatasync")


# ---------------------------------------------------------------- figures


@dataclass
class Figures:
    """One sender's figures for one set-up; None where not measured."""

    sender: str
    modems: int
    out_messages: int = 0
    out_parts: int = 0
    out_seconds: float = 0.0  # first to last AT+CMGS
    messages_per_s: float = 0.0
    parts_per_s: float = 0.0
    out_fsyncs_per_message: float | None = None  # the sender process
    out_wal_fsyncs_per_message: float | None = None
    queue_commits_per_message: float | None = None  # the queueing process (ours)
    out_cpu_ms_per_message: float | None = None
    sim_cpu_ms_per_message: float | None = None
    in_messages: int = 0
    latency_ms_p50: float | None = None
    latency_ms_p99: float | None = None
    latency_ms_max: float | None = None
    in_fsyncs_per_message: float | None = None
    in_cpu_ms_per_message: float | None = None
    notes: list[str] = field(default_factory=list)
    error: str | None = None


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


# ---------------------------------------------------------------- fsyncs by strace


def strace_works() -> bool:
    """Whether this machine lets strace trace a child (seccomp-bpf filtered)."""
    if shutil.which("strace") is None:
        return False
    probe = subprocess.run(
        [*strace_prefix(Path(os.devnull)), "true"],
        capture_output=True,
        timeout=30,
        check=False,
    )
    return probe.returncode == 0


def strace_prefix(log: Path) -> list[str]:
    """strace stopping the traced process at fsync/fdatasync only, timestamped, paths."""
    return [
        *("strace", "-f", "--seccomp-bpf", "-qq", "-ttt", "-y"),
        *("-e", f"trace={','.join(FSYNC_CALLS)}", "-e", "signal=none"),
        *("-o", str(log)),
    ]


@dataclass(frozen=True, slots=True)
class Fsync:
    at: float
    path: str


def read_fsyncs(log: Path) -> list[Fsync]:
    """The fsync-family calls in an strace log (`PID TIME CALL(FD</path>) = 0`)."""
    calls = []
    with contextlib.suppress(OSError):
        for line in log.read_text(errors="replace").splitlines():
            fields = line.split(None, 2)
            if len(fields) < 3 or not fields[2].startswith(FSYNC_CALLS):
                continue
            call = fields[2]
            path = call[call.find("<") + 1 : call.find(">")] if "<" in call else ""
            calls.append(Fsync(float(fields[1]), path))
    return calls


def count_fsyncs(
    calls: Sequence[Fsync], start: float, end: float, *, suffix: str = ""
) -> int:
    return sum(1 for c in calls if start <= c.at <= end and c.path.endswith(suffix))


# ---------------------------------------------------------------- ours


@dataclass(frozen=True, slots=True)
class _Window:
    start: float
    end: float
    cpu_s: float | None
    sim_cpu_s: float | None


class _DbWatch:
    """A read-only look at the daemon's database (either engine)."""

    def __init__(self, settings: Settings) -> None:
        self.db = DatabaseReader(settings.database)

    def close(self) -> None:
        self.db.close()

    def parts_by_status(self) -> dict[str, int]:
        rows = self.db.rows(
            "SELECT status, COUNT(*) FROM outbound_parts GROUP BY status"
        )
        return {str(s): int(n) for s, n in rows}

    def inbound_after(self, last_id: int) -> list[tuple[int, str]]:
        return [
            (int(i), str(b))
            for i, b in self.db.rows(
                "SELECT id, body FROM messages WHERE id > ? AND direction = 'inbound' "
                "ORDER BY id",
                (last_id,),
            )
        ]


def _settings(config: Path, database_url: str | None) -> Settings:
    """The gateway.ini at `config`, on the PostgreSQL database at `database_url` (None:
    what the file and the environment say)."""
    settings = load_settings(config)
    if database_url is None:
        return settings
    return replace(settings, database=replace(settings.database, url=database_url))


async def run_ours(
    modems: int,
    args: argparse.Namespace,
    workdir: Path,
    *,
    use_strace: bool,
    database_url: str | None = None,
) -> Figures:
    """One modem count: queue, start the daemon, drain the queue, then texts come in.
    `database_url`: an empty PostgreSQL database (None: a new SQLite file in workdir)."""
    figures = Figures(OURS, modems)
    texts = mt.make_texts(args.outbound, 4)
    sim = SimServer(workdir, modems, rng=random.Random(modems))
    trace = workdir / "fsyncs.strace"
    daemon: GatewayProcess | None = None
    try:
        await sim.start()
        outbound = {"status_reports": "yes" if args.status_reports else "no"}
        if args.paced:
            outbound["parts_per_minute"] = "600"
        config = write_config(
            workdir / "gateway.ini",
            sim.urls,
            data_dir=workdir / "var",
            outbound=outbound,
            automation=args.automation,
        )
        settings = _settings(config, database_url)
        await _queue(settings, texts, figures)
        daemon = GatewayProcess(
            workdir,
            config,
            launcher=strace_prefix(trace) if use_strace else (),
            module="gateway.cli" if args.paced else "bench.unpaced",
            database_url=database_url,
        )
        watch = None
        try:
            await daemon.start()
            watch = _DbWatch(settings)
            sent_window = await _drain(watch, daemon, sim, len(texts))
            await _outbound_figures(figures, sim, sent_window, texts)
            in_window, latencies = await _inbound(watch, daemon, sim, args)
        finally:
            if watch is not None:
                watch.close()
        code = await daemon.signal(signal.SIGTERM)
        if code != 0:
            raise HarnessError(f"the daemon exited {code} on SIGTERM")
    finally:
        if daemon is not None:
            await daemon.close()
        await sim.close()
    _inbound_figures(figures, in_window, latencies)
    if use_strace:
        calls = read_fsyncs(trace)
        n = figures.out_messages
        figures.out_fsyncs_per_message = (
            count_fsyncs(calls, sent_window.start, sent_window.end) / n
        )
        figures.out_wal_fsyncs_per_message = (
            count_fsyncs(calls, sent_window.start, sent_window.end, suffix="-wal") / n
        )
        figures.in_fsyncs_per_message = (
            count_fsyncs(calls, in_window.start, in_window.end) / figures.in_messages
        )
    return figures


async def _queue(settings: Settings, texts: Sequence[str], figures: Figures) -> None:
    """Queue every text (as `smsgw send` would), before the daemon runs."""
    store = await open_database(settings)  # creates the schema, as the daemon would
    try:
        service = OutboundService(store, EventBus(), settings=settings)
        before = store.stats.commits
        for i in range(0, len(texts), ENQUEUE_CHUNK):
            await asyncio.gather(
                *(
                    service.send(mt.PHONE, text, origin=MessageOrigin.API)
                    for text in texts[i : i + ENQUEUE_CHUNK]
                )
            )
        figures.queue_commits_per_message = (store.stats.commits - before) / len(texts)
    finally:
        await store.close()


async def _drain(
    watch: _DbWatch, daemon: GatewayProcess, sim: SimServer, messages: int
) -> _Window:
    """From the first part the daemon committed as sent to the last."""
    del messages

    def sent() -> int:
        counts = watch.parts_by_status()
        return counts.get("sent", 0) + counts.get("delivered", 0)

    await wait_until(sent, within=60, what="the first part sent", poll_s=0.005)
    start, cpu0, sim0 = time.time(), daemon.cpu_s(), sim.cpu_s()

    def drained() -> bool:
        counts = watch.parts_by_status()
        return not counts.get("queued", 0) and not counts.get("sending", 0)

    await wait_until(drained, within=DRAIN_TIMEOUT_S, what="the queue drained")
    end, cpu1, sim1 = time.time(), daemon.cpu_s(), sim.cpu_s()
    failed = watch.parts_by_status().get("failed", 0)
    if failed:
        raise HarnessError(f"{failed} parts failed")
    return _Window(start, end, _delta(cpu0, cpu1), _delta(sim0, sim1))


def _delta(before: float | None, after: float | None) -> float | None:
    return None if before is None or after is None else after - before


async def _outbound_figures(
    figures: Figures, sim: SimServer, window: _Window, texts: Sequence[str]
) -> None:
    times = sorted(
        datetime.fromisoformat(s["at"]).timestamp()
        for entries in (await sim.submissions()).values()
        for s in entries
    )
    n, p = len(texts), len(times)
    expected = sum(len(parts) for parts in mt.encode_all(texts))
    if p != expected:
        raise HarnessError(f"the simulator got {p} parts, expected {expected}")
    span = times[-1] - times[0]
    figures.out_messages, figures.out_parts, figures.out_seconds = n, p, span
    figures.parts_per_s = (p - 1) / span if span > 0 else 0.0
    figures.messages_per_s = figures.parts_per_s * n / p
    if window.cpu_s is not None:
        figures.out_cpu_ms_per_message = window.cpu_s * 1000 / n
    if window.sim_cpu_s is not None:
        figures.sim_cpu_ms_per_message = window.sim_cpu_s * 1000 / n


async def _inbound(
    watch: _DbWatch, daemon: GatewayProcess, sim: SimServer, args: argparse.Namespace
) -> tuple[_Window, list[float]]:
    """Phones text the modems at a steady rate; each text's commit latency."""
    last_id = max([0, *(i for i, _ in watch.inbound_after(0))])
    sent_at: dict[str, float] = {}
    seen_at: dict[str, float] = {}
    done = asyncio.Event()

    async def poll() -> None:
        nonlocal last_id
        while not done.is_set():
            now = time.time()
            for message_id, body in watch.inbound_after(last_id):
                seen_at.setdefault(body, now)
                last_id = message_id
            await asyncio.sleep(LATENCY_POLL_S)

    async def texts() -> None:
        loop = asyncio.get_running_loop()
        gap = 1 / args.inbound_rate
        due = loop.time()
        for i in range(args.inbound):
            phone = f"+{INBOUND_PHONE_BASE + i % 20}"
            modem = sim.numbers[i % len(sim.numbers)]
            body = f"#{i:05d} hello, is my order on its way?"
            texted = await sim.text(phone, modem, body)
            sent_at[body] = texted.at
            due += gap
            await asyncio.sleep(max(0.0, due - loop.time()))  # the traffic's pace

    cpu0, start = daemon.cpu_s(), time.time()
    poller = asyncio.create_task(poll())
    try:
        await texts()
        await wait_until(
            lambda: len(seen_at) >= args.inbound,
            within=INBOUND_TIMEOUT_S,
            what="every inbound text committed",
        )
    finally:
        done.set()
        await poller
    end, cpu1 = time.time(), daemon.cpu_s()
    latencies = [(seen_at[b] - sent_at[b]) * 1000 for b in sent_at]
    return _Window(start, end, _delta(cpu0, cpu1), None), latencies


def _inbound_figures(
    figures: Figures, window: _Window, latencies: Sequence[float]
) -> None:
    figures.in_messages = len(latencies)
    if latencies:
        figures.latency_ms_p50 = percentile(latencies, 50)
        figures.latency_ms_p99 = percentile(latencies, 99)
        figures.latency_ms_max = max(latencies)
    if window.cpu_s is not None and latencies:
        figures.in_cpu_ms_per_message = window.cpu_s * 1000 / len(latencies)


# ---------------------------------------------------------------- gammu-smsd


def run_gammu(args: argparse.Namespace, *, use_strace: bool) -> Figures:
    """gammu-smsd on one simulated modem: outbound (modem_throughput's harness), then
    inbound latency and fsyncs (its tuned receive poll)."""
    figures = Figures(GAMMU, 1)
    peer = mt.PEERS[GAMMU]
    out = mt.run_peer(peer, mt.make_texts(args.gammu_messages, 4))
    figures.out_messages, figures.out_parts = out.messages, out.parts
    figures.out_seconds = out.seconds
    figures.messages_per_s, figures.parts_per_s = out.messages_per_s, out.parts_per_s
    figures.out_cpu_ms_per_message = out.cpu_ms_per_message
    figures.sim_cpu_ms_per_message = out.sim_cpu_ms_per_message
    if args.gammu_inbound:
        _gammu_inbound(figures, args.gammu_inbound, use_strace=use_strace)
    return figures


def _gammu_inbound(figures: Figures, count: int, *, use_strace: bool) -> None:
    rng = random.Random(1)
    with (
        tempfile.TemporaryDirectory(prefix="bench-gammu-in-") as tmp,
        mt.sim_process(Path(tmp), pty=True, tcp=False) as sim,
    ):
        assert sim.link is not None
        workdir = Path(tmp) / "spool"
        command = mt._prepare_gammu(workdir, sim.link, [], count * 3 + 120)
        config = workdir / "smsdrc"
        text = config.read_text()
        if "receivefrequency = 3600" not in text:
            raise mt.BenchError("modem_throughput's gammu-smsd config changed")
        # its tuned receive poll (../shared/peers): every second
        config.write_text(
            text.replace("receivefrequency = 3600", "receivefrequency = 1")
        )
        trace = Path(tmp) / "fsyncs.strace"
        launcher = strace_prefix(trace) if use_strace else []
        daemon = subprocess.Popen(
            [*launcher, *command],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            pid = _wait_pid(daemon, traced=use_strace)
            _wait_polling(sim, daemon)
            inbox = workdir / "inbox"
            cpu0, start = process_cpu_s(pid), time.time()
            latencies = []
            for i in range(count):
                time.sleep(rng.uniform(0.0, 1.0))  # a random moment in its poll cycle
                before = mt.count_files(inbox)
                at = _text(sim, f"+{INBOUND_PHONE_BASE + i}", f"#g{i:03d} hello there")
                deadline = time.monotonic() + GAMMU_READ_TIMEOUT_S
                while mt.count_files(inbox) <= before:
                    if time.monotonic() > deadline or daemon.poll() is not None:
                        raise mt.BenchError(
                            f"gammu-smsd filed nothing: {mt.tail(workdir / 'smsd.log')}"
                        )
                    time.sleep(LATENCY_POLL_S)
                latencies.append((time.time() - at) * 1000)
            end, cpu1 = time.time(), process_cpu_s(pid)
        finally:
            mt.stop_process(daemon, group=True)
        window = _Window(start, end, _delta(cpu0, cpu1), None)
        _inbound_figures(figures, window, latencies)
        if use_strace:
            figures.in_fsyncs_per_message = count_fsyncs(
                read_fsyncs(trace), start, end
            ) / len(latencies)


def _wait_pid(process: subprocess.Popen[bytes], *, traced: bool) -> int:
    if not traced:
        return process.pid
    deadline = time.monotonic() + 10
    while (pid := first_child(process.pid, "smsdrc")) is None:
        if time.monotonic() > deadline or process.poll() is not None:
            raise mt.BenchError("gammu-smsd did not start under strace")
        time.sleep(0.01)
    return pid


def _wait_polling(sim: mt.SimProcess, daemon: subprocess.Popen[bytes]) -> None:
    """Until gammu-smsd's init is over (AT+CMMS is its last command here) and its receive
    poll (AT+CPMS, every ReceiveFrequency) has come round once more."""
    deadline = time.monotonic() + GAMMU_START_TIMEOUT_S
    polls_at_init: int | None = None
    while True:
        counts = sim.counts()
        if polls_at_init is None and counts.get("AT+CMMS"):
            polls_at_init = counts.get("AT+CPMS", 0)
        if polls_at_init is not None and counts.get("AT+CPMS", 0) > polls_at_init:
            return
        if time.monotonic() > deadline or daemon.poll() is not None:
            raise mt.BenchError("gammu-smsd never polled the SIM")
        time.sleep(0.1)


def _text(sim: mt.SimProcess, phone: str, text: str) -> float:
    """A phone texts the simulated modem; when the modem got it (simulator's clock)."""
    request = urllib.request.Request(
        f"{sim.control}/phones/{phone}/send",
        data=json.dumps({"to": mt.MODEM_NUMBER, "text": text}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        return datetime.fromisoformat(json.load(response)["at"]).timestamp()


# ---------------------------------------------------------------- output


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


def render(results: Sequence[Figures]) -> str:
    header = (
        f"{'sender':<11} {'modems':>6} {'msgs':>5} {'parts':>5} {'msg/s':>7} "
        f"{'parts/s':>7} {'fsync/msg':>9} {'CPU ms/msg':>10} {'in msgs':>7} "
        f"{'latency ms':>17} {'fsync/msg':>9} {'CPU ms/msg':>10}"
    )
    sub = (
        f"{'':<11} {'':>6} {'out':>5} {'':>5} {'':>7} {'':>7} {'out':>9} {'out':>10} "
        f"{'':>7} {'p50 / p99':>17} {'in':>9} {'in':>10}"
    )
    lines = [header, sub, "-" * len(header)]
    for f in results:
        if f.error is not None:
            lines.append(f"{f.sender:<11} {f.modems:>6} FAILED: {f.error}")
            continue
        latency = f"{_num(f.latency_ms_p50)} / {_num(f.latency_ms_p99)}"
        lines.append(
            f"{f.sender:<11} {f.modems:>6} {f.out_messages:>5} {f.out_parts:>5} "
            f"{_num(f.messages_per_s):>7} {_num(f.parts_per_s):>7} "
            f"{_num(f.out_fsyncs_per_message, 2):>9} "
            f"{_num(f.out_cpu_ms_per_message, 2):>10} {f.in_messages:>7} "
            f"{latency:>17} {_num(f.in_fsyncs_per_message, 2):>9} "
            f"{_num(f.in_cpu_ms_per_message, 2):>10}"
        )
    return "\n".join(lines)


def ratios(results: Sequence[Figures]) -> dict[str, dict[str, float]]:
    """Ours over gammu-smsd's, per modem count: msg/s (higher is better) and p50 latency
    (theirs over ours: how many times faster we commit)."""
    peer = next((r for r in results if r.sender == GAMMU and r.error is None), None)
    if peer is None:
        return {}
    out: dict[str, dict[str, float]] = {}
    for r in results:
        if r.sender != OURS or r.error is not None:
            continue
        ratio: dict[str, float] = {}
        if peer.messages_per_s > 0:
            ratio["messages_per_s"] = r.messages_per_s / peer.messages_per_s
        if peer.latency_ms_p50 and r.latency_ms_p50:
            ratio["latency_p50"] = peer.latency_ms_p50 / r.latency_ms_p50
        out[str(r.modems)] = ratio
    return out


# ---------------------------------------------------------------- command line


def _modem_counts(text: str) -> list[int]:
    try:
        counts = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        counts = []
    if not counts or any(not 1 <= c <= 64 for c in counts):
        raise argparse.ArgumentTypeError("expected counts from 1 to 64, e.g. 1,4,16")
    return counts


def _rate(text: str) -> float:
    value = float(text)
    if not 0 < value <= 1000:
        raise argparse.ArgumentTypeError("expected texts per second, above 0")
    return value


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/pipeline.py",
        description="The daemon end to end against 1, 4 and 16 simulated modems, and "
        "gammu-smsd against the same simulator: msg/s, commit latency, fsyncs and CPU "
        "per message.",
    )
    parser.add_argument(
        "--modems", type=_modem_counts, default=[1, 4, 16], help="(1,4,16)"
    )
    parser.add_argument(
        "--outbound", type=positive_int, default=2000, help="queued messages (2000)"
    )
    parser.add_argument(
        "--inbound", type=positive_int, default=300, help="texts from phones (300)"
    )
    parser.add_argument(
        "--inbound-rate", type=_rate, default=20.0, help="texts per second (20)"
    )
    parser.add_argument(
        "--gammu-messages",
        type=positive_int,
        default=40,
        help="queued for gammu-smsd, ~0.7 s per part (40)",
    )
    parser.add_argument(
        "--gammu-inbound",
        type=not_negative_int,
        default=12,
        help="texts to gammu-smsd, one at a time (12; 0: none)",
    )
    parser.add_argument("--skip-gammu", action="store_true")
    parser.add_argument(
        "--status-reports",
        action="store_true",
        help="ask for status reports (off by default, as for gammu-smsd)",
    )
    parser.add_argument(
        "--paced",
        action="store_true",
        help="keep per-SIM pacing (600 parts/min per modem) instead of lifting it",
    )
    parser.add_argument(
        "--no-strace", action="store_true", help="do not count fsyncs (no strace)"
    )
    parser.add_argument(
        "--automation",
        action="store_true",
        help="run the support automation and CSAT with their default rules (off: the "
        "message paths alone)",
    )
    parser.add_argument(
        "--database-url",
        type=postgresql_url,
        default=server_url(),
        metavar="URL",
        help="run on PostgreSQL: a database of its own for each modem count, made on "
        "this server (the role needs CREATEDB) and dropped after (default: "
        "$SMSGW_DATABASE_URL when set, else SQLite files)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write JSON")
    return parser.parse_args(list(argv))


def measure(args: argparse.Namespace) -> tuple[list[Figures], list[str]]:
    """Every modem count, then gammu-smsd; a failure is recorded, the rest still runs."""
    notes: list[str] = []
    server = args.database_url
    use_strace = not args.no_strace and server is None and strace_works()
    if not use_strace:
        why = (
            "--no-strace"
            if args.no_strace
            else "PostgreSQL: the server fsyncs, not the daemon"
            if server is not None
            else "strace missing or not permitted"
        )
        notes.append(f"fsyncs: not counted ({why})")
    results: list[Figures] = []
    for modems in args.modems:
        print(f"  {OURS}, {modems} modem(s) ...", flush=True)
        with (
            tempfile.TemporaryDirectory(prefix=f"bench-pipeline-{modems}-") as tmp,
            contextlib.ExitStack() as stack,
        ):
            url = None
            if server is not None:
                url = stack.enter_context(
                    scratch_database(server, prefix="smsgw_pipeline")
                )
            try:
                results.append(
                    asyncio.run(
                        run_ours(
                            modems,
                            args,
                            Path(tmp),
                            use_strace=use_strace,
                            database_url=url,
                        )
                    )
                )
            except (HarnessError, OSError) as exc:
                results.append(Figures(OURS, modems, error=str(exc)))
    if args.skip_gammu:
        notes.append(f"{GAMMU}: skipped (--skip-gammu)")
    elif missing := mt.PEERS[GAMMU].missing():
        notes.append(f"{GAMMU}: skipped, not installed ({', '.join(missing)})")
    else:
        print(
            f"  {GAMMU}, 1 modem, {args.gammu_messages} messages out, "
            f"{args.gammu_inbound} in ...",
            flush=True,
        )
        try:
            results.append(run_gammu(args, use_strace=use_strace))
        except (mt.BenchError, OSError) as exc:
            results.append(Figures(GAMMU, 1, error=str(exc)))
    return results, notes


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark, print the table (and write JSON); 0 unless a run failed."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print(
        f"{args.outbound} messages out (every 4th 3 parts), {args.inbound} in at "
        f"{args.inbound_rate:g}/s, per modem count {','.join(map(str, args.modems))}; "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}, "
        + ("PostgreSQL" if args.database_url else "SQLite"),
        flush=True,
    )
    try:
        results, notes = measure(args)
    except KeyboardInterrupt:
        print("interrupted; children stopped, temporary files removed", file=sys.stderr)
        return 130
    ratio = ratios(results)
    notes += [
        f"ours / {GAMMU}, {modems} modem(s): "
        + ", ".join(f"{k} {v:,.0f}x" for k, v in by.items())
        for modems, by in ratio.items()
    ]
    notes += [
        "msg/s: (parts-1)/(last-first AT+CMGS) x messages/parts, the simulator's clock.",
        "latency: committed (seen by a read-only connection polled every 2 ms) minus "
        "handed to the modem (the simulator's clock); ours under steady load, "
        f"{GAMMU}'s one text at a time (ReceiveFrequency = 1).",
        "fsync/msg: fsync+fdatasync calls of the daemon (strace) in the phase / "
        "messages; ours also commits once per queueing transaction in the queueing "
        "process (group commit): "
        + ", ".join(
            f"{r.modems} modem(s) {_num(r.queue_commits_per_message, 3)}"
            for r in results
            if r.sender == OURS and r.error is None
        )
        + " per message.",
        "CPU ms/msg: the daemon's user+system CPU in the phase / messages (the "
        "simulator's apart: "
        + ", ".join(
            f"{r.sender} {r.modems}: {_num(r.sim_cpu_ms_per_message, 2)}"
            for r in results
            if r.error is None
        )
        + ").",
        "ours: pacing "
        + ("kept (600 parts/min per modem)" if args.paced else "lifted")
        + ", status reports "
        + ("on" if args.status_reports else "off")
        + ", automation and CSAT "
        + ("on (default rules)" if args.automation else "off")
        + "; "
        + f"{GAMMU}: LoopSleep=0, Check*=0, no delivery reports.",
    ]
    print()
    print(render(results))
    print()
    print("\n".join(notes))
    if args.json is not None:
        document: dict[str, Any] = {
            "benchmark": "pipeline",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "host": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
            },
            "settings": {
                k: v
                for k, v in vars(args).items()
                if k not in ("json", "database_url")  # it may hold a password
            }
            | {"database": "postgresql" if args.database_url else "sqlite"},
            "results": [asdict(r) for r in results],
            "ratio_ours_to_gammu": ratio,
            "notes": notes,
        }
        args.json.write_text(json.dumps(document, indent=1, default=str) + "\n")
    return 1 if any(r.error for r in results) else 0


if __name__ == "__main__":
    # SIGTERM cleans up like Ctrl-C: children stopped, temporary directories removed
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(main())

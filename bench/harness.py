"""Processes for benchmarks and process-level tests: the simulator and the daemon, each
in a subprocess of its own, driven as an operator would drive them.

- `SimServer`: `python -m modem.sim --tcp ... --modems N --control ...` with an async
  client for its control API. It outlives any number of daemons, so what the phones hold
  is the truth a crashed daemon is checked against.
- `GatewayProcess`: `smsgw run --config PATH` (as `python -m gateway.cli run`) with a
  notify socket of its own (READY=1, WATCHDOG=1, STOPPING=1, as systemd would get them),
  SIGKILL/SIGTERM, restart, and its CPU time from /proc.
- `write_config`: a gateway.ini for modems on the simulator's TCP ports.
- `DatabaseReader`: a read-only connection of its own to the daemon's database (SQLite
  or PostgreSQL), for what a harness checks or polls: plain SQL, not the code under test.
- `scratch_database`: a new, empty PostgreSQL database for one run (each run of a
  benchmark or crash round starts from an empty database, as from a new SQLite file).
- `wait_until`: the bounded poll every wait goes through (no fixed sleeps).

Every child runs in a session of its own and is ended by its process group, on failure
too, so nothing outlives the caller.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import os
import random
import signal
import socket
import sqlite3
import subprocess
import sys
import textwrap
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, TypeVar, overload
from urllib.parse import urlsplit, urlunsplit

import aiohttp
import psycopg

from gateway.config import DATABASE_URL_ENV, DatabaseSettings

ROOT = Path(__file__).resolve().parent.parent
MODEM_BASE_NUMBER = "+447700900001"  # the simulator's modems count up from here
POLL_S = 0.02
SIM_START_TIMEOUT_S = 20.0
READY_TIMEOUT_S = 30.0  # `smsgw run` until READY=1
STOP_TIMEOUT_S = 30.0  # SIGTERM until the daemon has exited (it drains first)
CONTROL_TIMEOUT_S = 30.0  # one control API request
PORT_ATTEMPTS = 20

T = TypeVar("T")


class HarnessError(Exception):
    """A child process misbehaved (the message says which, with its log's tail)."""


@overload
async def wait_until(
    check: Callable[[], Awaitable[T | None]],
    *,
    within: float,
    what: str,
    poll_s: float = POLL_S,
) -> T: ...


@overload
async def wait_until(
    check: Callable[[], T | None], *, within: float, what: str, poll_s: float = POLL_S
) -> T: ...


async def wait_until(
    check: Callable[[], Any],
    *,
    within: float,
    what: str,
    poll_s: float = POLL_S,
) -> Any:
    """Poll `check` (sync or async) until it returns something truthy; that value.

    HarnessError naming `what` when `within` seconds pass first."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + within
    while True:
        value = check()
        if inspect.isawaitable(value):
            value = await value
        if value:
            return value
        if loop.time() > deadline:
            raise HarnessError(f"not within {within:g} s: {what}")
        await asyncio.sleep(poll_s)


def tail(path: Path, lines: int = 15) -> str:
    """The last lines of a log, for error messages."""
    with contextlib.suppress(OSError):
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


def process_cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process (Linux /proc); None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def first_child(pid: int, marker: str) -> int | None:
    """The child of `pid` whose command line contains `marker` (Linux /proc), e.g. the
    program strace runs - not a probe strace forks first; None while there is none."""
    with contextlib.suppress(OSError, ValueError):
        own = os.readlink(f"/proc/{pid}/exe")
        for task in Path(f"/proc/{pid}/task").iterdir():
            for child in (task / "children").read_text().split():
                with contextlib.suppress(OSError):
                    if os.readlink(f"/proc/{child}/exe") == own:
                        continue  # forked, not yet (or never) the program
                    argv = Path(f"/proc/{child}/cmdline").read_bytes().split(b"\0")
                    if any(marker.encode() in arg for arg in argv):
                        return int(child)
    return None


def _ports_free(base: int, count: int) -> bool:
    for port in range(base, base + count):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                return False
    return True


def _free_run(count: int, rng: random.Random) -> int:
    """The first of `count` consecutive free TCP ports (the simulator counts ports up)."""
    for _ in range(200):
        base = rng.randrange(20000, 60000 - count)
        if _ports_free(base, count):
            return base
    raise HarnessError(f"no run of {count} free TCP ports found")


def _end_group(process: asyncio.subprocess.Process | subprocess.Popen[bytes]) -> None:
    """SIGKILL the session a child leads (only what it forked), if any is left."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)


# ---------------------------------------------------------------- the simulator


@dataclass(frozen=True, slots=True)
class Texted:
    """What the control API said when a phone texted a modem."""

    parts: int
    at: float  # the simulator's clock when the modem got the last part


class SimServer:
    """`python -m modem.sim` with N zero-latency modems on TCP and its control API."""

    def __init__(
        self, workdir: Path, modems: int = 1, *, rng: random.Random | None = None
    ) -> None:
        self.workdir = workdir
        self.count = modems
        self.log = workdir / "sim.log"
        self._rng = rng or random.Random()
        self.process: asyncio.subprocess.Process | None = None
        self.base_port = 0
        self.control = ""
        self._http: aiohttp.ClientSession | None = None

    @property
    def numbers(self) -> list[str]:
        """The modems' own numbers, in port order."""
        base = int(MODEM_BASE_NUMBER[1:])
        return [f"+{base + i}" for i in range(self.count)]

    @property
    def urls(self) -> list[str]:
        """`socket://` URLs of the modems, in the order of `numbers`."""
        return [f"socket://127.0.0.1:{self.base_port + i}" for i in range(self.count)]

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(
            timeout=aiohttp.ClientTimeout(total=CONTROL_TIMEOUT_S),
            connector=aiohttp.TCPConnector(limit=16),
        )
        for _ in range(PORT_ATTEMPTS):  # a port taken between the probe and the bind
            self.base_port = _free_run(self.count + 1, self._rng)
            control = self.base_port + self.count
            self.control = f"http://127.0.0.1:{control}"
            with self.log.open("ab") as log:
                self.process = await asyncio.create_subprocess_exec(
                    *(sys.executable, "-m", "modem.sim"),
                    *("--tcp", f"127.0.0.1:{self.base_port}"),
                    *("--modems", str(self.count), "--number", MODEM_BASE_NUMBER),
                    *("--control", f"127.0.0.1:{control}"),
                    # INFO logs a line per message: that would be the simulator's cost
                    *("--log-level", "WARNING"),
                    cwd=str(ROOT),
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
            if await self._came_up():
                return
        raise HarnessError(f"the simulator did not start: {tail(self.log)}")

    async def _came_up(self) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + SIM_START_TIMEOUT_S
        assert self.process is not None
        while loop.time() < deadline:
            if self.process.returncode is not None:
                return False  # most likely a port taken meanwhile: try others
            with contextlib.suppress(aiohttp.ClientError, OSError):
                state = await self.state()
                if len(state["modems"]) == self.count:
                    return True
            await asyncio.sleep(POLL_S)
        raise HarnessError(f"the simulator did not answer: {tail(self.log)}")

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()
        process = self.process
        if process is not None and process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                process.terminate()
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                _end_group(process)
                await process.wait()

    def cpu_s(self) -> float | None:
        return None if self.process is None else process_cpu_s(self.process.pid)

    # ------------------------------------------------------------ the control API

    async def _call(self, method: str, path: str, body: Any = None) -> Any:
        assert self._http is not None, "start() first"
        async with self._http.request(method, self.control + path, json=body) as resp:
            data = await resp.json()
            if resp.status >= 400:
                raise HarnessError(f"{method} {path}: {resp.status} {data}")
            return data

    async def text(self, phone: str, modem: str, text: str) -> Texted:
        """Phone `phone` texts modem number `modem`."""
        data = await self._call(
            "POST", f"/phones/{phone}/send", {"to": modem, "text": text}
        )
        return Texted(
            int(data["parts"]), datetime.fromisoformat(data["at"]).timestamp()
        )

    async def inbox(self, phone: str) -> list[dict[str, Any]]:
        """What the phone received: reassembled texts with parts and TP-MRs."""
        data = await self._call("GET", f"/phones/{phone}/inbox")
        messages: list[dict[str, Any]] = data["messages"]
        return messages

    async def submissions(self) -> dict[str, list[dict[str, Any]]]:
        """Every AT+CMGS each modem took (its PDU, TP-MR and time), by modem number."""
        data = await self._call("GET", "/submissions")
        return {m["number"]: m["submitted"] for m in data["modems"]}

    async def state(self) -> dict[str, Any]:
        state: dict[str, Any] = await self._call("GET", "/state")
        return state

    async def leftovers(self) -> list[str]:
        """Anything a modem still keeps: stored messages, held ones, an ack awaited."""
        found = []
        for modem in (await self.state())["modems"]:
            for name, storage in modem["storage"].items():
                if storage["used"]:
                    found.append(f"{modem['number']} {name}: {storage['used']} stored")
            if modem["held"]:
                found.append(f"{modem['number']}: {modem['held']} held")
            if modem["awaiting_ack"]:
                found.append(f"{modem['number']}: a +CMT awaits its +CNMA")
        return found


# ---------------------------------------------------------------- the database


class DatabaseReader:
    """A read-only connection of its own to a gateway database, SQLite or PostgreSQL.

    Harnesses read what they check through it with plain SQL, not through the code under
    test (the store, the models). `rows` takes SQL with `?` placeholders on both engines
    (and no other `?` or `%` in it).
    Each statement sees what was committed when it ran (no transaction spans two)."""

    def __init__(self, database: DatabaseSettings) -> None:
        self.url = database.url
        self._sqlite: sqlite3.Connection | None = None
        self._postgresql: psycopg.Connection[Any] | None = None
        if database.url is None:
            self._sqlite = sqlite3.connect(
                f"file:{database.path}?mode=ro", uri=True, timeout=10
            )
        else:
            self._postgresql = psycopg.connect(
                database.url,
                autocommit=True,
                options="-c default_transaction_read_only=on",
            )

    def rows(self, sql: str, params: Sequence[object] = ()) -> list[tuple[Any, ...]]:
        """Every row `sql` returns."""
        if self._postgresql is not None:
            found = self._postgresql.execute(sql.replace("?", "%s"), params)
            return list(found.fetchall())
        assert self._sqlite is not None
        return list(self._sqlite.execute(sql, params).fetchall())

    def value(self, sql: str, params: Sequence[object] = ()) -> Any:
        """The first column of the one row `sql` returns."""
        ((value, *_),) = self.rows(sql, params)
        return value

    def close(self) -> None:
        if self._postgresql is not None:
            self._postgresql.close()
        if self._sqlite is not None:
            self._sqlite.close()


@contextlib.contextmanager
def reading(database: DatabaseSettings) -> Iterator[DatabaseReader]:
    """A `DatabaseReader` for the block, closed after it."""
    reader = DatabaseReader(database)
    try:
        yield reader
    finally:
        reader.close()


def server_url() -> str | None:
    """SMSGW_DATABASE_URL when set: the PostgreSQL server benchmarks and crash rounds
    make their scratch databases on (else they run on SQLite files)."""
    return os.environ.get(DATABASE_URL_ENV) or None


@contextlib.contextmanager
def scratch_database(
    url: str, *, prefix: str = "smsgw_bench", keep: bool = False
) -> Iterator[str]:
    """A new, empty database on the PostgreSQL server of `url` (which names a database
    to connect to; the role needs CREATEDB); its URL, and it is dropped afterwards
    unless `keep`."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(url, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlunsplit(urlsplit(url)._replace(path=f"/{name}"))
    finally:
        if not keep:
            with psycopg.connect(url, autocommit=True) as admin:
                # FORCE: a daemon killed a moment ago may still hold a connection
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------- the daemon


def write_config(
    path: Path,
    modem_urls: Sequence[str],
    *,
    data_dir: Path,
    outbound: Mapping[str, str] | None = None,
    modem: Mapping[str, str] | None = None,
    log_level: str = "info",
    automation: bool = False,
) -> Path:
    """A gateway.ini with one [modem:mN] per URL (m1, m2, ...) and no web server.

    No automation and no CSAT survey unless `automation`: the harness measures the
    message paths, and counts every outbound text against the ones it queued itself.
    """
    on = "yes" if automation else "no"
    out = {"parts_per_minute": "600", **(outbound or {})}
    text = textwrap.dedent(
        f"""\
        [gateway]
        default_region = GB
        data_dir = {data_dir}
        log_level = {log_level}
        [web]
        enabled = no
        [simulator]
        enabled = no
        [automation]
        enabled = {on}
        [csat]
        enabled = {on}
        [outbound]
        """
    )
    text += "".join(f"{k} = {v}\n" for k, v in out.items())
    for i, url in enumerate(modem_urls, 1):
        text += f"[modem:m{i}]\nport = {url}\n"
        text += "".join(f"{k} = {v}\n" for k, v in (modem or {}).items())
    path.write_text(text, encoding="utf-8")
    return path


class GatewayProcess:
    """`smsgw run --config PATH` in a subprocess, told apart from systemd by nothing.

    `launcher` goes before the interpreter (e.g. strace); `pid` is then still the daemon's
    own process, found as the launcher's child. `database_url`: its PostgreSQL database
    (SMSGW_DATABASE_URL in its environment; by default it inherits this process's).
    """

    def __init__(
        self,
        workdir: Path,
        config: Path,
        *,
        launcher: Sequence[str] = (),
        module: str = "gateway.cli",
        watchdog_s: float | None = None,
        under_systemd: bool = False,
        database_url: str | None = None,
    ) -> None:
        self.config = config
        self._database_url = database_url
        self.log = workdir / "daemon.log"
        self.sock_path = workdir / "notify.sock"
        self._launcher = tuple(launcher)
        self._module = module
        self._watchdog_s = watchdog_s
        self._under_systemd = under_systemd
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.sock_path))
        self.sock.setblocking(False)
        self.proc: asyncio.subprocess.Process | None = None
        self.pid: int | None = None
        self.starts = 0
        self.ready = False  # READY=1 came from the current incarnation

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    def _env(self) -> dict[str, str]:
        env = dict(os.environ)
        env["NOTIFY_SOCKET"] = str(self.sock_path)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(ROOT), env.get("PYTHONPATH", "")) if p
        )
        for name in ("WATCHDOG_USEC", "WATCHDOG_PID", "INVOCATION_ID"):
            env.pop(name, None)
        if self._watchdog_s is not None:
            env["WATCHDOG_USEC"] = str(int(self._watchdog_s * 1_000_000))
        if self._under_systemd:
            env["INVOCATION_ID"] = "harness"
        if self._database_url is not None:
            env[DATABASE_URL_ENV] = self._database_url
        return env

    async def spawn(self) -> None:
        """Start it and return at once (a crash test may kill it before it is ready)."""
        if self.running:
            raise HarnessError("the daemon is already running")
        self._notifications()  # a killed one may have left READY=1 unread
        self.ready = False
        with self.log.open("ab") as log:
            log.write(f"---- start {self.starts + 1}\n".encode())
            log.flush()
            self.proc = await asyncio.create_subprocess_exec(
                *self._launcher,
                *(sys.executable, "-m", self._module, "run"),
                *("--config", str(self.config)),
                env=self._env(),
                cwd=str(ROOT),
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=log,
                start_new_session=True,
            )
        self.starts += 1
        self.pid = self.proc.pid
        if self._launcher:
            self.pid = await wait_until(
                self._launched_child, within=READY_TIMEOUT_S, what="the daemon's pid"
            )

    def _launched_child(self) -> int | None:
        assert self.proc is not None
        return first_child(self.proc.pid, str(self.config))

    async def start(self) -> None:
        """Start it and wait for READY=1."""
        await self.spawn()
        await self.wait_ready()

    async def wait_ready(self) -> None:
        """Return once the current incarnation has said READY=1."""
        if not self.check_ready():
            await self.expect("READY=1")

    def check_ready(self) -> bool:
        """Whether READY=1 came, reading what is there without waiting."""
        self._notifications()
        return self.ready

    def _notifications(self) -> list[str]:
        """The notifications that came since the last look (never waits)."""
        got = []
        with contextlib.suppress(BlockingIOError):
            while True:
                got.append(self.sock.recv(4096).decode())
                self.ready = self.ready or "READY=1" in got[-1]
        return got

    async def expect(self, want: str, within: float = READY_TIMEOUT_S) -> str:
        """Wait for a notification containing `want`; HarnessError if the daemon exits
        without sending it (one sent before it exited still counts)."""
        proc = self.proc
        assert proc is not None

        def seen() -> str | None:
            for got in self._notifications():
                if want in got:
                    return got
            if proc.returncode is not None:
                raise HarnessError(
                    f"the daemon exited ({proc.returncode}) before {want}:\n"
                    f"{tail(self.log)}"
                )
            return None

        try:
            return await wait_until(seen, within=within, what=want, poll_s=0.01)
        except HarnessError as exc:
            if proc.returncode is not None:
                raise
            raise HarnessError(f"{exc} from the daemon:\n{tail(self.log)}") from None

    async def kill(self) -> int:
        """SIGKILL the daemon itself (a launcher then ends with it); its exit status."""
        assert self.proc is not None
        assert self.pid is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, signal.SIGKILL)
        async with asyncio.timeout(STOP_TIMEOUT_S):
            return await self.proc.wait()

    async def signal(self, sig: int, within: float = STOP_TIMEOUT_S) -> int:
        """Send `sig` to the daemon; its exit status once it has exited."""
        assert self.proc is not None
        assert self.pid is not None
        with contextlib.suppress(ProcessLookupError):
            os.kill(self.pid, sig)
        try:
            async with asyncio.timeout(within):
                return await self.proc.wait()
        except TimeoutError:
            raise HarnessError(
                f"the daemon did not exit within {within:g} s of signal {sig}:\n"
                f"{tail(self.log)}"
            ) from None

    def cpu_s(self) -> float | None:
        """The daemon's CPU seconds so far (None once it is gone)."""
        return None if self.pid is None else process_cpu_s(self.pid)

    async def close(self) -> None:
        """End whatever is left of it (its whole process group) and the socket."""
        if self.proc is not None:
            if self.proc.returncode is None or self._launcher:
                _end_group(self.proc)  # the daemon, and a launcher's child with it
            if self.proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    self.proc.kill()
                await self.proc.wait()
        self.sock.close()
        with contextlib.suppress(OSError):
            self.sock_path.unlink()

"""The crash harness: the daemon killed with SIGKILL at random moments under traffic, both
ways, then checked against what the simulated phones really got.

One round (`run_round`):
1. The simulator (`bench.harness.SimServer`, N modems on TCP) and the daemon
   (`smsgw run`, one [modem:mN] per simulated modem, status reports on) each in a
   process of its own; the simulator outlives every daemon. The database is new: a
   SQLite file in the round's directory or, when SMSGW_DATABASE_URL names a PostgreSQL
   server (or `server` does), a database made on it for the round and dropped after.
2. Traffic, concurrently and spread over `inject_s`: phones text the modems through the
   control API (1-part and multipart, GSM-7 with extension characters, UCS-2 with emoji
   and an emoji split across two parts), and outbound texts are queued the way `smsgw
   send` queues them: `OutboundService.send` on the same database from this process,
   each with its own idempotency key. Queueing does not need the daemon (the database
   is shared), but a commit that fails or times out has an unknown outcome: it is
   retried with the same key, which queues nothing twice.
3. Meanwhile a killer spawns the daemon, lets it live a random (seeded) time - sometimes
   shorter than its start-up - SIGKILLs it and spawns it again, until every text is in.
   Then the daemon is started once more, the harness waits (bounded) until everything
   is settled, and SIGTERM stops it cleanly (exit 0).
4. `collect` reads the database (plain SQL on a read-only connection of its own,
   `bench.harness.DatabaseReader`, not the code under test) and the simulator's control
   API; `check` (pure, unit-tested on doctored evidence) finds:
   a. every inbound text is in the database exactly once, complete (multipart joined),
      from the right modem, in a conversation with its phone, and no stray parts;
   b. no part went out twice: each submitted PDU (GET /submissions) is decoded and keyed
      by destination, concatenation reference/sequence and text, and no phone's inbox
      shows the same text twice;
   c. each queued text is one message, and its final state matches what its phone
      holds: delivered/sent: the whole text, exactly once; failed: none of it; unknown
      (a part in flight when the daemon died, never resent): either, counted; nothing is
      left queued or sending; at most one part per modem per death is unknown; a part
      still `sent` (no status report) is one whose report the modem dropped (its report
      store was full while the daemon was down): never more of those than drops;
   d. nothing is left on the simulated SIMs: every stored part was committed, then
      deleted.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import signal
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from urllib.parse import urlsplit

import peewee

from bench.harness import (
    GatewayProcess,
    HarnessError,
    SimServer,
    reading,
    scratch_database,
    server_url,
    wait_until,
    write_config,
)
from gateway.config import DatabaseSettings, Settings, load_settings
from gateway.domain import MessageOrigin
from gateway.errors import StorageError
from gateway.events import EventBus
from gateway.outbox.service import OutboundService
from gateway.storage.db import Store, open_database
from modem import pdu
from modem.errors import PduError
from modem.pdu.types import SmsSubmit

PHONE_BASE = (
    447700900201  # the simulated customers' numbers count up from +44 7700 900201
)
ENQUEUE_ATTEMPTS = 5
ENQUEUE_TIMEOUT_S = 30.0
DRAIN_BASE_S = 60.0  # settling after the last kill: this plus a little per message
DRAIN_PER_MESSAGE_S = 0.1
# Outbound states with no part left to send. A `sent` message still waits for status
# reports, but once nothing is queued or sending and the SIMs are empty, no report is on
# its way: the network delivers reports at once, and the box deletes one only after it
# committed it. What never came was dropped by a modem whose report store (SR, 20 slots)
# was full while the daemon was down, as real modems drop them.
SETTLED_OUTBOUND = frozenset({"sent", "delivered", "failed", "unknown"})

# Texts: a unique tag first, so each can be counted. GSM-7 extension characters cost two
# septets; the emoji force UCS-2, and the long emoji text puts one astride a part border.
_FILLER = (
    "The courier came on Monday but nobody was in, and the card says to call a "
    "number that is always busy. Could you book another day, ideally Thursday "
    "afternoon, or let a neighbour at number 12 take it? Thanks a lot. "
)
_KINDS: tuple[tuple[str, float], ...] = (
    ("short", 0.35),
    ("long", 0.25),
    ("extension", 0.15),
    ("emoji", 0.15),
    ("emoji-long", 0.10),
)


def make_text(tag: str, kind: str) -> str:
    """A customer's or an agent's text of `kind`, starting with `tag`."""
    if kind == "short":
        return f"{tag} hi, where is my parcel? it was due yesterday"
    if kind == "long":
        return f"{tag} {_FILLER}{_FILLER[: len(tag) * 3]}"  # 2 or 3 parts
    if kind == "extension":
        return f"{tag} code {{A7}} [gift] costs 5€ ~ 10^2 | path C:\\box"
    if kind == "emoji":
        return f"{tag} thanks 😀👍 see you 🚚"
    if kind == "emoji-long":
        # 67 UCS-2 units in a part of a multipart text: the emoji lands on the border
        head = f"{tag} " + "x" * max(0, 66 - len(tag) - 1)
        return head + "📦 arrives tomorrow, thank you for waiting 🙏"
    raise ValueError(kind)


def pick_kind(rng: random.Random) -> str:
    return rng.choices([k for k, _ in _KINDS], [w for _, w in _KINDS])[0]


def phone_number(i: int) -> str:
    return f"+{PHONE_BASE + i}"


# ---------------------------------------------------------------- settings and results


@dataclass(frozen=True, slots=True)
class RoundSpec:
    """One round's shape; every random choice comes from `seed`."""

    inbound: int = 500
    outbound: int = 500
    modems: int = 4
    phones: int = 10
    seed: int = 1
    inject_s: float = 15.0  # the traffic is spread over this long
    # a daemon lives this long (uniformly drawn) from spawn to SIGKILL; start-up takes
    # ~0.7 s here, so the shortest lives die while starting
    life_s: tuple[float, float] = (0.3, 3.0)
    parts_per_minute: int = 600
    log_level: str = "info"  # the daemon's ([gateway] log_level)


@dataclass(frozen=True, slots=True)
class InboundText:
    phone: str
    modem_number: str
    modem_name: str
    body: str
    parts: int


@dataclass(frozen=True, slots=True)
class OutboundText:
    key: str
    phone: str
    body: str


@dataclass(slots=True)
class RoundResult:
    """What a round did and what it found; `problems` empty means every check held."""

    round: int
    seed: int
    kills: int = 0
    kills_before_ready: int = 0
    inbound: int = 0
    inbound_parts: int = 0
    outbound: int = 0
    outbound_parts: int = 0
    submitted_parts: int = 0
    enqueue_retries: int = 0
    states: dict[str, int] = field(default_factory=dict)
    unknown_parts: int = 0
    unknown_messages: int = 0
    unknown_on_phone: int = 0  # of the unknown messages, those the phone got whole
    unreported: int = 0  # `sent`: the phone has it, its status report never came
    reports_dropped: int = 0  # by the simulated modems (report store full)
    seconds: float = 0.0
    problems: list[str] = field(default_factory=list)
    database: str | None = None  # the PostgreSQL database's name (None: SQLite)


# ---------------------------------------------------------------- the round


class _Round:
    def __init__(
        self, workdir: Path, spec: RoundSpec, number: int, database_url: str | None
    ) -> None:
        self.workdir = workdir
        self.database_url = database_url  # None: the SQLite file in workdir
        self.spec = spec
        self.rng = random.Random(f"{spec.seed}:{number}")
        self.result = RoundResult(round=number, seed=spec.seed)
        if database_url is not None:
            self.result.database = urlsplit(database_url).path.strip("/")
        self.sim = SimServer(workdir, spec.modems, rng=self.rng)
        self.daemon: GatewayProcess | None = None
        self.store: Store | None = None
        self.inbound: list[InboundText] = []
        self.outbound: list[OutboundText] = []
        self.database: DatabaseSettings | None = None  # once the config is written
        self._traffic_done = asyncio.Event()

    async def run(self) -> RoundResult:
        started = time.monotonic()
        try:
            await self.sim.start()
            config = write_config(
                self.workdir / "gateway.ini",
                self.sim.urls,
                data_dir=self.workdir / "var",
                outbound={
                    "parts_per_minute": str(self.spec.parts_per_minute),
                    "status_reports": "yes",
                    "retry_base_s": "1s",
                    "retry_max_s": "5s",
                },
                modem={"sweep_interval_s": "10s"},
                log_level=self.spec.log_level,
            )
            settings = self._settings()
            self.database = settings.database
            self.daemon = GatewayProcess(
                self.workdir, config, database_url=self.database_url
            )
            await self.daemon.start()  # the schema exists before this process opens it
            with reading(self.database) as db:
                if db.value("SELECT COUNT(*) FROM messages"):
                    raise HarnessError("a round needs a new database: this one is used")
            self.store = await open_database(settings)
            await self._traffic_under_fire()
            await self._settle()
            self.result.problems += check(await collect(self), self.result)
        finally:
            if self.store is not None:
                await self.store.close()
            if self.daemon is not None:
                await self.daemon.close()
            await self.sim.close()
        self.result.seconds = time.monotonic() - started
        return self.result

    def _settings(self) -> Settings:
        """The round's gateway.ini, on the round's database."""
        settings = load_settings(self.workdir / "gateway.ini")
        if self.database_url is None:
            return settings
        return replace(
            settings, database=replace(settings.database, url=self.database_url)
        )

    # ------------------------------------------------------------ traffic and kills

    async def _traffic_under_fire(self) -> None:
        traffic = asyncio.gather(self._texts_in(), self._texts_out())
        killer = asyncio.create_task(self._kill_repeatedly())
        try:
            await traffic
        finally:
            self._traffic_done.set()
            await killer  # its failure (a daemon that would not start) is the round's

    async def _texts_in(self) -> None:
        spec, rng = self.spec, self.rng
        modems = list(zip(self.sim.numbers, range(1, spec.modems + 1), strict=True))
        gap = spec.inject_s / max(spec.inbound, 1)
        for i in range(spec.inbound):
            phone = phone_number(rng.randrange(spec.phones))
            number, index = rng.choice(modems)
            body = make_text(f"#in{i:04d}r{self.result.round}", pick_kind(rng))
            texted = await self.sim.text(phone, number, body)
            self.inbound.append(
                InboundText(phone, number, f"m{index}", body, texted.parts)
            )
            await asyncio.sleep(gap * rng.uniform(0.5, 1.5))  # the traffic's pace

    async def _texts_out(self) -> None:
        assert self.store is not None
        spec, rng = self.spec, self.rng
        settings = self._settings()
        # no health source: the modems table (the daemon's) says which modems are up,
        # exactly as for `smsgw send`
        service = OutboundService(self.store, EventBus(), settings=settings)
        gap = spec.inject_s / max(spec.outbound, 1)
        for i in range(spec.outbound):
            phone = phone_number(rng.randrange(spec.phones))
            body = make_text(f"#out{i:04d}r{self.result.round}", pick_kind(rng))
            text = OutboundText(
                f"crash-{spec.seed}-{self.result.round}-{i}", phone, body
            )
            await self._enqueue(service, text)
            self.outbound.append(text)
            await asyncio.sleep(gap * rng.uniform(0.5, 1.5))

    async def _enqueue(self, service: OutboundService, text: OutboundText) -> None:
        """Queue one text; an attempt whose outcome is unknown is repeated (same key)."""
        for attempt in range(ENQUEUE_ATTEMPTS):
            try:
                async with asyncio.timeout(ENQUEUE_TIMEOUT_S):
                    await service.send(
                        text.phone,
                        text.body,
                        idempotency_key=text.key,
                        origin=MessageOrigin.API,
                    )
            except (StorageError, peewee.OperationalError, TimeoutError):
                if attempt == ENQUEUE_ATTEMPTS - 1:
                    raise
                self.result.enqueue_retries += 1
            else:
                return

    async def _kill_repeatedly(self) -> None:
        daemon = self.daemon
        assert daemon is not None
        low, high = self.spec.life_s
        while not self._traffic_done.is_set():
            if not daemon.running:
                await daemon.spawn()
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.rng.uniform(low, high)):
                    await self._traffic_done.wait()
            if self._traffic_done.is_set():
                break
            ready = daemon.check_ready()
            code = await daemon.kill()
            if code != -signal.SIGKILL:
                raise HarnessError(
                    f"the daemon exited by itself ({code}) before a kill"
                )
            self.result.kills += 1
            self.result.kills_before_ready += not ready
        if not daemon.running:
            await daemon.spawn()

    # ------------------------------------------------------------ the end

    async def _settle(self) -> None:
        """The daemon as it was after the last kill: ready, then everything settles."""
        daemon = self.daemon
        assert daemon is not None
        if not daemon.running:
            await daemon.spawn()
        await daemon.wait_ready()
        within = DRAIN_BASE_S + DRAIN_PER_MESSAGE_S * (
            self.spec.inbound + self.spec.outbound
        )
        try:
            await wait_until(self._settled, within=within, what="everything settled")
        except HarnessError as exc:
            self.result.problems.append(str(exc))  # the checks say what is missing
        finally:
            code = await daemon.signal(signal.SIGTERM)
        if code != 0:
            self.result.problems.append(f"the daemon exited {code} on SIGTERM")

    async def _settled(self) -> bool:
        bodies = {t.body for t in self.inbound}
        assert self.database is not None
        with reading(self.database) as db:
            got = {
                body
                for (body,) in db.rows(
                    "SELECT body FROM messages WHERE direction = 'inbound'"
                )
            }
            open_outbound = db.value(
                "SELECT COUNT(*) FROM messages WHERE direction = 'outbound' AND "
                f"status NOT IN ({', '.join('?' * len(SETTLED_OUTBOUND))})",
                sorted(SETTLED_OUTBOUND),
            )
        if not bodies <= got or open_outbound:
            return False
        return not await self.sim.leftovers()


# ---------------------------------------------------------------- the checks


@dataclass(frozen=True, slots=True)
class InboundRow:
    """An inbound message as the database has it."""

    body: str
    status: str
    parts: int
    modem: str | None
    conversation_number: str  # the number of the conversation's contact


@dataclass(frozen=True, slots=True)
class OutboundRow:
    """An outbound message as the database has it, with its parts' states in order."""

    id: int
    number: str
    body: str
    status: str
    parts_count: int
    concat_ref: int | None
    idempotency_key: str | None
    part_states: tuple[str, ...]


@dataclass(slots=True)
class Evidence:
    """Everything the checks look at: what was sent, the database, the simulator."""

    inbound_sent: list[InboundText]
    outbound_queued: list[OutboundText]
    inbound_rows: list[InboundRow]
    loose_parts: int  # inbound parts not joined into any message
    outbound_rows: list[OutboundRow]
    submitted: list[tuple[str, str]]  # (modem number, PDU hex) of every AT+CMGS
    inboxes: dict[str, list[str]]  # phone -> texts it holds, reassembled
    leftovers: list[str]  # what the simulated modems still keep
    reports_dropped: int  # by the modems, for a full report store
    kills: int
    modems: int


def _part_key(submit: SmsSubmit) -> tuple[object, ...]:
    concat = submit.concat
    if concat is None or concat.total <= 1:
        return (submit.destination.number, submit.text)
    return (
        submit.destination.number,
        concat.ref,
        concat.total,
        concat.seq,
        submit.text,
    )


def expected_part_keys(
    number: str, body: str, concat_ref: int | None
) -> list[tuple[object, ...]]:
    """The keys of a message's parts as the phone's network sees them (same split)."""
    keys = []
    for part in pdu.encode_submit(number, body, concat_ref=concat_ref or 0):
        submit = pdu.decode(part.data, has_smsc=True)
        assert isinstance(submit, SmsSubmit)
        keys.append(_part_key(submit))
    return keys


async def collect(round_: _Round) -> Evidence:
    """Read the database (plain SQL: not the code under test) and the simulator."""
    assert round_.database is not None
    with reading(round_.database) as db:
        inbound_rows = [
            InboundRow(*row)
            for row in db.rows(
                "SELECT m.body, m.status, m.parts_count, m.modem, c.number "
                "FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                "WHERE m.direction = 'inbound'"
            )
        ]
        loose_parts = db.value(
            "SELECT COUNT(*) FROM inbound_parts WHERE message_id IS NULL"
        )
        states: dict[int, list[str]] = {}
        for message_id, status in db.rows(
            "SELECT message_id, status FROM outbound_parts ORDER BY message_id, seq"
        ):
            states.setdefault(message_id, []).append(status)
        outbound_rows = [
            OutboundRow(
                mid, number, body, status, parts, ref, key, tuple(states.get(mid, []))
            )
            for mid, number, body, status, parts, ref, key in db.rows(
                "SELECT id, number, body, status, parts_count, concat_ref, "
                "idempotency_key FROM messages WHERE direction = 'outbound' ORDER BY id"
            )
        ]
    submissions = await round_.sim.submissions()
    phones = sorted(
        {t.phone for t in round_.inbound} | {t.phone for t in round_.outbound}
    )
    inboxes = {
        phone: [m["text"] for m in await round_.sim.inbox(phone)] for phone in phones
    }
    state = await round_.sim.state()
    return Evidence(
        inbound_sent=list(round_.inbound),
        outbound_queued=list(round_.outbound),
        inbound_rows=inbound_rows,
        loose_parts=loose_parts,
        outbound_rows=outbound_rows,
        submitted=[
            (modem, entry["pdu"])
            for modem, entries in submissions.items()
            for entry in entries
        ],
        inboxes=inboxes,
        leftovers=await round_.sim.leftovers(),
        reports_dropped=sum(m["reports_dropped"] for m in state["modems"]),
        kills=round_.result.kills,
        modems=round_.spec.modems,
    )


def check(evidence: Evidence, result: RoundResult) -> list[str]:
    """PURE: the checks a-d of the module docstring; the problems found (none: all held).

    Also fills the counts of `result` (states, unknowns, parts on the air)."""
    problems: list[str] = []
    _check_inbound(evidence, result, problems)
    submitted = _check_no_part_twice(evidence, result, problems)
    _check_outbound_states(evidence, result, problems, submitted)
    problems.extend(f"left on a SIM: {what}" for what in evidence.leftovers)
    return problems


def _check_inbound(e: Evidence, result: RoundResult, problems: list[str]) -> None:
    """a. every inbound text exactly once, complete, right modem and conversation."""
    result.inbound = len(e.inbound_sent)
    result.inbound_parts = sum(t.parts for t in e.inbound_sent)
    by_body: dict[str, list[InboundRow]] = {}
    for row in e.inbound_rows:
        by_body.setdefault(row.body, []).append(row)
    for text in e.inbound_sent:
        rows = by_body.get(text.body, [])
        tag = f"inbound {text.body[:12]!r}"
        if len(rows) != 1:
            problems.append(f"{tag} is in the database {len(rows)} times")
            continue
        (row,) = rows
        if (row.status, row.parts) != ("received", text.parts):
            problems.append(f"{tag}: {row.status}, {row.parts} of {text.parts} parts")
        if row.modem != text.modem_name or row.conversation_number != text.phone:
            problems.append(
                f"{tag}: modem {row.modem}, conversation with {row.conversation_number}"
                f" (it went from {text.phone} to {text.modem_name})"
            )
    expected = {t.body for t in e.inbound_sent}
    strays = [body for body in by_body if body not in expected]
    if strays:
        problems.append(f"{len(strays)} inbound message(s) nobody sent: {strays[0]!r}")
    if e.loose_parts:
        problems.append(f"{e.loose_parts} inbound part(s) never joined into a message")


def _check_no_part_twice(
    e: Evidence, result: RoundResult, problems: list[str]
) -> Counter[tuple[object, ...]]:
    """b. no part reached the network twice, no phone holds a text twice."""
    submitted: Counter[tuple[object, ...]] = Counter()
    for modem, hex_pdu in e.submitted:
        try:
            value = pdu.decode(bytes.fromhex(hex_pdu), has_smsc=True)
        except (PduError, ValueError) as exc:
            problems.append(f"{modem} was handed a PDU that does not decode: {exc}")
            continue
        if isinstance(value, SmsSubmit):
            submitted[_part_key(value)] += 1
    result.submitted_parts = submitted.total()
    problems.extend(
        f"a part reached the network {count} times: {key}"
        for key, count in submitted.items()
        if count > 1
    )
    for phone, texts in e.inboxes.items():
        problems.extend(
            f"{phone} got {text[:12]!r} {count} times"
            for text, count in Counter(texts).items()
            if count > 1
        )
    return submitted


def _check_outbound_states(
    e: Evidence,
    result: RoundResult,
    problems: list[str],
    submitted: Counter[tuple[object, ...]],
) -> None:
    """c. each queued text once; its final state matches what its phone holds."""
    keys = Counter(m.idempotency_key for m in e.outbound_rows if m.idempotency_key)
    result.outbound = len(e.outbound_queued)
    result.outbound_parts = sum(m.parts_count for m in e.outbound_rows)
    for queued in e.outbound_queued:
        if keys[queued.key] != 1:
            problems.append(f"outbound {queued.key} is queued {keys[queued.key]} times")
    if len(e.outbound_rows) != len(e.outbound_queued):
        problems.append(
            f"{len(e.outbound_rows)} outbound messages for {len(e.outbound_queued)} "
            "queued"
        )
    result.states = dict(Counter(m.status for m in e.outbound_rows))
    result.unknown_parts = sum(
        s == "unknown" for m in e.outbound_rows for s in m.part_states
    )
    result.reports_dropped = e.reports_dropped
    unreported_parts = 0
    for message in e.outbound_rows:
        whole = Counter(e.inboxes.get(message.number, []))[message.body]
        reached = sum(
            submitted[key]
            for key in expected_part_keys(
                message.number, message.body, message.concat_ref
            )
        )
        tag = f"outbound {message.id} ({message.body[:12]!r}, {message.status})"
        if message.status in ("delivered", "sent"):
            if whole != 1 or reached != message.parts_count:
                problems.append(
                    f"{tag}: the phone holds it {whole} times, {reached} of "
                    f"{message.parts_count} parts reached the network"
                )
            if message.status == "sent":
                result.unreported += 1
                unreported_parts += message.part_states.count("sent")
        elif message.status == "failed":
            if reached:
                problems.append(f"{tag}: {reached} part(s) reached the network")
        elif message.status == "unknown":
            result.unknown_messages += 1
            result.unknown_on_phone += whole
            if "unknown" not in message.part_states:
                problems.append(f"{tag}: no part is unknown")
        else:
            problems.append(f"{tag}: never settled")
    allowed = (e.kills + 1) * e.modems  # one part in flight per modem per death
    if result.unknown_parts > allowed:
        problems.append(
            f"{result.unknown_parts} unknown parts after {e.kills} kills of "
            f"{e.modems} modems (at most {allowed})"
        )
    # a part left `sent` had its report dropped by its modem, or the box lost it
    if unreported_parts > e.reports_dropped:
        problems.append(
            f"{unreported_parts} part(s) never got their status report, but the "
            f"modems dropped only {e.reports_dropped}: the box lost some"
        )


async def run_round(
    workdir: Path,
    spec: RoundSpec,
    number: int,
    *,
    server: str | None = None,
    keep_database: bool = False,
) -> RoundResult:
    """One round in `workdir` (which the caller creates and removes), on a new SQLite
    file there or, with a PostgreSQL `server` (by default SMSGW_DATABASE_URL's, when
    set), on a new database made there and dropped after (unless `keep_database`)."""
    server = server or server_url()
    if server is None:
        return await _Round(workdir, spec, number, None).run()
    with scratch_database(server, prefix="smsgw_crash", keep=keep_database) as url:
        return await _Round(workdir, spec, number, url).run()


def summary(results: Sequence[RoundResult]) -> str:
    """One line per round and a total, for people."""
    lines = [
        f"{'round':>5} {'kills':>5} {'<ready':>6} {'in':>5} {'in parts':>8} {'out':>5} "
        f"{'out parts':>9} {'on air':>6} {'delivered':>9} {'sent':>5} {'failed':>6} "
        f"{'unknown':>7} {'(parts)':>7} {'retries':>7} {'s':>6}  result"
    ]
    for r in results:
        lines.append(
            f"{r.round:>5} {r.kills:>5} {r.kills_before_ready:>6} {r.inbound:>5} "
            f"{r.inbound_parts:>8} {r.outbound:>5} {r.outbound_parts:>9} "
            f"{r.submitted_parts:>6} {r.states.get('delivered', 0):>9} "
            f"{r.states.get('sent', 0):>5} {r.states.get('failed', 0):>6} "
            f"{r.unknown_messages:>7} "
            f"{r.unknown_parts:>7} {r.enqueue_retries:>7} {r.seconds:>6.1f}  "
            + ("ok" if not r.problems else f"{len(r.problems)} PROBLEM(S)")
        )
    return "\n".join(lines)

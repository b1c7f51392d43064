"""Server time of the inbox at scale: 100k conversations and 1M messages, seeded.

    .venv/bin/python bench/inbox.py [--conversations 100000] [--messages 1000000]
        [--runs 50] [--db PATH [--reuse]] [--database-url URL [--reuse]] [--keep]
        [--json PATH] [--seed 1] [--analyze]

A benchmark that prints figures, not a test. It seeds a fresh SQLite file, or with
--database-url (or SMSGW_DATABASE_URL, as for the gateway) an empty PostgreSQL database,
created and migrated by `open_database` (so SQLite's full-text triggers and PostgreSQL's
search indexes take every row as it goes in), with multi-row INSERTs of a few hundred
rows each in the engine's parameter style, on the store's own thread: contacts with
names and attributes, conversations in every status, assignee, queue, tag, modem and
priority, and messages whose bodies come from a Zipf-like vocabulary (a few words are
everywhere, most are rare), one outbound part per outbound message. One conversation
gets exactly 50 messages for the thread page.

Then it times what a web handler would wait for - the InboxService call, `store.run`
included - for each case, `--runs` times after one warm-up run, and prints p50 and p99
(nearest rank) in milliseconds:
- list, first page: every open conversation, newest activity first (50 rows)
- list, filtered: open + assigned to one agent + tagged
- list, deep cursor: the page after row 50 000 of all conversations (keyset, not OFFSET)
- thread page: the 50-message conversation with its parts, notes and customer panel
- search, common word / rare word: full text over message bodies and contacts
- search, contact name / number tail: the trigram index over contacts
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import math
import os
import platform
import random
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: the repository root is the import root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.args import positive_int, postgresql_url
from gateway.config import Settings, parse_settings
from gateway.events import EventBus
from gateway.inbox.policy import encode_cursor
from gateway.inbox.records import Cursor
from gateway.inbox.service import InboxService
from gateway.outbox.service import OutboundService
from gateway.storage import models
from gateway.storage.db import Store, open_database
from gateway.storage.metrics_queries import database_bytes
from gateway.storage.models import Contact, Conversation

BATCH_CONVERSATIONS = 5000  # per unit of work while seeding
AGENTS = 10
TAGS = ("billing", "delivery", "returns", "vip", "complaint")
MODEMS = ("usb0", "usb1")
QUEUES = (None, "support", "sales")
THREAD_MESSAGES = 50
PAGE = 50
DEEP_ROW = 50_000
COMMON_WORD = "order"
RARE_WORD = "zeppelin"
RARE_COUNT = 20  # messages holding the rare word
EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
SPAN_S = 90 * 24 * 3600  # activity spread over 90 days


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


FIRST_NAMES = _words(
    "Ada Alan Alice Amir Anna Ben Carla Chen Chloe Dan Dmitri Eva Fatima Femi Grace "
    "Hana Ivan Jack Jana Jonas Kai Lara Leo Lina Luca Maria Mei Nadia Noah Olga Omar "
    "Paula Priya Rafael Rosa Sam Sara Tariq Tom Uma Vera Wei Yusuf Zoe"
)
LAST_NAMES = _words(
    "Adams Baker Costa Dubois Evans Fischer Garcia Hughes Ivanova Jones Kowalski "
    "Lopez Meyer Nowak Okafor Patel Quinn Rossi Silva Tanaka Ueda Varga Weber Xu "
    "Young Zimmermann"
)
# By rank: the k-th word's share of the words written is about 1/(k * 8.6). "hello" (rank
# 1) is in most messages, like "the"; "order" (rank 10) in about one message in nine.
BASE_WORDS = _words(
    "hello thanks please when where what why how today order parcel delivery refund "
    "return tomorrow monday friday morning evening address door driver courier box "
    "late early wrong missing broken damaged card payment invoice account password "
    "login app email phone number time slot reschedule cancel confirm yes no maybe ok "
    "great sorry help problem issue question answer agent human still waiting again "
    "soon"
)
VERY_COMMON_WORD = BASE_WORDS[0]


def _vocabulary(rng: random.Random, size: int = 3000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    extra = {
        "".join(rng.choice(letters) for _ in range(rng.randint(4, 9)))
        for _ in range(size)
    }
    extra.discard(RARE_WORD)
    return [*BASE_WORDS, *sorted(extra)]


def _zipf_weights(n: int) -> list[float]:
    return [1.0 / (rank + 1) for rank in range(n)]


def _ts(value: datetime) -> str:
    """A time as UtcDateTimeField stores it (naive UTC, sqlite3's ISO form; PostgreSQL
    takes the text as a timestamp)."""
    return value.astimezone(UTC).replace(tzinfo=None).isoformat(" ")


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), sort_keys=True)


@dataclass(frozen=True, slots=True)
class Plan:
    conversations: int
    messages: int
    seed: int


@dataclass(frozen=True, slots=True)
class Seeded:
    conversations: int
    messages: int
    contacts: int
    thread_conversation: int
    agent_id: int
    seconds: float
    db_bytes: int


@dataclass(frozen=True, slots=True)
class Figure:
    case: str
    rows: int
    p50_ms: float
    p99_ms: float
    runs: int


def percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100) of a non-empty sequence."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), math.ceil(q / 100 * len(ordered))))
    return ordered[rank - 1]


# ------------------------------------------------------------------ seeding


# Rows per INSERT while seeding, and the parameters one may hold (SQLite allows 32766,
# PostgreSQL 65535). Seeding 100k messages on 2 cores took half the time executemany
# took on SQLite, and the same time on PostgreSQL.
INSERT_ROWS = 500
INSERT_PARAMETERS = 30_000


def _insert(
    table: str, columns: Sequence[str], rows: Sequence[tuple[Any, ...]]
) -> None:
    """ON THE DB THREAD: `rows` into `table`, a few hundred to an INSERT (either engine);
    values are what the columns hold (times as text, bools)."""
    db = models.DB.obj
    row = "(" + ", ".join([db.param] * len(columns)) + ")"
    chunk = max(1, min(INSERT_ROWS, INSERT_PARAMETERS // len(columns)))
    cursor = db.cursor()
    for i in range(0, len(rows), chunk):
        part = rows[i : i + chunk]
        cursor.execute(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES "
            + ", ".join([row] * len(part)),
            [v for r in part for v in r],
        )


def _advance_sequences(tables: Sequence[str]) -> None:
    """ON THE DB THREAD: after rows went in with their ids, PostgreSQL's id sequences
    start past them, as SQLite's rowids do by themselves."""
    if not models.DB.postgresql:
        return
    for table in tables:
        models.DB.obj.execute_sql(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT coalesce(max(id), 0) + 1 FROM {table}), false)"
        )


def _message_counts(plan: Plan, rng: random.Random) -> list[int]:
    """Messages per conversation, summing to plan.messages; the first THREAD_MESSAGES."""
    # At least 1 each, skewed: most conversations short, a few long.
    n = plan.conversations
    total = plan.messages
    if total < n + THREAD_MESSAGES:
        raise SystemExit(
            f"--messages must be at least --conversations + {THREAD_MESSAGES}"
        )
    weights = [rng.expovariate(1.0) ** 1.5 for _ in range(n - 1)]
    spare = total - THREAD_MESSAGES - (n - 1)
    scale = spare / sum(weights)
    counts = [THREAD_MESSAGES] + [1 + int(w * scale) for w in weights]
    # each floor lost less than one message: hand those out one each
    for i in rng.sample(range(1, n), total - sum(counts)):
        counts[i] += 1
    return counts


def _seed_users(now: datetime) -> list[int]:
    db = models.DB.obj
    rows = [
        (f"agent{n}", f"Agent {n}", "agent", "x", True, _ts(now)) for n in range(AGENTS)
    ]
    _insert(
        "users",
        ("username", "display_name", "role", "password_hash", "active", "created_at"),
        rows,
    )
    ids = [r[0] for r in db.execute_sql("SELECT id FROM users ORDER BY id").fetchall()]
    _insert("tags", ("name",), [(name,) for name in TAGS])
    return ids


def _seed_batch(
    start: int,
    counts: Sequence[int],
    users: Sequence[int],
    seed: int,
    rare_at: frozenset[int],
) -> int:
    """ON THE DB THREAD: conversations from `start`, their contacts and messages; count."""
    rng = random.Random(seed * 1_000_003 + start)
    vocab = _vocabulary(random.Random(seed))
    cumulative = list(itertools.accumulate(_zipf_weights(len(vocab))))
    db = models.DB.obj
    tag_ids = {
        name: tid
        for tid, name in db.execute_sql("SELECT id, name FROM tags").fetchall()
    }
    contacts, conversations, tagged = [], [], []
    messages: list[tuple[Any, ...]] = []
    parts: list[tuple[Any, ...]] = []
    next_message = (
        db.execute_sql("SELECT coalesce(max(id), 0) FROM messages").fetchone()[0] + 1
    )
    written = 0
    for offset, count in enumerate(counts):
        index = start + offset
        cid = index + 1
        number = f"+4477{index:08d}"
        name = (
            None
            if rng.random() < 0.15
            else f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
        )
        attributes: dict[str, Any] = {
            "region": rng.choice(("north", "south", "east", "west"))
        }
        if rng.random() < 0.1:
            attributes["vip"] = True
        if rng.random() < 0.3:
            attributes["account_owner"] = f"agent{rng.randrange(AGENTS)}"
        begin = EPOCH + timedelta(seconds=rng.uniform(0, SPAN_S))
        times = [begin]
        for _ in range(count - 1):
            times.append(times[-1] + timedelta(seconds=rng.expovariate(1 / 900)))
        last = times[-1]
        status = rng.choices(("open", "pending", "resolved"), (15, 10, 75))[0]
        assignee = rng.choice(users) if rng.random() < 0.6 else None
        contacts.append(
            (cid, number, "e164", name, _json(attributes), _ts(begin), _ts(begin))
        )
        modem = rng.choice(MODEMS)
        conversations.append(
            (
                cid,
                cid,
                number,
                status,
                rng.choices(("normal", "high", "urgent", "low"), (80, 12, 5, 3))[0],
                assignee,
                rng.choice(QUEUES),
                "{}",
                modem,
                _ts(begin),
                _ts(last),
                _ts(last),
                _ts(last) if count > 1 else None,
                _ts(last) if status == "resolved" else None,
                0,
            )
        )
        if rng.random() < 0.2:
            for tag in rng.sample(TAGS, rng.randint(1, 2)):
                tagged.append((cid, tag_ids[tag], _ts(begin)))
        for n, at in enumerate(times):
            inbound = n % 2 == 0
            words = rng.choices(vocab, cum_weights=cumulative, k=rng.randint(3, 18))
            if next_message in rare_at:
                words.insert(rng.randrange(len(words) + 1), RARE_WORD)
            if rng.random() < 0.05:
                words.append(f"A-{rng.randrange(100000):05d}")
            body = " ".join(words).capitalize() + rng.choice((".", "?", "!", ""))
            mid = next_message
            next_message += 1
            if inbound:
                messages.append(
                    (
                        mid,
                        cid,
                        "inbound",
                        "received",
                        "customer",
                        number,
                        body,
                        modem,
                        "gsm7",
                        1,
                        "{}",
                        None,
                        _ts(at),
                        _ts(at),
                        _ts(at),
                        None,
                        None,
                        False,
                    )
                )
            else:
                agent = rng.random() < 0.7
                messages.append(
                    (
                        mid,
                        cid,
                        "outbound",
                        "delivered",
                        "agent" if agent else "api",
                        number,
                        body,
                        modem,
                        "gsm7",
                        1,
                        "{}"
                        if agent
                        else _json({"order_id": f"A-{rng.randrange(99999)}"}),
                        assignee if agent else None,
                        _ts(at),
                        _ts(at),
                        None,
                        _ts(at),
                        _ts(at),
                        False,
                    )
                )
                parts.append(
                    (
                        mid,
                        1,
                        "delivered",
                        1,
                        modem,
                        rng.randrange(256),
                        0,
                        _ts(at),
                        _ts(at),
                        _ts(at),
                        _ts(at),
                        _ts(at),
                    )
                )
            written += 1
    _insert(
        "contacts",
        ("id", "number", "kind", "name", "attributes", "created_at", "updated_at"),
        contacts,
    )
    _insert(
        "conversations",
        (
            *("id", "contact_id", "number", "status", "priority", "assignee_id"),
            *("queue", "context", "modem", "created_at", "updated_at"),
            *("last_inbound_at", "last_outbound_at", "resolved_at", "reopen_count"),
        ),
        conversations,
    )
    _insert("conversation_tags", ("conversation_id", "tag_id", "created_at"), tagged)
    _insert(
        "messages",
        (
            *("id", "conversation_id", "direction", "status", "origin", "number"),
            *("body", "modem", "encoding", "parts_count", "context", "user_id"),
            *("created_at", "updated_at", "network_at", "sent_at", "delivered_at"),
            "consent_exempt",
        ),
        messages,
    )
    _insert(
        "outbound_parts",
        (
            *("message_id", "seq", "status", "attempts", "modem", "reference"),
            *("report_status", "next_attempt_at", "claimed_at", "accepted_at"),
            *("delivered_at", "updated_at"),
        ),
        parts,
    )
    return written


async def seed(
    store: Store, plan: Plan, *, progress: bool = True, analyze: bool = False
) -> Seeded:
    """Fill a fresh store; what went in."""
    started = time.perf_counter()
    rng = random.Random(plan.seed)
    counts = _message_counts(plan, rng)
    rare_at = frozenset(rng.sample(range(1, plan.messages + 1), RARE_COUNT))
    users = await store.run(_seed_users, EPOCH)
    written = 0
    for start in range(0, plan.conversations, BATCH_CONVERSATIONS):
        batch = counts[start : start + BATCH_CONVERSATIONS]
        written += await store.run(_seed_batch, start, batch, users, plan.seed, rare_at)
        if progress:
            print(
                f"\r  seeded {start + len(batch):,} conversations, {written:,} messages",
                end="",
                flush=True,
            )
    if progress:
        print()
    await store.run(_advance_sequences, ("contacts", "conversations", "messages"))
    if analyze:
        await store.run(_analyze)
    return Seeded(
        conversations=plan.conversations,
        messages=written,
        contacts=plan.conversations,
        thread_conversation=1,
        agent_id=users[0],
        seconds=time.perf_counter() - started,
        db_bytes=await store.run(database_bytes, store.path),
    )


def _holds_data() -> bool:
    """ON THE DB THREAD: whether the database has users or conversations already."""
    db = models.DB.obj
    found = db.execute_sql(
        "SELECT EXISTS (SELECT 1 FROM users) OR EXISTS (SELECT 1 FROM conversations)"
    ).fetchone()[0]
    return bool(found)


def _seeded_before(path: str) -> Seeded:
    """ON THE DB THREAD: what an earlier run of this benchmark seeded into the database
    (the SQLite file at `path`, or the PostgreSQL database the store is on)."""
    db = models.DB.obj
    count = int(db.execute_sql("SELECT count(*) FROM conversations").fetchone()[0])
    messages = int(db.execute_sql("SELECT count(*) FROM messages").fetchone()[0])
    agent = int(db.execute_sql("SELECT min(id) FROM users").fetchone()[0])
    return Seeded(count, messages, count, 1, agent, 0.0, database_bytes(path))


def _analyze() -> None:
    # Off by default: the box never runs ANALYZE, so the plans measured are the ones it
    # gets without statistics.
    models.DB.obj.execute_sql("ANALYZE")


# ------------------------------------------------------------------ measuring


def _deep_cursor(row: int) -> str | None:
    """ON THE DB THREAD: the cursor after the `row`-th conversation by activity."""
    found = (
        Conversation.select(Conversation.updated_at, Conversation.id)
        .order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .offset(row - 1)
        .first()
    )
    if found is None:
        return None
    return encode_cursor(Cursor(found.updated_at, found.id))


def _a_contact_name(conversations: int) -> tuple[str, str]:
    """ON THE DB THREAD: a surname and a number's last 6 digits to search for."""
    found = (
        Contact.select(Contact.name, Contact.number)
        .where(Contact.name.is_null(False))
        .order_by(Contact.id)
        .offset(min(777, conversations // 3))
        .first()
    )
    return str(found.name).split()[-1], str(found.number)[-6:]


async def _time(case: str, call: Callable[[], Awaitable[int]], runs: int) -> Figure:
    rows = await call()  # warm-up: caches, statement cache
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        rows = await call()
        samples.append((time.perf_counter() - started) * 1000)
    return Figure(
        case,
        rows,
        round(percentile(samples, 50), 2),
        round(percentile(samples, 99), 2),
        runs,
    )


async def measure(
    inbox: InboxService, store: Store, seeded: Seeded, runs: int
) -> list[Figure]:
    """Time each case `runs` times."""
    deep = await store.run(_deep_cursor, min(DEEP_ROW, seeded.conversations // 2))
    surname, tail = await store.run(_a_contact_name, seeded.conversations)

    async def rows(**filters: Any) -> int:
        return len((await inbox.list_conversations(limit=PAGE, **filters)).rows)

    async def thread() -> int:
        return len((await inbox.thread(seeded.thread_conversation, limit=PAGE)).items)

    cases: list[tuple[str, Callable[[], Awaitable[int]]]] = [
        ("list, first page (open)", lambda: rows(status="open")),
        (
            "list, filtered (open, mine, tag)",
            lambda: rows(
                status="open", ownership="mine", user_id=seeded.agent_id, tag="billing"
            ),
        ),
        (
            "list, filtered (urgent, usb1)",
            lambda: rows(priority="urgent", modem="usb1"),
        ),
        ("list, deep cursor (row 50k)", lambda: rows(cursor=deep)),
        ("thread page (50 messages)", thread),
        (f"search, common word ({COMMON_WORD!r})", lambda: rows(search=COMMON_WORD)),
        (f"search, rare word ({RARE_WORD!r})", lambda: rows(search=RARE_WORD)),
        (
            f"search, very common word ({VERY_COMMON_WORD!r})",
            lambda: rows(search=VERY_COMMON_WORD),
        ),
        (
            f"search, common word, open ({COMMON_WORD!r})",
            lambda: rows(search=COMMON_WORD, status="open"),
        ),
        ("search, contact name", lambda: rows(search=surname)),
        ("search, number tail", lambda: rows(search=tail)),
    ]
    figures = []
    for case, call in cases:
        figures.append(await _time(case, call, runs))
    return figures


# ------------------------------------------------------------------ the command


def _settings(path: Path, url: str | None) -> Settings:
    """The SQLite file at `path`, or the PostgreSQL database at `url` (else the one
    SMSGW_DATABASE_URL names, as for the gateway)."""
    text = (
        "[gateway]\ndefault_region = GB\n[web]\nenabled = no\n[simulator]\nenabled = no\n"
        f"[database]\npath = {path}\n"
    )
    settings = parse_settings(text, base_dir=path.parent, source="bench/inbox.py")
    if url is None:
        return settings
    return replace(settings, database=replace(settings.database, url=url))


async def run(args: argparse.Namespace) -> tuple[Seeded, list[Figure]]:
    path = Path(args.db) if args.db else Path(tempfile.mkdtemp()) / "inbox-bench.db"
    settings = _settings(path, args.database_url)
    # Never opened (nor migrated) unless asked to: it may be anybody's file.
    if settings.database.url is None and path.exists() and not args.reuse:
        raise SystemExit(
            f"{path} exists: the benchmark seeds a fresh file (or --reuse)"
        )
    store = await open_database(settings)
    try:
        used = await store.run(_holds_data)
        reuse = args.reuse and used
        if used and not reuse:
            raise SystemExit(
                f"{store.path} holds data: the benchmark seeds a fresh database "
                "(or --reuse)"
            )
        if reuse:
            seeded = await store.run(_seeded_before, str(path))
            print(f"timing {store.path}, seeded before", flush=True)
        else:
            plan = Plan(args.conversations, args.messages, args.seed)
            print(
                f"seeding {plan.conversations:,} conversations and "
                f"{plan.messages:,} messages into {store.path} ...",
                flush=True,
            )
            seeded = await seed(
                store, plan, progress=not args.quiet, analyze=args.analyze
            )
        print(
            f"{seeded.conversations:,} conversations, {seeded.messages:,} messages "
            f"(seeded in {seeded.seconds:.1f} s, {seeded.db_bytes / 2**20:.0f} MiB); "
            f"timing {args.runs} runs per case on {os.cpu_count()} CPUs, "
            f"Python {platform.python_version()}, {await store.run(_engine_version)}",
            flush=True,
        )
        bus = EventBus()
        outbound = OutboundService(store, bus, settings=settings, health=lambda: MODEMS)
        inbox = InboxService(store, bus, outbound, settings=settings)
        figures = await measure(inbox, store, seeded, args.runs)
    finally:
        await store.close()
        if not args.keep and not args.db:
            for leftover in path.parent.glob(path.name + "*"):
                leftover.unlink()
            path.parent.rmdir()
    return seeded, figures


def _engine_version() -> str:
    """ON THE DB THREAD: the engine and its version, for the figures' header."""
    if models.DB.postgresql:
        version = models.DB.obj.execute_sql("SHOW server_version").fetchone()[0]
        return f"PostgreSQL {version}"
    import sqlite3

    return f"SQLite {sqlite3.sqlite_version}"


def report(seeded: Seeded, figures: Sequence[Figure], json_path: str | None) -> None:
    width = max(len(f.case) for f in figures)
    print(f"\n{'case':<{width}}  {'rows':>5}  {'p50 ms':>8}  {'p99 ms':>8}")
    for f in figures:
        print(f"{f.case:<{width}}  {f.rows:>5}  {f.p50_ms:>8.2f}  {f.p99_ms:>8.2f}")
    if json_path:
        Path(json_path).write_text(
            json.dumps(
                {"seeded": asdict(seeded), "figures": [asdict(f) for f in figures]},
                indent=2,
            )
        )


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/inbox.py",
        description="Server time of the inbox list, a thread page and search, seeded.",
    )
    parser.add_argument("--conversations", type=positive_int, default=100_000)
    parser.add_argument("--messages", type=positive_int, default=1_000_000)
    parser.add_argument("--runs", type=positive_int, default=50, help="per case (50)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--db", help="seed this (new) file and keep it")
    parser.add_argument(
        "--database-url",
        type=postgresql_url,
        help="seed this empty PostgreSQL database instead (default: "
        "$SMSGW_DATABASE_URL when set, else a SQLite file); kept",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary file")
    parser.add_argument(
        "--reuse",
        action="store_true",
        help="time the database (--db, --database-url) seeded by a run before",
    )
    parser.add_argument("--json", help="also write the figures here")
    parser.add_argument("--quiet", action="store_true", help="no seeding progress")
    parser.add_argument(
        "--analyze",
        action="store_true",
        help="run ANALYZE after seeding (the box does not)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Seed, time, print the table (and write JSON)."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    seeded, figures = asyncio.run(run(args))
    report(seeded, figures, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())

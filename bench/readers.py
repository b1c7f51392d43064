"""What agents' reads cost the box's writes: `[database] pool_size` 1 against 3, one run.

    .venv/bin/python bench/readers.py [--conversations 20000] [--messages 200000]
        [--agents 4] [--seconds 10] [--database-url URL] [--seed 1]

A benchmark that prints figures, not a test. It seeds a fresh SQLite file (or, with
--database-url or SMSGW_DATABASE_URL, an empty PostgreSQL database) the way
bench/inbox.py does, then, once per pool size, for `--seconds`:
- `--agents` agents each loop over what an inbox page asks for: the first page of open
  conversations, a search for a common word, the counts behind the tabs (InboxService,
  which reads through `store.read`);
- meanwhile a modem stores what arrives, one unit of work every 50 ms (a new contact
  with its conversation: a write on the writer, `store.run`), and its latency is timed.

It prints, per pool size, the write's p50 and p99 in milliseconds and the agents' pages
per second. With pool_size 1 every page queues on the writer, before and after the
modem's units; with 3, the pages run on the two read-only connections beside it.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root is the import root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.args import positive_int, postgresql_url
from bench.inbox import (
    COMMON_WORD,
    MODEMS,
    PAGE,
    Plan,
    _engine_version,
    percentile,
    seed,
)
from bench.inbox import _settings as inbox_settings
from gateway.config import Settings
from gateway.domain import NumberKind, utcnow
from gateway.events import EventBus
from gateway.inbox.service import InboxService
from gateway.outbox.service import OutboundService
from gateway.storage import queries
from gateway.storage.db import open_database

WRITE_EVERY_S = 0.05
POOLS = (1, 3)


@dataclass(frozen=True, slots=True)
class Figures:
    pool_size: int
    writes: int
    write_p50_ms: float
    write_p99_ms: float
    pages_per_s: float


def _arrival(number: str) -> int:
    """ON THE DB THREAD: what a new customer's first text writes before its message."""
    contact = queries.upsert_contact(number, NumberKind.E164, now=utcnow())
    return contact.id


async def _measure(
    settings: Settings, pool_size: int, agents: int, seconds: float
) -> Figures:
    cfg = replace(settings.database, pool_size=pool_size)
    store = await open_database(replace(settings, database=cfg))
    try:
        bus = EventBus()
        outbound = OutboundService(store, bus, settings=settings, health=lambda: MODEMS)
        inbox = InboxService(store, bus, outbound, settings=settings)
        stop = asyncio.Event()
        pages = 0

        async def agent() -> None:
            nonlocal pages
            while not stop.is_set():
                await inbox.list_conversations(status="open", limit=PAGE)
                await inbox.list_conversations(search=COMMON_WORD, limit=PAGE)
                await inbox.counts()
                pages += 1

        latencies: list[float] = []

        async def modem() -> None:
            serial = 0
            while not stop.is_set():
                serial += 1
                number = f"+4479{pool_size}{os.getpid() % 1000:03d}{serial:05d}"
                started = time.perf_counter()
                await store.run(_arrival, number)
                latencies.append((time.perf_counter() - started) * 1000)
                await asyncio.sleep(WRITE_EVERY_S)

        tasks = [asyncio.create_task(agent()) for _ in range(agents)]
        tasks.append(asyncio.create_task(modem()))
        await asyncio.sleep(seconds)
        stop.set()
        await asyncio.gather(*tasks)
        return Figures(
            pool_size,
            len(latencies),
            round(percentile(latencies, 50), 2),
            round(percentile(latencies, 99), 2),
            round(pages / seconds, 1),
        )
    finally:
        await store.close()


async def run(args: argparse.Namespace) -> list[Figures]:
    path = Path(tempfile.mkdtemp()) / "readers-bench.db"
    settings = inbox_settings(path, args.database_url)
    store = await open_database(settings)
    try:
        plan = Plan(args.conversations, args.messages, args.seed)
        print(
            f"seeding {plan.conversations:,} conversations, {plan.messages:,} messages"
        )
        await seed(store, plan, progress=False)
        print(
            f"{args.agents} agents, a write every {WRITE_EVERY_S * 1000:.0f} ms, "
            f"{args.seconds:g} s per pool size, {os.cpu_count()} CPUs, Python "
            f"{platform.python_version()}, {await store.run(_engine_version)}",
            flush=True,
        )
    finally:
        await store.close()
    try:
        return [await _measure(settings, p, args.agents, args.seconds) for p in POOLS]
    finally:
        for leftover in path.parent.glob(path.name + "*"):
            leftover.unlink()
        path.parent.rmdir()


def report(figures: Sequence[Figures]) -> None:
    print(
        f"\n{'pool_size':>9}  {'writes':>6}  {'write p50 ms':>12}  {'write p99 ms':>12}  "
        f"{'pages/s':>8}"
    )
    for f in figures:
        print(
            f"{f.pool_size:>9}  {f.writes:>6}  {f.write_p50_ms:>12.2f}  "
            f"{f.write_p99_ms:>12.2f}  {f.pages_per_s:>8.1f}"
        )


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="bench/readers.py",
        description="Write latency under agents' reads, pool_size 1 against 3.",
    )
    parser.add_argument("--conversations", type=positive_int, default=20_000)
    parser.add_argument("--messages", type=positive_int, default=200_000)
    parser.add_argument("--agents", type=positive_int, default=4)
    parser.add_argument("--seconds", type=positive_int, default=10)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--database-url",
        type=postgresql_url,
        help="seed this empty PostgreSQL database instead (default: "
        "$SMSGW_DATABASE_URL when set, else a temporary SQLite file)",
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    report(asyncio.run(run(args)))
    return 0


if __name__ == "__main__":
    sys.exit(main())

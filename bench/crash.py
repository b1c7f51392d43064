"""The crash harness as a benchmark: SIGKILL the daemon at random moments, round after round.

    .venv/bin/python bench/crash.py [--rounds 20] [--inbound 500] [--outbound 500]
        [--modems 4] [--phones 10] [--seed 1] [--inject-s 15] [--life 0.3 3.0]
        [--database-url URL] [--json PATH] [--keep DIR]

Each round starts a fresh simulator (N modems on TCP, a process of its own) and a fresh
database, drives `--inbound` texts from phones and `--outbound` queued replies over
`--inject-s` seconds while the daemon (`smsgw run`) is SIGKILLed after a random life of
`--life` seconds and restarted, again and again; then lets it settle, stops it with
SIGTERM and checks what the phones and the database hold (bench/crashkit.py says
exactly what). The same seed gives the same texts, phones and kill times. The database
is a SQLite file or, with `--database-url` (by default SMSGW_DATABASE_URL, when set), a
PostgreSQL database made on that server for the round and dropped after it.

Prints one line per round and every problem found; exits 1 if any round found one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import signal
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

if __package__ in (None, ""):  # run as a script: the repository root is the import root
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.args import not_negative_int, positive_int, postgresql_url
from bench.crashkit import RoundResult, RoundSpec, run_round, summary
from bench.harness import server_url


def _seconds(text: str) -> float:
    value = float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError("expected a number of seconds above 0")
    return value


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    defaults = RoundSpec()
    parser = argparse.ArgumentParser(
        prog="bench/crash.py",
        description="SIGKILL the daemon at random moments under traffic both ways; "
        "check that nothing was lost, duplicated or misreported.",
    )
    parser.add_argument("--rounds", type=positive_int, default=20, help="(20)")
    parser.add_argument(
        "--inbound",
        type=not_negative_int,
        default=defaults.inbound,
        help=f"texts from phones per round ({defaults.inbound})",
    )
    parser.add_argument(
        "--outbound",
        type=not_negative_int,
        default=defaults.outbound,
        help=f"texts queued to phones per round ({defaults.outbound})",
    )
    parser.add_argument(
        "--modems",
        type=positive_int,
        default=defaults.modems,
        help=f"({defaults.modems})",
    )
    parser.add_argument(
        "--phones",
        type=positive_int,
        default=defaults.phones,
        help=f"({defaults.phones})",
    )
    parser.add_argument("--seed", type=int, default=defaults.seed, help="(1)")
    parser.add_argument(
        "--inject-s",
        type=_seconds,
        default=defaults.inject_s,
        help=f"the traffic is spread over this long ({defaults.inject_s:g})",
    )
    parser.add_argument(
        "--life",
        type=_seconds,
        nargs=2,
        metavar=("MIN", "MAX"),
        default=list(defaults.life_s),
        help="a daemon lives between MIN and MAX seconds before its SIGKILL "
        f"(start-up takes ~0.7 s) ({defaults.life_s[0]:g} {defaults.life_s[1]:g})",
    )
    parser.add_argument(
        "--log-level",
        choices=["debug", "info", "warning"],
        default=defaults.log_level,
        help="the daemon's, in each round's daemon.log (see --keep)",
    )
    parser.add_argument(
        "--database-url",
        type=postgresql_url,
        default=server_url(),
        metavar="URL",
        help="run on PostgreSQL: a database of its own for each round, made on this "
        "server (the role needs CREATEDB) and dropped after (default: "
        "$SMSGW_DATABASE_URL when set, else SQLite files)",
    )
    parser.add_argument("--json", type=Path, metavar="PATH", help="also write JSON")
    parser.add_argument(
        "--keep",
        type=Path,
        metavar="DIR",
        help="keep each round's logs and database under DIR, or its PostgreSQL "
        "database (default: removed)",
    )
    args = parser.parse_args(list(argv))
    if args.life[0] > args.life[1]:
        parser.error("--life MIN MAX: MIN must not be above MAX")
    return args


async def run_rounds(args: argparse.Namespace) -> list[RoundResult]:
    spec = RoundSpec(
        inbound=args.inbound,
        outbound=args.outbound,
        modems=args.modems,
        phones=args.phones,
        seed=args.seed,
        inject_s=args.inject_s,
        life_s=(args.life[0], args.life[1]),
        log_level=args.log_level,
    )
    results = []
    for number in range(1, args.rounds + 1):
        if args.keep is not None:
            workdir = args.keep / f"round-{number:02d}"
            workdir.mkdir(parents=True, exist_ok=False)
            result = await run_round(
                workdir, spec, number, server=args.database_url, keep_database=True
            )
        else:
            with tempfile.TemporaryDirectory(prefix=f"crash-{number:02d}-") as tmp:
                result = await run_round(
                    Path(tmp), spec, number, server=args.database_url
                )
        results.append(result)
        print(summary([result]).splitlines()[-1], flush=True)
        if args.keep is not None and result.database is not None:
            print(f"      database kept: {result.database}", flush=True)
        for problem in result.problems:
            print(f"      - {problem}", flush=True)
    return results


def main(argv: Sequence[str] | None = None) -> int:
    """Run the rounds; 0 when every check held in every round."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    print(
        f"{args.rounds} round(s): {args.inbound} in + {args.outbound} out over "
        f"{args.inject_s:g} s, {args.modems} modem(s), {args.phones} phones, seed "
        f"{args.seed}, SIGKILL after {args.life[0]:g}-{args.life[1]:g} s of life",
        flush=True,
    )
    print(summary([]), flush=True)
    started = time.monotonic()
    try:
        results = asyncio.run(run_rounds(args))
    except KeyboardInterrupt:
        print("interrupted; children stopped, temporary files removed", file=sys.stderr)
        return 130
    elapsed = time.monotonic() - started
    failed = [r for r in results if r.problems]
    kills = sum(r.kills for r in results)
    unknown = sum(r.unknown_parts for r in results)
    print()
    print(summary(results))
    print(
        f"\n{len(results)} rounds, {kills} SIGKILLs "
        f"({sum(r.kills_before_ready for r in results)} before READY=1), "
        f"{sum(r.inbound for r in results)} texts in, "
        f"{sum(r.outbound for r in results)} out; {unknown} part(s) of unknown "
        f"outcome ({sum(r.unknown_on_phone for r in results)} of "
        f"{sum(r.unknown_messages for r in results)} such messages reached the phone "
        f"whole); {len(failed)} round(s) with problems; {elapsed:.0f} s"
    )
    if args.json is not None:
        document = {
            "benchmark": "crash",
            "date": datetime.now(UTC).isoformat(timespec="seconds"),
            "settings": {
                k: v
                for k, v in vars(args).items()
                if k not in ("json", "keep", "database_url")  # it may hold a password
            }
            | {"database": "postgresql" if args.database_url else "sqlite"},
            "seconds": round(elapsed, 1),
            "rounds": [asdict(r) for r in results],
        }
        args.json.write_text(json.dumps(document, indent=1, default=str) + "\n")
    return 1 if failed else 0


if __name__ == "__main__":
    # SIGTERM cleans up like Ctrl-C: children stopped, temporary directories removed
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    sys.exit(main())

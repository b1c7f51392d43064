"""The crash harness, small: the daemon SIGKILLed at random moments while phones text it
and replies are queued; afterwards nothing is lost, nothing went out twice, and every
message's state matches what its phone holds (bench/crashkit.py has the checks; the
benchmark bench/crash.py runs the same rounds, bigger and more of them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.crashkit import RoundSpec, run_round, summary

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROUNDS = 3
SPEC = RoundSpec(
    inbound=60,
    outbound=60,
    modems=2,
    phones=6,
    seed=20261127,
    inject_s=5.0,
    life_s=(0.5, 3.0),  # start-up takes ~0.7 s: some die starting, most while working
)


@pytest.mark.timeout(150)
async def test_sigkill_at_random_moments_loses_and_duplicates_nothing(
    tmp_path: Path,
) -> None:
    results = []
    for number in range(1, ROUNDS + 1):
        workdir = tmp_path / f"round-{number}"
        workdir.mkdir()
        results.append(await run_round(workdir, SPEC, number))
    table = summary(results)
    print(table)
    problems = [f"round {r.round}: {p}" for r in results for p in r.problems]
    assert not problems, table + "\n" + "\n".join(problems)
    for r in results:
        assert r.kills >= 1, table  # the round really was under fire
        assert (r.inbound, r.outbound) == (SPEC.inbound, SPEC.outbound)
        assert sum(r.states.values()) == SPEC.outbound
        assert r.submitted_parts >= r.outbound_parts - r.unknown_parts
    # kills landed while the daemon was working, not only while it started
    assert sum(r.kills - r.kills_before_ready for r in results) >= 1, table

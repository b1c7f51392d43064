"""The inbox benchmark still runs: tiny numbers, sane figures (it is not a timed test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import inbox as inbox_bench


def test_a_tiny_seed_gives_every_figure(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "figures.json"
    db = tmp_path / "bench.db"
    argv = ["--conversations", "80", "--messages", "400", "--runs", "3"]
    assert (
        inbox_bench.main([*argv, "--db", str(db), "--json", str(out), "--quiet"]) == 0
    )

    report = json.loads(out.read_text())
    seeded = report["seeded"]
    assert (seeded["conversations"], seeded["messages"]) == (80, 400)
    figures = {f["case"]: f for f in report["figures"]}
    assert len(figures) == 11
    for figure in figures.values():
        assert 0 < figure["p50_ms"] <= figure["p99_ms"]
        assert figure["runs"] == 3
    assert figures["list, first page (open)"]["rows"] > 0
    assert figures["thread page (50 messages)"]["rows"] == 50
    assert figures["search, rare word ('zeppelin')"]["rows"] >= 1
    assert figures["search, number tail"]["rows"] >= 1
    printed = capsys.readouterr().out
    assert "p50 ms" in printed
    assert "thread page (50 messages)" in printed


def test_the_seed_has_the_shape_asked_for() -> None:
    import random

    plan = inbox_bench.Plan(conversations=100, messages=1000, seed=3)
    counts = inbox_bench._message_counts(plan, random.Random(3))
    assert len(counts) == 100
    assert sum(counts) == 1000
    assert counts[0] == inbox_bench.THREAD_MESSAGES
    assert min(counts) >= 1


def test_too_few_messages_are_refused() -> None:
    with pytest.raises(SystemExit):
        inbox_bench.main(["--conversations", "100", "--messages", "120"])


def test_percentile_is_nearest_rank() -> None:
    assert inbox_bench.percentile([float(v) for v in range(1, 101)], 99) == 99
    assert inbox_bench.percentile([5.0], 50) == 5.0


def test_a_seeded_file_is_timed_again_with_reuse(tmp_path: Path) -> None:
    db = tmp_path / "bench.db"
    argv = ["--conversations", "60", "--messages", "200", "--runs", "1", "--quiet"]
    assert inbox_bench.main([*argv, "--db", str(db)]) == 0
    with pytest.raises(SystemExit):
        inbox_bench.main([*argv, "--db", str(db)])  # never seeds into a used file
    out = tmp_path / "again.json"
    assert (
        inbox_bench.main([*argv, "--db", str(db), "--reuse", "--json", str(out)]) == 0
    )
    seeded = json.loads(out.read_text())["seeded"]
    assert (seeded["conversations"], seeded["messages"]) == (60, 200)

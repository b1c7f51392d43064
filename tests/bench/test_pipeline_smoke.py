"""The pipeline benchmark still runs: tiny numbers, sane figures (it is not a timed test)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from bench import pipeline


@pytest.mark.integration
@pytest.mark.timeout(120)
def test_the_daemon_end_to_end_gives_sane_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "figures.json"
    argv = [
        *("--modems", "1", "--outbound", "8", "--inbound", "5"),
        *("--inbound-rate", "50", "--skip-gammu", "--json", str(out)),
    ]
    assert pipeline.main(argv) == 0

    report = json.loads(out.read_text())
    (figures,) = report["results"]
    assert (figures["sender"], figures["modems"], figures["error"]) == (
        "smsgw",
        1,
        None,
    )
    assert figures["out_messages"] == 8
    assert figures["out_parts"] == 12  # the 4th and the 8th are 3 parts
    assert 0 < figures["messages_per_s"] < figures["parts_per_s"]
    assert figures["out_cpu_ms_per_message"] > 0
    assert figures["in_messages"] == 5
    assert 0 < figures["latency_ms_p50"] <= figures["latency_ms_p99"]
    assert figures["in_cpu_ms_per_message"] > 0
    assert 0 < figures["queue_commits_per_message"] <= 1
    if figures["out_fsyncs_per_message"] is not None:  # strace was there
        # every part's outcome is committed before the next part is claimed
        assert figures["out_wal_fsyncs_per_message"] > 0
        assert figures["in_fsyncs_per_message"] > 0
    assert report["ratio_ours_to_gammu"] == {}
    printed = capsys.readouterr().out
    assert "gammu-smsd: skipped (--skip-gammu)" in printed


def test_fsyncs_are_read_from_an_strace_log(tmp_path: Path) -> None:
    log = tmp_path / "trace"
    log.write_text(
        "101 1795809074.50 fdatasync(4</x/gateway.db-wal>) = 0\n"
        "101 1795809074.60 fsync(3</x/gateway.db>) = 0\n"
        "102 1795809075.10 fdatasync(4</x/gateway.db-wal>) = 0\n"
        "102 1795809075.20 +++ exited with 0 +++\n"
    )
    calls = pipeline.read_fsyncs(log)
    assert [c.path for c in calls] == [
        "/x/gateway.db-wal",
        "/x/gateway.db",
        "/x/gateway.db-wal",
    ]
    assert pipeline.count_fsyncs(calls, 1795809074.0, 1795809075.0) == 2
    assert pipeline.count_fsyncs(calls, 0, 2e9, suffix="-wal") == 2


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert pipeline.percentile(values, 50) == 50
    assert pipeline.percentile(values, 99) == 99


def test_modem_counts_are_checked() -> None:
    assert pipeline.parse_args(["--modems", "1,4,16"]).modems == [1, 4, 16]
    with pytest.raises(SystemExit):
        pipeline.parse_args(["--modems", "0"])

"""The throughput benchmark still runs: tiny numbers, sane figures (it is not a timed test)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from bench import modem_throughput


def test_our_driver_in_memory_gives_sane_figures(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "figures.json"
    argv = [
        "--messages",
        "5",
        "--skip-gammu",
        "--variants",
        "memory",
        "--json",
        str(out),
    ]
    assert modem_throughput.main(argv) == 0

    report = json.loads(out.read_text())
    (figures,) = report["results"]
    assert (figures["sender"], figures["variant"]) == ("smsgw driver", "memory")
    assert figures["error"] is None
    assert figures["messages"] == 5
    assert figures["parts"] == 7  # the 4th message is the 3-part one
    assert figures["messages_per_s"] > 0
    assert figures["parts_per_s"] > figures["messages_per_s"]
    assert figures["at_per_message"] >= 1
    assert figures["at_per_message_total"] > figures["at_per_message"]  # init counted
    assert figures["commands"]["AT+CMGS"] == pytest.approx(7 / 5)
    assert 0 < figures["cmgs_ms_p50"] <= figures["cmgs_ms_p99"]
    assert figures["cpu_ms_per_message"] > 0
    assert report["ratio_ours_to_peer"] == {}

    printed = capsys.readouterr().out
    assert "smsgw driver   memory" in printed
    assert "gammu-smsd: skipped (--skip-gammu)" in printed


def test_a_missing_gammu_is_skipped_not_fatal(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    real_which = shutil.which
    monkeypatch.setattr(
        modem_throughput.shutil,
        "which",
        lambda name: None if name.startswith("gammu") else real_which(name),
    )
    argv = ["--messages", "1", "--long-every", "0", "--variants", "memory"]
    assert modem_throughput.main(argv) == 0
    assert "gammu-smsd: skipped, not installed" in capsys.readouterr().out


def test_percentile_is_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert modem_throughput.percentile(values, 50) == 50
    assert modem_throughput.percentile(values, 99) == 99
    assert modem_throughput.percentile([3.0], 99) == 3.0


def test_unknown_variants_are_refused() -> None:
    with pytest.raises(SystemExit):
        modem_throughput.parse_args(["--variants", "memory,serial"])

"""The readers benchmark still runs: tiny numbers, sane figures (it is not a timed test)."""

from __future__ import annotations

import pytest

from bench import readers as readers_bench


async def test_a_tiny_run_gives_both_pool_sizes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    args = readers_bench.parse_args(
        [
            "--conversations",
            "60",
            "--messages",
            "300",
            "--agents",
            "2",
            "--seconds",
            "1",
        ]
    )
    figures = await readers_bench.run(args)
    assert [f.pool_size for f in figures] == [1, 3]
    for figure in figures:
        assert figure.writes > 0
        assert 0 < figure.write_p50_ms <= figure.write_p99_ms
        assert figure.pages_per_s > 0
    readers_bench.report(figures)
    printed = capsys.readouterr().out
    assert "write p50 ms" in printed


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(SystemExit):
        readers_bench.parse_args(["--agents", "0"])

"""`python -m modem.sim`: arguments, and a run that serves PTYs and stops cleanly."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from simhelpers import Host, wait_until

from modem.sim import cli
from modem.transport import open_port


@pytest.mark.parametrize(
    "argv",
    [
        [],
        ["--tcp", "7000"],
        ["--tcp", "host:port"],
        ["--pty", "/tmp/x", "--number", "15550100001"],
        ["--pty", "/tmp/x", "--profile", "nokia"],
        ["--pty", "/tmp/x", "--modems", "0"],
    ],
)
def test_bad_arguments_exit_with_2(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as info:
        cli.parse_args(argv)
    assert info.value.code == 2
    assert "error" in capsys.readouterr().err


def test_numbers_count_up() -> None:
    assert cli.modem_number("+15550100001", 0) == "+15550100001"
    assert cli.modem_number("+15550100001", 2) == "+15550100003"
    assert cli.modem_number("+0100", 1) == "+0101"


@pytest.mark.integration
async def test_serves_several_modems_on_ptys_until_stopped(tmp_path: Path) -> None:
    scenario = tmp_path / "faults.json"
    scenario.write_text(json.dumps({"garbage_hex": "00", "garbage_count": 1}))
    link = tmp_path / "ttySIM"
    argv = [
        "--pty",
        str(link),
        "--modems",
        "2",
        "--profile",
        "quectel",
        "--latency",
        "1",
    ]
    args = cli.parse_args([*argv, "--faults", str(scenario), "--tcp", "127.0.0.1:0"])
    stop = asyncio.Event()
    task = asyncio.create_task(cli.serve(args, stop))
    second = tmp_path / "ttySIM1"
    await wait_until(second.is_symlink, 10)
    transport, host = await open_port(str(second), Host)
    assert isinstance(host, Host)
    assert await host.command("AT+CNUM") == (
        b'\x00AT+CNUM\r\r\n+CNUM: "","+15550100002",145\r\n\r\nOK\r\n'
    )
    assert await host.command("AT+CGMM") == b"AT+CGMM\r\r\nEC25\r\n\r\nOK\r\n"
    transport.close()
    await asyncio.wait_for(host.lost, 5)
    stop.set()
    await asyncio.wait_for(task, 10)
    assert not link.exists()
    assert not second.exists()

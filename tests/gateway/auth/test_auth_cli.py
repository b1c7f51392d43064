"""`smsgw user` and `smsgw token` through the real entry point, on a real database."""

from __future__ import annotations

import io
from collections.abc import Callable
from pathlib import Path

import pytest
from authhelpers import PASSWORD

from gateway import cli
from gateway.auth import cli as auth_cli
from gateway.config import Settings

Runner = Callable[..., tuple[int, str, str]]


@pytest.fixture
def call(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    settings: Settings,
) -> Runner:
    """`smsgw ARGV --config ...` with `stdin`: (exit status, stdout, stderr)."""

    def runner(*argv: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        status = cli.main([*argv, "--config", settings.source])
        captured = capsys.readouterr()
        return status, captured.out, captured.err

    return runner


def test_user_add_list_passwd_disable_enable(call: Runner) -> None:
    status, out, _ = call(
        "user", "add", "alice", "--role", "admin", "--name", "Alice A.",
        "--password-stdin", stdin=PASSWORD + "\n",
    )  # fmt: skip
    assert (status, out) == (0, "added alice (admin)\n")
    status, out, _ = call(
        "user", "add", "bob", "--role", "agent", "--password-stdin", stdin=PASSWORD
    )
    assert status == 0

    status, out, _ = call("user", "list")
    lines = out.splitlines()
    assert status == 0
    assert lines[0].split()[:3] == ["USERNAME", "ROLE", "STATUS"]
    assert lines[1].split()[:4] == ["alice", "admin", "active", "-"]
    assert lines[1].endswith("Alice A.")
    assert lines[2].split()[:3] == ["bob", "agent", "active"]

    status, out, _ = call(
        "user", "passwd", "bob", "--password-stdin", stdin="a new good password\n"
    )
    assert (status, out) == (0, "password of bob changed; their sessions ended\n")
    assert call("user", "disable", "bob")[:2] == (0, "bob disabled\n")
    assert "disabled" in call("user", "list")[1].splitlines()[2]
    assert call("user", "enable", "bob")[:2] == (0, "bob enabled\n")


def test_user_errors_say_what_and_change_nothing(call: Runner) -> None:
    args = ("user", "add", "alice", "--role", "agent", "--password-stdin")
    status, _, err = call(*args, stdin="short\n")
    assert status == 2
    assert "password: at least 10 characters" in err
    assert call(*args, stdin=PASSWORD)[0] == 0
    status, _, err = call(*args, stdin=PASSWORD)
    assert status == 1
    assert "already exists" in err
    status, _, err = call(*args, stdin="")
    assert status == 2
    assert "no password on standard input" in err
    status, _, err = call("user", "disable", "nobody")
    assert status == 1
    assert "user nobody not found" in err
    status, _, err = call(
        "user", "passwd", "nobody", "--password-stdin", stdin=PASSWORD
    )
    assert status == 1
    assert "not found" in err


def test_user_add_prompts_twice_without_password_stdin(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    answers = iter([PASSWORD, PASSWORD + "x"])
    prompts: list[str] = []

    def fake_getpass(prompt: str = "") -> str:
        prompts.append(prompt)
        return next(answers)

    monkeypatch.setattr(auth_cli.getpass, "getpass", fake_getpass)
    out, err = io.StringIO(), io.StringIO()
    argv = ["add", "alice", "--role", "admin", "--config", settings.source]
    assert auth_cli.user_main(argv, out=out, err=err) == 2
    assert prompts == ["Password for alice: ", "Again: "]
    assert "the two passwords differ" in err.getvalue()

    answers = iter([PASSWORD, PASSWORD])
    assert auth_cli.user_main(argv, out=out, err=err) == 0


def test_token_create_list_revoke(call: Runner) -> None:
    call("user", "add", "alice", "--role", "admin", "--password-stdin", stdin=PASSWORD)
    status, out, err = call("token", "create", "--user", "alice", "--name", "crm")
    token = out.strip()
    assert status == 0
    assert token.startswith("smsgw_")
    assert len(out.splitlines()) == 1
    assert "shown only now" in err
    assert token not in err

    status, out, _ = call("token", "list")
    lines = out.splitlines()
    assert lines[0].split() == [
        "ID", "NAME", "USER", "PREFIX", "CREATED", "LAST", "USED", "STATUS",
    ]  # fmt: skip
    assert lines[1].split()[:4] == ["1", "crm", "alice", token[:14] + "..."]
    assert lines[1].endswith("active")
    assert token not in out

    assert call("token", "revoke", "1")[:2] == (0, "token 1 (crm) revoked\n")
    assert "revoked" in call("token", "list", "--user", "alice")[1].splitlines()[1]
    status, _, err = call("token", "revoke", "7")
    assert status == 1
    assert "token 7 not found" in err
    status, _, err = call("token", "create", "--user", "nobody", "--name", "x")
    assert status == 1
    assert "not found" in err


def test_a_bad_config_is_reported(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    status = cli.main(["user", "list", "--config", str(tmp_path / "missing.ini")])
    assert status == 1
    assert "missing.ini" in capsys.readouterr().err


def test_no_action_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["user"]) == 2
    assert "add" in capsys.readouterr().err

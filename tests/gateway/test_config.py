"""gateway.ini -> Settings: typed values, derived defaults, and errors that say what to fix."""

from __future__ import annotations

import io
import zoneinfo
from pathlib import Path

import pytest

from gateway import config_cli
from gateway.config import (
    SETTINGS,
    ConfigError,
    load_settings,
    parse_settings,
)
from gateway.errors import ConfigProblem

MINIMAL = "[gateway]\ndefault_region = GB\n"


def parse(text: str, base_dir: Path = Path("/srv/smsgw")) -> object:
    return parse_settings(text, base_dir=base_dir, source="test.ini")


def problems_of(text: str) -> list[ConfigProblem]:
    with pytest.raises(ConfigError) as info:
        parse_settings(text, base_dir=Path("/srv/smsgw"), source="test.ini")
    return list(info.value.problems)


@pytest.fixture(autouse=True)
def _no_database_url_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    # These tests are about the file; a PostgreSQL run of the suite sets the variable.
    monkeypatch.delenv("SMSGW_DATABASE_URL", raising=False)


def test_the_environment_takes_the_place_of_the_database_url(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = "postgresql://gw:secret@db.example.com:5432/smsgw"
    monkeypatch.setenv("SMSGW_DATABASE_URL", url)
    settings = parse_settings(MINIMAL, base_dir=Path("/srv/smsgw"))
    assert settings.database.url == url
    assert settings.database.engine == "postgresql"


def test_a_bad_database_url_in_the_environment_is_named_not_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("SMSGW_DATABASE_URL", "mysql://gw:secret@db/smsgw")
    with pytest.raises(ConfigError) as info:
        parse_settings(MINIMAL, base_dir=Path("/srv/smsgw"))
    (problem,) = info.value.problems
    assert (problem.section, problem.key) == ("database", "url")
    assert problem.value == "$SMSGW_DATABASE_URL"
    assert "secret" not in str(info.value)


def test_minimal_file_gets_every_default() -> None:
    settings = parse_settings(MINIMAL, base_dir=Path("/srv/smsgw"))
    assert settings.gateway.default_region == "GB"
    assert settings.gateway.data_dir == Path("/srv/smsgw/var")
    assert settings.gateway.timezone == zoneinfo.ZoneInfo("UTC")
    assert settings.gateway.node_name  # the host name
    assert settings.database.path == Path("/srv/smsgw/var/gateway.db")
    assert settings.database.engine == "sqlite"
    assert settings.inbound.reassembly_timeout_s == 600.0
    assert settings.inbound.reopen_window_s == 7 * 86400.0
    assert settings.outbound.parts_per_minute == 10
    assert settings.web.port == 8080
    assert settings.web.base_url is None
    assert settings.modems == ()
    assert settings.simulator.enabled  # no modem section: the simulator runs
    assert "STOP" in settings.compliance.opt_out_keywords


def test_typed_values_and_units() -> None:
    settings = parse_settings(
        MINIMAL
        + """timezone = Europe/London
node_name = box-1
data_dir = /var/lib/smsgw
[database]
path = db/main.sqlite3
[web]
enabled = off
host = 0.0.0.0
port = 9000
base_url = https://sms.example.com/
[inbound]
reassembly_timeout_s = 90s
reopen_window_s = 2d
[outbound]
retry_base_s = 1.5m
retry_max_s = 1h
validity_s = 0
status_reports = FALSE
[compliance]
opt_out_keywords = stop,  opt   out , halt
help_reply =
""",
        base_dir=Path("/etc/smsgw"),
    )
    assert settings.gateway.timezone.key == "Europe/London"
    assert settings.gateway.node_name == "box-1"
    assert settings.gateway.data_dir == Path("/var/lib/smsgw")
    assert settings.database.path == Path("/var/lib/smsgw/db/main.sqlite3")
    assert settings.web.enabled is False
    assert settings.web.port == 9000
    assert settings.web.base_url == "https://sms.example.com"
    assert settings.inbound.reassembly_timeout_s == 90.0
    assert settings.inbound.reopen_window_s == 172800.0
    assert settings.outbound.retry_base_s == 90.0
    assert settings.outbound.retry_max_s == 3600.0
    assert settings.outbound.validity_s == 0.0
    assert settings.outbound.status_reports is False
    assert settings.compliance.opt_out_keywords == ("stop", "opt out", "halt")
    assert settings.compliance.help_reply == ""


def test_modem_sections() -> None:
    settings = parse_settings(
        MINIMAL
        + """[outbound]
parts_per_minute = 6
[modem:usb0]
port = /dev/serial/by-id/usb-Quectel_EC25-if02-port0
pin = 1234
profile = Quectel
own_number = +44 7700 900111
[modem:lab]
port = socket://192.168.1.20:7000
parts_per_minute = 20
enabled = no
""",
        base_dir=Path("/srv"),
    )
    usb0, lab = settings.modems
    assert usb0.name == "usb0"
    assert usb0.pin == "1234"
    assert usb0.profile == "quectel"
    assert usb0.own_number == "+447700900111"
    assert usb0.parts_per_minute == 6  # from [outbound]
    assert usb0.enabled
    assert lab.port == "socket://192.168.1.20:7000"
    assert lab.parts_per_minute == 20
    assert not lab.enabled
    assert settings.enabled_modems == (usb0,)
    assert not settings.simulator.enabled  # a modem is enabled: auto means off


def test_simulator_auto_runs_when_every_modem_is_disabled() -> None:
    settings = parse_settings(
        MINIMAL + "[modem:a]\nport = /dev/ttyUSB2\nenabled = no\n", base_dir=Path("/")
    )
    assert settings.simulator.enabled
    forced = parse_settings(MINIMAL + "[simulator]\nenabled = no\n", base_dir=Path("/"))
    assert not forced.simulator.enabled


@pytest.mark.parametrize(
    ("section", "key", "value", "expected_fragment"),
    [
        ("gateway", "default_region", "XX", "two-letter region code"),
        ("gateway", "timezone", "Europe/Lndon", "IANA time zone"),
        ("gateway", "log_level", "loud", "one of trace, debug, info"),
        ("gateway", "node_name", "my box", "letters, digits"),
        ("database", "url", "mysql://x/y", "postgresql://"),
        ("database", "batch_max_units", "0", "from 1 to 10000"),
        ("web", "port", "eighty", "whole number from 1 to 65535"),
        ("web", "port", "70000", "whole number from 1 to 65535"),
        ("web", "host", "not a host!", "host name or IP address"),
        ("web", "base_url", "ftp://x", "http:// or https://"),
        ("web", "enabled", "maybe", "yes or no"),
        ("inbound", "reassembly_timeout_s", "soon", "a duration"),
        ("inbound", "reassembly_timeout_s", "0", "at least 1s"),
        ("inbound", "reopen_window_s", "-1d", "a duration"),
        ("outbound", "max_attempts", "1.5", "whole number"),
        ("compliance", "opt_out_keywords", "STOP,,END", "comma-separated"),
        ("simulator", "number", "07700 900000", "international format"),
        ("simulator", "profile", "nokia", "one of generic, simcom"),
    ],
)
def test_each_bad_value_names_section_key_value_and_form(
    section: str, key: str, value: str, expected_fragment: str
) -> None:
    body = f"[{section}]\n{key} = {value}\n"
    text = body if section == "gateway" else MINIMAL + body
    if section == "gateway" and key != "default_region":
        text = MINIMAL + f"{key} = {value}\n"
    (problem,) = problems_of(text)
    assert (problem.section, problem.key, problem.value) == (section, key, value)
    assert expected_fragment in problem.expected
    message = str(ConfigError([problem], source="test.ini"))
    assert f"[{section}] {key}" in message
    assert repr(value) in message
    assert expected_fragment in message


@pytest.mark.parametrize(
    ("value", "ok"),
    [
        ("/dev/serial/by-id/usb-SimTech-if02-port0", True),
        ("/dev/pts/7", True),
        ("socket://127.0.0.1:7000", True),
        ("socket://modem.lan:7000", True),
        ("socket://127.0.0.1", False),
        ("socket://:7000", False),
        ("socket://127.0.0.1:port", False),
        ("ttyUSB0", False),
        ("COM3", False),
    ],
)
def test_modem_port_forms(value: str, ok: bool) -> None:
    text = MINIMAL + f"[modem:m]\nport = {value}\n"
    if ok:
        assert parse(text).modems[0].port == value  # type: ignore[attr-defined]
    else:
        (problem,) = problems_of(text)
        assert (problem.section, problem.key) == ("modem:m", "port")
        assert "socket://HOST:PORT" in problem.expected


def test_every_problem_is_collected_not_just_the_first() -> None:
    problems = problems_of(
        """[gatway]
x = 1
[web]
port = eighty
hots = 1
[modem:bad name]
port = /dev/x
[modem:u1]
pin = 12
[inbound]
reopen_window_s = later
"""
    )
    found = {(p.section, p.key) for p in problems}
    assert found == {
        ("gatway", None),
        ("web", "port"),
        ("web", "hots"),
        ("modem:bad name", None),
        ("modem:u1", "pin"),
        ("modem:u1", "port"),  # required, missing
        ("inbound", "reopen_window_s"),
        ("gateway", "default_region"),  # required, missing
    }


def test_unknown_names_get_suggestions() -> None:
    problems = {
        (p.section, p.key): p for p in problems_of("[gatway]\n[web]\nhots = x\n")
    }
    assert "did you mean [gateway]?" in problems[("gatway", None)].expected
    assert "did you mean host?" in problems[("web", "hots")].expected
    assert "one of enabled, host, port, base_url" in problems[("web", "hots")].expected


def test_missing_required_key_says_missing() -> None:
    (problem,) = problems_of("[web]\nport = 8080\n")
    assert (problem.section, problem.key, problem.value) == (
        "gateway",
        "default_region",
        None,
    )
    assert "missing" in str(problem)


def test_secret_values_are_not_echoed() -> None:
    (problem,) = problems_of(MINIMAL + "[modem:m]\nport = /dev/x\npin = 12ab\n")
    assert problem.key == "pin"
    assert problem.value == "***"
    assert "12ab" not in str(ConfigError([problem]))


def test_cross_key_rules_are_checked_alongside_single_keys() -> None:
    problems = problems_of(
        MINIMAL
        + """[outbound]
retry_base_s = 2h
retry_max_s = 30m
max_parts = 0
[compliance]
opt_in_keywords = START, STOP
[modem:a]
port = /dev/ttyUSB2
own_number = +447700900111
[modem:b]
port = /dev/ttyUSB2
own_number = +447700900111
"""
    )
    by_key = {(p.section, p.key): p for p in problems}
    assert set(by_key) == {
        ("outbound", "max_parts"),
        ("outbound", "retry_max_s"),
        ("compliance", "opt_in_keywords"),
        ("modem:b", "port"),
        ("modem:b", "own_number"),
    }
    assert "at least retry_base_s (2h)" in by_key[("outbound", "retry_max_s")].expected
    assert "[modem:a] has it" in by_key[("modem:b", "port")].expected
    assert "STOP" in by_key[("compliance", "opt_in_keywords")].expected


def test_simulator_control_port_must_not_clash_with_the_web_port() -> None:
    (problem,) = problems_of(MINIMAL + "[simulator]\ncontrol_port = 8080\n")
    assert (problem.section, problem.key) == ("simulator", "control_port")


@pytest.mark.parametrize(
    ("text", "section", "key"),
    [
        ("[web]\nport = 1\nport = 2\n", "web", "port"),
        ("port = 1\n[web]\n", "-", None),
        ("[web]\nport = 1\n[web]\n", "web", None),
        (MINIMAL + "[web]\nthis line has no equals sign\n", "web", None),
    ],
)
def test_syntax_errors_name_where(text: str, section: str, key: str | None) -> None:
    problems = problems_of(text)
    assert (problems[0].section, problems[0].key) == (section, key)
    assert "line" in problems[0].expected or "line" in str(problems[0].value)


def test_default_section_is_not_special() -> None:
    # configparser's [DEFAULT] would silently apply to every section; here it is unknown.
    (problem,) = problems_of(MINIMAL + "[DEFAULT]\nport = 1\n")
    assert problem.section == "DEFAULT"


def test_load_settings_reads_a_file_and_resolves_paths_from_it(tmp_path: Path) -> None:
    path = tmp_path / "etc" / "gateway.ini"
    path.parent.mkdir()
    path.write_text(MINIMAL + "data_dir = ../state\n", encoding="utf-8")
    settings = load_settings(path)
    assert settings.gateway.data_dir == (tmp_path / "state").resolve()
    assert settings.source == str(path)


def test_load_settings_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(tmp_path / "nope.ini")
    assert "readable" in str(info.value)
    assert "nope.ini" in str(info.value)


def test_postgresql_url_is_accepted_as_a_form() -> None:
    settings = parse_settings(
        MINIMAL + "[database]\nurl = postgresql://gw:secret@db.lan:5432/smsgw\n",
        base_dir=Path("/"),
    )
    assert settings.database.engine == "postgresql"


def test_config_error_details_are_json_ready() -> None:
    problems = problems_of("[web]\nport = x\n")
    details = ConfigError(problems, source="a.ini").details()
    assert details["source"] == "a.ini"
    assert {"section": "web", "key": "port", "value": "x"}.items() <= details[
        "problems"
    ][0].items()  # type: ignore[index]


def test_table_keys_are_unique() -> None:
    keys = [(s.section, s.key) for s in SETTINGS]
    assert len(keys) == len(set(keys))


def test_config_check_command(tmp_path: Path) -> None:
    good = tmp_path / "good.ini"
    good.write_text(MINIMAL + "[modem:usb0]\nport = /dev/ttyUSB2\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert config_cli.check(str(good), out, err) == 0
    assert "OK" in out.getvalue()
    assert "modem usb0: /dev/ttyUSB2" in out.getvalue()

    bad = tmp_path / "bad.ini"
    bad.write_text("[web]\nport = x\n", encoding="utf-8")
    out, err = io.StringIO(), io.StringIO()
    assert config_cli.check(str(bad), out, err) == 1
    assert "2 problems" in err.getvalue()
    assert "[web] port = 'x'" in err.getvalue()


def test_smsgw_config_is_wired_into_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    from gateway import cli

    assert cli.main(["config", "reference", "--format", "markdown"]) == 0
    assert "### `[gateway]`" in capsys.readouterr().out

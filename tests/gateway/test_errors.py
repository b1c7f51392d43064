"""The gateway error tree: codes and statuses for the web layer, data in every error."""

from __future__ import annotations

import pytest

from gateway.errors import (
    ConfigError,
    ConfigProblem,
    Conflict,
    GatewayError,
    InvalidInput,
    ModemUnavailable,
    NotFound,
    OptedOut,
    QuotaExceeded,
    SchemaTooNew,
    StorageError,
)


@pytest.mark.parametrize(
    ("error", "code", "status"),
    [
        (NotFound("message", 7), "not_found", 404),
        (Conflict("already assembled"), "conflict", 409),
        (InvalidInput("to", "not a number"), "invalid_input", 400),
        (ModemUnavailable("no modem is registered"), "modem_unavailable", 503),
        (OptedOut("+447700900123"), "opted_out", 409),
        (QuotaExceeded("too many parts"), "quota_exceeded", 429),
        (
            ConfigError([ConfigProblem("web", "port", "x", "a port")]),
            "invalid_config",
            400,
        ),
        (SchemaTooNew("gw.db", 9, 1), "schema_too_new", 500),
        (StorageError("closed"), "storage", 500),
    ],
)
def test_codes_and_statuses(error: GatewayError, code: str, status: int) -> None:
    assert isinstance(error, GatewayError)
    assert (error.code, error.http_status) == (code, status)
    assert str(error)
    assert type(error).__name__ in repr(error)


def test_invalid_input_names_field_and_reason() -> None:
    error = InvalidInput("to", "'hello' is not a phone number")
    assert str(error) == "to: 'hello' is not a phone number"
    assert error.details() == {"field": "to", "reason": "'hello' is not a phone number"}
    assert "field='to'" in repr(error)


def test_opted_out_masks_the_number_in_its_message() -> None:
    error = OptedOut("+447700900123")
    assert "+447700900123" not in str(error)
    assert "+4477\u20260123" in str(error)
    assert error.number == "+447700900123"


def test_config_error_lists_every_problem() -> None:
    error = ConfigError(
        [
            ConfigProblem("web", "port", "x", "a whole number from 1 to 65535"),
            ConfigProblem("gateway", "default_region", None, "a region code"),
            ConfigProblem("gatway", None, None, "a known section"),
        ],
        source="/etc/smsgw/gateway.ini",
    )
    lines = str(error).splitlines()
    assert lines[0] == "/etc/smsgw/gateway.ini: 3 problems"
    assert lines[1] == "  [web] port = 'x': expected a whole number from 1 to 65535"
    assert lines[2] == "  [gateway] default_region: missing; expected a region code"
    assert lines[3] == "  [gatway]: expected a known section"

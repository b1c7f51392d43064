"""The gateway's error tree: each error names what went wrong and maps to one HTTP status.

The web layer turns any `GatewayError` into one JSON shape from `code`, `http_status`,
`str(error)` and `details()`; nothing else needs to know about HTTP.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar

from gateway.logutil import mask_number


class GatewayError(Exception):
    """Base of every error the gateway raises on purpose."""

    code: ClassVar[str] = "internal"
    http_status: ClassVar[int] = 500

    def details(self) -> dict[str, object]:
        """Machine-readable fields beyond the message (for the JSON error body)."""
        return {}

    def __repr__(self) -> str:
        fields = ", ".join(f"{k}={v!r}" for k, v in self.details().items())
        return f"{type(self).__name__}({str(self)!r}{', ' if fields else ''}{fields})"


class NotFound(GatewayError):
    """No such thing (a message, a conversation, a contact...)."""

    code = "not_found"
    http_status = 404

    def __init__(self, kind: str, key: object) -> None:
        super().__init__(f"{kind} {key} not found")
        self.kind = kind
        self.key = key

    def details(self) -> dict[str, object]:
        return {"kind": self.kind, "key": str(self.key)}


class Conflict(GatewayError):
    """The request contradicts the current state (e.g. an idempotency key reused for another
    message)."""

    code = "conflict"
    http_status = 409


class InvalidInput(GatewayError):
    """A value from outside (API, form, CLI) is not acceptable; names the field and why."""

    code = "invalid_input"
    http_status = 400

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(f"{field}: {reason}")
        self.field = field
        self.reason = reason

    def details(self) -> dict[str, object]:
        return {"field": self.field, "reason": self.reason}


class ModemUnavailable(GatewayError):
    """No modem can take the work right now (none configured, none registered)."""

    code = "modem_unavailable"
    http_status = 503


class OptedOut(GatewayError):
    """The recipient opted out (STOP); nothing may be sent to them until they opt back in."""

    code = "opted_out"
    http_status = 409

    def __init__(self, number: str) -> None:
        super().__init__(f"recipient {mask_number(number)} has opted out")
        self.number = number

    def details(self) -> dict[str, object]:
        return {"number": self.number}


class QuotaExceeded(GatewayError):
    """A rate or size limit was hit (too many parts, too many requests)."""

    code = "quota_exceeded"
    http_status = 429


@dataclass(frozen=True, slots=True)
class ConfigProblem:
    """One thing wrong in a configuration: where, what was there, and what was expected."""

    section: str
    key: str | None  # None when the problem is the section itself
    value: str | None  # None when the key is missing
    expected: str

    def __str__(self) -> str:
        where = f"[{self.section}]" + (f" {self.key}" if self.key else "")
        if self.key is None:
            return f"{where}: expected {self.expected}"
        if self.value is None:
            return f"{where}: missing; expected {self.expected}"
        return f"{where} = {self.value!r}: expected {self.expected}"


class ConfigError(GatewayError):
    """A configuration that cannot be used; lists every problem found, not just the first."""

    code = "invalid_config"
    http_status = 400

    def __init__(
        self, problems: Sequence[ConfigProblem], source: str = "gateway.ini"
    ) -> None:
        self.problems = tuple(problems)
        self.source = source
        count = len(self.problems)
        lines = [f"{source}: {count} problem{'s' if count != 1 else ''}"]
        lines += [f"  {p}" for p in self.problems]
        super().__init__("\n".join(lines))

    def details(self) -> dict[str, object]:
        return {
            "source": self.source,
            "problems": [
                {
                    "section": p.section,
                    "key": p.key,
                    "value": p.value,
                    "expected": p.expected,
                }
                for p in self.problems
            ],
        }


class StorageError(GatewayError):
    """The database cannot be used as it is."""

    code = "storage"
    http_status = 500


class SchemaTooNew(StorageError):
    """The database was written by a newer smsgw; opening it could corrupt it."""

    code = "schema_too_new"

    def __init__(self, path: str, found: int, known: int) -> None:
        super().__init__(
            f"database {path} has schema version {found}, but this smsgw knows versions up "
            f"to {known}; refusing to open it (upgrade smsgw, or restore a backup made by "
            "this version)"
        )
        self.path = path
        self.found = found
        self.known = known

    def details(self) -> dict[str, object]:
        return {"path": self.path, "found": self.found, "known": self.known}

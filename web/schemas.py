"""JSON and form edges: records to JSON values, and request parameters parsed or refused
with InvalidInput naming the field (which the error middleware turns into a 400)."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from gateway.auth.records import Identity, TokenRecord, UserRecord
from gateway.domain import AuditRecord, JsonValue
from gateway.errors import InvalidInput
from gateway.overview.records import Health, ModemView

JsonDict = dict[str, JsonValue]


# ---------------------------------------------------------------------- input


def query_int(
    request: web.Request,
    name: str,
    *,
    default: int | None,
    minimum: int = 1,
    maximum: int | None = None,
) -> int | None:
    """A whole-number query parameter within bounds, or `default` when absent."""
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    return _whole(raw, name, minimum, maximum)


def path_int(request: web.Request, name: str) -> int:
    """A whole-number part of the path (an id)."""
    return _whole(request.match_info[name], name, 1, None)


def _whole(raw: str, name: str, minimum: int, maximum: int | None) -> int:
    try:
        value = int(raw)
    except ValueError:
        raise InvalidInput(name, f"a whole number, not {raw[:40]!r}") from None
    if value < minimum or (maximum is not None and value > maximum):
        bounds = f"at least {minimum}" if maximum is None else f"{minimum} to {maximum}"
        raise InvalidInput(name, f"{bounds}, not {value}")
    return value


async def form_fields(request: web.Request) -> dict[str, str]:
    """The text fields of a submitted form (file fields are refused)."""
    form = await request.post()
    fields: dict[str, str] = {}
    for name, value in form.items():
        if not isinstance(value, str):
            raise InvalidInput(name, "text, not a file")
        fields[name] = value
    return fields


# ---------------------------------------------------------------------- output


def when(value: datetime | None) -> str | None:
    """A time as JSON: ISO 8601 in UTC, with "Z" (2026-03-01T09:00:00Z)."""
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def user_out(user: UserRecord) -> JsonDict:
    return {
        "object": "user",
        "id": user.id,
        "username": user.username,
        "display_name": user.display_name,
        "role": user.role.value,
        "active": user.active,
        "created_at": when(user.created_at),
        "last_login_at": when(user.last_login_at),
    }


def identity_out(identity: Identity) -> JsonDict:
    return {
        "object": "identity",
        "user": user_out(identity.user),
        "method": identity.method.value,
        "actor": identity.actor,
    }


def token_out(token: TokenRecord) -> JsonDict:
    return {
        "object": "token",
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "user": token.username,
        "created_at": when(token.created_at),
        "last_used_at": when(token.last_used_at),
        "revoked_at": when(token.revoked_at),
    }


def modem_out(modem: ModemView) -> JsonDict:
    return {
        "object": "modem",
        "name": modem.name,
        "state": modem.state,
        "signal_dbm": modem.signal_dbm,
        "operator": modem.operator,
        "registration": modem.registration,
        "own_number": modem.own_number,
        "model": modem.model,
        "queue_depth": modem.queue_depth,
        "last_error": modem.last_error,
        "updated_at": when(modem.updated_at),
    }


def audit_out(event: AuditRecord) -> JsonDict:
    return {
        "object": "audit_event",
        "id": event.id,
        "actor": event.actor,
        "action": event.action,
        "subject": event.subject,
        "detail": dict(event.detail),
        "at": when(event.at),
    }


def health_out(health: Health) -> JsonDict:
    return {
        "ok": health.ok,
        "store": {"ok": health.store_ok},
        "modems": {
            "total": len(health.modems),
            "ready": health.ready_modems,
            "states": dict(health.modems),
        },
        "queue": {"unassigned": health.unassigned_queue},
    }

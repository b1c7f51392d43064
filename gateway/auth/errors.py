"""Errors of signing in and of permissions; the web layer maps them like any GatewayError."""

from __future__ import annotations

import math

from gateway.errors import GatewayError, QuotaExceeded


class NotAuthenticated(GatewayError):
    """No valid session or token came with the request."""

    code = "unauthorized"
    http_status = 401


class InvalidCredentials(NotAuthenticated):
    """Wrong username or password (which of the two is not said)."""

    code = "invalid_credentials"

    def __init__(self) -> None:
        super().__init__("wrong username or password")


class AccountDisabled(NotAuthenticated):
    """The password was right, but an admin disabled the account."""

    code = "account_disabled"

    def __init__(self, username: str) -> None:
        super().__init__(f"the account {username} is disabled; ask an admin")
        self.username = username


class Forbidden(GatewayError):
    """Signed in, but not allowed to do this (e.g. an agent on an admin page)."""

    code = "forbidden"
    http_status = 403


class CsrfRejected(Forbidden):
    """A state-changing request with the session cookie lacked the session's CSRF token."""

    code = "csrf_rejected"


class LoginThrottled(QuotaExceeded):
    """Too many failed sign-ins for a username or from an address within the window."""

    code = "login_throttled"

    def __init__(self, what: str, retry_after_s: float) -> None:
        super().__init__(
            f"too many failed sign-ins {what}; try again in {_wait(retry_after_s)}"
        )
        self.retry_after_s = retry_after_s

    def details(self) -> dict[str, object]:
        return {"retry_after_s": math.ceil(self.retry_after_s)}


def _wait(seconds: float) -> str:
    if seconds < 60:
        whole = max(1, math.ceil(seconds))
        return f"{whole} second{'s' if whole != 1 else ''}"
    minutes = math.ceil(seconds / 60)
    return f"{minutes} minute{'s' if minutes != 1 else ''}"

"""Errors in Twilio's terms: a numeric code, an HTTP status and a message.

The web layer renders them as Twilio does (`{"code", "message", "more_info", "status"}`);
the codes are Twilio's own, so clients that branch on `TwilioRestException.code` keep
working.
"""

from __future__ import annotations

from gateway.errors import GatewayError

MORE_INFO = "https://www.twilio.com/docs/errors/{code}"

# Twilio's codes, where one applies.
INVALID_PARAMETER = 20001  # a parameter's value cannot be used (paging, dates)
AUTHENTICATE = 20003  # bad or missing credentials, or another account's path
METHOD_NOT_ALLOWED = 20004
NOT_FOUND = 20404
INTERNAL = 20500
UNAVAILABLE = 20503
INVALID_TO = 21211
BODY_MISSING = 21602
TO_MISSING = 21604
FROM_NOT_USABLE = 21606  # a From of this box that the account may not send from
STATUS_CALLBACK_INVALID = 21609
UNSUBSCRIBED = 21610
BODY_TOO_LONG = 21617
MEDIA_UNSUPPORTED = 21620


class TwilioApiError(GatewayError):
    """An answer Twilio's API would give: its error code, HTTP status and message."""

    code = "twilio"
    http_status = 400

    def __init__(self, twilio_code: int, message: str, *, status: int = 400) -> None:
        super().__init__(message)
        self.twilio_code = twilio_code
        self.status = status

    @property
    def more_info(self) -> str:
        return MORE_INFO.format(code=self.twilio_code)

    def details(self) -> dict[str, object]:
        return {"twilio_code": self.twilio_code, "status": self.status}


def authenticate() -> TwilioApiError:
    """Wrong, missing or mismatched credentials (Twilio says no more than this)."""
    return TwilioApiError(AUTHENTICATE, "Authenticate", status=401)


def not_found(path: str) -> TwilioApiError:
    return TwilioApiError(
        NOT_FOUND, f"The requested resource {path} was not found", status=404
    )


def invalid_parameter(name: str, reason: str) -> TwilioApiError:
    return TwilioApiError(INVALID_PARAMETER, f"Invalid parameter {name}: {reason}")

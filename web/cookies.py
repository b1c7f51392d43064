"""The session cookie: its name and flags, derived from settings once."""

from __future__ import annotations

from dataclasses import dataclass

from aiohttp import web

from gateway.config import Settings

SESSION_COOKIE = "smsgw_session"


@dataclass(frozen=True, slots=True)
class CookiePolicy:
    secure: bool  # sent over HTTPS only
    max_age_s: int  # the session's absolute lifetime: the browser may keep it that long

    @classmethod
    def from_settings(cls, settings: Settings) -> CookiePolicy:
        mode = settings.auth.cookie_secure
        https = (settings.web.base_url or "").startswith("https://")
        secure = mode == "yes" or (mode == "auto" and https)
        return cls(secure=secure, max_age_s=int(settings.auth.session_max_age_s))

    def set_session(self, response: web.StreamResponse, token: str) -> None:
        """Put a new session's token in the cookie: HttpOnly, SameSite=Lax."""
        response.set_cookie(
            SESSION_COOKIE,
            token,
            max_age=self.max_age_s,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="Lax",
        )

    def clear_session(self, response: web.StreamResponse) -> None:
        response.del_cookie(
            SESSION_COOKIE, path="/", secure=self.secure, httponly=True, samesite="Lax"
        )

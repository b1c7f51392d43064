"""The frozen values AuthService hands out: users, sessions, tokens and who is calling."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from gateway.domain import UserRole


@dataclass(frozen=True, slots=True)
class UserRecord:
    id: int
    username: str
    display_name: str
    role: UserRole
    active: bool
    created_at: datetime
    last_login_at: datetime | None

    @property
    def is_admin(self) -> bool:
        return self.role is UserRole.ADMIN


@dataclass(frozen=True, slots=True)
class SessionRecord:
    id: int
    user_id: int
    created_at: datetime
    last_seen_at: datetime
    expires_at: (
        datetime  # the absolute end; the idle end is last_seen_at + idle timeout
    )
    address: str | None


@dataclass(frozen=True, slots=True)
class TokenRecord:
    """An API token as listed: never the token itself (only its first characters)."""

    id: int
    name: str
    prefix: str
    user_id: int
    username: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None


class AuthMethod(enum.StrEnum):
    SESSION = "session"  # the browser's cookie
    TOKEN = "token"  # Authorization: Bearer


@dataclass(frozen=True, slots=True)
class Identity:
    """Who is making a request, and how they proved it. A token acts with its owner's role."""

    user: UserRecord
    method: AuthMethod
    credential_id: int  # the session's or the token's id
    csrf_token: str | None = None  # sessions only: state-changing requests must echo it
    token_name: str | None = None

    @property
    def actor(self) -> str:
        """The audit log's name for this caller: user:alice or token:crm#3."""
        if self.method is AuthMethod.TOKEN:
            return f"token:{self.token_name}#{self.credential_id}"
        return f"user:{self.user.username}"

    @property
    def is_admin(self) -> bool:
        return self.user.is_admin


@dataclass(frozen=True, slots=True)
class NewSession:
    """A session just opened: `token` goes into the cookie and is never seen again."""

    token: str
    identity: Identity
    session: SessionRecord


@dataclass(frozen=True, slots=True)
class NewToken:
    """An API token just created: `token` is shown once, only its hash is kept."""

    token: str
    record: TokenRecord

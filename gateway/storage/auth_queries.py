"""Units of work for users, sessions, API tokens and failed sign-ins (run by `Store.run`).

Like queries.py: synchronous, explicit arguments, every time passed in as `now`, frozen
records out (gateway.auth.records), never model instances. AuthService composes several of
them, with `queries.record_audit`, into one unit where a change and its audit entry must
commit together.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import peewee

from gateway.auth.records import SessionRecord, TokenRecord, UserRecord
from gateway.domain import UserRole
from gateway.errors import Conflict, NotFound
from gateway.storage.auth_models import LoginFailure, WebSession
from gateway.storage.models import ApiToken, User


def _user(row: Any) -> UserRecord:
    return UserRecord(
        id=row.id,
        username=row.username,
        display_name=row.display_name,
        role=row.role,
        active=row.active,
        created_at=row.created_at,
        last_login_at=row.last_login_at,
    )


def _session(row: Any) -> SessionRecord:
    return SessionRecord(
        id=row.id,
        user_id=row.user_id,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        expires_at=row.expires_at,
        address=row.address,
    )


def _token(row: Any, username: str) -> TokenRecord:
    return TokenRecord(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        user_id=row.user_id,
        username=username,
        created_at=row.created_at,
        last_used_at=row.last_used_at,
        revoked_at=row.revoked_at,
    )


# ------------------------------------------------------------------ users


def create_user(
    username: str,
    *,
    display_name: str,
    role: UserRole,
    password_hash: str,
    now: datetime,
) -> UserRecord:
    """A new active user; Conflict when the username is taken."""
    if User.select().where(User.username == username).exists():
        raise Conflict(f"user {username} already exists")
    row = User.create(
        username=username,
        display_name=display_name,
        role=role,
        password_hash=password_hash,
        active=True,
        created_at=now,
    )
    return _user(row)


def _user_row(username: str) -> Any:
    row = User.get_or_none(User.username == username)
    if row is None:
        raise NotFound("user", username)
    return row


def get_user(user_id: int) -> UserRecord:
    """The user; NotFound if there is none."""
    row = User.get_or_none(User.id == user_id)
    if row is None:
        raise NotFound("user", user_id)
    return _user(row)


def find_user(username: str) -> UserRecord:
    """The user with this username; NotFound if there is none."""
    return _user(_user_row(username))


def user_credentials(username: str) -> tuple[UserRecord, str] | None:
    """The user and their password hash, for signing in; None for an unknown username."""
    row = User.get_or_none(User.username == username)
    return None if row is None else (_user(row), row.password_hash)


def list_users() -> list[UserRecord]:
    """Every user, active first, then by username."""
    query = User.select().order_by(User.active.desc(), User.username)
    return [_user(row) for row in query]


def count_users(*, active_only: bool = True) -> int:
    query = User.select()
    if active_only:
        query = query.where(User.active == True)  # noqa: E712 - a peewee expression
    return int(query.count())


def set_password_hash(username: str, password_hash: str) -> UserRecord:
    """Replace the user's password hash; NotFound for an unknown username."""
    row = _user_row(username)
    row.password_hash = password_hash
    row.save()
    return _user(row)


def set_user_active(username: str, active: bool) -> UserRecord:
    """Enable or disable a user; NotFound for an unknown username."""
    row = _user_row(username)
    row.active = active
    row.save()
    return _user(row)


def set_last_login(user_id: int, now: datetime) -> None:
    User.update(last_login_at=now).where(User.id == user_id).execute()


# ------------------------------------------------------------------ sessions


def create_session(
    user_id: int,
    token_hash: str,
    *,
    now: datetime,
    expires_at: datetime,
    address: str | None,
    user_agent: str | None,
) -> SessionRecord:
    row = WebSession.create(
        token_hash=token_hash,
        user=user_id,
        created_at=now,
        last_seen_at=now,
        expires_at=expires_at,
        address=address,
        user_agent=user_agent,
    )
    return _session(row)


def session_by_hash(token_hash: str) -> tuple[SessionRecord, UserRecord] | None:
    """The session with this token hash and its user; None when there is none."""
    row = (
        WebSession.select(WebSession, User)
        .join(User)
        .where(WebSession.token_hash == token_hash)
        .first()
    )
    return None if row is None else (_session(row), _user(row.user))


def touch_session(session_id: int, now: datetime) -> None:
    WebSession.update(last_seen_at=now).where(WebSession.id == session_id).execute()


def delete_session(session_id: int) -> bool:
    """End one session; whether it existed."""
    return bool(WebSession.delete().where(WebSession.id == session_id).execute())


def delete_sessions_of(user_id: int) -> int:
    """End every session of a user; how many there were."""
    return int(WebSession.delete().where(WebSession.user == user_id).execute())


def purge_sessions(*, now: datetime, idle_since: datetime) -> int:
    """Delete sessions past their end or unused since `idle_since`; how many."""
    query = WebSession.delete().where(
        (WebSession.expires_at <= now) | (WebSession.last_seen_at <= idle_since)
    )
    return int(query.execute())


# ------------------------------------------------------------------ failed sign-ins


def record_login_failure(username: str, address: str, now: datetime) -> None:
    LoginFailure.create(username=username, address=address, at=now)


def recent_failures(
    *,
    since: datetime,
    limit: int,
    username: str | None = None,
    address: str | None = None,
) -> list[datetime]:
    """Times of failed sign-ins after `since` for a username or an address, newest first."""
    query = LoginFailure.select(LoginFailure.at).where(LoginFailure.at > since)
    if username is not None:
        query = query.where(LoginFailure.username == username)
    if address is not None:
        query = query.where(LoginFailure.address == address)
    rows = query.order_by(LoginFailure.at.desc()).limit(limit)
    return [row.at for row in rows]


def clear_login_failures(username: str) -> int:
    """Forget a username's failed sign-ins (after a successful one); how many."""
    return int(LoginFailure.delete().where(LoginFailure.username == username).execute())


def purge_login_failures(before: datetime) -> int:
    """Forget failed sign-ins older than the window; how many."""
    return int(LoginFailure.delete().where(LoginFailure.at <= before).execute())


# ------------------------------------------------------------------ API tokens


def create_token(
    user_id: int, name: str, token_hash: str, *, prefix: str, now: datetime
) -> TokenRecord:
    row = ApiToken.create(
        name=name, token_hash=token_hash, prefix=prefix, user=user_id, created_at=now
    )
    owner = User.get_by_id(user_id)
    return _token(row, owner.username)


def _tokens_query() -> Any:
    return ApiToken.select(ApiToken, User).join(User, peewee.JOIN.LEFT_OUTER)


def token_by_hash(token_hash: str) -> tuple[TokenRecord, UserRecord] | None:
    """The token with this hash and its owner; None when there is none."""
    row = _tokens_query().where(ApiToken.token_hash == token_hash).first()
    if row is None or row.user_id is None:
        return None
    return _token(row, row.user.username), _user(row.user)


def get_token(token_id: int) -> TokenRecord:
    """The token; NotFound if there is none."""
    row = _tokens_query().where(ApiToken.id == token_id).first()
    if row is None:
        raise NotFound("token", token_id)
    return _token(row, row.user.username if row.user_id else "")


def list_tokens(*, user_id: int | None = None) -> list[TokenRecord]:
    """API tokens, newest first (revoked ones too: the list is also their history)."""
    query = _tokens_query().order_by(ApiToken.id.desc())
    if user_id is not None:
        query = query.where(ApiToken.user == user_id)
    return [_token(row, row.user.username if row.user_id else "") for row in query]


def touch_token(token_id: int, now: datetime) -> None:
    ApiToken.update(last_used_at=now).where(ApiToken.id == token_id).execute()


def revoke_token(token_id: int, now: datetime) -> TokenRecord:
    """Revoke a token (a revoked one stays revoked, at its first time); NotFound if none."""
    ApiToken.update(revoked_at=now).where(
        (ApiToken.id == token_id) & ApiToken.revoked_at.is_null()
    ).execute()
    return get_token(token_id)

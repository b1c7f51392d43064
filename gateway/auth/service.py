"""AuthService: users, sign-in and sessions, API tokens; every change audited in its unit.

The web layer and the CLI call this; it knows nothing of HTTP. Secrets never leave it
except once, at birth (a new session's cookie value, a new API token): only their SHA-256
is stored, and they are never logged.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from gateway.auth import credentials
from gateway.auth.errors import (
    AccountDisabled,
    InvalidCredentials,
    LoginThrottled,
    NotAuthenticated,
)
from gateway.auth.passwords import Passwords
from gateway.auth.records import (
    AuthMethod,
    Identity,
    NewSession,
    NewToken,
    SessionRecord,
    TokenRecord,
    UserRecord,
)
from gateway.config import AuthSettings
from gateway.domain import UserRole, utcnow
from gateway.errors import InvalidInput
from gateway.storage import auth_queries, queries
from gateway.storage.db import Store

_LOGGER = logging.getLogger(__name__)

# last_seen_at / last_used_at are written at most this often per session or token: a
# request then costs no write, and the idle timeout is exact to within this much.
TOUCH_INTERVAL_S = 60.0
MAX_USER_AGENT = 300


@dataclass(frozen=True, slots=True)
class _Throttle:
    window_s: float
    username_limit: int
    address_limit: int


class AuthService:
    """Who may use the box, and proof of who is calling."""

    def __init__(
        self,
        store: Store,
        settings: AuthSettings,
        *,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self.settings = settings
        self._clock = clock
        self.passwords = Passwords(min_length=settings.min_password_length)
        self._throttle = _Throttle(
            settings.login_failure_window_s,
            settings.login_failure_limit,
            settings.login_address_failure_limit,
        )

    # -------------------------------------------------------------- users

    async def add_user(
        self,
        username: str,
        password: str,
        *,
        role: UserRole | str,
        display_name: str | None = None,
        actor: str,
    ) -> UserRecord:
        """A new active user; InvalidInput for a bad field, Conflict for a taken name."""
        name = credentials.normal_username(username)
        role = _role(role)
        label = credentials.normal_label(
            display_name or name,
            field="display_name",
            max_length=credentials.MAX_DISPLAY_NAME,
        )
        self.passwords.check_rules(password)
        password_hash = await self.passwords.hash(password)
        user = await self._store.run(
            _add_user_unit, name, label, role, password_hash, self._clock(), actor
        )
        _LOGGER.info("user %s (%s) added by %s", user.username, role.value, actor)
        return user

    async def list_users(self) -> list[UserRecord]:
        return await self._store.read(auth_queries.list_users)

    async def get_user(self, user_id: int) -> UserRecord:
        """The user; NotFound if there is none."""
        return await self._store.read(auth_queries.get_user, user_id)

    async def has_users(self) -> bool:
        """Whether any active user exists (a new box has none: nobody can sign in)."""
        return await self._store.read(auth_queries.count_users) > 0

    async def set_password(
        self, username: str, password: str, *, actor: str
    ) -> UserRecord:
        """Replace a user's password and end their sessions (a stolen one stops working)."""
        name = credentials.normal_username(username)
        self.passwords.check_rules(password)
        password_hash = await self.passwords.hash(password)
        return await self._store.run(
            _set_password_unit, name, password_hash, self._clock(), actor
        )

    async def set_active(
        self, username: str, active: bool, *, actor: str
    ) -> UserRecord:
        """Enable or disable a user; disabling ends their sessions and stops their tokens."""
        name = credentials.normal_username(username)
        user = await self._store.run(
            _set_active_unit, name, active, self._clock(), actor
        )
        _LOGGER.info(
            "user %s %s by %s", name, "enabled" if active else "disabled", actor
        )
        return user

    # -------------------------------------------------------------- sessions

    async def login(
        self,
        username: str,
        password: str,
        *,
        address: str,
        user_agent: str | None = None,
    ) -> NewSession:
        """Check a password and open a session.

        Raises LoginThrottled (before looking at the password) while the username or the
        address has too many recent failures, InvalidCredentials for a wrong username or
        password, AccountDisabled for a right password on a disabled account.
        """
        name = username.strip().lower()[:64]
        now = self._clock()
        found = await self._store.run(
            _begin_login_unit, name, address, now, self._throttle
        )
        user, stored_hash = found if found is not None else (None, None)
        if not await self.passwords.verify(stored_hash, password) or user is None:
            await self._store.run(
                _failed_login_unit, name, address, self._clock(), self._throttle
            )
            raise InvalidCredentials
        if not user.active:
            raise AccountDisabled(user.username)
        rehash = None
        if stored_hash is not None and self.passwords.needs_rehash(stored_hash):
            rehash = await self.passwords.hash(password)
        token = credentials.new_session_token()
        now = self._clock()
        session = await self._store.run(
            _open_session_unit,
            user,
            credentials.token_hash(token),
            now,
            now + timedelta(seconds=self.settings.session_max_age_s),
            now - timedelta(seconds=self.settings.session_idle_timeout_s),
            address,
            (user_agent or "")[:MAX_USER_AGENT] or None,
            rehash,
        )
        _LOGGER.info("user %s signed in from %s", user.username, address)
        identity = _session_identity(user, session.id, token)
        return NewSession(token=token, identity=identity, session=session)

    async def authenticate_session(self, token: str) -> Identity:
        """The identity behind a session cookie; NotAuthenticated when it is not (or no
        longer) valid."""
        found = await self._store.run(
            _session_unit,
            credentials.token_hash(token),
            self._clock(),
            self.settings.session_idle_timeout_s,
        )
        if found is None:
            raise NotAuthenticated("your session has ended; sign in again")
        session, user = found
        return _session_identity(user, session.id, token)

    async def logout(self, identity: Identity) -> None:
        """End the session the identity came with (a token's identity: nothing to end)."""
        if identity.method is not AuthMethod.SESSION:
            return
        await self._store.run(
            _logout_unit, identity.credential_id, identity.actor, self._clock()
        )
        _LOGGER.info("user %s signed out", identity.user.username)

    # -------------------------------------------------------------- API tokens

    async def create_token(self, username: str, name: str, *, actor: str) -> NewToken:
        """A new API token for a user, acting with that user's role; shown only now."""
        owner = credentials.normal_username(username, field="user")
        label = credentials.normal_label(
            name, field="name", max_length=credentials.MAX_TOKEN_NAME
        )
        token = credentials.new_api_token()
        record = await self._store.run(
            _create_token_unit,
            owner,
            label,
            credentials.token_hash(token),
            token[: credentials.API_TOKEN_SHOWN_CHARS],
            self._clock(),
            actor,
        )
        _LOGGER.info(
            "API token %d (%s) for %s created by %s", record.id, label, owner, actor
        )
        return NewToken(token=token, record=record)

    async def list_tokens(self, username: str | None = None) -> list[TokenRecord]:
        """API tokens (revoked ones too), of one user or of all, newest first."""
        if username is None:
            return await self._store.read(auth_queries.list_tokens)
        user = await self._store.read(
            auth_queries.find_user, credentials.normal_username(username, field="user")
        )
        return await self._store.read(auth_queries.list_tokens, user_id=user.id)

    async def revoke_token(self, token_id: int, *, actor: str) -> TokenRecord:
        """Revoke a token at once; NotFound if there is none."""
        record = await self._store.run(
            _revoke_token_unit, token_id, self._clock(), actor
        )
        _LOGGER.info("API token %d revoked by %s", token_id, actor)
        return record

    async def authenticate_token(self, token: str) -> Identity:
        """The identity behind a bearer token; NotAuthenticated unless it is valid (not
        revoked, its owner active)."""
        found = await self._store.run(
            _token_unit, credentials.token_hash(token), self._clock()
        )
        if found is None:
            raise NotAuthenticated("the bearer token is not valid")
        record, user = found
        return Identity(
            user=user,
            method=AuthMethod.TOKEN,
            credential_id=record.id,
            token_name=record.name,
        )


def _role(role: UserRole | str) -> UserRole:
    try:
        return UserRole(role)
    except ValueError:
        options = ", ".join(r.value for r in UserRole)
        raise InvalidInput("role", f"one of {options}") from None


def _session_identity(user: UserRecord, session_id: int, token: str) -> Identity:
    return Identity(
        user=user,
        method=AuthMethod.SESSION,
        credential_id=session_id,
        csrf_token=credentials.csrf_token(token),
    )


# ------------------------------------------------------------------ units of work
# Each runs on the store's thread in one transaction: a change and its audit entry commit
# together or not at all.


def _add_user_unit(
    username: str,
    display_name: str,
    role: UserRole,
    password_hash: str,
    now: datetime,
    actor: str,
) -> UserRecord:
    user = auth_queries.create_user(
        username,
        display_name=display_name,
        role=role,
        password_hash=password_hash,
        now=now,
    )
    queries.record_audit(
        actor,
        "user.create",
        f"user:{username}",
        now=now,
        detail={"role": role.value, "display_name": display_name},
    )
    return user


def _set_password_unit(
    username: str, password_hash: str, now: datetime, actor: str
) -> UserRecord:
    user = auth_queries.set_password_hash(username, password_hash)
    ended = auth_queries.delete_sessions_of(user.id)
    queries.record_audit(
        actor,
        "user.password",
        f"user:{username}",
        now=now,
        detail={"sessions_ended": ended},
    )
    return user


def _set_active_unit(
    username: str, active: bool, now: datetime, actor: str
) -> UserRecord:
    user = auth_queries.set_user_active(username, active)
    ended = 0 if active else auth_queries.delete_sessions_of(user.id)
    queries.record_audit(
        actor,
        "user.enable" if active else "user.disable",
        f"user:{username}",
        now=now,
        detail={"sessions_ended": ended} if not active else None,
    )
    return user


def _begin_login_unit(
    username: str, address: str, now: datetime, throttle: _Throttle
) -> tuple[UserRecord, str] | None:
    since = now - timedelta(seconds=throttle.window_s)
    checks = (
        ("for this username", throttle.username_limit, {"username": username}),
        ("from this address", throttle.address_limit, {"address": address}),
    )
    for what, limit, key in checks:
        failures = auth_queries.recent_failures(since=since, limit=limit, **key)
        wait = credentials.throttle_wait_s(
            failures, limit=limit, window_s=throttle.window_s, now=now
        )
        if wait is not None:
            raise LoginThrottled(what, wait)
    return auth_queries.user_credentials(username)


def _failed_login_unit(
    username: str, address: str, now: datetime, throttle: _Throttle
) -> None:
    since = now - timedelta(seconds=throttle.window_s)
    auth_queries.purge_login_failures(since)
    auth_queries.record_login_failure(username, address, now)
    subject = f"user:{username}"
    queries.record_audit(f"address:{address}", "auth.login_failed", subject, now=now)
    count = len(
        auth_queries.recent_failures(
            since=since, limit=throttle.username_limit, username=username
        )
    )
    if count == throttle.username_limit:
        queries.record_audit(
            "system",
            "auth.login_locked",
            subject,
            now=now,
            detail={"failures": count, "window_s": throttle.window_s},
        )
        _LOGGER.warning(
            "sign-in for %s refused for a while: %d failures (last from %s)",
            username,
            count,
            address,
        )


def _open_session_unit(
    user: UserRecord,
    token_hash: str,
    now: datetime,
    expires_at: datetime,
    idle_since: datetime,
    address: str,
    user_agent: str | None,
    rehash: str | None,
) -> SessionRecord:
    auth_queries.clear_login_failures(user.username)
    auth_queries.purge_sessions(now=now, idle_since=idle_since)
    if rehash is not None:
        auth_queries.set_password_hash(user.username, rehash)
    auth_queries.set_last_login(user.id, now)
    session = auth_queries.create_session(
        user.id,
        token_hash,
        now=now,
        expires_at=expires_at,
        address=address,
        user_agent=user_agent,
    )
    queries.record_audit(
        f"user:{user.username}",
        "auth.login",
        f"user:{user.username}",
        now=now,
        detail={"address": address, "session_id": session.id},
    )
    return session


def _session_unit(
    token_hash: str, now: datetime, idle_timeout_s: float
) -> tuple[SessionRecord, UserRecord] | None:
    found = auth_queries.session_by_hash(token_hash)
    if found is None:
        return None
    session, user = found
    reason = credentials.session_expiry_reason(
        last_seen_at=session.last_seen_at,
        expires_at=session.expires_at,
        now=now,
        idle_timeout_s=idle_timeout_s,
    )
    if reason is not None or not user.active:
        auth_queries.delete_session(session.id)
        return None
    if (now - session.last_seen_at).total_seconds() >= TOUCH_INTERVAL_S:
        auth_queries.touch_session(session.id, now)
    return session, user


def _logout_unit(session_id: int, actor: str, now: datetime) -> None:
    if auth_queries.delete_session(session_id):
        queries.record_audit(
            actor, "auth.logout", actor, now=now, detail={"session_id": session_id}
        )


def _create_token_unit(
    username: str, name: str, token_hash: str, prefix: str, now: datetime, actor: str
) -> TokenRecord:
    owner = auth_queries.find_user(username)
    record = auth_queries.create_token(
        owner.id, name, token_hash, prefix=prefix, now=now
    )
    queries.record_audit(
        actor,
        "token.create",
        f"token:{record.id}",
        now=now,
        detail={"name": name, "user": username, "prefix": prefix},
    )
    return record


def _revoke_token_unit(token_id: int, now: datetime, actor: str) -> TokenRecord:
    record = auth_queries.revoke_token(token_id, now)
    queries.record_audit(
        actor,
        "token.revoke",
        f"token:{token_id}",
        now=now,
        detail={"name": record.name, "user": record.username},
    )
    return record


def _token_unit(
    token_hash: str, now: datetime
) -> tuple[TokenRecord, UserRecord] | None:
    found = auth_queries.token_by_hash(token_hash)
    if found is None:
        return None
    record, user = found
    if not record.active or not user.active:
        return None
    seen = record.last_used_at
    if seen is None or (now - seen).total_seconds() >= TOUCH_INTERVAL_S:
        auth_queries.touch_token(record.id, now)
    return record, user

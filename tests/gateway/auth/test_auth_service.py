"""AuthService over a real database: users, passwords, sessions, tokens, throttling, audit."""

from __future__ import annotations

import pytest
from authhelpers import PASSWORD, Clock

from gateway.auth import passwords
from gateway.auth.errors import (
    AccountDisabled,
    InvalidCredentials,
    LoginThrottled,
    NotAuthenticated,
)
from gateway.auth.records import AuthMethod
from gateway.auth.service import TOUCH_INTERVAL_S, AuthService
from gateway.config import Settings
from gateway.domain import UserRole
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.storage import auth_queries, queries
from gateway.storage.db import Store

ADDRESS = "192.0.2.7"


async def _actions(store: Store) -> list[tuple[str, str, str]]:
    events = await store.run(queries.list_audit, limit=100)
    return [(e.actor, e.action, e.subject) for e in reversed(events)]


async def test_a_user_is_stored_with_an_argon2id_hash_never_the_password(
    auth: AuthService, store: Store
) -> None:
    user = await auth.add_user(
        "Alice", PASSWORD, role="admin", display_name="Alice A.", actor="cli:root"
    )
    assert (user.username, user.role, user.display_name, user.active) == (
        "alice",
        UserRole.ADMIN,
        "Alice A.",
        True,
    )
    found = await store.run(auth_queries.user_credentials, "alice")
    assert found is not None
    stored = found[1]
    assert stored.startswith("$argon2id$")
    assert PASSWORD not in stored
    assert await auth.passwords.verify(stored, PASSWORD)
    assert not await auth.passwords.verify(stored, PASSWORD + "!")
    assert await _actions(store) == [("cli:root", "user.create", "user:alice")]


async def test_user_input_is_checked(auth: AuthService) -> None:
    await auth.add_user("alice", PASSWORD, role="agent", actor="t")
    with pytest.raises(Conflict):
        await auth.add_user("ALICE", PASSWORD, role="agent", actor="t")
    cases = [
        ({"username": "bob", "password": "short", "role": "agent"}, "password"),
        ({"username": "bob", "password": PASSWORD, "role": "boss"}, "role"),
        ({"username": "b b", "password": PASSWORD, "role": "agent"}, "username"),
    ]
    for fields, field in cases:
        with pytest.raises(InvalidInput) as info:
            await auth.add_user(
                fields["username"], fields["password"], role=fields["role"], actor="t"
            )
        assert info.value.field == field
    assert [u.username for u in await auth.list_users()] == ["alice"]


async def test_login_opens_a_session_that_authenticates(
    auth: AuthService, store: Store
) -> None:
    await auth.add_user("alice", PASSWORD, role="agent", actor="t")
    new = await auth.login(" Alice ", PASSWORD, address=ADDRESS, user_agent="test")
    assert new.identity.method is AuthMethod.SESSION
    assert new.identity.actor == "user:alice"
    assert new.identity.csrf_token
    identity = await auth.authenticate_session(new.token)
    assert identity.user.username == "alice"
    assert identity.csrf_token == new.identity.csrf_token
    assert (await auth.get_user(identity.user.id)).last_login_at is not None
    with pytest.raises(NotAuthenticated):
        await auth.authenticate_session(new.token + "x")
    assert ("user:alice", "auth.login", "user:alice") in await _actions(store)


async def test_wrong_password_and_unknown_user_look_the_same(
    auth: AuthService, store: Store
) -> None:
    await auth.add_user("alice", PASSWORD, role="agent", actor="t")
    with pytest.raises(InvalidCredentials) as wrong:
        await auth.login("alice", "not the password", address=ADDRESS)
    with pytest.raises(InvalidCredentials) as unknown:
        await auth.login("mallory", PASSWORD, address=ADDRESS)
    assert str(wrong.value) == str(unknown.value) == "wrong username or password"
    failed = [a for a in await _actions(store) if a[1] == "auth.login_failed"]
    assert failed == [
        (f"address:{ADDRESS}", "auth.login_failed", "user:alice"),
        (f"address:{ADDRESS}", "auth.login_failed", "user:mallory"),
    ]


async def test_a_disabled_user_cannot_sign_in_and_loses_sessions_and_tokens(
    auth: AuthService, store: Store
) -> None:
    await auth.add_user("alice", PASSWORD, role="agent", actor="t")
    session = await auth.login("alice", PASSWORD, address=ADDRESS)
    token = await auth.create_token("alice", "crm", actor="t")
    await auth.set_active("alice", False, actor="user:admin")
    with pytest.raises(AccountDisabled, match="disabled"):
        await auth.login("alice", PASSWORD, address=ADDRESS)
    with pytest.raises(InvalidCredentials):  # a wrong password says nothing more
        await auth.login("alice", "not the password", address=ADDRESS)
    with pytest.raises(NotAuthenticated):
        await auth.authenticate_session(session.token)
    with pytest.raises(NotAuthenticated):
        await auth.authenticate_token(token.token)
    await auth.set_active("alice", True, actor="user:admin")
    assert (await auth.authenticate_token(token.token)).user.username == "alice"
    actions = [a[1] for a in await _actions(store)]
    assert "user.disable" in actions
    assert "user.enable" in actions


async def test_sessions_end_when_idle_and_at_their_absolute_end(
    auth: AuthService, settings: Settings, clock: Clock
) -> None:
    idle_s = settings.auth.session_idle_timeout_s
    await auth.add_user("alice", PASSWORD, role="agent", actor="t")

    idle = await auth.login("alice", PASSWORD, address=ADDRESS)
    clock.advance(idle_s - 1)
    await auth.authenticate_session(idle.token)  # used: the idle clock restarts
    clock.advance(idle_s - 1)
    await auth.authenticate_session(idle.token)
    clock.advance(idle_s)
    with pytest.raises(NotAuthenticated, match="sign in again"):
        await auth.authenticate_session(idle.token)

    busy = await auth.login("alice", PASSWORD, address=ADDRESS)
    steps = int(settings.auth.session_max_age_s // (idle_s / 2))
    for _ in range(steps - 1):
        clock.advance(idle_s / 2)
        await auth.authenticate_session(busy.token)
    clock.advance(idle_s / 2)
    with pytest.raises(NotAuthenticated):
        await auth.authenticate_session(busy.token)


async def test_last_seen_is_written_at_most_once_a_minute(
    auth: AuthService, store: Store, clock: Clock
) -> None:
    await auth.add_user("alice", PASSWORD, role="agent", actor="t")
    new = await auth.login("alice", PASSWORD, address=ADDRESS)
    before = store.stats.snapshot()
    clock.advance(TOUCH_INTERVAL_S / 2)
    await auth.authenticate_session(new.token)
    first = await store.run(auth_queries.session_by_hash, _hash(new.token))
    assert first is not None
    assert first[0].last_seen_at == new.session.last_seen_at
    clock.advance(TOUCH_INTERVAL_S)
    await auth.authenticate_session(new.token)
    second = await store.run(auth_queries.session_by_hash, _hash(new.token))
    assert second is not None
    assert second[0].last_seen_at == clock.now
    assert store.stats.units > before.units


def _hash(token: str) -> str:
    from gateway.auth.credentials import token_hash

    return token_hash(token)


async def test_logout_ends_the_session(auth: AuthService, store: Store) -> None:
    await auth.add_user("alice", PASSWORD, role="agent", actor="t")
    new = await auth.login("alice", PASSWORD, address=ADDRESS)
    await auth.logout(new.identity)
    with pytest.raises(NotAuthenticated):
        await auth.authenticate_session(new.token)
    assert ("user:alice", "auth.logout", "user:alice") in await _actions(store)


async def test_a_new_password_ends_the_users_sessions(auth: AuthService) -> None:
    await auth.add_user("alice", PASSWORD, role="agent", actor="t")
    old = await auth.login("alice", PASSWORD, address=ADDRESS)
    await auth.set_password("alice", "another good password", actor="cli:root")
    with pytest.raises(NotAuthenticated):
        await auth.authenticate_session(old.token)
    with pytest.raises(InvalidCredentials):
        await auth.login("alice", PASSWORD, address=ADDRESS)
    await auth.login("alice", "another good password", address=ADDRESS)
    with pytest.raises(NotFound):
        await auth.set_password("nobody", "another good password", actor="t")


async def test_a_hash_made_with_old_parameters_is_upgraded_at_sign_in(
    auth: AuthService, store: Store, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    await auth.add_user("alice", PASSWORD, role="agent", actor="t")
    monkeypatch.setattr(passwords, "TIME_COST", 2)
    stronger = AuthService(store, settings.auth)
    await stronger.login("alice", PASSWORD, address=ADDRESS)
    found = await store.run(auth_queries.user_credentials, "alice")
    assert found is not None
    assert "t=2" in found[1]


async def test_throttling_per_username_refuses_even_the_right_password(
    auth: AuthService, settings: Settings, clock: Clock, store: Store
) -> None:
    limit = settings.auth.login_failure_limit
    window = settings.auth.login_failure_window_s
    await auth.add_user("alice", PASSWORD, role="agent", actor="t")
    for _ in range(limit):
        with pytest.raises(InvalidCredentials):
            await auth.login("alice", "guess", address=ADDRESS)
        clock.advance(1)
    with pytest.raises(LoginThrottled, match="for this username") as info:
        await auth.login("alice", PASSWORD, address="198.51.100.1")
    assert 0 < info.value.retry_after_s <= window
    assert ("system", "auth.login_locked", "user:alice") in await _actions(store)
    clock.advance(info.value.retry_after_s)
    await auth.login("alice", PASSWORD, address=ADDRESS)  # the window passed


async def test_success_resets_the_usernames_count(
    auth: AuthService, settings: Settings
) -> None:
    limit = settings.auth.login_failure_limit
    await auth.add_user("alice", PASSWORD, role="agent", actor="t")
    for _ in range(2):
        for _ in range(limit - 1):
            with pytest.raises(InvalidCredentials):
                await auth.login("alice", "guess", address=ADDRESS)
        await auth.login("alice", PASSWORD, address=ADDRESS)


async def test_throttling_per_address_covers_every_username(
    store: Store, settings: Settings, clock: Clock
) -> None:
    import dataclasses

    tight = dataclasses.replace(settings.auth, login_address_failure_limit=3)
    auth = AuthService(store, tight, clock=clock)
    await auth.add_user("alice", PASSWORD, role="agent", actor="t")
    for name in ("bob", "carol", "dave"):
        with pytest.raises(InvalidCredentials):
            await auth.login(name, "guess", address=ADDRESS)
    with pytest.raises(LoginThrottled, match="from this address"):
        await auth.login("alice", PASSWORD, address=ADDRESS)
    await auth.login("alice", PASSWORD, address="198.51.100.1")


async def test_throttling_survives_a_restart(settings: Settings, clock: Clock) -> None:
    from gateway.storage.db import open_database

    store = await open_database(settings)
    try:
        auth = AuthService(store, settings.auth, clock=clock)
        await auth.add_user("alice", PASSWORD, role="agent", actor="t")
        for _ in range(settings.auth.login_failure_limit):
            with pytest.raises(InvalidCredentials):
                await auth.login("alice", "guess", address=ADDRESS)
    finally:
        await store.close()
    store = await open_database(settings)
    try:
        auth = AuthService(store, settings.auth, clock=clock)
        with pytest.raises(LoginThrottled):
            await auth.login("alice", PASSWORD, address=ADDRESS)
    finally:
        await store.close()


async def test_api_tokens_are_shown_once_verified_by_hash_and_revocable(
    auth: AuthService, store: Store, clock: Clock
) -> None:
    await auth.add_user("alice", PASSWORD, role="admin", actor="t")
    new = await auth.create_token("alice", "crm", actor="cli:root")
    assert new.token.startswith(new.record.prefix)
    assert len(new.record.prefix) == 14
    listed = await auth.list_tokens()
    assert [t.id for t in listed] == [new.record.id]
    assert listed[0].last_used_at is None

    identity = await auth.authenticate_token(new.token)
    assert identity.method is AuthMethod.TOKEN
    assert identity.actor == f"token:crm#{new.record.id}"
    assert identity.is_admin
    assert identity.csrf_token is None
    assert (await auth.list_tokens("alice"))[0].last_used_at == clock.now

    with pytest.raises(NotAuthenticated):
        await auth.authenticate_token(new.token[:-1])
    revoked = await auth.revoke_token(new.record.id, actor="cli:root")
    assert revoked.revoked_at == clock.now
    assert not revoked.active
    with pytest.raises(NotAuthenticated):
        await auth.authenticate_token(new.token)
    with pytest.raises(NotFound):
        await auth.revoke_token(999, actor="t")
    with pytest.raises(NotFound):
        await auth.create_token("nobody", "x", actor="t")
    actions = [(a[1], a[2]) for a in await _actions(store)]
    token_subject = f"token:{new.record.id}"
    assert ("token.create", token_subject) in actions
    assert ("token.revoke", token_subject) in actions


async def test_has_users_counts_active_users(auth: AuthService) -> None:
    assert not await auth.has_users()
    await auth.add_user("alice", PASSWORD, role="admin", actor="t")
    assert await auth.has_users()
    await auth.set_active("alice", False, actor="t")
    assert not await auth.has_users()

"""The pure rules: token forms, CSRF derivation, session expiry, throttling, name forms."""

from __future__ import annotations

from datetime import timedelta

import pytest
from authhelpers import T0

from gateway.auth import credentials
from gateway.auth.errors import LoginThrottled
from gateway.errors import InvalidInput


def test_tokens_are_random_and_only_their_hash_is_kept() -> None:
    a, b = credentials.new_session_token(), credentials.new_session_token()
    assert a != b
    assert len(a) >= 43
    api = credentials.new_api_token()
    assert api.startswith("smsgw_")
    digest = credentials.token_hash(api)
    assert len(digest) == 64
    assert api not in digest
    assert digest == credentials.token_hash(api)


def test_the_csrf_token_is_the_sessions_own_and_does_not_reveal_it() -> None:
    session = credentials.new_session_token()
    token = credentials.csrf_token(session)
    assert token == credentials.csrf_token(session)
    assert token != credentials.csrf_token(credentials.new_session_token())
    assert session not in token
    assert credentials.csrf_matches(token, token)
    assert not credentials.csrf_matches(token, token[:-1] + "x")
    assert not credentials.csrf_matches(token, None)
    assert not credentials.csrf_matches(token, "")


@pytest.mark.parametrize(
    ("seen_ago_s", "age_s", "expected"),
    [
        (0, 0, None),
        (3599, 3599, None),
        (3600, 3600, "idle"),  # idle limit 1 h
        (10, 86400, "expired"),  # absolute limit: created a day ago
    ],
)
def test_session_expiry(seen_ago_s: int, age_s: int, expected: str | None) -> None:
    now = T0 + timedelta(days=2)
    created = now - timedelta(seconds=age_s)
    reason = credentials.session_expiry_reason(
        last_seen_at=now - timedelta(seconds=seen_ago_s),
        expires_at=created + timedelta(days=1),
        now=now,
        idle_timeout_s=3600,
    )
    assert reason == expected


def test_throttle_waits_until_the_limit_th_newest_failure_leaves_the_window() -> None:
    failures = [T0 - timedelta(seconds=s) for s in (10, 20, 30, 40, 50)]  # newest first
    wait = credentials.throttle_wait_s(failures, limit=5, window_s=900, now=T0)
    assert wait == 900 - 50
    assert (
        credentials.throttle_wait_s(failures[:4], limit=5, window_s=900, now=T0) is None
    )
    later = T0 + timedelta(seconds=850)
    assert (
        credentials.throttle_wait_s(failures, limit=5, window_s=900, now=later) is None
    )


def test_throttled_messages_say_how_long() -> None:
    assert "try again in 15 minutes" in str(LoginThrottled("for this username", 850.2))
    assert "try again in 1 minute" in str(LoginThrottled("x", 60))
    assert "try again in 5 seconds" in str(LoginThrottled("x", 4.1))
    assert LoginThrottled("x", 4.1).details() == {"retry_after_s": 5}


def test_usernames_are_lower_case_and_plain() -> None:
    assert credentials.normal_username("  Alice.Smith@Example.com ") == (
        "alice.smith@example.com"
    )
    for bad in ("", " ", "-alice", "al ice", "<script>", "a" * 65):
        with pytest.raises(InvalidInput) as info:
            credentials.normal_username(bad)
        assert info.value.field == "username"


def test_labels_are_trimmed_printable_and_bounded() -> None:
    assert credentials.normal_label("  Alice \n Smith ", field="n", max_length=20) == (
        "Alice Smith"
    )
    # markup is text: it is escaped when shown, never refused or rewritten here
    assert credentials.normal_label("<b>x</b>", field="n", max_length=20) == "<b>x</b>"
    for bad in ("", "   ", "a" * 21, "bell\x07"):
        with pytest.raises(InvalidInput):
            credentials.normal_label(bad, field="n", max_length=20)

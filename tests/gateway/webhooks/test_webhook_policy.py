"""The pure rules: what each answer means, the backoff schedule's properties, and when a
delivery is dead-lettered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.webhooks.policy import (
    Outcome,
    RetryPolicy,
    Verdict,
    backoff_s,
    classify,
    decide,
    parse_retry_after,
)

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(
    base_s=10.0, max_s=3600.0, max_age_s=3 * 86400.0, max_rejected_attempts=5
)


@pytest.mark.parametrize(
    ("status", "verdict"),
    [
        (200, Verdict.OK),
        (202, Verdict.OK),
        (204, Verdict.OK),
        (299, Verdict.OK),
        (None, Verdict.FAILED),
        (301, Verdict.FAILED),
        (307, Verdict.FAILED),
        (408, Verdict.FAILED),
        (409, Verdict.FAILED),
        (425, Verdict.FAILED),
        (429, Verdict.FAILED),
        (500, Verdict.FAILED),
        (502, Verdict.FAILED),
        (503, Verdict.FAILED),
        (400, Verdict.REJECTED),
        (401, Verdict.REJECTED),
        (403, Verdict.REJECTED),
        (404, Verdict.REJECTED),
        (413, Verdict.REJECTED),
        (422, Verdict.REJECTED),
        (410, Verdict.GONE),
        (100, Verdict.FAILED),
    ],
)
def test_each_answer_has_its_verdict(status: int | None, verdict: Verdict) -> None:
    assert classify(status) is verdict


@given(
    attempt=st.integers(1, 200),
    base=st.floats(0.01, 100.0),
    cap=st.floats(0.01, 86400.0),
    jitter=st.floats(0.0, 1.0),
)
def test_a_wait_lies_between_half_and_all_of_the_capped_doubling(
    attempt: int, base: float, cap: float, jitter: float
) -> None:
    ceiling = min(cap, base * 2.0 ** min(attempt - 1, 62))
    wait = backoff_s(attempt, base_s=base, max_s=cap, jitter=jitter)
    assert ceiling / 2 <= wait <= ceiling * (1 + 1e-12)


@given(attempt=st.integers(1, 100), jitter=st.floats(0.0, 1.0))
def test_the_schedule_never_shrinks_and_stops_growing_at_the_cap(
    attempt: int, jitter: float
) -> None:
    def wait(n: int, j: float) -> float:
        return backoff_s(n, base_s=10.0, max_s=3600.0, jitter=j)

    # with the same draw, a later attempt never waits less
    assert wait(attempt + 1, jitter) >= wait(attempt, jitter)
    assert wait(attempt, jitter) <= 3600.0
    # the least wait of the next attempt is at least the most of the one before, until
    # the cap: doubling beats the jitter
    if 10.0 * 2.0**attempt <= 3600.0:
        assert wait(attempt + 1, 0.0) >= wait(attempt, 1.0)


def test_the_default_schedule_reaches_the_cap_and_spans_three_days() -> None:
    waits = [backoff_s(n, base_s=10.0, max_s=3600.0, jitter=0.5) for n in range(1, 110)]
    assert waits[0] == 7.5
    assert waits[-1] == 2700.0
    assert sum(waits) > 3 * 86400.0  # attempts keep coming until the dead-letter age


def test_ok_delivers_and_gone_disables() -> None:
    assert (
        decide(
            POLICY,
            Verdict.OK,
            attempts=1,
            rejections=0,
            queued_at=T0,
            now=T0,
            jitter=0.5,
        ).outcome
        is Outcome.DELIVERED
    )
    gone = decide(
        POLICY, Verdict.GONE, attempts=3, rejections=0, queued_at=T0, now=T0, jitter=0.5
    )
    assert (gone.outcome, gone.next_attempt_at) == (Outcome.DISABLED, T0)


def test_a_failure_is_retried_after_the_backoff() -> None:
    now = T0 + timedelta(minutes=1)
    decision = decide(
        POLICY,
        Verdict.FAILED,
        attempts=3,
        rejections=0,
        queued_at=T0,
        now=now,
        jitter=0.0,
    )
    assert decision.outcome is Outcome.RETRY
    assert decision.next_attempt_at == now + timedelta(seconds=20)


def test_retry_after_is_honoured_up_to_the_longest_wait() -> None:
    def after(seconds: float) -> datetime | None:
        return decide(
            POLICY,
            Verdict.FAILED,
            attempts=1,
            rejections=0,
            queued_at=T0,
            now=T0,
            jitter=0.0,
            retry_after_s=seconds,
        ).next_attempt_at

    assert after(120) == T0 + timedelta(seconds=120)
    assert after(1) == T0 + timedelta(seconds=5)  # the backoff is longer
    assert after(86400) == T0 + timedelta(seconds=3600)


def test_the_last_attempt_is_at_the_dead_letter_age_then_it_is_dead() -> None:
    deadline = T0 + timedelta(seconds=POLICY.max_age_s)
    near = deadline - timedelta(seconds=30)
    last = decide(
        POLICY,
        Verdict.FAILED,
        attempts=70,
        rejections=0,
        queued_at=T0,
        now=near,
        jitter=1.0,
    )
    assert (last.outcome, last.next_attempt_at) == (Outcome.RETRY, deadline)
    dead = decide(
        POLICY,
        Verdict.FAILED,
        attempts=71,
        rejections=0,
        queued_at=T0,
        now=deadline,
        jitter=1.0,
    )
    assert dead.outcome is Outcome.DEAD
    assert dead.reason == "still failing 259200 s after it was queued"


def test_refusals_are_retried_until_max_rejected_attempts() -> None:
    for rejections in range(1, 5):
        assert (
            decide(
                POLICY,
                Verdict.REJECTED,
                attempts=rejections,
                rejections=rejections,
                queued_at=T0,
                now=T0,
                jitter=0.5,
                status_code=404,
            ).outcome
            is Outcome.RETRY
        )
    dead = decide(
        POLICY,
        Verdict.REJECTED,
        attempts=9,
        rejections=5,
        queued_at=T0,
        now=T0,
        jitter=0.5,
        status_code=404,
    )
    assert dead.outcome is Outcome.DEAD
    assert dead.reason == "refused 5 time(s), last with HTTP 404"


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("120", 120.0),
        (" 7 ", 7.0),
        ("Sun, 01 Mar 2026 09:02:00 GMT", 120.0),
        ("Sun, 01 Mar 2026 08:00:00 GMT", 0.0),
        ("soon", None),
        ("-5", None),
        (None, None),
    ],
)
def test_retry_after_reads_seconds_and_dates(
    header: str | None, seconds: float | None
) -> None:
    assert parse_retry_after(header, T0) == seconds

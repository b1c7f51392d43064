"""The outbound path's pure rules: retry schedule, pacing bucket and modem choice."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.outbox.choice import choose_modem, failover_target, least_busy
from gateway.outbox.pacing import PACING_BURST_PARTS, TokenBucket
from gateway.outbox.retry import RetryPolicy

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
POLICY = RetryPolicy(base_s=30.0, max_s=1800.0, max_attempts=8, max_age_s=86400.0)


# ---------------------------------------------------------------- retry


def test_backoff_doubles_from_the_base_up_to_the_cap() -> None:
    assert [POLICY.delay_s(n) for n in range(1, 9)] == [
        30.0,
        60.0,
        120.0,
        240.0,
        480.0,
        960.0,
        1800.0,
        1800.0,
    ]
    assert POLICY.delay_s(0) == 30.0  # never less than the base
    assert POLICY.delay_s(10_000) == 1800.0  # no overflow


def test_a_transient_failure_is_retried_after_the_backoff() -> None:
    decision = POLICY.decide(attempts=2, queued_at=T0, now=T0 + timedelta(minutes=1))
    assert decision.retry_at == T0 + timedelta(minutes=1, seconds=60)
    assert decision.reason is None


def test_the_last_attempt_gives_up_with_a_reason() -> None:
    decision = POLICY.decide(attempts=8, queued_at=T0, now=T0)
    assert decision.retry_at is None
    assert decision.reason == "gave up after 8 attempts"


def test_a_retry_past_the_maximum_age_gives_up_now() -> None:
    policy = RetryPolicy(base_s=600.0, max_s=600.0, max_attempts=100, max_age_s=900.0)
    assert policy.decide(attempts=1, queued_at=T0, now=T0).retry_at is not None
    late = policy.decide(attempts=2, queued_at=T0, now=T0 + timedelta(minutes=6))
    assert late.retry_at is None
    assert late.reason is not None
    assert "900 s" in late.reason


@given(st.integers(min_value=1, max_value=200))
def test_backoff_never_shrinks(attempts: int) -> None:
    assert POLICY.base_s <= POLICY.delay_s(attempts) <= POLICY.max_s
    assert POLICY.delay_s(attempts) <= POLICY.delay_s(attempts + 1)


# ---------------------------------------------------------------- pacing


def test_a_full_bucket_allows_a_short_burst_then_spaces_parts() -> None:
    bucket = TokenBucket.for_parts_per_minute(10, now=0.0)
    for _ in range(PACING_BURST_PARTS):
        assert bucket.wait_s(0.0) == 0.0
        bucket.take(0.0)
    assert bucket.wait_s(0.0) == pytest.approx(6.0)  # 10 a minute: one every 6 s
    assert bucket.wait_s(3.0) == pytest.approx(3.0)
    assert bucket.wait_s(6.0) == 0.0


def test_a_slow_sim_never_bursts_beyond_its_rate() -> None:
    bucket = TokenBucket.for_parts_per_minute(1, now=0.0)
    assert bucket.burst == 1
    bucket.take(0.0)
    assert bucket.wait_s(30.0) == pytest.approx(30.0)


def test_an_idle_bucket_saves_up_no_more_than_its_burst() -> None:
    bucket = TokenBucket(60, burst=2, now=0.0)
    for _ in range(2):
        bucket.take(0.0)
    assert bucket.wait_s(3600.0) == 0.0
    for _ in range(2):
        bucket.take(3600.0)
    assert bucket.wait_s(3600.0) == pytest.approx(1.0)


@given(
    st.integers(min_value=1, max_value=600),
    st.lists(st.floats(min_value=0.0, max_value=5.0), min_size=1, max_size=50),
)
def test_the_average_rate_holds(ppm: int, gaps: list[float]) -> None:
    """However the sender asks, parts taken in a window of T seconds <= burst + rate x T."""
    bucket = TokenBucket.for_parts_per_minute(ppm, now=0.0)
    now, taken = 0.0, 0
    for gap in gaps:
        now += gap
        wait = bucket.wait_s(now)
        now += wait
        assert bucket.wait_s(now) == pytest.approx(0.0, abs=1e-9)
        bucket.take(now)
        taken += 1
    assert taken <= bucket.burst + ppm / 60.0 * now + 1e-6


def test_a_bucket_needs_a_rate() -> None:
    with pytest.raises(ValueError, match="rate"):
        TokenBucket(0, burst=1, now=0.0)


# ---------------------------------------------------------------- modem choice


def test_a_reply_leaves_from_the_modem_the_customer_texted() -> None:
    depths = {"usb0": 50, "usb1": 0}
    assert choose_modem("usb0", {"usb0", "usb1"}, depths) == "usb0"


def test_a_sticky_modem_that_is_down_gives_way_to_the_least_busy() -> None:
    depths = {"usb0": 0, "usb1": 7, "usb2": 3, None: 100}
    assert choose_modem("usb0", {"usb1", "usb2"}, depths) == "usb2"


def test_a_new_customer_gets_the_least_busy_modem_ties_by_name() -> None:
    assert choose_modem(None, {"usb1", "usb0"}, {}) == "usb0"
    assert choose_modem(None, {"usb1", "usb0"}, {"usb0": 1}) == "usb1"


def test_with_nothing_healthy_the_customer_keeps_their_modem() -> None:
    assert choose_modem("usb0", set(), {}) == "usb0"
    assert choose_modem(None, set(), {}) is None  # whichever comes back first


def test_failover_never_picks_the_failing_modem() -> None:
    assert failover_target("usb0", {"usb0", "usb1"}, {"usb1": 99}) == "usb1"
    assert failover_target("usb0", {"usb0"}, {}) is None
    assert least_busy([], {}) is None

"""The clock rules of gateway.metrics.definitions that the scenarios do not reach."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from gateway.metrics import definitions
from gateway.metrics.definitions import MetricKind

T = datetime(2026, 3, 31, 9, 0, tzinfo=UTC)


def test_a_hand_off_restarts_the_first_response_clock() -> None:
    state, _ = definitions.customer_message(definitions.new_clock(T), T)
    state, (handoff,) = definitions.handoff(state, T + timedelta(minutes=5))
    assert handoff.kind is MetricKind.BOT_HANDOFF
    _, measures = definitions.human_reply(state, T + timedelta(minutes=35))
    frt = next(m for m in measures if m.kind is MetricKind.FIRST_RESPONSE)
    assert frt.started_at == T + timedelta(minutes=5)  # 30 min, not 35


def test_a_hand_off_after_a_person_replied_changes_no_clock() -> None:
    state, _ = definitions.customer_message(definitions.new_clock(T), T)
    state, _ = definitions.human_reply(state, T + timedelta(minutes=10))
    after, measures = definitions.handoff(state, T + timedelta(minutes=11))
    assert (after, measures) == (state, ())
    # the next reply is no second first response
    _, measures = definitions.human_reply(after, T + timedelta(minutes=20))
    assert all(m.kind is not MetricKind.FIRST_RESPONSE for m in measures)

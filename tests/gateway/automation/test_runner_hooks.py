"""The runner's hook list, through the real daemon and a simulated phone: hooks run after
compliance and in order, inside the unit committing the message; HANDLED stops the rest;
a hook that raises is rolled back alone (the message is kept); compliance keywords skip
the hooks; nothing reaches an opted-out number."""

from __future__ import annotations

from pathlib import Path

import pytest

from gateway.automation.runner import AutomationRunner, InboundContext, StepResult
from gateway.domain import ConsentSource, Direction, MessageOrigin
from gateway.storage import queries
from tests.gateway.gwhelpers import CUSTOMER, Rig, eventually, rig

# Automation itself is off: these tests are about the hooks alone.
INI = "[automation]\nenabled = no\n"


def runner_of(r: Rig) -> AutomationRunner:
    assert r.daemon.automation_runner is not None
    return r.daemon.automation_runner


async def inbound(r: Rig, n: int) -> list[object] | None:
    found = [m for m in await r.messages() if m.direction is Direction.INBOUND]
    return found if len(found) >= n else None


async def test_hooks_run_in_order_and_handled_stops_the_rest(tmp_path: Path) -> None:
    seen: list[str] = []

    def first(ctx: InboundContext) -> StepResult:
        seen.append(f"first:{ctx.message.body}")
        assert ctx.conversation.id == ctx.message.conversation_id
        # in the unit: the message is there to read
        assert queries.get_message(ctx.message.id).body == ctx.message.body
        if ctx.message.body == "1":
            ctx.send("Confirmed, thanks")
            return StepResult.HANDLED
        return StepResult.CONTINUE

    def second(ctx: InboundContext) -> StepResult:
        seen.append(f"second:{ctx.message.body}")
        return StepResult.CONTINUE

    async with rig(tmp_path, INI) as r:
        runner = runner_of(r)
        runner.register("second", second)
        runner.register("first", first, before="second")
        # after the daemon's own (notification replies)
        assert runner.hooks[-2:] == ("first", "second")
        with pytest.raises(ValueError, match="registered already"):
            runner.register("first", first)
        r.text("hello")
        await eventually(lambda: inbound(r, 1))
        r.text("1")
        await eventually(lambda: [m.text for m in r.inbox()] == ["Confirmed, thanks"])
        await r.settle()
        assert seen == ["first:hello", "second:hello", "first:1"]
        sent = [m for m in await r.messages() if m.direction is Direction.OUTBOUND]
        assert [m.origin for m in sent] == [MessageOrigin.AUTOMATION]


async def test_a_hook_that_raises_is_rolled_back_alone(tmp_path: Path) -> None:
    def broken(ctx: InboundContext) -> StepResult:
        ctx.send("half done")  # queued, then rolled back with the hook
        raise RuntimeError("boom")

    def after(ctx: InboundContext) -> StepResult:
        ctx.send("still here")
        return StepResult.CONTINUE

    async with rig(tmp_path, INI) as r:
        runner_of(r).register("broken", broken)
        runner_of(r).register("after", after)
        r.text("hello")
        await eventually(lambda: inbound(r, 1))
        await eventually(lambda: [m.text for m in r.inbox()] == ["still here"])
        await r.settle()
        bodies = [m.body for m in await r.messages()]
        assert bodies == ["hello", "still here"]
        assert r.services.inbound.stats.failures == 0


async def test_compliance_keywords_skip_the_hooks_and_opted_out_numbers_get_nothing(
    tmp_path: Path,
) -> None:
    calls: list[str] = []
    answers: list[object] = []

    def hook(ctx: InboundContext) -> StepResult:
        calls.append(ctx.message.body)
        answers.append(ctx.send("an automated answer"))
        return StepResult.CONTINUE

    async with rig(tmp_path, INI) as r:
        runner_of(r).register("hook", hook)
        r.text("STOP")
        await eventually(lambda: inbound(r, 1))
        r.text("HELP")
        await eventually(lambda: inbound(r, 2))
        r.text("where is my parcel")
        await eventually(lambda: inbound(r, 3))
        await r.settle()
        assert calls == ["where is my parcel"]  # STOP and HELP never reached it
        assert answers == [None]  # opted out: nothing queued
        texts = [m.text for m in r.inbox()]
        assert len(texts) == 1
        assert "unsubscribed" in texts[0]
        await r.services.compliance.set_consent(
            CUSTOMER, opted_out=False, source=ConsentSource.AGENT, actor="test"
        )
        r.text("and now?")
        await eventually(lambda: "an automated answer" in [m.text for m in r.inbox()])

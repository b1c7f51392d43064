"""The thread shows the customer's CSAT rating of the conversation beside its status."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient
from uihelpers import inbound, store_of
from webhelpers import Clock

from gateway.domain import ConversationStatus
from gateway.inbox.records import Actor
from gateway.services import Services
from gateway.storage import metrics_queries


async def test_a_rated_conversation_shows_its_rating(
    client: TestClient[Any, Any], csrf: str, services: Services, clock: Clock
) -> None:
    store = store_of(services)
    user = next(u for u in await services.auth.list_users() if u.username == "agent")
    agent = Actor("user:agent", user.id)
    first = await inbound(services, "My order never came", now=clock.now)
    await store.run(lambda: metrics_queries.record_inbound(first, now=clock.now))
    cid = first.conversation.id
    await services.inbox.reply(cid, "Sorry! Sending another.", actor=agent)
    await services.inbox.set_status(cid, ConversationStatus.RESOLVED, actor=agent)
    page = await (await client.get(f"/conversations/{cid}")).text()
    assert "badge-rating" not in page  # not rated yet
    clock.advance(300)  # [csat] delay_s
    assert await services.metrics.send_due_surveys() == 1
    clock.advance(60)
    answer = await inbound(services, "5, great service", now=clock.now)
    rated = await store.run(
        lambda: metrics_queries.answer_survey(answer, now=clock.now)
    )
    assert rated is not None
    assert rated.rating == 5
    assert (await services.inbox.thread(cid)).rating == 5
    page = await (await client.get(f"/conversations/{cid}")).text()
    assert (
        '<span class="badge badge-rating" title="The customer\'s CSAT rating">'
        "rated 5/5</span>"
    ) in page

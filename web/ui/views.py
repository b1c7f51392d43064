"""What a console page shows, gathered from the services in one call per handler.

A page such as the inbox needs several reads (the list, the open thread, the users an
agent may assign to, the modems to filter by). Handlers stay one call long by calling one
of these functions; each only reads (one after another: the store has one thread
anyway) and returns a frozen value the templates render. No rules live here: the
services decide, this module only collects.
"""

from __future__ import annotations

from dataclasses import dataclass

from gateway.auth.records import Identity, UserRecord
from gateway.automation.rules import AutomationState
from gateway.domain import MessageRecord
from gateway.inbox.records import (
    ConversationPage,
    FilterOptions,
    InboxCounts,
    ThreadView,
)
from gateway.overview.records import ModemView, NodeView
from gateway.services import Services
from gateway.templates.records import TemplateRecord
from web.ui.common import ListView

LIST_PAGE = 50


@dataclass(frozen=True, slots=True)
class ThreadPane:
    """The right-hand side: the thread, who it may be assigned to, what the automation
    did there, and the templates the composer offers."""

    thread: ThreadView
    users: tuple[UserRecord, ...]  # active users, for the assign menu
    automation: AutomationState | None = None  # None: the automation never saw it
    templates: tuple[TemplateRecord, ...] = ()


@dataclass(frozen=True, slots=True)
class ListPane:
    """The left-hand side: a page of the list and the tabs' counts."""

    page: ConversationPage
    counts: InboxCounts


@dataclass(frozen=True, slots=True)
class InboxPage:
    view: ListView
    pane: ThreadPane | None
    listing: ListPane
    options: FilterOptions  # the tags, queues and modems to filter by
    away: bool = False  # the agent set themselves away (no assignment by the rules)
    # events published on the bus before the page read anything (see web/ui/live.py)
    published: int = 0


async def _users(services: Services) -> tuple[UserRecord, ...]:
    return tuple(u for u in await services.auth.list_users() if u.active)


async def conversation_list(
    services: Services,
    me: Identity,
    view: ListView,
    *,
    cursor: str | None = None,
    limit: int = LIST_PAGE,
) -> ConversationPage:
    """A page of the list as `view` filters it, for `me` (whose "mine" it is)."""
    return await services.inbox.list_conversations(
        status=None if view.status == "all" else view.status,
        ownership=view.who,
        user_id=me.user.id,
        queue=view.queue or None,
        tag=view.tag or None,
        modem=view.modem or None,
        priority=view.priority or None,
        search=view.q or None,
        cursor=cursor,
        limit=limit,
    )


async def list_pane(
    services: Services,
    me: Identity,
    view: ListView,
    *,
    cursor: str | None = None,
    limit: int = LIST_PAGE,
) -> ListPane:
    """A page of the list and how many conversations each tab holds."""
    page = await conversation_list(services, me, view, cursor=cursor, limit=limit)
    return ListPane(page, await services.inbox.counts(user_id=me.user.id))


async def thread_pane(
    services: Services, conversation_id: int, *, before: int | None = None
) -> ThreadPane:
    """The thread (the page before message `before`) with the customer panel, the
    users to assign it to, the automation's state and the templates."""
    thread = await services.inbox.thread(conversation_id, before=before)
    return ThreadPane(
        thread,
        await _users(services),
        await services.automation.state(conversation_id),
        tuple(await services.templates.list()),
    )


async def inbox_page(
    services: Services,
    me: Identity,
    view: ListView,
    *,
    open_id: int | None = None,
    cursor: str | None = None,
    before: int | None = None,
) -> InboxPage:
    """The inbox: the list, the open conversation (if any) and the filter choices."""
    published = services.bus.published  # before the reads: what they may not show
    listing = await list_pane(services, me, view, cursor=cursor)
    pane = (
        None if open_id is None else await thread_pane(services, open_id, before=before)
    )
    return InboxPage(
        view,
        pane,
        listing,
        await services.inbox.filter_options(),
        await services.automation.is_away(me.user.id),
        published,
    )


@dataclass(frozen=True, slots=True)
class ModemsPage:
    modems: tuple[ModemView, ...]
    test: MessageRecord | None  # the test text just queued, to follow its status
    nodes: tuple[NodeView, ...]  # the boxes sharing this database (one: just this box)

    @property
    def several_nodes(self) -> bool:
        """Boxes share this database: the page says which box each modem hangs on."""
        return len(self.nodes) > 1


async def modems_page(services: Services, test_id: int | None) -> ModemsPage:
    """The modems, the boxes they hang on, and the test text just queued (to follow
    its status)."""
    modems = tuple(await services.overview.modems())
    nodes = tuple(await services.overview.nodes())
    test = None if test_id is None else await services.outbound.get(test_id)
    return ModemsPage(modems, test, nodes)

"""AutomationService: what the rules editor, the queues page and the rule tester call.

Every change is ONE unit of work with its audit entry (`automation.*`); input is checked
(gateway.automation.editing) before the unit starts. The tester reads in one unit and
writes nothing: it runs the same `rules.decide` the runner does, over the stored rules,
a contact's attributes if one is picked, and a simulated conversation.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, TypeVar

from gateway.automation import editing, ruleset
from gateway.automation.engine import load_rules, owner_id
from gateway.automation.records import (
    QueueRecord,
    RulesView,
    SettingValue,
    TestResult,
    TestStart,
    TestStep,
    UserChoice,
)
from gateway.automation.rules import (
    Agent,
    Assign,
    AutomationState,
    Decision,
    FieldSpec,
    Flow,
    Inbound,
    RoutingRule,
    SendText,
    SetPriority,
    SetQueue,
    TriageOption,
    decide,
)
from gateway.compliance_rules import Keyword, KeywordRules, classify
from gateway.config import Settings
from gateway.domain import JsonObject, JsonValue, NumberKind, Priority, utcnow
from gateway.errors import InvalidInput
from gateway.inbox import policy
from gateway.outbox.service import OutboundService
from gateway.storage import automation_queries, queries

if TYPE_CHECKING:
    from gateway.auth.records import Identity
    from gateway.inbox.records import Actor
    from gateway.storage.db import Store

_LOGGER = logging.getLogger(__name__)

T = TypeVar("T")

MAX_TEST_MESSAGES = 20
TEST_GAP_S = 60.0  # the tester's messages are a minute apart
TEST_AGENT_REPLIED_S = 300.0  # TestStart.AGENT_REPLIED: this long before the first
TEXT_SETTINGS = ("connecting_text", "ack_text", "after_hours_text")


def _actor(who: Actor | Identity | str) -> str:
    if isinstance(who, str):
        return who
    name = getattr(who, "actor", None) or getattr(who, "name", None)
    return str(name)


@dataclass(frozen=True, slots=True)
class QueueView:
    """A queue for the queues page: as stored, with its members as users."""

    queue: QueueRecord
    members: tuple[UserChoice, ...]
    open_now: bool | None  # None: no hours (always open)
    next_opening: str | None  # the customer's words for it, when closed


class AutomationService:
    """The admins' rules, queues and availability; the rule tester."""

    def __init__(
        self,
        store: Store,
        outbound: OutboundService,
        *,
        settings: Settings,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self._store = store
        self._outbound = outbound
        self._settings = settings
        self._ini = settings.automation
        self._tz = settings.gateway.timezone
        self._clock = clock
        compliance = settings.compliance
        self._keywords = KeywordRules.build(
            compliance.opt_out_keywords,
            compliance.opt_in_keywords,
            compliance.help_keywords,
        )

    # -------------------------------------------------------------- reading

    async def view(self) -> RulesView:
        """Everything the rules editor shows."""
        return await self._store.read(self._view_unit, self._clock())

    def _view_unit(self, now: datetime) -> RulesView:
        """ON THE DB THREAD."""
        loaded = load_rules(self._ini, self._tz)
        rows = {r.key: r for r in automation_queries.setting_rows()}
        values = []
        for key, setting in ruleset.setting_table().items():
            row = rows.get(key)
            values.append(
                SettingValue(
                    key=key,
                    help=setting.help,
                    form=setting.type.form,
                    ini=ruleset.render_setting(key, getattr(self._ini, key)),
                    override=None if row is None else row.value,
                    updated_by=None if row is None else row.updated_by,
                    updated_at=None if row is None else row.updated_at,
                )
            )
        snapshot = automation_queries.rules_snapshot()
        return RulesView(
            settings=tuple(values),
            triage_intro=snapshot.overrides.get(
                ruleset.TRIAGE_INTRO, ruleset.DEFAULT_TRIAGE_INTRO
            ),
            triage_ask=snapshot.overrides.get(ruleset.TRIAGE_ASK, "yes") == "yes",
            snapshot=snapshot,
            rules=loaded.rules,
            users=automation_queries.user_choices(now, loaded.settings.online_window_s),
            problems=loaded.problems,
        )

    async def queues(self) -> list[QueueView]:
        """Every queue with its members, and whether it is open now."""
        return await self._store.read(self._queues_unit, self._clock())

    def _queues_unit(self, now: datetime) -> list[QueueView]:
        """ON THE DB THREAD."""
        from gateway.automation import schedule

        loaded = load_rules(self._ini, self._tz)
        users = {
            u.id: u
            for u in automation_queries.user_choices(
                now, loaded.settings.online_window_s
            )
        }
        found = []
        for record in automation_queries.rules_snapshot().queues:
            rules = loaded.rules.queues.get(record.name)
            hours = rules.schedule if rules is not None else None
            open_now = None if hours is None else schedule.is_open(hours, now)
            words = None
            if hours is not None and not open_now:
                opening = schedule.next_opening(hours, now)
                words = (
                    None
                    if opening is None
                    else schedule.describe_opening(opening, now, hours.timezone)
                )
            found.append(
                QueueView(
                    record,
                    tuple(users[m] for m in record.members if m in users),
                    open_now,
                    words,
                )
            )
        return found

    async def get_flow(self, flow_id: int) -> Flow:
        return await self._store.read(
            automation_queries.get_flow, policy.check_id(flow_id, "id")
        )

    async def get_queue(self, queue_id: int) -> QueueRecord:
        return await self._store.read(
            automation_queries.get_queue, policy.check_id(queue_id, "id")
        )

    async def state(self, conversation_id: int) -> AutomationState | None:
        """A conversation's automation state (None: the automation never saw it)."""
        cid = policy.check_id(conversation_id, "conversation_id")
        return await self._store.read(automation_queries.load_state, cid)

    # -------------------------------------------------------------- settings

    def _sendable(self, text: str, field: str) -> None:
        if text:
            try:
                self._outbound.measure(
                    text.replace(editing.WHEN, "tomorrow at 10:30am")
                )
            except InvalidInput as exc:
                raise InvalidInput(field, exc.reason) from None

    async def update_settings(
        self, values: Mapping[str, str], *, actor: Actor | Identity | str
    ) -> list[str]:
        """Set [automation] keys (the ini's forms); a value equal to the ini's drops the
        override. The keys that changed."""
        table = ruleset.setting_table()
        changes: dict[str, str | None] = {}
        for key, raw in values.items():
            setting = table.get(key)
            if setting is None:
                raise InvalidInput(key, "not an [automation] setting")
            text = raw.strip()
            try:
                value = setting.type.parse(text)
            except ValueError:
                raise InvalidInput(key, setting.type.form) from None
            if key in TEXT_SETTINGS:
                editing.customer_text(
                    text, key, required=False, when=key == "after_hours_text"
                )
                self._sendable(text, key)
            if key == "escalation_queue" or key == "default_queue":
                editing.queue_name(text, key)
            rendered = setting.type.render(value)
            ini = setting.type.render(getattr(self._ini, key))
            changes[key] = None if rendered == ini else rendered
        return await self._store.run(
            self._settings_unit, changes, _actor(actor), self._clock()
        )

    async def reset_settings(self, *, actor: Actor | Identity | str) -> list[str]:
        """Every [automation] key back to gateway.ini's value."""
        changes: dict[str, str | None] = dict.fromkeys(ruleset.setting_table())
        return await self._store.run(
            self._settings_unit, changes, _actor(actor), self._clock()
        )

    async def set_triage(
        self, *, intro: str, ask: bool, actor: Actor | Identity | str
    ) -> list[str]:
        """The triage menu's introduction, and whether the menu is sent at all."""
        text = editing.customer_text(intro, "intro", required=True)
        self._sendable(text + " Reply 1 for something, 2 for something else.", "intro")
        changes: dict[str, str | None] = {
            ruleset.TRIAGE_INTRO: text,
            ruleset.TRIAGE_ASK: "yes" if ask else "no",
        }
        return await self._store.run(
            self._settings_unit, changes, _actor(actor), self._clock()
        )

    def _settings_unit(
        self, changes: Mapping[str, str | None], actor: str, now: datetime
    ) -> list[str]:
        """ON THE DB THREAD: the values and their audit entry."""
        changed = automation_queries.set_settings(changes, now=now, actor=actor)
        keys: list[JsonValue] = list(changed)
        if changed:
            queries.record_audit(
                actor,
                "automation.settings",
                "automation",
                now=now,
                detail={"keys": keys},
            )
        return changed

    # -------------------------------------------------------------- triage options

    async def save_triage_option(
        self,
        option_id: int | None,
        *,
        key: str,
        label: str,
        keywords: str,
        queue: str | None,
        tags: str,
        assignee_id: str | int | None,
        flow_id: str | int | None,
        position: str | int | None = None,
        actor: Actor | Identity | str,
    ) -> TriageOption:
        """Create (option_id None) or change a triage option."""
        option = TriageOption(
            id=0 if option_id is None else policy.check_id(option_id, "id"),
            key=editing.option_key(key),
            label=editing.text(label, "label", limit=editing.MAX_LABEL_CHARS),
            keywords=editing.phrases(keywords, "keywords"),
            queue=editing.queue_name(queue),
            tags=editing.tags(tags),
            assignee_id=editing.user_id(assignee_id, "assignee_id"),
            flow_id=editing.optional_id(flow_id, "flow_id"),
        )
        return await self._change(
            "automation.triage_option",
            lambda now: automation_queries.save_triage_option(
                option, position=editing.position(position), now=now
            ),
            actor,
        )

    async def delete_triage_option(
        self, option_id: int, *, actor: Actor | Identity | str
    ) -> TriageOption:
        oid = policy.check_id(option_id, "id")
        return await self._change(
            "automation.triage_option.delete",
            lambda now: automation_queries.delete_triage_option(oid),
            actor,
        )

    async def _change(
        self,
        action: str,
        change: Callable[[datetime], T],
        actor: Actor | Identity | str,
    ) -> T:
        return await self._store.run(
            self._change_unit, action, change, _actor(actor), self._clock()
        )

    def _change_unit(
        self,
        action: str,
        change: Callable[[datetime], T],
        actor: str,
        now: datetime,
    ) -> T:
        """ON THE DB THREAD: one change and its audit entry."""
        result = change(now)
        subject = getattr(result, "id", None)
        queries.record_audit(
            actor,
            action,
            f"automation:{subject}" if subject is not None else "automation",
            now=now,
        )
        return result

    # -------------------------------------------------------------- flows

    async def save_flow(
        self,
        flow_id: int | None,
        *,
        name: str,
        fields: Sequence[FieldSpec],
        done_text: str,
        actor: Actor | Identity | str,
    ) -> Flow:
        """Create (flow_id None) or change a flow (fields from editing.field_spec)."""
        checked = editing.flow_fields(fields)
        for index, spec in enumerate(checked, start=1):
            self._sendable(spec.prompt, f"fields.{index}.prompt")
            self._sendable(spec.retry, f"fields.{index}.retry")
        done = editing.customer_text(done_text, "done_text", required=False)
        self._sendable(done, "done_text")
        flow = Flow(
            id=0 if flow_id is None else policy.check_id(flow_id, "id"),
            name=editing.text(name, "name", limit=editing.MAX_NAME_CHARS),
            fields=checked,
            done_text=done,
        )
        return await self._change(
            "automation.flow",
            lambda now: automation_queries.save_flow(flow, now=now),
            actor,
        )

    async def delete_flow(self, flow_id: int, *, actor: Actor | Identity | str) -> Flow:
        fid = policy.check_id(flow_id, "id")
        return await self._change(
            "automation.flow.delete",
            lambda now: automation_queries.delete_flow(fid),
            actor,
        )

    # -------------------------------------------------------------- routing rules

    async def save_routing_rule(
        self,
        rule_id: int | None,
        *,
        name: str,
        kind: str,
        key: str,
        value: str,
        queue: str | None,
        tags: str,
        priority: str | None,
        assignee_id: str | int | None,
        position: str | int | None = None,
        actor: Actor | Identity | str,
    ) -> RoutingRule:
        """Create (rule_id None) or change a routing rule."""
        match = editing.match_kind(kind)
        if match.value == "keyword":
            wanted = ", ".join(editing.phrases(value, "value"))
            if not wanted:
                raise InvalidInput("value", "at least one word or phrase")
        else:
            wanted = editing.text(value, "value", limit=editing.MAX_VALUE_CHARS)
        rule = RoutingRule(
            id=0 if rule_id is None else policy.check_id(rule_id, "id"),
            name=editing.text(name, "name", limit=editing.MAX_NAME_CHARS),
            kind=match,
            key=editing.match_key(match, key),
            value=wanted,
            queue=editing.queue_name(queue),
            tags=editing.tags(tags),
            priority=editing.priority(priority),
            assignee_id=editing.user_id(assignee_id, "assignee_id"),
        )
        if not (rule.queue or rule.tags or rule.priority or rule.assignee_id):
            raise InvalidInput(
                "queue", "a rule does something: a queue, tags, a priority or an agent"
            )
        return await self._change(
            "automation.routing_rule",
            lambda now: automation_queries.save_routing_rule(
                rule, position=editing.position(position), now=now
            ),
            actor,
        )

    async def delete_routing_rule(
        self, rule_id: int, *, actor: Actor | Identity | str
    ) -> RoutingRule:
        rid = policy.check_id(rule_id, "id")
        return await self._change(
            "automation.routing_rule.delete",
            lambda now: automation_queries.delete_routing_rule(rid),
            actor,
        )

    # -------------------------------------------------------------- queues

    async def save_queue(
        self,
        queue_id: int | None,
        *,
        name: str,
        description: str = "",
        assignment: str = "none",
        members: Sequence[str | int] = (),
        timezone: str | None = None,
        hours: str | None = None,
        holidays: str = "",
        ack_text: str = "",
        after_hours_text: str = "",
        actor: Actor | Identity | str,
    ) -> QueueRecord:
        """Create (queue_id None) or change a queue, its members and its hours."""
        ack = editing.customer_text(ack_text, "ack_text", required=False)
        after = editing.customer_text(
            after_hours_text, "after_hours_text", required=False, when=True
        )
        self._sendable(ack, "ack_text")
        self._sendable(after, "after_hours_text")
        member_ids = tuple(
            sorted(
                {i for m in members if (i := editing.user_id(m, "members")) is not None}
            )
        )
        record = QueueRecord(
            id=0 if queue_id is None else policy.check_id(queue_id, "id"),
            name=editing.queue_name(name, "name", required=True) or "",
            description=editing.text(
                description, "description", required=False, limit=200
            ),
            assignment=editing.assignment(assignment).value,
            timezone=editing.timezone(timezone),
            hours=editing.hours(hours),
            holidays=editing.holidays(holidays),
            ack_text=ack,
            after_hours_text=after,
            last_assigned_id=None,
            members=member_ids,
        )
        return await self._change(
            "automation.queue",
            lambda now: automation_queries.save_queue(record, now=now),
            actor,
        )

    async def delete_queue(
        self, queue_id: int, *, actor: Actor | Identity | str
    ) -> QueueRecord:
        qid = policy.check_id(queue_id, "id")
        return await self._change(
            "automation.queue.delete",
            lambda now: automation_queries.delete_queue(qid),
            actor,
        )

    # -------------------------------------------------------------- availability

    async def set_away(
        self, user_id: int, away: bool, *, actor: Actor | Identity | str
    ) -> bool:
        """An agent's availability: away agents get no conversations by assignment."""
        uid = policy.check_id(user_id, "user_id")
        return bool(
            await self._change(
                "automation.away" if away else "automation.available",
                lambda now: automation_queries.set_away(uid, away, now=now),
                actor,
            )
        )

    async def is_away(self, user_id: int) -> bool:
        """Whether the user set themselves away."""
        uid = policy.check_id(user_id, "user_id")
        return await self._store.read(automation_queries.is_away, uid)

    # -------------------------------------------------------------- the tester

    async def test(
        self,
        messages: Sequence[str],
        *,
        contact_id: int | None = None,
        context: JsonObject | None = None,
        at: datetime | None = None,
        start: TestStart = TestStart.NEW,
    ) -> TestResult:
        """What the automation would do with these customer messages (a minute apart,
        the conversation standing as `start` says before the first), over the stored
        rules. Sends nothing, changes nothing."""
        texts = [m.strip() for m in messages if m.strip()]
        if not texts:
            raise InvalidInput("text", "type what the customer texts")
        if len(texts) > MAX_TEST_MESSAGES:
            raise InvalidInput("text", f"at most {MAX_TEST_MESSAGES} messages")
        if contact_id is not None:
            policy.check_id(contact_id, "contact_id")
        when = at or self._clock()
        if when.tzinfo is None:
            raise InvalidInput("at", "a time with its zone")
        return await self._store.run(
            self._test_unit, texts, contact_id, dict(context or {}), when, start
        )

    def _test_unit(
        self,
        texts: list[str],
        contact_id: int | None,
        context: JsonObject,
        start: datetime,
        standing: TestStart,
    ) -> TestResult:
        """ON THE DB THREAD: reads only."""
        loaded = load_rules(self._ini, self._tz)
        attributes: JsonObject = {}
        number = None
        owner = None
        last_handler = None
        display = None
        opted_out = False
        if contact_id is not None:
            contact = queries.get_contact(contact_id)
            attributes, number = contact.attributes, contact.number
            display = contact.name or contact.number
            owner = owner_id(contact, loaded.settings.owner_attribute)
            last_handler = automation_queries.last_handler(number, 0)
            opted_out = contact.kind is NumberKind.E164 and queries.is_opted_out(number)
        agents = automation_queries.agents(start, loaded.settings.online_window_s)
        users = {
            u.id: u.display_name for u in automation_queries.user_choices(start, 0)
        }
        state = AutomationState()
        queue: str | None = None
        assignee: int | None = None
        priority = Priority.NORMAL
        unanswered: list[datetime] = []
        agent_reply = (
            start - timedelta(seconds=TEST_AGENT_REPLIED_S)
            if standing is TestStart.AGENT_REPLIED
            else None
        )
        steps = []
        for index, text in enumerate(texts):
            now = start + timedelta(seconds=TEST_GAP_S * index)
            unanswered.append(now)
            notes, keyword, acted, opted_out = self._compliance(text, opted_out)
            inbound = Inbound(
                text=text,
                new_conversation=index == 0 and standing is TestStart.NEW,
                keyword=keyword,
                compliance_acted=acted,
                opted_out=opted_out,
                attributes=attributes,
                context=context,
                queue=queue,
                assignee_id=assignee,
                priority=priority,
                last_agent_reply_at=agent_reply,
                unanswered=tuple(unanswered),
                last_handler_id=last_handler,
                owner_id=owner,
                agents=agents,
            )
            decision: Decision = decide(state, inbound, loaded.rules, now)
            steps.append(TestStep(text, now, tuple(notes), decision, state))
            state = decision.state
            for action in decision.actions:
                if isinstance(action, SetQueue):
                    queue = action.queue
                elif isinstance(action, Assign):
                    assignee = action.user_id
                    agents = _loaded(agents, action.user_id)
                elif isinstance(action, SetPriority):
                    priority = action.priority
                elif isinstance(action, SendText):
                    unanswered = []
        return TestResult(tuple(steps), display, user_names=users)

    def _compliance(
        self, text: str, opted_out: bool
    ) -> tuple[list[str], str | None, bool, bool]:
        """What ComplianceService would do first: (notes, keyword, acted, opted out)."""
        keyword = classify(text, self._keywords)
        settings = self._settings.compliance
        if keyword is Keyword.OPT_OUT:
            if opted_out:
                return ["STOP again: no second confirmation"], keyword.value, True, True
            return (
                [f"opt-out; the one confirmation: {settings.opt_out_reply}"],
                keyword.value,
                True,
                True,
            )
        if keyword is Keyword.OPT_IN and opted_out:
            return (
                [f"opted back in; reply: {settings.opt_in_reply}"],
                keyword.value,
                True,
                False,
            )
        if keyword is Keyword.HELP:
            note = (
                "no reply (opted out)"
                if opted_out
                else f"help reply: {settings.help_reply}"
            )
            return [note], keyword.value, True, opted_out
        return [], None if keyword is None else keyword.value, False, opted_out


def _loaded(agents: Mapping[int, Agent], user_id: int) -> dict[int, Agent]:
    """The agents after one more conversation went to `user_id`."""
    found = dict(agents)
    agent = found.get(user_id)
    if agent is not None:
        found[user_id] = dataclasses.replace(
            agent, open_assigned=agent.open_assigned + 1
        )
    return found

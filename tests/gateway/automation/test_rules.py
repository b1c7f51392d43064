"""decide (PURE): each step of the pipeline on its own, then the guarantees as a property
over random conversations - at most max_questions questions and max_prompts re-asks
before a human is in the loop, nothing asked after the hand-over, and never a text to a
number that is opted out (or that just sent STOP)."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.automation.matching import FrustrationRules
from gateway.automation.rules import (
    QUESTIONS,
    AddTags,
    Agent,
    Assign,
    Assignment,
    AutomationState,
    Decision,
    FieldKind,
    FieldSpec,
    Flow,
    HandOver,
    Inbound,
    MatchKind,
    NotifyAgents,
    Phase,
    QueueRules,
    RoutingRule,
    RuleSet,
    SendText,
    SetPriority,
    SetQueue,
    StoreField,
    TextPurpose,
    Triage,
    TriageOption,
    decide,
)
from gateway.automation.schedule import Schedule, parse_week
from gateway.domain import Priority

T0 = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a Thursday, 10:00 in London
LONDON = ZoneInfo("Europe/London")
CONNECTING = "Thanks - one moment while I connect you to an agent."
ORDER_FLOW = Flow(
    7,
    "Order number",
    (
        FieldSpec(
            "order_number",
            "order number",
            "Sorry about that. Reply with your order number.",
            FieldKind.PATTERN,
            r"\b(\d{6,10})\b",
        ),
        FieldSpec(
            "address_ok",
            "address confirmation",
            "Is the delivery address on the order right? Reply YES or NO.",
            FieldKind.YES_NO,
            save_to_contact=False,
        ),
    ),
)
TRIAGE = Triage(
    "Thanks for texting Acme.",
    (
        TriageOption(1, "1", "billing", ("invoice", "refund"), queue="billing"),
        TriageOption(
            2, "2", "delivery", ("late", "parcel"), queue="delivery", flow_id=7
        ),
        TriageOption(3, "A", "sales", (), queue="sales", assignee_id=42),
    ),
)
OFFICE = Schedule(LONDON, parse_week("mon-fri 08:00-18:00"))
RULES = RuleSet(
    triage=TRIAGE,
    flows={7: ORDER_FLOW},
    ack_text="We typically reply within 10 minutes.",
    after_hours_text="We're closed right now; we'll reply {when}.",
    queues={
        "delivery": QueueRules(
            "delivery", Assignment.ROUND_ROBIN, members=(5, 6, 7), last_assigned_id=6
        ),
        "billing": QueueRules("billing", Assignment.LEAST_BUSY, members=(5, 6, 7)),
        "sales": QueueRules("sales", schedule=OFFICE),
    },
)
AGENTS = {
    5: Agent(5, online=True, open_assigned=4),
    6: Agent(6, online=True, open_assigned=1),
    7: Agent(7, online=True, open_assigned=2),
    42: Agent(42, online=False, open_assigned=0),
}


def message(text: str, **changes: object) -> Inbound:
    base = Inbound(text, new_conversation=False, unanswered=(T0,), agents=AGENTS)
    return replace(base, **changes)  # type: ignore[arg-type]


def texts(decision: Decision) -> list[str]:
    return [t.body for t in decision.texts]


def run(*said: str, rules: RuleSet = RULES, **changes: object) -> list[Decision]:
    """Decisions for a conversation's messages, a minute apart (the first starts it,
    unless `new_conversation` says otherwise), carrying the queue, assignee and
    priority each decision leaves."""
    state = AutomationState()
    found = []
    carried: dict[str, object] = {}
    for index, text in enumerate(said):
        now = T0 + timedelta(minutes=index)
        given = {"new_conversation": index == 0, "unanswered": (now,)}
        inbound = message(text, **{**given, **carried, **changes})
        decision = decide(state, inbound, rules, now)
        for action in decision.actions:
            if isinstance(action, SetQueue):
                carried["queue"] = action.queue
            elif isinstance(action, Assign):
                carried["assignee_id"] = action.user_id
            elif isinstance(action, SetPriority):
                carried["priority"] = action.priority
        state = decision.state
        found.append(decision)
    return found


# ---------------------------------------------------------------- triage


def test_the_seed_example_collects_the_order_number_then_hands_over() -> None:
    late, number, address = run("My delivery is late", "4839201", "yes")
    assert texts(late) == ["Sorry about that. Reply with your order number."]
    assert late.of(SetQueue) == [SetQueue("delivery")]
    assert late.state.phase is Phase.COLLECT
    assert number.of(StoreField) == [StoreField("order_number", "4839201", True)]
    assert texts(number) == [ORDER_FLOW.fields[1].prompt]
    assert address.of(StoreField) == [StoreField("address_ok", "yes", False)]
    assert address.of(HandOver) == [HandOver("Order number: details collected")]
    (sent,) = address.texts
    assert sent.body == f"{CONNECTING} We typically reply within 10 minutes."
    assert sent.purposes == (TextPurpose.CONNECTING, TextPurpose.ACK)
    # round robin after the last assigned (6): 7
    assert address.of(Assign) == [Assign(7, "round_robin", "delivery")]
    assert address.state.fields == {"order_number": "4839201", "address_ok": "yes"}


def test_the_menu_then_an_answer_by_key_letter_or_close_spelling() -> None:
    menu, answer = run("hello", "deliverry")
    assert texts(menu) == [
        "Thanks for texting Acme. Reply 1 for billing, 2 for delivery, A for sales."
    ]
    assert menu.state.phase is Phase.TRIAGE
    assert texts(answer) == ["Sorry about that. Reply with your order number."]
    _, billing = run("hi", "1")
    assert billing.of(SetQueue) == [SetQueue("billing")]
    assert billing.of(Assign) == [Assign(6, "least_busy", "billing")]
    assert texts(billing) == [f"{CONNECTING} We typically reply within 10 minutes."]
    _, sales = run("hi", "a")
    # the option names its agent: they get it, online or not
    assert sales.of(Assign) == [Assign(42, "triage")]
    assert sales.of(SetQueue) == [SetQueue("sales")]


def test_an_unmatched_answer_is_asked_again_at_most_max_prompts_times() -> None:
    decisions = run("hi", "blah", "what?", "???", "hello?")
    menu, again1, again2, human, after = decisions
    assert [t.purposes for t in menu.texts] == [(TextPurpose.PROMPT,)]
    assert texts(again1) == [
        "Sorry, I didn't catch that. Reply 1 for billing, 2 for delivery, A for sales."
    ]
    assert again2.texts[0].purposes == (TextPurpose.REPROMPT,)
    assert human.of(HandOver) == [HandOver("no triage option fits after 3 tries")]
    assert texts(human)[0].startswith(CONNECTING)
    assert texts(after) == []
    assert after.state.handed_over


def test_a_detail_that_does_not_fit_is_asked_again_then_a_human() -> None:
    rules = replace(RULES, max_prompts=1)
    _, wrong, still, nothing = run(
        "my parcel is late", "it's 12", "no idea", "4839201", rules=rules
    )
    assert texts(wrong) == [
        "Sorry, I couldn't find the order number in that. Please try again."
    ]
    assert still.of(HandOver) == [HandOver("no valid order number after 2 tries")]
    assert nothing.of(StoreField) == []  # a human has it now


def test_max_questions_caps_every_path() -> None:
    rules = replace(RULES, max_questions=2)
    decisions = run("hello", "blah", "more blah", rules=rules)
    asked = [t for d in decisions for t in d.texts if set(t.purposes) & set(QUESTIONS)]
    assert len(asked) == 2
    assert decisions[-1].of(HandOver) == [HandOver("2 questions asked without an end")]


def test_no_triage_when_the_conversation_was_not_started_by_the_customer() -> None:
    (reply,) = run("yes", rules=RULES, new_conversation=False)
    assert reply.of(SetQueue) == []
    assert texts(reply) == ["We typically reply within 10 minutes."]


def test_without_triage_options_a_message_is_routed_and_acknowledged() -> None:
    rules = replace(RULES, triage=None, default_queue="billing")
    (first,) = run("hello", rules=rules)
    assert first.of(SetQueue) == [SetQueue("billing")]
    assert texts(first) == ["We typically reply within 10 minutes."]
    assert first.state.phase is Phase.IDLE


# ---------------------------------------------------------------- compliance


def test_stop_in_the_middle_of_a_flow_ends_it_and_nothing_more_is_sent() -> None:
    state = run("My delivery is late")[0].state
    stop = decide(
        state,
        message("STOP", keyword="opt_out", compliance_acted=True, opted_out=True),
        RULES,
        T0,
    )
    assert stop.actions == ()
    assert stop.state.handed_over
    later = decide(stop.state, message("4839201", opted_out=True), RULES, T0)
    assert later.texts == ()
    assert later.of(StoreField) == []
    # opted back in later: a human has it, the flow does not resume
    back = decide(later.state, message("4839201"), RULES, T0)
    assert back.of(StoreField) == []
    assert all(TextPurpose.PROMPT not in t.purposes for t in back.texts)


def test_help_keeps_its_compliance_reply_and_flags_a_human() -> None:
    state = run("hello")[0].state
    helped = decide(
        state, message("HELP", keyword="help", compliance_acted=True), RULES, T0
    )
    assert helped.texts == ()  # compliance's help text is the one reply
    assert helped.of(NotifyAgents)
    assert helped.of(AddTags) == [AddTags(("help-requested",))]
    assert helped.of(SetPriority) == [SetPriority(Priority.HIGH)]
    assert helped.state.handed_over


def test_yes_that_compliance_ignored_is_an_ordinary_answer() -> None:
    state = run("parcel late", "4839201")[1].state
    said = decide(state, message("YES", keyword="opt_in"), RULES, T0)
    assert said.of(StoreField) == [StoreField("address_ok", "yes", False)]


def test_a_sender_that_cannot_be_replied_to_gets_no_question() -> None:
    (first,) = run("hello", repliable=False)
    assert first.texts == ()
    assert first.state.handed_over


# ---------------------------------------------------------------- takeover


def test_a_takeover_word_escalates_mid_flow() -> None:
    state = run("my parcel is late")[0].state
    human = decide(state, message("can I talk to a real person"), RULES, T0)
    assert human.of(SetQueue) == [SetQueue("escalations")]
    assert human.of(AddTags) == [AddTags(("escalated",))]
    assert human.of(SetPriority) == [SetPriority(Priority.HIGH)]
    assert human.of(NotifyAgents)
    assert texts(human)[0].startswith(CONNECTING)
    assert human.state.escalated
    again = decide(human.state, message("AGENT!!!"), RULES, T0)
    assert again.actions == ()  # escalated once; nothing more


def test_frustration_after_a_hand_over_escalates_without_a_text() -> None:
    state = run("hi", "1")[1].state
    assert state.handed_over
    burst = (T0, T0 + timedelta(minutes=2), T0 + timedelta(minutes=4))
    later = T0 + timedelta(minutes=4)
    angry = decide(state, message("hello??", unanswered=burst), RULES, later)
    assert angry.of(NotifyAgents) == [
        NotifyAgents(
            "frustration signals: 3 messages without a reply within 10 minutes"
        )
    ]
    assert angry.texts == ()


def test_an_agent_reply_stops_the_automation_silently() -> None:
    state = run("hello")[0].state
    replied = decide(
        state,
        message("blah", last_agent_reply_at=T0 + timedelta(seconds=30)),
        RULES,
        T0 + timedelta(minutes=1),
    )
    assert replied.of(HandOver) == [HandOver("an agent replied")]
    assert replied.texts == ()  # and no acknowledgement: an agent replied recently


# ---------------------------------------------------------------- routing


def test_routing_rules_by_keyword_attribute_and_context() -> None:
    rules = replace(
        RULES,
        triage=None,
        routing=(
            RoutingRule(1, "vip", MatchKind.ATTRIBUTE, "true", key="vip", tags=("vip",),
                        priority=Priority.HIGH),
            RoutingRule(2, "north", MatchKind.ATTRIBUTE, "North", key="region",
                        queue="north"),
            RoutingRule(3, "delayed", MatchKind.CONTEXT, "delayed", key="order_status",
                        queue="delays"),
            RoutingRule(4, "refunds", MatchKind.KEYWORD, "refund, money back",
                        queue="billing"),
        ),
    )  # fmt: skip
    (vip,) = run("hello", rules=rules, attributes={"vip": True, "region": "north"})
    assert vip.of(SetQueue) == [SetQueue("north")]
    assert vip.of(AddTags) == [AddTags(("vip",))]
    assert vip.of(SetPriority) == [SetPriority(Priority.HIGH)]
    (late,) = run("where is it", rules=rules, reply_context={"order_status": "delayed"})
    assert late.of(SetQueue) == [SetQueue("delays")]
    (money,) = run("I want my money back", rules=rules)
    assert money.of(SetQueue) == [SetQueue("billing")]
    assert money.of(Assign) == [Assign(6, "least_busy", "billing")]


def test_owner_then_sticky_then_the_queue() -> None:
    rules = replace(RULES, triage=None, default_queue="billing")
    (owned,) = run("hi", rules=rules, owner_id=42)
    assert owned.of(Assign) == [Assign(42, "owner")]
    (sticky,) = run("hi", rules=rules, last_handler_id=5)
    assert sticky.of(Assign) == [Assign(5, "sticky")]
    (offline,) = run("hi", rules=rules, last_handler_id=42)
    assert offline.of(Assign) == [Assign(6, "least_busy", "billing")]
    (kept,) = run("hi", rules=rules, assignee_id=7)
    assert kept.of(Assign) == []
    nobody = {k: replace(a, online=False) for k, a in AGENTS.items()}
    (waits,) = run("hi", rules=rules, agents=nobody)
    assert waits.of(Assign) == []
    assert "nobody in billing is online: it waits in the queue" in waits.trace


# ---------------------------------------------------------------- business hours


def test_after_hours_says_when_a_human_answers() -> None:
    rules = replace(RULES, triage=None, default_queue="sales")
    thursday_night = datetime(2026, 11, 26, 21, 0, tzinfo=LONDON)
    first = decide(
        AutomationState(), message("hi", new_conversation=True), rules, thursday_night
    )
    assert texts(first) == ["We're closed right now; we'll reply tomorrow at 8am."]
    again = decide(first.state, message("hello?", queue="sales"), rules, thursday_night)
    assert again.texts == ()  # once per closed spell
    friday_night = datetime(2026, 11, 27, 19, 0, tzinfo=LONDON)
    weekend = decide(
        first.state, message("still there?", queue="sales"), rules, friday_night
    )
    assert texts(weekend) == ["We're closed right now; we'll reply on Monday at 8am."]


def test_after_hours_replaces_the_connecting_text() -> None:
    rules = replace(
        RULES,
        queues={**RULES.queues, "billing": QueueRules("billing", schedule=OFFICE)},
    )
    saturday = datetime(2026, 11, 28, 10, 0, tzinfo=LONDON)
    state = decide(AutomationState(), message("hi", new_conversation=True), rules,
                   saturday).state  # fmt: skip
    answer = decide(state, message("1"), rules, saturday)
    assert answer.of(HandOver) == [HandOver("triage: billing")]
    assert texts(answer) == ["We're closed right now; we'll reply on Monday at 8am."]


def test_no_acknowledgement_when_an_agent_replied_recently() -> None:
    rules = replace(RULES, triage=None)
    (first,) = run("hi", rules=rules, last_agent_reply_at=T0 - timedelta(minutes=5))
    assert first.texts == ()
    assert "an agent replied recently: no acknowledgement" in first.trace


def test_automation_off_does_nothing() -> None:
    (first,) = run("agent!!!", rules=replace(RULES, enabled=False))
    assert first.actions == ()


# ---------------------------------------------------------------- the guarantees


@dataclass
class World:
    """A conversation as the runner would see it, for the property test."""

    rules: RuleSet
    now: datetime = T0
    state: AutomationState = field(default_factory=AutomationState)
    opted_out: bool = False
    unanswered: list[datetime] = field(default_factory=list)
    last_agent_reply_at: datetime | None = None
    first: bool = True
    questions_before_human: int = 0
    reasks_in_a_row: int = 0
    texts_while_opted_out: int = 0
    questions_after_hand_over: int = 0


REPLIES = st.one_of(
    st.sampled_from(
        [
            "1", "2", "3", "a", "b", "z", "billing", "delivery", "deliverry", "parcel",
            "4839201", "12", "yes", "no", "maybe", "STOP", "START", "HELP", "agent",
            "can I speak to a human", "WHERE IS MY PARCEL NOW", "!!!", "hello?",
            "this is ridiculous", "", "🙂",
        ]
    ),
    st.text(max_size=30),
)  # fmt: skip
EVENTS = st.lists(
    st.tuples(
        st.one_of(REPLIES, st.just("<agent replies>")),
        st.sampled_from([0, 1, 3, 12, 60, 60 * 14]),  # minutes since the last one
    ),
    min_size=1,
    max_size=25,
)


def _step(world: World, text: str) -> None:
    keyword, acted = None, False
    if text == "STOP":
        keyword, acted = "opt_out", True
        world.opted_out = True
    elif text == "START":
        keyword, acted = "opt_in", world.opted_out
        world.opted_out = False
    elif text == "HELP":
        keyword, acted = "help", True
    world.unanswered.append(world.now)
    inbound = Inbound(
        text,
        new_conversation=world.first,
        keyword=keyword,
        compliance_acted=acted,
        opted_out=world.opted_out,
        unanswered=tuple(world.unanswered),
        last_agent_reply_at=world.last_agent_reply_at,
        agents=AGENTS,
    )
    world.first = False
    before = world.state
    decision = decide(before, inbound, world.rules, world.now)
    for sent in decision.texts:
        world.unanswered = []
        if world.opted_out or keyword == "opt_out":
            world.texts_while_opted_out += 1
        if set(sent.purposes) & set(QUESTIONS):
            if before.handed_over:
                world.questions_after_hand_over += 1
            if TextPurpose.REPROMPT in sent.purposes:
                world.reasks_in_a_row += 1
            else:
                world.reasks_in_a_row = 0
            if not decision.state.handed_over:
                world.questions_before_human += 1
            assert world.reasks_in_a_row <= world.rules.max_prompts
    world.state = decision.state


@settings(max_examples=400, deadline=None)
@given(
    EVENTS,
    st.integers(0, 3),
    st.integers(1, 8),
    st.booleans(),
    st.sampled_from(["delivery", "sales", "billing", ""]),
)
def test_never_a_loop_always_a_human_never_a_text_to_an_opted_out_number(
    events: list[tuple[str, int]],
    max_prompts: int,
    max_questions: int,
    ask: bool,
    default_queue: str,
) -> None:
    rules = replace(
        RULES,
        max_prompts=max_prompts,
        max_questions=max_questions,
        triage=replace(TRIAGE, ask=ask),
        default_queue=default_queue,
        frustration=FrustrationRules(
            words=("ridiculous",),
            messages=3,
            window_s=600.0,
            caps_min_letters=12,
            exclamation_run=3,
        ),
    )
    world = World(rules)
    for text, gap in events:
        world.now += timedelta(minutes=gap)
        if text == "<agent replies>":
            world.last_agent_reply_at = world.now
            world.unanswered = []
            continue
        _step(world, text)
        assert world.state.prompts <= max_questions
    assert world.questions_before_human <= max_questions
    assert world.questions_after_hand_over == 0
    assert world.texts_while_opted_out == 0
    # never stuck: either a question is pending (the customer's turn), or nothing is
    # being asked and a human has it (or never needed the automation)
    assert world.state.asking or world.state.phase in (Phase.IDLE, Phase.HANDED_OVER)


def test_the_decision_trace_explains_itself() -> None:
    (late,) = run("My delivery is late")
    assert late.trace == (
        "the first message names delivery",
        "triage: delivery (keyword 'delivery')",
        "queue delivery (triage delivery)",
        "asked: Order number: field 1",
    )
    assert [a.describe() for a in late.actions] == [
        "queue: delivery",
        "text the customer (prompt): Sorry about that. Reply with your order number.",
    ]
    assert isinstance(late.actions[-1], SendText)

"""Units of work of the inbox: the conversation list, threads, agents' actions, contacts.

Like queries.py: synchronous functions with explicit arguments, every time passed in as
`now`, frozen records out (gateway.inbox.records, gateway.domain), never model instances.
InboxService composes them with `queries.record_audit` into one unit per action.

The list is ordered by last activity (`conversations.updated_at`: any change to the
conversation, a new message included) newest first, then by id, and paged by keyset
(`Cursor`): a page never repeats or skips a row because rows were added in front of it.

Portability (PostgreSQL, issue 8): everything here is plain peewee except the sections
"SQLite FTS5" (full-text MATCH and json_each) and "PostgreSQL search", its twin; the
public functions of search pick theirs by the engine of the thread's database.
"""

from __future__ import annotations

import functools
import json
import logging
import operator
import re
import unicodedata
from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Any

from peewee import JOIN, SQL, Case, EnclosedNodeList, Expression, NodeList, fn

from gateway.domain import (
    ConsentKind,
    ConsentState,
    ContactRecord,
    ConversationStatus,
    Direction,
    JsonObject,
    JsonValue,
    MessageOrigin,
    NumberKind,
    Priority,
)
from gateway.errors import Conflict, InvalidInput, NotFound
from gateway.inbox import policy
from gateway.inbox.records import (
    ContactBadge,
    ContactInput,
    ContactProfile,
    ContactRow,
    ConversationBrief,
    ConversationQuery,
    ConversationSummary,
    Cursor,
    FilterOptions,
    ImportBatch,
    ImportProblem,
    InboxCounts,
    MessagePreview,
    NoteRecord,
    PartState,
    ReplyContext,
    SearchTerms,
    ThreadItem,
    ThreadMessage,
    ThreadView,
    UserBadge,
)
from gateway.storage import metrics_queries, queries
from gateway.storage.inbox_models import ConversationRead
from gateway.storage.migrations import (
    PG_MESSAGE_SEARCH_VECTOR,
    PG_SEARCH_CONFIG,
    pg_search_fold,
)
from gateway.storage.models import (
    DB,
    ConsentEvent,
    Contact,
    Conversation,
    ConversationTag,
    Message,
    Modem,
    Note,
    OutboundPart,
    Tag,
    User,
)

_LOGGER = logging.getLogger(__name__)

# Search strategy (see _search_condition). At most this many message hits are answered
# by listing their conversations; more, and the density of the newest hits decides.
SEARCH_SMALL_RESULT = 2000
# Contacts map to their conversations through an index (a contact has few), so far more
# contact hits are still answered by listing their conversations.
SEARCH_CONTACTS_SMALL_RESULT = 20_000
SEARCH_LISTED_IDS = 100  # more conversation ids than this go to SQLite as one value
# From this share of messages matching, the list is walked in activity order asking the
# index about each conversation's messages (a page is found within a few hundred rows);
# below it, every hit is mapped to its conversation first.
SEARCH_DENSE_SHARE = 0.04
# A word prefix standing for at most this many indexed words is searched as those words.
SEARCH_PREFIX_WORDS = 32
SEARCH_PREFIX_MIN_CHARS = 3  # "or" finds the word "or" only, "ord" finds "order" too
MAX_TAGS_PER_CONVERSATION = 30
PROFILE_CONVERSATIONS = 10
PROFILE_CONSENT_EVENTS = 20


# ------------------------------------------------------------------ SQLite FTS5
#
# messages_fts: an external-content FTS5 index of messages.body (unicode61, diacritics
# folded), kept in sync by triggers on messages; every term matches as a word prefix.
# messages_fts_terms (fts5vocab) lists its words, so a prefix is searched as the exact
# words it stands for. contacts_fts: a trigram index of each contact's name, number and
# attribute values, kept in sync by triggers on contacts; terms of 3+ characters match
# anywhere ("0123" finds +447700900123, "ali" finds Natalie). Migration steps 5 and 6.
#
# The PostgreSQL twin is the section "PostgreSQL search" below.

_WORD_CHARS = re.compile(r"[^\W_]+")


def _phrase(word: str, *, prefix: bool) -> str:
    # Every term is one quoted FTS5 string ("" escapes a quote), so operators, '*', '^',
    # brackets and column filters in the user's text are never query syntax.
    return '"' + word.replace('"', '""') + '"' + ("*" if prefix else "")


def message_match(terms: SearchTerms) -> str | None:
    """The FTS5 query over message bodies: every term, each as a word prefix."""
    if not terms.words:
        return None
    return " ".join(_phrase(w, prefix=True) for w in terms.words)


def contact_match(terms: SearchTerms) -> str | None:
    """The FTS5 query over contacts: every term of 3+ characters, anywhere in a field."""
    words = [w for w in terms.words if len(w) >= 3]
    if not words:
        return None
    return " ".join(_phrase(w, prefix=False) for w in words)


def _tokens(word: str) -> list[str]:
    """The words unicode61 (remove_diacritics 2) makes of `word`, near enough."""
    # Only to look words up in messages_fts_terms: FTS5 tokenizes the query itself.
    decomposed = unicodedata.normalize("NFKD", word.lower())
    folded = "".join(c for c in decomposed if not unicodedata.combining(c))
    return _WORD_CHARS.findall(folded)


def _expanded_term(word: str) -> tuple[str, bool]:
    """One term of the message query, and whether a prefix is left in it."""
    # A prefix standing for at most SEARCH_PREFIX_WORDS indexed words becomes those words
    # (("order" OR "orders") for "order"*), which FTS5 answers far faster, above all when
    # asked about one message at a time. The word itself is always one of them and is
    # not looked up: fts5vocab counts a word's every occurrence to list it, which for a
    # word in most messages costs more than the search. Shorter than
    # SEARCH_PREFIX_MIN_CHARS, a word matches only itself.
    tokens = _tokens(word)
    if not tokens:
        return _phrase(word, prefix=True), True
    *head, last = tokens
    exact = _phrase(" ".join(tokens), prefix=False)
    if len(last) < SEARCH_PREFIX_MIN_CHARS:
        return exact, False
    # `term >= last + "\x01"`, not `term > last`: fts5vocab applies only >= and <= while
    # it reads, so `>` would count `last` first (no word holds a control character).
    rows = queries_db().execute_sql(
        "SELECT term FROM messages_fts_terms WHERE term >= ? AND term < ? LIMIT ?",
        [last + "\x01", last + "\U0010ffff", SEARCH_PREFIX_WORDS],
    )
    longer = [str(term) for (term,) in rows.fetchall()]
    if len(longer) >= SEARCH_PREFIX_WORDS:
        return _phrase(" ".join(tokens), prefix=True), True
    if not longer:
        return exact, False
    phrases = [exact, *(_phrase(" ".join([*head, w]), prefix=False) for w in longer)]
    return "(" + " OR ".join(phrases) + ")", False


def _enclosed(sql: str, params: Sequence[object]) -> Any:
    return EnclosedNodeList([SQL(sql, list(params))])


# The conversations of message hits, through the narrow (id, conversation_id) index: the
# planner would otherwise read each whole message row.
_CONVERSATIONS_OF_HITS = (
    "SELECT conversation_id FROM messages INDEXED BY messages_id_conversation_id "
    "WHERE id IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)"
)
_CONTACT_HITS = "SELECT rowid FROM contacts_fts WHERE contacts_fts MATCH ?"


def _message_condition(query: str, *, prefix: bool) -> tuple[Any | None, list[int]]:
    """(a condition for many hits, or None) and (the conversations of few hits)."""
    # A query with a prefix left in it is never asked one message at a time: FTS5 merges
    # every word of the prefix again for each question.
    db = queries_db()
    newest = [
        int(rowid)
        for (rowid,) in db.execute_sql(
            "SELECT rowid FROM messages_fts WHERE messages_fts MATCH ? "
            "ORDER BY rowid DESC LIMIT ?",
            [query, SEARCH_SMALL_RESULT + 1],
        ).fetchall()
    ]
    if len(newest) <= SEARCH_SMALL_RESULT:
        if not newest:
            return None, []
        rows = db.execute_sql(
            "SELECT DISTINCT conversation_id FROM messages INDEXED BY "
            f"messages_id_conversation_id WHERE id IN ({_marks(newest)})",
            newest,
        ).fetchall()
        return None, [int(cid) for (cid,) in rows]
    # Message ids grow with time, so the newest hits tell how dense the word is.
    top = int(db.execute_sql("SELECT max(id) FROM messages").fetchone()[0])
    share = len(newest) / max(1, top - newest[-1] + 1)
    if share >= SEARCH_DENSE_SHARE and not prefix:
        probe = Message.alias("probe")
        return (
            fn.EXISTS(
                probe.select(SQL("1")).where(
                    (probe.conversation == Conversation.id)
                    & SQL(
                        "EXISTS (SELECT 1 FROM messages_fts WHERE messages_fts MATCH ? "
                        'AND rowid = "probe"."id")',
                        [query],
                    )
                )
            ),
            [],
        )
    return Conversation.id.in_(_enclosed(_CONVERSATIONS_OF_HITS, [query])), []


def _search_condition(terms: SearchTerms) -> Any | None:
    """A condition on conversations for a search; None when nothing can match."""
    if DB.postgresql:
        return _pg_search_condition(terms)
    # Three strategies, chosen per search: few hits (a rare word) - their conversations
    # by id, then sorted; many and dense (a word in more than SEARCH_DENSE_SHARE of the
    # messages) - the list walked in activity order, each conversation's messages checked
    # against the index, so a page is found near the top; many but sparse - every hit
    # mapped to its conversation, then the list walked against that set.
    conditions: list[Any] = []
    ids: set[int] = set()
    if terms.words:
        expanded = [_expanded_term(w) for w in terms.words]
        query = " ".join(term for term, _ in expanded)
        prefix = any(is_prefix for _, is_prefix in expanded)
        condition, few = _message_condition(query, prefix=prefix)
        if condition is not None:
            conditions.append(condition)
        ids.update(few)
    contact_query = contact_match(terms)
    if contact_query is not None:
        contacts = [
            int(rowid)
            for (rowid,) in queries_db()
            .execute_sql(
                f"{_CONTACT_HITS} LIMIT ?",
                [contact_query, SEARCH_CONTACTS_SMALL_RESULT + 1],
            )
            .fetchall()
        ]
        if len(contacts) > SEARCH_CONTACTS_SMALL_RESULT:
            hits = _enclosed(_CONTACT_HITS, [contact_query])
            conditions.append(Conversation.contact.in_(hits))
        elif contacts:
            rows = queries_db().execute_sql(
                f"SELECT id FROM conversations WHERE contact_id IN ({_marks(contacts)})",
                contacts,
            )
            ids.update(int(cid) for (cid,) in rows.fetchall())
    if terms.number is not None:
        ids.update(
            row.id
            for row in Conversation.select(Conversation.id).where(
                Conversation.number == terms.number
            )
        )
    if ids:
        conditions.append(_one_of(sorted(ids)))
    if not conditions:
        return None
    return functools.reduce(operator.or_, conditions)


def _marks(values: Collection[object]) -> str:
    return ", ".join("?" * len(values))


def _one_of(ids: Sequence[int]) -> Any:
    """Conversation.id IN ids; a long list as one JSON parameter (json_each)."""
    if len(ids) <= SEARCH_LISTED_IDS:
        return Conversation.id.in_(list(ids))
    if DB.postgresql:
        return Conversation.id.in_(
            _enclosed(
                "SELECT value::bigint FROM jsonb_array_elements_text(%s::jsonb)",
                [json.dumps(list(ids))],
            )
        )
    # peewee turns every value of a list into a node of its own, which for thousands of
    # ids costs more than the query
    return Conversation.id.in_(
        _enclosed("SELECT value FROM json_each(?)", [json.dumps(list(ids))])
    )


def contact_search_condition(terms: SearchTerms) -> Any | None:
    """A condition on contacts for a search (name, number, attributes)."""
    conditions = []
    if DB.postgresql:
        matching = _pg_contact_condition(terms)
        if matching is not None:
            conditions.append(matching)
    else:
        contact_query = contact_match(terms)
        if contact_query is not None:
            conditions.append(Contact.id.in_(_enclosed(_CONTACT_HITS, [contact_query])))
    if terms.number is not None:
        conditions.append(Contact.number == terms.number)
    if not conditions:
        return None
    condition = conditions[0]
    for other in conditions[1:]:
        condition = condition | other
    return condition


def attribute_keys() -> list[str]:
    """Every attribute key any contact has, sorted (the CSV export's columns)."""
    if DB.postgresql:
        cursor = queries_db().execute_sql(
            "SELECT DISTINCT j.key FROM contacts AS c, "
            f"jsonb_each({_PG_ATTRIBUTES.format(row='c')}) AS j ORDER BY j.key"
        )
        return [str(key) for (key,) in cursor.fetchall()]
    cursor = queries_db().execute_sql(
        "SELECT DISTINCT j.key FROM contacts AS c, json_each(c.attributes) AS j "
        "WHERE json_valid(c.attributes) ORDER BY j.key"
    )
    return [str(key) for (key,) in cursor.fetchall()]


def contact_attribute_text_sql(row: str) -> str:
    """SQL for the attribute text contacts_fts indexes, for the row alias `row`."""
    # A true flag indexes its key: "vip" finds {"vip": true}.
    attributes = f"{row}.attributes"
    return (
        "(SELECT coalesce(group_concat(CASE WHEN j.type = 'true' THEN j.key "
        "ELSE j.value END, ' '), '') "
        f"FROM json_each(CASE WHEN json_valid({attributes}) THEN {attributes} "
        "ELSE '{}' END) AS j WHERE j.type IN ('text', 'integer', 'real', 'true'))"
    )


def rebuild_search_index() -> None:
    """Rebuild both full-text indexes from their tables (after a bulk load, or repair)."""
    db = queries_db()
    if DB.postgresql:  # an expression index is never behind its table; repair only
        db.execute_sql('REINDEX INDEX "messages_body_search"')
        return
    db.execute_sql("INSERT INTO messages_fts(messages_fts) VALUES ('rebuild')")
    db.execute_sql("DELETE FROM contacts_fts")
    db.execute_sql(
        "INSERT INTO contacts_fts (rowid, name, number, attributes) "
        "SELECT id, coalesce(name, ''), number, "
        f"{contact_attribute_text_sql('contacts')} FROM contacts"
    )


def queries_db() -> Any:
    """The database the models are bound to on this (the db) thread."""
    return Conversation._meta.database


# ------------------------------------------------------------------ PostgreSQL search
#
# Messages: the GIN expression index of migrations.PG_MESSAGE_SEARCH_VECTOR, asked with
# the same expression; every term is a word, the last word of each term a prefix (from
# SEARCH_PREFIX_MIN_CHARS characters), as on SQLite. A known difference: only Latin
# letters lose their accents (see migrations.pg_search_fold). Contacts: every term of 3+
# characters anywhere in the name, number or an attribute value, case-insensitive, like
# FTS5's trigram index (a scan: contacts are few next to messages).

_PG_ATTRIBUTES = (
    "(CASE WHEN jsonb_typeof({row}.attributes::jsonb) = 'object' "
    "THEN {row}.attributes::jsonb ELSE '{{}}'::jsonb END)"
)


def _pg_attribute_text() -> Any:
    """The attribute text contacts are searched in: values, and the key of a true flag."""
    as_jsonb = NodeList((Contact.attributes, SQL("::jsonb")), glue="")
    an_object = NodeList(
        (
            SQL("(CASE WHEN jsonb_typeof("),
            as_jsonb,
            SQL(") = 'object' THEN "),
            as_jsonb,
            SQL(" ELSE '{}'::jsonb END)"),
        ),
        glue="",
    )
    return NodeList(
        (
            SQL(
                "(SELECT coalesce(string_agg(CASE WHEN j.value = 'true'::jsonb "
                "THEN j.key ELSE j.value #>> '{}' END, ' '), '') FROM jsonb_each("
            ),
            an_object,
            SQL(
                ") AS j WHERE jsonb_typeof(j.value) IN ('string', 'number') "
                "OR j.value = 'true'::jsonb)"
            ),
        ),
        glue="",
    )


def _pg_tsquery(words: Sequence[str]) -> str | None:
    """A to_tsquery text: every word's tokens in sequence, the last one as a prefix."""
    terms: list[str] = []
    for word in words:
        tokens = _WORD_CHARS.findall(pg_search_fold(unicodedata.normalize("NFC", word)))
        if not tokens:
            continue
        lexemes = [f"'{token}'" for token in tokens]  # word characters only: no quoting
        if len(tokens[-1]) >= SEARCH_PREFIX_MIN_CHARS:
            lexemes[-1] += ":*"
        terms.append("(" + " <-> ".join(lexemes) + ")")
    return " & ".join(terms) if terms else None


def _pg_like(word: str) -> str:
    escaped = word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def _pg_contact_condition(terms: SearchTerms) -> Any | None:
    """Contacts holding every term of 3+ characters (name, number or attributes)."""
    words = [w for w in terms.words if len(w) >= 3]
    if not words:
        return None
    attribute_text = _pg_attribute_text()
    conditions = [
        (Contact.name**pattern)
        | (Contact.number**pattern)
        | Expression(attribute_text, "ILIKE", pattern)
        for pattern in (_pg_like(w) for w in words)
    ]
    return functools.reduce(operator.and_, conditions)


def _pg_search_condition(terms: SearchTerms) -> Any | None:
    """The PostgreSQL twin of _search_condition: one query, the planner picks the path."""
    conditions: list[Any] = []
    query = _pg_tsquery(terms.words)
    if query is not None:
        hits = Message.select(Message.conversation).where(
            SQL(
                f"{PG_MESSAGE_SEARCH_VECTOR} @@ to_tsquery('{PG_SEARCH_CONFIG}', %s)",
                [query],
            )
        )
        conditions.append(Conversation.id.in_(hits))
    contacts = _pg_contact_condition(terms)
    if contacts is not None:
        conditions.append(
            Conversation.contact.in_(Contact.select(Contact.id).where(contacts))
        )
    if terms.number is not None:
        conditions.append(Conversation.number == terms.number)
    if not conditions:
        return None
    return functools.reduce(operator.or_, conditions)


# ------------------------------------------------------------------ conversions


def _users(ids: Collection[int | None]) -> dict[int | None, UserBadge]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    rows = User.select(User.id, User.username, User.display_name).where(
        User.id.in_(sorted(wanted))
    )
    return {row.id: UserBadge(row.id, row.username, row.display_name) for row in rows}


def _opted_out(numbers: Collection[str]) -> set[str]:
    if not numbers:
        return set()
    latest = (
        ConsentEvent.select(fn.MAX(ConsentEvent.id))
        .where(ConsentEvent.number.in_(sorted(numbers)))
        .group_by(ConsentEvent.number)
    )
    rows: Any = (
        ConsentEvent.select(ConsentEvent.number)
        .where(ConsentEvent.id.in_(latest) & (ConsentEvent.kind == ConsentKind.OPT_OUT))
        .tuples()
    )
    return {str(number) for (number,) in rows}


_PREVIEW_COLUMNS = (
    Message.id,
    Message.direction,
    Message.origin,
    Message.status,
    Message.body,
    Message.created_at,
    Message.conversation,
)


def _previews(message_ids: Collection[int]) -> dict[int, MessagePreview]:
    """Previews of these messages, by their conversation."""
    if not message_ids:
        return {}
    rows: Any = (
        Message.select(*_PREVIEW_COLUMNS)
        .where(Message.id.in_(sorted(message_ids)))
        .tuples()
    )
    return {row[6]: MessagePreview(*row[:6]) for row in rows}


def _last_messages(conversation_ids: Collection[int]) -> dict[int, MessagePreview]:
    """The last message of each of these conversations, by conversation."""
    if not conversation_ids:
        return {}
    latest: Any = (
        Message.select(fn.MAX(Message.id))
        .where(Message.conversation.in_(sorted(conversation_ids)))
        .group_by(Message.conversation)
        .tuples()
    )
    return _previews([int(message_id) for (message_id,) in latest])


# ------------------------------------------------------------------ the list


_ASSIGNEE = User.alias("assignee")
# The columns of a list row, in the order `_summaries` unpacks them. Rows come as tuples
# (peewee still converts times and enums): building models costs more than the query.
_SUMMARY_COLUMNS = (
    Conversation.id,
    Conversation.status,
    Conversation.priority,
    Conversation.queue,
    Conversation.modem,
    Conversation.created_at,
    Conversation.updated_at,
    Conversation.last_inbound_at,
    Conversation.last_outbound_at,
    Conversation.resolved_at,
    Contact.id,
    Contact.number,
    Contact.name,
    Contact.kind,
    _ASSIGNEE.id,
    _ASSIGNEE.username,
    _ASSIGNEE.display_name,
)


def _summary_select() -> Any:
    return (
        Conversation.select(*_SUMMARY_COLUMNS)
        .join(Contact, on=(Conversation.contact == Contact.id))
        .switch(Conversation)
        .join(_ASSIGNEE, JOIN.LEFT_OUTER, on=(Conversation.assignee == _ASSIGNEE.id))
    )


def _summaries(rows: Sequence[tuple[Any, ...]]) -> list[ConversationSummary]:
    """List rows for the tuples `_summary_select` gives, in their order."""
    if not rows:
        return []
    ids = [row[0] for row in rows]
    tags: dict[int, list[str]] = {i: [] for i in ids}
    tag_rows: Any = (
        ConversationTag.select(ConversationTag.conversation, Tag.name)
        .join(Tag)
        .where(ConversationTag.conversation.in_(ids))
        .order_by(Tag.name)
        .tuples()
    )
    for conversation_id, name in tag_rows:
        tags[conversation_id].append(name)

    inbound = Message.direction == Direction.INBOUND
    marker = fn.COALESCE(ConversationRead.message_id, 0)
    stats: Any = (
        Message.select(
            Message.conversation,
            fn.MAX(Message.id),
            fn.MAX(Case(None, [(inbound, Message.id)])),
            fn.MAX(Case(None, [(Message.origin == MessageOrigin.AGENT, Message.id)])),
            fn.SUM(Case(None, [(inbound & (Message.id > marker), 1)], 0)),
        )
        .join(
            ConversationRead,
            JOIN.LEFT_OUTER,
            on=(ConversationRead.conversation == Message.conversation),
        )
        .where(Message.conversation.in_(ids))
        .group_by(Message.conversation)
        .tuples()
    )
    by_conversation: dict[int, tuple[int, int | None, int | None, int]] = {}
    for conversation_id, last_id, last_in, last_agent, unread in stats:
        by_conversation[conversation_id] = (last_id, last_in, last_agent, unread or 0)
    previews = _previews([v[0] for v in by_conversation.values()])
    opted_out = _opted_out({row[11] for row in rows})

    summaries = []
    for (
        cid,
        status,
        priority,
        queue,
        modem,
        created_at,
        updated_at,
        last_inbound_at,
        last_outbound_at,
        resolved_at,
        contact_id,
        number,
        name,
        kind,
        assignee_id,
        username,
        display_name,
    ) in rows:
        _, last_in, last_agent, unread = by_conversation.get(cid, (0, None, None, 0))
        summaries.append(
            ConversationSummary(
                id=cid,
                status=status,
                priority=priority,
                queue=queue,
                modem=modem,
                contact=ContactBadge(
                    id=contact_id,
                    number=number,
                    name=name,
                    kind=kind,
                    opted_out=number in opted_out,
                ),
                assignee=None
                if assignee_id is None
                else UserBadge(assignee_id, username, display_name),
                tags=tuple(tags[cid]),
                last_message=previews.get(cid),
                awaiting_reply=policy.awaiting_reply(
                    last_in, last_agent, repliable=kind is not NumberKind.ALPHANUMERIC
                ),
                unread_count=int(unread),
                created_at=created_at,
                last_activity_at=updated_at,
                last_inbound_at=last_inbound_at,
                last_outbound_at=last_outbound_at,
                resolved_at=resolved_at,
            )
        )
    return summaries


def _filters(query: ConversationQuery) -> tuple[list[Any], bool]:
    """The conditions of a list query, and False when nothing can match."""
    conditions: list[Any] = []
    if query.status is not None:
        conditions.append(Conversation.status == query.status)
    if query.assignee_id is not None:
        conditions.append(Conversation.assignee == query.assignee_id)
    if query.unassigned:
        conditions.append(Conversation.assignee.is_null())
    if query.queue is not None:
        conditions.append(Conversation.queue == query.queue)
    if query.modem is not None:
        conditions.append(Conversation.modem == query.modem)
    if query.priority is not None:
        conditions.append(Conversation.priority == query.priority)
    if query.tag is not None:
        tagged = (
            ConversationTag.select(ConversationTag.conversation)
            .join(Tag)
            .where(Tag.name == query.tag)
        )
        conditions.append(Conversation.id.in_(tagged))
    if query.search is not None:
        matching = _search_condition(query.search)
        if matching is None:
            return [], False
        conditions.append(matching)
    return conditions, True


def list_conversations(
    query: ConversationQuery, *, after: Cursor | None, limit: int
) -> tuple[list[ConversationSummary], bool]:
    """A page of the list, newest activity first, after `after`; and whether more follow."""
    conditions, possible = _filters(query)
    if not possible:
        return [], False
    if after is not None:
        # `<=` alone lets the index range do the work; the OR then drops the rows of the
        # same instant already shown (ids break ties).
        conditions.append(
            (Conversation.updated_at <= after.at)
            & ((Conversation.updated_at < after.at) | (Conversation.id < after.id))
        )
    select = _summary_select()
    if conditions:
        select = select.where(*conditions)
    rows = list(
        select.order_by(Conversation.updated_at.desc(), Conversation.id.desc())
        .limit(limit + 1)
        .tuples()
    )
    return _summaries(rows[:limit]), len(rows) > limit


def conversation_summary(conversation_id: int) -> ConversationSummary:
    """One conversation as a list row; NotFound if there is none."""
    rows = list(_summary_select().where(Conversation.id == conversation_id).tuples())
    if not rows:
        raise NotFound("conversation", conversation_id)
    return _summaries(rows)[0]


def inbox_counts(user_id: int | None) -> InboxCounts:
    """Open and pending conversations, and the open ones that are the user's or nobody's."""
    by_status: Any = (
        Conversation.select(Conversation.status, fn.COUNT(Conversation.id))
        .where(
            Conversation.status.in_(
                [ConversationStatus.OPEN, ConversationStatus.PENDING]
            )
        )
        .group_by(Conversation.status)
        .tuples()
    )
    counts = {ConversationStatus(status): int(n) for status, n in by_status}
    is_open = Conversation.status == ConversationStatus.OPEN
    mine = 0
    if user_id is not None:
        mine = (
            Conversation.select()
            .where(is_open & (Conversation.assignee == user_id))
            .count()
        )
    nobody = (
        Conversation.select().where(is_open & Conversation.assignee.is_null()).count()
    )
    return InboxCounts(
        open=counts.get(ConversationStatus.OPEN, 0),
        pending=counts.get(ConversationStatus.PENDING, 0),
        mine_open=mine,
        unassigned_open=nobody,
    )


def filter_options() -> FilterOptions:
    """Every tag, every queue a conversation is in, every modem the box knows."""
    tags: Any = Tag.select(Tag.name).order_by(Tag.name).tuples()
    queues: Any = (
        Conversation.select(Conversation.queue)
        .where(Conversation.queue.is_null(False))
        .distinct()
        .order_by(Conversation.queue)
        .tuples()
    )
    modems: Any = Modem.select(Modem.name).order_by(Modem.name).tuples()
    return FilterOptions(
        tags=tuple(str(name) for (name,) in tags),
        queues=tuple(str(name) for (name,) in queues),
        modems=tuple(str(name) for (name,) in modems),
    )


# ------------------------------------------------------------------ the thread


def _part_state(row: Any) -> PartState:
    return PartState(
        seq=row.seq,
        status=row.status,
        reference=row.reference,
        report_status=row.report_status,
        error=row.error,
        attempts=row.attempts,
        modem=row.modem,
        accepted_at=row.accepted_at,
        delivered_at=row.delivered_at,
    )


def _reply_candidates(number: str, inbound_ids: Sequence[int]) -> list[ReplyContext]:
    """Outbound messages to `number` with a context that some of `inbound_ids` answer."""
    # Those between the first and the last inbound id, and the newest one before the first.
    if not inbound_ids:
        return []
    first, last = min(inbound_ids), max(inbound_ids)
    with_context = (
        (Message.number == number)
        & (Message.direction == Direction.OUTBOUND)
        & (Message.context != {})
    )
    columns = (
        Message.id,
        Message.conversation,
        Message.body,
        Message.context,
        Message.created_at,
    )
    rows = list(
        Message.select(*columns).where(
            with_context & (Message.id > first) & (Message.id < last)
        )
    )
    before = (
        Message.select(*columns)
        .where(with_context & (Message.id < first))
        .order_by(Message.id.desc())
        .first()
    )
    if before is not None:
        rows.append(before)
    return [
        ReplyContext(
            message_id=row.id,
            conversation_id=row.conversation_id,
            body=row.body,
            context=row.context,
            sent_at=row.created_at,
        )
        for row in rows
    ]


def _notes(
    conversation_id: int, start: datetime | None, end: datetime | None
) -> list[NoteRecord]:
    query = Note.select().where(Note.conversation == conversation_id)
    if start is not None:
        query = query.where(Note.created_at >= start)
    if end is not None:
        query = query.where(Note.created_at < end)
    rows: list[Any] = list(query.order_by(Note.created_at, Note.id))
    authors = _users({row.author_id for row in rows})
    return [
        NoteRecord(
            id=row.id,
            conversation_id=conversation_id,
            author=authors.get(row.author_id),
            body=row.body,
            created_at=row.created_at,
        )
        for row in rows
    ]


def thread(conversation_id: int, *, before: int | None, limit: int) -> ThreadView:
    """The newest `limit` messages before `before` (None: the newest), with their notes."""
    summary = conversation_summary(conversation_id)
    conversation = Conversation.get_by_id(conversation_id)
    query = Message.select().where(Message.conversation == conversation_id)
    if before is not None:
        query = query.where(Message.id < before)
    rows = list(query.order_by(Message.id.desc()).limit(limit + 1))
    older = len(rows) > limit
    rows = rows[:limit]
    rows.reverse()

    # The page's notes are those written from its first message (from the start of the
    # conversation on the first page) until the first message of the newer page.
    start = rows[0].created_at if older and rows else None
    end = None
    if before is not None:
        following = (
            Message.select(Message.created_at)
            .where((Message.conversation == conversation_id) & (Message.id >= before))
            .order_by(Message.id)
            .first()
        )
        end = following.created_at if following is not None else None
    notes = _notes(conversation_id, start, end)

    ids = [row.id for row in rows]
    parts: dict[int, list[PartState]] = {i: [] for i in ids}
    if ids:
        for part in (
            OutboundPart.select()
            .where(OutboundPart.message.in_(ids))
            .order_by(OutboundPart.message, OutboundPart.seq)
        ):
            parts[part.message_id].append(_part_state(part))
    authors = _users({row.user_id for row in rows})
    inbound_ids = [row.id for row in rows if row.direction == Direction.INBOUND]
    contexts = policy.reply_contexts(
        inbound_ids, _reply_candidates(conversation.number, inbound_ids)
    )
    messages = [
        ThreadMessage(
            id=row.id,
            direction=row.direction,
            origin=row.origin,
            status=row.status,
            body=row.body,
            created_at=row.created_at,
            network_at=row.network_at,
            sent_at=row.sent_at,
            delivered_at=row.delivered_at,
            failed_at=row.failed_at,
            error=row.error,
            modem=row.modem,
            encoding=row.encoding,
            parts_count=row.parts_count,
            parts=tuple(parts[row.id]),
            author=authors.get(row.user_id),
            context=row.context,
            replying_to=contexts.get(row.id),
        )
        for row in rows
    ]
    items: list[ThreadItem] = [*messages, *notes]
    # by time; a note written at the same instant as a message comes after it
    items.sort(key=lambda i: (i.created_at, i.kind == "note", i.id))

    read = ConversationRead.get_or_none(
        ConversationRead.conversation == conversation_id
    )
    return ThreadView(
        conversation=summary,
        context=conversation.context,
        reopen_count=conversation.reopen_count,
        items=tuple(items),
        older_cursor=rows[0].id if older and rows else None,
        customer=contact_profile(
            conversation.contact_id, exclude_conversation=conversation_id
        ),
        read_message_id=read.message_id if read is not None else None,
        read_by=_users({read.user_id}).get(read.user_id) if read is not None else None,
        rating=_rating(conversation_id),
    )


def _rating(conversation_id: int) -> int | None:
    survey = metrics_queries.get_survey(conversation_id)
    return None if survey is None else survey.rating


def contact_profile(
    contact_id: int, *, exclude_conversation: int | None = None
) -> ContactProfile:
    """The customer panel: the contact, their consent and their latest conversations."""
    contact = queries.get_contact(contact_id)
    history = [
        queries._consent(row)
        for row in ConsentEvent.select()
        .where(ConsentEvent.number == contact.number)
        .order_by(ConsentEvent.id.desc())
        .limit(PROFILE_CONSENT_EVENTS)
    ]
    latest = history[0] if history else None
    consent = ConsentState(
        contact.number,
        opted_out=latest is not None and latest.kind is ConsentKind.OPT_OUT,
        since=latest.at if latest is not None else None,
        source=latest.source if latest is not None else None,
    )
    query = Conversation.select().where(Conversation.contact == contact_id)
    if exclude_conversation is not None:
        query = query.where(Conversation.id != exclude_conversation)
    others = list(
        query.order_by(Conversation.created_at.desc(), Conversation.id.desc()).limit(
            PROFILE_CONVERSATIONS
        )
    )
    previews = _last_messages([row.id for row in others])
    return ContactProfile(
        contact=contact,
        consent=consent,
        consent_history=tuple(history),
        conversations=tuple(
            ConversationBrief(
                id=row.id,
                status=row.status,
                created_at=row.created_at,
                last_activity_at=row.updated_at,
                resolved_at=row.resolved_at,
                last_message=previews.get(row.id),
            )
            for row in others
        ),
    )


# ------------------------------------------------------------------ actions


def _conversation_row(conversation_id: int) -> Any:
    row = Conversation.get_or_none(Conversation.id == conversation_id)
    if row is None:
        raise NotFound("conversation", conversation_id)
    return row


def active_user(user_id: int, *, field: str) -> UserBadge:
    """The user, who must be active: NotFound, or InvalidInput naming `field`."""
    row = User.get_or_none(User.id == user_id)
    if row is None:
        raise NotFound("user", user_id)
    if not row.active:
        raise InvalidInput(field, f"user {row.username} is disabled")
    return UserBadge(row.id, row.username, row.display_name)


def assign_conversation(
    conversation_id: int, assignee_id: int | None, *, now: datetime
) -> tuple[int | None, bool]:
    """Give the conversation to an active user (None: to nobody); (previous, changed)."""
    row = _conversation_row(conversation_id)
    if assignee_id is not None:
        active_user(assignee_id, field="assignee_id")
    previous = row.assignee_id
    if previous == assignee_id:
        return previous, False
    row.assignee = assignee_id
    row.updated_at = now
    row.save()
    return previous, True


def set_priority(
    conversation_id: int, priority: Priority, *, now: datetime
) -> tuple[Priority, bool]:
    """Set the conversation's priority; (previous, changed)."""
    row = _conversation_row(conversation_id)
    previous = row.priority
    if previous == priority:
        return previous, False
    row.priority = priority
    row.updated_at = now
    row.save()
    return previous, True


def change_tags(
    conversation_id: int,
    *,
    add: Sequence[str] = (),
    remove: Sequence[str] = (),
    now: datetime,
) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Add and remove (normalised) tags; (added, removed): those that really changed."""
    row = _conversation_row(conversation_id)
    current = set(queries.conversation_tags(conversation_id))
    added = tuple(t for t in add if t not in current)
    removed = tuple(t for t in remove if t in current and t not in add)
    if len(current) + len(added) - len(removed) > MAX_TAGS_PER_CONVERSATION:
        raise InvalidInput(
            "tags", f"a conversation has at most {MAX_TAGS_PER_CONVERSATION} tags"
        )
    for name in added:
        Tag.insert(name=name).on_conflict_ignore().execute()
        tag = Tag.get(Tag.name == name)
        ConversationTag.insert(
            conversation=conversation_id, tag=tag.id, created_at=now
        ).on_conflict_ignore().execute()
    if removed:
        tag_ids = Tag.select(Tag.id).where(Tag.name.in_(removed))
        ConversationTag.delete().where(
            (ConversationTag.conversation == conversation_id)
            & ConversationTag.tag.in_(tag_ids)
        ).execute()
    if added or removed:
        row.updated_at = now
        row.save()
    return added, removed


def add_note(
    conversation_id: int, *, body: str, author_id: int | None, now: datetime
) -> NoteRecord:
    """Write an internal note on the conversation (never sent)."""
    row = _conversation_row(conversation_id)
    note = Note.create(
        conversation=conversation_id,
        author=author_id,
        body=body,
        created_at=now,
        updated_at=now,
    )
    row.updated_at = now
    row.save()
    return NoteRecord(
        id=note.id,
        conversation_id=conversation_id,
        author=_users({author_id}).get(author_id) if author_id is not None else None,
        body=body,
        created_at=now,
    )


def mark_read(
    conversation_id: int,
    *,
    message_id: int | None,
    user_id: int | None,
    now: datetime,
) -> tuple[int | None, int | None]:
    """Move the read marker up to `message_id` (None: the newest); (before, now)."""
    # It never moves back.
    _conversation_row(conversation_id)
    if message_id is None:
        newest = (
            Message.select(fn.MAX(Message.id))
            .where(Message.conversation == conversation_id)
            .scalar()
        )
        if newest is None:
            return None, None
        message_id = int(newest)
    else:
        message = Message.get_or_none(Message.id == message_id)
        if message is None or message.conversation_id != conversation_id:
            raise InvalidInput(
                "message_id",
                f"message {message_id} is not in conversation {conversation_id}",
            )
    existing = ConversationRead.get_or_none(
        ConversationRead.conversation == conversation_id
    )
    previous = existing.message_id if existing is not None else None
    if previous is not None and previous >= message_id:
        return previous, previous
    ConversationRead.insert(
        conversation=conversation_id, message_id=message_id, user=user_id, read_at=now
    ).on_conflict(
        conflict_target=[ConversationRead.conversation],
        update={
            ConversationRead.message_id: message_id,
            ConversationRead.user: user_id,
            ConversationRead.read_at: now,
        },
    ).execute()
    return previous, message_id


# ------------------------------------------------------------------ contacts


def _contact_row(contact_id: int) -> Any:
    row = Contact.get_or_none(Contact.id == contact_id)
    if row is None:
        raise NotFound("contact", contact_id)
    return row


def create_contact(
    number: str,
    *,
    name: str | None,
    attributes: JsonObject,
    now: datetime,
) -> ContactRecord:
    """A new contact (number already E.164); Conflict when the number has one."""
    if Contact.select().where(Contact.number == number).exists():
        raise Conflict(f"a contact with number {number} exists")
    row = Contact.create(
        number=number,
        kind=NumberKind.E164,
        name=name,
        attributes=policy.merge_attributes({}, attributes),
        created_at=now,
        updated_at=now,
    )
    return queries._contact(row)


def update_contact(
    contact_id: int,
    *,
    name: str | None,
    clear_name: bool = False,
    attributes: JsonObject | None,
    now: datetime,
) -> tuple[ContactRecord, ContactRecord]:
    """Change a contact's name and merge its attributes; (before, after)."""
    # name None keeps it unless `clear_name`; an attribute set to None is removed.
    row = _contact_row(contact_id)
    before = queries._contact(row)
    changes: dict[Any, Any] = {}
    new_name = None if clear_name else (name if name is not None else row.name)
    if new_name != row.name:
        changes[Contact.name] = new_name
    if attributes:
        merged = policy.merge_attributes(row.attributes, attributes)
        if merged != row.attributes:
            changes[Contact.attributes] = merged
    if not changes:
        return before, before
    changes[Contact.updated_at] = now
    Contact.update(changes).where(Contact.id == contact_id).execute()
    return before, queries._contact(Contact.get_by_id(contact_id))


def delete_contact(contact_id: int) -> ContactRecord:
    """Delete a contact who has no conversations (Conflict otherwise)."""
    # The consent history is kept: it belongs to the number, and the law asks for it.
    row = _contact_row(contact_id)
    count = Conversation.select().where(Conversation.contact == contact_id).count()
    if count:
        raise Conflict(
            f"contact {contact_id} has {count} conversation(s); a contact with history "
            "cannot be deleted"
        )
    record = queries._contact(row)
    row.delete_instance()
    return record


def contact_by_number(number: str) -> ContactRecord | None:
    """The contact with exactly this number (E.164 or a sender's name), if any."""
    return queries.find_contact(number)


def list_contacts(
    *, search: SearchTerms | None, after_id: int | None, limit: int
) -> tuple[list[ContactRow], bool]:
    """Contacts by id, `limit` after `after_id`, matching `search`; and whether more follow."""
    query = Contact.select()
    if search is not None:
        condition = contact_search_condition(search)
        if condition is None:
            return [], False
        query = query.where(condition)
    if after_id is not None:
        query = query.where(Contact.id > after_id)
    rows = list(query.order_by(Contact.id).limit(limit + 1))
    page = rows[:limit]
    opted_out = _opted_out({row.number for row in page})
    return (
        [ContactRow(queries._contact(row), row.number in opted_out) for row in page],
        len(rows) > limit,
    )


def import_contacts(
    rows: Sequence[ContactInput], *, now: datetime, dry_run: bool = False
) -> ImportBatch:
    """Create or update contacts (a known number is updated); the batch's counts and problems."""
    # A known number gets the row's name when it has one and its attributes merged; a
    # number twice in `rows` is created once, then updated; a row whose `exact` number
    # is not stored is a problem. `dry_run` writes nothing and answers the same.
    created = updated = unchanged = 0
    problems: list[ImportProblem] = []
    seen: dict[str, tuple[str | None, dict[str, JsonValue]]] = {}
    for item in rows:
        if item.number in seen:
            exists = True
            old_name, old_attributes = seen[item.number]
        else:
            row = Contact.get_or_none(Contact.number == item.number)
            exists = row is not None
            old_name = row.name if row is not None else None
            old_attributes = dict(row.attributes) if row is not None else {}
        if not exists and item.exact is not None:
            problems.append(ImportProblem(item.row, "number", item.exact))
            continue
        name = item.name if item.name is not None else old_name
        try:
            attributes = policy.merge_attributes(old_attributes, item.attributes)
        except InvalidInput as exc:
            problems.append(ImportProblem(item.row, exc.field, exc.reason))
            continue
        changed = (name, attributes) != (old_name, old_attributes)
        if not exists:
            created += 1
        elif changed:
            updated += 1
        else:
            unchanged += 1
        seen[item.number] = (name, attributes)
        if dry_run:
            continue
        if not exists:
            Contact.insert(
                number=item.number,
                kind=NumberKind.E164,
                name=name,
                attributes=attributes,
                created_at=now,
                updated_at=now,
            ).execute()
        elif changed:
            Contact.update(name=name, attributes=attributes, updated_at=now).where(
                Contact.number == item.number
            ).execute()
    return ImportBatch(created, updated, unchanged, tuple(problems))


def export_contacts(*, after_id: int | None, limit: int) -> list[ContactRow]:
    """A batch of contacts by id for the CSV export, with their opt-out state."""
    rows, _ = list_contacts(search=None, after_id=after_id, limit=limit)
    return rows

"""Schema versions: `PRAGMA user_version` plus numbered forward steps.

Step N takes a database at version N-1 to version N, in one transaction with the version
bump, so a crash mid-migration leaves the old version intact. A new (empty) database is
created from the current models and stamped with the latest version at once: later steps
exist to bring *older files* forward, and each must leave a database identical to one
created fresh. Steps therefore use `playhouse.migrate` operations or plain SQL, never the
models (which describe the latest version, not the one the step starts from).

Opening a database whose version is newer than the last step is refused (SchemaTooNew):
an older smsgw writing to a newer schema could corrupt it.

Two engines, one definition. The tables and their indexes are the peewee models, which
peewee renders for SQLite or PostgreSQL; the few objects that are not models (search
indexes, extra and partial indexes) are listed once per engine in `_search_objects` and
`_EXTRA_INDEXES`. Steps 2 to POSTGRESQL_SINCE are SQLite history: frozen SQL that brings
older *files* forward byte for byte (tests compare a migrated file with a new one). No
PostgreSQL database predates PostgreSQL support, so PostgreSQL is created at the latest
version from the definition; every later step is written once, with the migrator's
engine-neutral operations (`playhouse.migrate`), and runs on both.
"""

from __future__ import annotations

import logging
import unicodedata
from collections.abc import Callable, Sequence
from typing import Any

import peewee
from playhouse.migrate import SchemaMigrator
from playhouse.migrate import migrate as run_operations

from gateway.errors import SchemaTooNew
from gateway.storage.auth_models import AUTH_MODELS
from gateway.storage.automation_models import AUTOMATION_MODELS
from gateway.storage.inbox_models import INBOX_MODELS
from gateway.storage.metrics_models import METRICS_MODELS
from gateway.storage.models import MODELS, Node, UtcDateTimeField
from gateway.storage.notification_models import NOTIFICATION_MODELS
from gateway.storage.twilio_models import TWILIO_MODELS

_LOGGER = logging.getLogger(__name__)

# A step gets the database and a playhouse.migrate migrator for it.
Step = Callable[[Any, Any], None]


def _step_1_create_tables(db: Any, migrator: Any) -> None:
    db.create_tables((*MODELS, *AUTH_MODELS))
    # What is not a peewee model (the inbox's read markers, full-text indexes, their
    # triggers and extra indexes), as the last step that changed it leaves it.
    _create_inbox_objects(db)
    _create_metrics_tables(db)
    _create_twilio_tables(db)
    _create_notification_tables(db)
    _create_automation_tables(db)


# Plain SQL, as peewee 4 writes it for models.UndecodablePdu, so a migrated file and a new
# one are identical (tests/gateway/storage/test_migrations.py compares them).
_STEP_2_SQL = (
    'CREATE TABLE "undecodable_pdus" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"modem" TEXT NOT NULL, "pdu_hex" TEXT NOT NULL, "error" TEXT NOT NULL, '
    '"dedupe_key" TEXT NOT NULL, "received_at" DATETIME NOT NULL)',
    'CREATE UNIQUE INDEX "undecodable_pdus_dedupe_key" ON "undecodable_pdus" '
    '("dedupe_key")',
    'CREATE INDEX "undecodable_pdus_received_at" ON "undecodable_pdus" ("received_at")',
)


def _step_2_undecodable_pdus(db: Any, migrator: Any) -> None:
    """Keep PDUs that do not decode, for the operator, instead of only logging them."""
    for statement in _STEP_2_SQL:
        db.execute_sql(statement)


# Plain SQL, as peewee 4 writes it for auth_models.WebSession and LoginFailure.
_STEP_3_SQL = (
    'CREATE TABLE "web_sessions" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"token_hash" TEXT NOT NULL, "user_id" INTEGER NOT NULL, '
    '"created_at" DATETIME NOT NULL, "last_seen_at" DATETIME NOT NULL, '
    '"expires_at" DATETIME NOT NULL, "address" TEXT, "user_agent" TEXT, '
    'FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX "web_sessions_token_hash" ON "web_sessions" ("token_hash")',
    'CREATE INDEX "web_sessions_user_id" ON "web_sessions" ("user_id")',
    'CREATE INDEX "web_sessions_expires_at" ON "web_sessions" ("expires_at")',
    'CREATE TABLE "login_failures" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"username" TEXT NOT NULL, "address" TEXT NOT NULL, "at" DATETIME NOT NULL)',
    'CREATE INDEX "login_failures_username_at" ON "login_failures" ("username", "at")',
    'CREATE INDEX "login_failures_address_at" ON "login_failures" ("address", "at")',
)


def _step_3_sign_in(db: Any, migrator: Any) -> None:
    """Server-side sessions and failed sign-ins (login throttling that survives restarts)."""
    for statement in _STEP_3_SQL:
        db.execute_sql(statement)


# Plain SQL, as peewee 4 writes it for models.WebhookEndpoint, WebhookEvent,
# WebhookDelivery and WebhookAttempt. Until this step nothing wrote the webhook tables
# (they were placeholders), so they are replaced rather than altered.
_STEP_4_SQL = (
    'DROP TABLE IF EXISTS "webhook_attempts"',
    'DROP TABLE IF EXISTS "webhook_deliveries"',
    'DROP TABLE IF EXISTS "webhook_events"',
    'DROP TABLE IF EXISTS "webhook_endpoints"',
    'CREATE TABLE "webhook_endpoints" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"url" TEXT NOT NULL, "description" TEXT, "kind" TEXT NOT NULL, '
    '"secret" TEXT NOT NULL, "previous_secret" TEXT, "previous_secret_until" DATETIME, '
    '"events" TEXT NOT NULL, "active" INTEGER NOT NULL, "disabled_reason" TEXT, '
    '"created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL)',
    'CREATE TABLE "webhook_events" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"event_id" TEXT NOT NULL, "type" TEXT NOT NULL, "data" TEXT NOT NULL, '
    '"conversation_id" INTEGER, "created_at" DATETIME NOT NULL)',
    'CREATE UNIQUE INDEX "webhook_events_event_id" ON "webhook_events" ("event_id")',
    'CREATE INDEX "webhook_events_created_at" ON "webhook_events" ("created_at")',
    'CREATE TABLE "webhook_deliveries" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"event_id" INTEGER NOT NULL, "endpoint_id" INTEGER NOT NULL, '
    '"event_type" TEXT NOT NULL, "ordering_key" TEXT, "status" TEXT NOT NULL, '
    '"attempts" INTEGER NOT NULL, "rejections" INTEGER NOT NULL, '
    '"next_attempt_at" DATETIME NOT NULL, "queued_at" DATETIME NOT NULL, '
    '"last_attempt_at" DATETIME, "last_status_code" INTEGER, "last_error" TEXT, '
    '"replays" INTEGER NOT NULL, "created_at" DATETIME NOT NULL, '
    '"delivered_at" DATETIME, "dead_at" DATETIME, '
    'FOREIGN KEY ("event_id") REFERENCES "webhook_events" ("id") ON DELETE CASCADE, '
    'FOREIGN KEY ("endpoint_id") REFERENCES "webhook_endpoints" ("id") '
    "ON DELETE CASCADE)",
    'CREATE UNIQUE INDEX "webhook_deliveries_event_id_endpoint_id" ON '
    '"webhook_deliveries" ("event_id", "endpoint_id")',
    'CREATE INDEX "webhook_deliveries_status_next_attempt_at" ON '
    '"webhook_deliveries" ("status", "next_attempt_at")',
    'CREATE INDEX "webhook_deliveries_endpoint_id_ordering_key_id" ON '
    '"webhook_deliveries" ("endpoint_id", "ordering_key", "id")',
    'CREATE INDEX "webhook_deliveries_endpoint_id_id" ON "webhook_deliveries" '
    '("endpoint_id", "id")',
    'CREATE TABLE "webhook_attempts" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"delivery_id" INTEGER NOT NULL, "attempt" INTEGER NOT NULL, '
    '"at" DATETIME NOT NULL, "status_code" INTEGER, "error" TEXT, "response" TEXT, '
    '"duration_ms" INTEGER NOT NULL, "outcome" TEXT NOT NULL, '
    'FOREIGN KEY ("delivery_id") REFERENCES "webhook_deliveries" ("id") '
    "ON DELETE CASCADE)",
    'CREATE INDEX "webhook_attempts_delivery_id_id" ON "webhook_attempts" '
    '("delivery_id", "id")',
)


def _step_4_webhook_outbox(db: Any, migrator: Any) -> None:
    """The webhook outbox: events, deliveries per endpoint in order, every attempt."""
    for statement in _STEP_4_SQL:
        db.execute_sql(statement)


# The inbox (gateway/storage/inbox_queries.py): the shared read marker per conversation;
# an index for the list across every status; messages_fts, an external-content FTS5
# index of message bodies, and contacts_fts, a trigram index of each contact's name,
# number and attribute values, both kept in sync by triggers. Every statement may run
# again on a database that has the objects (IF NOT EXISTS; the indexes are refilled).
_CONTACT_ATTRIBUTE_TEXT = (
    "(SELECT coalesce(group_concat(CASE WHEN j.type = 'true' THEN j.key "
    "ELSE j.value END, ' '), '') "
    "FROM json_each(CASE WHEN json_valid({row}.attributes) THEN {row}.attributes "
    "ELSE '{{}}' END) AS j WHERE j.type IN ('text', 'integer', 'real', 'true'))"
)
_STEP_5_SQL = (
    'CREATE TABLE IF NOT EXISTS "conversation_reads" ('
    '"conversation_id" INTEGER NOT NULL PRIMARY KEY, "message_id" INTEGER NOT NULL, '
    '"user_id" INTEGER, "read_at" DATETIME NOT NULL, '
    'FOREIGN KEY ("conversation_id") REFERENCES "conversations" ("id") '
    'ON DELETE CASCADE, FOREIGN KEY ("user_id") REFERENCES "users" ("id") '
    "ON DELETE SET NULL)",
    'CREATE INDEX IF NOT EXISTS "conversations_updated_at" ON "conversations" '
    '("updated_at")',
    "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts USING fts5(body, "
    "content='messages', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_insert AFTER INSERT ON messages BEGIN "
    "INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_delete AFTER DELETE ON messages BEGIN "
    "INSERT INTO messages_fts (messages_fts, rowid, body) "
    "VALUES ('delete', old.id, old.body); END",
    "CREATE TRIGGER IF NOT EXISTS messages_fts_update AFTER UPDATE OF body ON messages "
    "BEGIN INSERT INTO messages_fts (messages_fts, rowid, body) "
    "VALUES ('delete', old.id, old.body); "
    "INSERT INTO messages_fts (rowid, body) VALUES (new.id, new.body); END",
    "CREATE VIRTUAL TABLE IF NOT EXISTS contacts_fts USING fts5(name, number, "
    "attributes, tokenize='trigram')",
    "CREATE TRIGGER IF NOT EXISTS contacts_fts_insert AFTER INSERT ON contacts BEGIN "
    "INSERT INTO contacts_fts (rowid, name, number, attributes) VALUES (new.id, "
    f"coalesce(new.name, ''), new.number, {_CONTACT_ATTRIBUTE_TEXT.format(row='new')}); "
    "END",
    "CREATE TRIGGER IF NOT EXISTS contacts_fts_delete AFTER DELETE ON contacts BEGIN "
    "DELETE FROM contacts_fts WHERE rowid = old.id; END",
    "CREATE TRIGGER IF NOT EXISTS contacts_fts_update AFTER UPDATE OF name, number, "
    "attributes ON contacts BEGIN DELETE FROM contacts_fts WHERE rowid = old.id; "
    "INSERT INTO contacts_fts (rowid, name, number, attributes) VALUES (new.id, "
    f"coalesce(new.name, ''), new.number, {_CONTACT_ATTRIBUTE_TEXT.format(row='new')}); "
    "END",
)
_STEP_5_FILL_SQL = (
    "INSERT INTO messages_fts (messages_fts) VALUES ('rebuild')",
    "DELETE FROM contacts_fts",
    "INSERT INTO contacts_fts (rowid, name, number, attributes) SELECT id, "
    f"coalesce(name, ''), number, {_CONTACT_ATTRIBUTE_TEXT.format(row='contacts')} "
    "FROM contacts",
)


def _create_inbox_objects(db: Any) -> None:
    for statement in (*_STEP_5_SQL, *_STEP_6_SQL):
        db.execute_sql(statement)


def _step_5_inbox(db: Any, migrator: Any) -> None:
    """The inbox: read markers, full-text search over messages and contacts."""
    for statement in _STEP_5_SQL:
        db.execute_sql(statement)
    for statement in _STEP_5_FILL_SQL:  # index what older versions stored
        db.execute_sql(statement)


# The inbox's search at scale: messages_fts_terms lists the indexed words (a word prefix
# becomes the few exact words it stands for, which FTS5 answers far faster), and a
# narrow index maps a message id to its conversation without reading the message.
_STEP_6_SQL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS messages_fts_terms USING "
    "fts5vocab(messages_fts, row)",
    'CREATE INDEX IF NOT EXISTS "messages_id_conversation_id" ON "messages" '
    '("id", "conversation_id")',
)


def _step_6_inbox_search(db: Any, migrator: Any) -> None:
    """Faster inbox search: the word list of messages_fts, message -> conversation."""
    for statement in _STEP_6_SQL:
        db.execute_sql(statement)


# The Twilio-compatible API (gateway/storage/twilio_models.py), as peewee 4 writes it;
# step 1 runs it too, so a new file and a migrated one are the same. Every statement may
# run again.
_STEP_7_SQL = (
    'CREATE TABLE IF NOT EXISTS "twilio_accounts" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"sid" TEXT NOT NULL, "name" TEXT NOT NULL, "endpoint_id" INTEGER NOT NULL, '
    '"modems" TEXT NOT NULL, "created_at" DATETIME NOT NULL, '
    '"updated_at" DATETIME NOT NULL, FOREIGN KEY ("endpoint_id") REFERENCES '
    '"webhook_endpoints" ("id") ON DELETE RESTRICT)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "twilio_accounts_sid" ON "twilio_accounts" '
    '("sid")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "twilio_accounts_endpoint_id" ON '
    '"twilio_accounts" ("endpoint_id")',
    'CREATE TABLE IF NOT EXISTS "twilio_messages" ("message_id" INTEGER NOT NULL '
    'PRIMARY KEY, "account_id" INTEGER NOT NULL, "status_callback" TEXT, '
    '"modems" TEXT, "reported_status" TEXT, "created_at" DATETIME NOT NULL, '
    'FOREIGN KEY ("message_id") REFERENCES "messages" ("id") ON DELETE CASCADE, '
    'FOREIGN KEY ("account_id") REFERENCES "twilio_accounts" ("id") '
    "ON DELETE CASCADE)",
    'CREATE INDEX IF NOT EXISTS "twilio_messages_account_id" ON "twilio_messages" '
    '("account_id")',
)


def _create_twilio_tables(db: Any) -> None:
    for statement in _STEP_7_SQL:
        db.execute_sql(statement)


def _step_7_twilio(db: Any, migrator: Any) -> None:
    """The Twilio-compatible API: accounts, and the messages sent through it."""
    _create_twilio_tables(db)


# Templates, notifications with reply options and outbound holds (scheduled sends, quiet
# hours): gateway/storage/notification_models.py, as peewee 4 writes it; step 1 runs it
# too, so a new file and a migrated one are the same. Every statement may run again.
_STEP_8_SQL = (
    'CREATE TABLE IF NOT EXISTS "templates" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"name" TEXT NOT NULL, "shortcut" TEXT NOT NULL, "body" TEXT NOT NULL, '
    '"description" TEXT, "created_at" DATETIME NOT NULL, '
    '"updated_at" DATETIME NOT NULL, "updated_by" TEXT NOT NULL)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "templates_shortcut" ON "templates" '
    '("shortcut")',
    'CREATE TABLE IF NOT EXISTS "notifications" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"message_id" INTEGER NOT NULL, "number" TEXT NOT NULL, "template" TEXT, '
    '"context" TEXT NOT NULL, "options" TEXT NOT NULL, "expires_at" DATETIME, '
    '"scheduled_at" DATETIME, "actor" TEXT NOT NULL, "created_at" DATETIME NOT NULL, '
    '"selected_key" TEXT, "selected_at" DATETIME, "selected_message_id" INTEGER, '
    '"confirmation_message_id" INTEGER, FOREIGN KEY ("message_id") REFERENCES '
    '"messages" ("id") ON DELETE CASCADE)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "notifications_message_id" ON '
    '"notifications" ("message_id")',
    'CREATE INDEX IF NOT EXISTS "notifications_number_id" ON "notifications" '
    '("number", "id")',
    'CREATE TABLE IF NOT EXISTS "outbound_holds" ("message_id" INTEGER NOT NULL '
    'PRIMARY KEY, "not_before" DATETIME NOT NULL, "zones" TEXT NOT NULL, '
    '"quiet_start" TEXT, "quiet_end" TEXT, FOREIGN KEY ("message_id") REFERENCES '
    '"messages" ("id") ON DELETE CASCADE)',
)


def _create_notification_tables(db: Any) -> None:
    for statement in _STEP_8_SQL:
        db.execute_sql(statement)


def _step_8_notifications(db: Any, migrator: Any) -> None:
    """Templates, notifications with reply options, holds (schedules, quiet hours)."""
    _create_notification_tables(db)


# Support automation (gateway/storage/automation_models.py): its state per conversation,
# the admins' settings and rules, queues and their members, agents' availability, as
# peewee 4 writes it; step 1 runs it too, so a new file and a migrated one are the same.
# Every statement may run again.
_AUTOMATION_SQL = (
    'CREATE TABLE IF NOT EXISTS "automation_agent_status" ("user_id" INTEGER '
    'NOT NULL PRIMARY KEY, "away" INTEGER NOT NULL, "updated_at" DATETIME NOT '
    'NULL, FOREIGN KEY ("user_id") REFERENCES "users" ("id") ON DELETE '
    "CASCADE)",
    'CREATE TABLE IF NOT EXISTS "automation_flows" ("id" INTEGER NOT NULL '
    'PRIMARY KEY, "name" TEXT NOT NULL, "fields" TEXT NOT NULL, "done_text" '
    'TEXT NOT NULL, "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT '
    "NULL)",
    'CREATE UNIQUE INDEX IF NOT EXISTS "automation_flows_name" ON '
    '"automation_flows" ("name")',
    'CREATE TABLE IF NOT EXISTS "automation_settings" ("key" TEXT NOT NULL '
    'PRIMARY KEY, "value" TEXT NOT NULL, "updated_at" DATETIME NOT NULL, '
    '"updated_by" TEXT NOT NULL)',
    'CREATE TABLE IF NOT EXISTS "automation_state" ("conversation_id" INTEGER '
    'NOT NULL PRIMARY KEY, "phase" TEXT NOT NULL, "flow_id" INTEGER, "step" '
    'INTEGER NOT NULL, "attempts" INTEGER NOT NULL, "prompts" INTEGER NOT '
    'NULL, "fields" TEXT NOT NULL, "handover_reason" TEXT, "escalated" '
    'INTEGER NOT NULL, "routed" INTEGER NOT NULL, "acknowledged" INTEGER NOT '
    'NULL, "closed_notice_until" DATETIME, "last_prompt_at" DATETIME, '
    '"started_at" DATETIME, "handed_over_at" DATETIME, "updated_at" DATETIME '
    'NOT NULL, FOREIGN KEY ("conversation_id") REFERENCES "conversations" '
    '("id") ON DELETE CASCADE)',
    'CREATE TABLE IF NOT EXISTS "automation_queues" ("id" INTEGER NOT NULL '
    'PRIMARY KEY, "name" TEXT NOT NULL, "description" TEXT NOT NULL, '
    '"assignment" TEXT NOT NULL, "timezone" TEXT, "hours" TEXT, "holidays" '
    'TEXT NOT NULL, "ack_text" TEXT NOT NULL, "after_hours_text" TEXT NOT '
    'NULL, "last_assigned_id" INTEGER, "created_at" DATETIME NOT NULL, '
    '"updated_at" DATETIME NOT NULL, FOREIGN KEY ("last_assigned_id") '
    'REFERENCES "users" ("id") ON DELETE SET NULL)',
    'CREATE INDEX IF NOT EXISTS "automation_queues_last_assigned_id" ON '
    '"automation_queues" ("last_assigned_id")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "automation_queues_name" ON '
    '"automation_queues" ("name")',
    'CREATE TABLE IF NOT EXISTS "automation_queue_members" ("queue_id" '
    'INTEGER NOT NULL, "user_id" INTEGER NOT NULL, PRIMARY KEY ("queue_id", '
    '"user_id"), FOREIGN KEY ("queue_id") REFERENCES "automation_queues" '
    '("id") ON DELETE CASCADE, FOREIGN KEY ("user_id") REFERENCES "users" '
    '("id") ON DELETE CASCADE)',
    'CREATE INDEX IF NOT EXISTS "automation_queue_members_queue_id" ON '
    '"automation_queue_members" ("queue_id")',
    'CREATE INDEX IF NOT EXISTS "automation_queue_members_user_id" ON '
    '"automation_queue_members" ("user_id")',
    'CREATE TABLE IF NOT EXISTS "automation_routing_rules" ("id" INTEGER NOT '
    'NULL PRIMARY KEY, "position" INTEGER NOT NULL, "name" TEXT NOT NULL, '
    '"kind" TEXT NOT NULL, "key" TEXT NOT NULL, "value" TEXT NOT NULL, '
    '"queue" TEXT, "tags" TEXT NOT NULL, "priority" TEXT, "assignee_id" '
    'INTEGER, "created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, '
    'FOREIGN KEY ("assignee_id") REFERENCES "users" ("id") ON DELETE SET '
    "NULL)",
    'CREATE INDEX IF NOT EXISTS "automation_routing_rules_assignee_id" ON '
    '"automation_routing_rules" ("assignee_id")',
    'CREATE TABLE IF NOT EXISTS "automation_triage_options" ("id" INTEGER NOT '
    'NULL PRIMARY KEY, "position" INTEGER NOT NULL, "key" TEXT NOT NULL, '
    '"label" TEXT NOT NULL, "keywords" TEXT NOT NULL, "queue" TEXT, "tags" '
    'TEXT NOT NULL, "assignee_id" INTEGER, "flow_id" INTEGER, "created_at" '
    'DATETIME NOT NULL, "updated_at" DATETIME NOT NULL, FOREIGN KEY '
    '("assignee_id") REFERENCES "users" ("id") ON DELETE SET NULL, FOREIGN '
    'KEY ("flow_id") REFERENCES "automation_flows" ("id") ON DELETE SET NULL)',
    'CREATE INDEX IF NOT EXISTS "automation_triage_options_assignee_id" ON '
    '"automation_triage_options" ("assignee_id")',
    'CREATE INDEX IF NOT EXISTS "automation_triage_options_flow_id" ON '
    '"automation_triage_options" ("flow_id")',
    'CREATE UNIQUE INDEX IF NOT EXISTS "automation_triage_options_key" ON '
    '"automation_triage_options" ("key")',
)


def _create_automation_tables(db: Any) -> None:
    for statement in _AUTOMATION_SQL:
        db.execute_sql(statement)


def _step_9_automation(db: Any, migrator: Any) -> None:
    """Support automation: state, settings, triage options, flows, routing, queues."""
    _create_automation_tables(db)


# The support metrics (gateway/storage/metrics_models.py), as peewee 4 writes them, and
# their indexes; step 1 runs it too, so a new file and a migrated one are the same. Every
# statement may run again.
_METRICS_SQL = (
    'CREATE TABLE IF NOT EXISTS "metric_events" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"kind" TEXT NOT NULL, "conversation_id" INTEGER NOT NULL, "queue" TEXT, '
    '"user_id" INTEGER, "message_id" INTEGER, "at" DATETIME NOT NULL, '
    '"started_at" DATETIME, "wall_s" REAL, "business_s" REAL, "rating" INTEGER, '
    '"customer_wrote" INTEGER, "human_replied" INTEGER)',
    'CREATE INDEX IF NOT EXISTS "metric_events_at" ON "metric_events" ("at")',
    'CREATE INDEX IF NOT EXISTS "metric_events_kind_started_at" ON "metric_events" '
    '("kind", "started_at")',
    'CREATE INDEX IF NOT EXISTS "metric_events_conversation_id" ON "metric_events" '
    '("conversation_id", "id")',
    # the events whose business seconds are still to be computed (few at any time)
    'CREATE INDEX IF NOT EXISTS "metric_events_unmeasured" ON "metric_events" ("id") '
    'WHERE "business_s" IS NULL AND "started_at" IS NOT NULL',
    'CREATE TABLE IF NOT EXISTS "metric_clocks" ("conversation_id" INTEGER NOT NULL '
    'PRIMARY KEY, "cycle_started_at" DATETIME NOT NULL, "frt_started_at" DATETIME, '
    '"frt_done" INTEGER NOT NULL, "waiting_since" DATETIME, '
    '"customer_wrote" INTEGER NOT NULL, "human_replied" INTEGER NOT NULL, '
    '"resolved_at" DATETIME, "updated_at" DATETIME NOT NULL)',
    'CREATE TABLE IF NOT EXISTS "csat_surveys" ("id" INTEGER NOT NULL PRIMARY KEY, '
    '"conversation_id" INTEGER NOT NULL, "number" TEXT NOT NULL, '
    '"status" TEXT NOT NULL, "queue" TEXT, "user_id" INTEGER, '
    '"resolved_at" DATETIME NOT NULL, "prior_reopened_at" DATETIME, '
    '"sent_at" DATETIME, "expires_at" DATETIME, "message_id" INTEGER, '
    '"rating" INTEGER, "answered_at" DATETIME, "answer_message_id" INTEGER, '
    '"created_at" DATETIME NOT NULL, "updated_at" DATETIME NOT NULL)',
    'CREATE UNIQUE INDEX IF NOT EXISTS "csat_surveys_conversation_id" ON '
    '"csat_surveys" ("conversation_id")',
    'CREATE INDEX IF NOT EXISTS "csat_surveys_status_resolved_at" ON "csat_surveys" '
    '("status", "resolved_at")',
    'CREATE INDEX IF NOT EXISTS "csat_surveys_number_status" ON "csat_surveys" '
    '("number", "status")',
)


def _create_metrics_tables(db: Any) -> None:
    for statement in _METRICS_SQL:
        db.execute_sql(statement)


def _step_support_metrics(db: Any, migrator: Any) -> None:
    """Support metrics: reporting events, each conversation's clocks, CSAT surveys."""
    _create_metrics_tables(db)


def _step_11_nodes(db: Any, migrator: Any) -> None:
    """The boxes sharing the database and their heartbeats (issue 8).

    The first step written for both engines: a table from its model, which peewee renders
    for each (IF NOT EXISTS: step 1 creates it in a new SQLite file too).
    """
    db.create_tables((Node,))


def _step_12_webhook_leases(db: Any, migrator: Any) -> None:
    """A lease on each webhook delivery (issue 8): the node sending it, and until when.

    Nullable columns added at the end of the column list: SQLite writes them before the
    table's constraints, where peewee puts them in a new file's CREATE TABLE, so a
    migrated file and a new one stay identical. A column already there is kept (the
    step may run again, as the ones before it may).
    """
    have = {column.name for column in db.get_columns("webhook_deliveries")}
    columns = (
        ("claimed_by", peewee.TextField(null=True)),
        ("claimed_until", UtcDateTimeField(null=True)),
    )
    run_operations(
        *(
            migrator.add_column("webhook_deliveries", name, field)
            for name, field in columns
            if name not in have
        )
    )


STEPS: tuple[Step, ...] = (
    _step_1_create_tables,
    _step_2_undecodable_pdus,
    _step_3_sign_in,
    _step_4_webhook_outbox,
    _step_5_inbox,
    _step_6_inbox_search,
    _step_7_twilio,
    _step_8_notifications,
    _step_9_automation,
    _step_support_metrics,
    _step_11_nodes,
    _step_12_webhook_leases,
)


# Every table, in creation order: the schema's one definition for both engines.
ALL_MODELS = (
    *MODELS,
    *AUTH_MODELS,
    *INBOX_MODELS,
    *TWILIO_MODELS,
    *NOTIFICATION_MODELS,
    *AUTOMATION_MODELS,
    *METRICS_MODELS,
)

# The last version that only SQLite files can be at: PostgreSQL support arrived with it.
POSTGRESQL_SINCE = 10


def _index_statements(statements: Sequence[str]) -> tuple[str, ...]:
    return tuple(
        s for s in statements if s.startswith(("CREATE INDEX", "CREATE UNIQUE"))
    )


# Indexes the models do not declare, written once in SQL both engines read (quoted names,
# IF NOT EXISTS, partial WHERE): the SQLite steps above run them as they are, and a
# PostgreSQL database is created with them.
_EXTRA_INDEXES: tuple[str, ...] = _index_statements(
    (
        *_STEP_5_SQL,
        *_STEP_6_SQL,
        *_STEP_7_SQL,
        *_STEP_8_SQL,
        *_AUTOMATION_SQL,
        *_METRICS_SQL,
    )
)


# The PostgreSQL twin of the SQLite full-text search (FTS5, steps 5 and 6): an expression
# GIN index over message bodies, which gateway.storage.inbox_queries asks with the same
# expression (PG_MESSAGE_SEARCH_VECTOR) and words folded the same way (pg_search_fold).
# Like FTS5's unicode61 tokenizer with remove_diacritics, the text is lower-cased, Latin
# letters lose their accents and ASCII punctuation separates words (PostgreSQL's own
# parser would keep "A-1042" as the word "a" and the number "-1042"), all with built-in
# immutable functions: unaccent is an extension the database's owner may not have. Contacts
# are searched by substring as FTS5's trigram index does, without an index (pg_trgm is an
# extension too; contacts are few next to messages).
def _accent_folds() -> tuple[str, str]:
    accented, plain = [], []
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = "".join(
            c
            for c in unicodedata.normalize("NFKD", char)
            if not unicodedata.combining(c)
        )
        if len(base) == 1 and base.isascii() and base.isalpha():
            accented.append(char)
            plain.append(base.lower())
    return "".join(accented), "".join(plain)


PG_ACCENTED, PG_UNACCENTED = _accent_folds()
PG_SEARCH_CONFIG = "simple"
# ASCII punctuation: !"#$%&'()*+,-./ :;<=>?@ [\]^_` {|}~ (a regular expression class)
_PG_PUNCTUATION = "[!-/:-@[-`{-~]+"
PG_MESSAGE_SEARCH_VECTOR = (
    f"to_tsvector('{PG_SEARCH_CONFIG}', regexp_replace(translate(lower(\"body\"), "
    f"'{PG_ACCENTED}', '{PG_UNACCENTED}'), '{_PG_PUNCTUATION}', ' ', 'g'))"
)
_PG_SEARCH_SQL = (
    'CREATE INDEX IF NOT EXISTS "messages_body_search" ON "messages" USING gin '
    f"({PG_MESSAGE_SEARCH_VECTOR})",
)
_PG_FOLD = str.maketrans(PG_ACCENTED, PG_UNACCENTED)


def pg_search_fold(text: str) -> str:
    """`text` as PG_MESSAGE_SEARCH_VECTOR folds a body, before PostgreSQL splits words."""
    return text.lower().translate(_PG_FOLD)


def _is_postgresql(db: Any) -> bool:
    return isinstance(db, peewee.PostgresqlDatabase)


def _create_postgresql(db: Any) -> None:
    """A new PostgreSQL database at the latest version, from the one definition."""
    db.create_tables(ALL_MODELS)
    for statement in (*_EXTRA_INDEXES, *_PG_SEARCH_SQL):
        db.execute_sql(statement)


# SQLite keeps the version in its header (PRAGMA user_version); PostgreSQL in a table of
# one row, read and written under an advisory lock so two nodes never migrate at once.
_PG_VERSION_TABLE = "smsgw_schema"
_PG_MIGRATION_LOCK = 0x736D7367  # "smsg": pg_advisory_xact_lock's key for migrations


def schema_version(db: Any) -> int:
    """The database's schema version (0 for a new database)."""
    if _is_postgresql(db):
        db.execute_sql(
            f'CREATE TABLE IF NOT EXISTS "{_PG_VERSION_TABLE}" ('
            '"one" BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK ("one"), '
            '"version" INTEGER NOT NULL)'
        )
        row = db.execute_sql(f'SELECT "version" FROM "{_PG_VERSION_TABLE}"').fetchone()
        return 0 if row is None else int(row[0])
    return int(db.execute_sql("PRAGMA user_version").fetchone()[0])


def _set_schema_version(db: Any, version: int) -> None:
    if _is_postgresql(db):
        db.execute_sql(
            f'INSERT INTO "{_PG_VERSION_TABLE}" ("one", "version") VALUES (TRUE, %s) '
            'ON CONFLICT ("one") DO UPDATE SET "version" = EXCLUDED."version"',
            (int(version),),
        )
        return
    db.execute_sql(f"PRAGMA user_version = {int(version)}")


def migrate(
    db: Any,
    *,
    path: str,
    begin_args: Sequence[str] = (),
    steps: Sequence[Step] | None = None,
) -> tuple[int, int]:
    """Bring the database to the latest version; returns (version before, version after)."""
    steps = STEPS if steps is None else steps
    if _is_postgresql(db):
        with db.atomic():
            db.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_PG_MIGRATION_LOCK,))
            return _migrate(db, path=path, begin_args=(), steps=steps)
    return _migrate(db, path=path, begin_args=begin_args, steps=steps)


def _migrate(
    db: Any, *, path: str, begin_args: Sequence[str], steps: Sequence[Step]
) -> tuple[int, int]:
    latest = len(steps)
    found = schema_version(db)
    if found > latest:
        raise SchemaTooNew(path, found, latest)
    if found == latest:
        return found, found
    migrator = SchemaMigrator.from_database(db)
    if found == 0:
        _LOGGER.info("creating database %s at schema version %d", path, latest)
        with db.atomic(*begin_args):
            if _is_postgresql(db):
                _create_postgresql(db)
                # later steps, as a new SQLite file gets them from step 1, are the models
            else:
                steps[0](db, migrator)
            _set_schema_version(db, latest)
        return found, latest
    for version in range(found + 1, latest + 1):
        _LOGGER.info("migrating database %s to schema version %d", path, version)
        with db.atomic(*begin_args):
            steps[version - 1](db, migrator)
            _set_schema_version(db, version)
    return found, latest

"""gateway.ini -> typed, validated, frozen settings. The settings are declared as data.

`SETTINGS` is the one table of every section and key: its type (which parses and
describes the expected form), default and help text. Loading, validation, the shipped
gateway.ini and the README's reference are all derived from it, and tests/gateway/
test_config_docs.py fails when they drift apart.
"""

from __future__ import annotations

import configparser
import dataclasses
import datetime
import difflib
import enum
import ipaddress
import os
import re
import socket
import textwrap
import zoneinfo
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlsplit

import phonenumbers

from gateway import compliance_rules
from gateway.contacts import parse_international
from gateway.errors import ConfigError, ConfigProblem

T = TypeVar("T")

# ---------------------------------------------------------------------- value types


class ValueType(Generic[T]):
    """Parses one raw ini value into a typed value, and describes the form it accepts."""

    form: str = "a value"

    def parse(self, raw: str) -> T:
        """The typed value of `raw` (already stripped); raises ValueError when it is not one."""
        raise NotImplementedError

    def render(self, value: T) -> str:
        """`value` written back as an ini value."""
        return str(value)


class Text(ValueType[str]):
    form = "text (an empty value means none)"

    def parse(self, raw: str) -> str:
        return raw


class Name(ValueType[str | None]):
    form = "letters, digits, '.', '-' and '_' (empty: this machine's host name)"
    _RE = re.compile(r"[A-Za-z0-9_.-]{1,64}")

    def parse(self, raw: str) -> str | None:
        if not raw:
            return None
        if not self._RE.fullmatch(raw):
            raise ValueError(raw)
        return raw

    def render(self, value: str | None) -> str:
        return value or ""


class Integer(ValueType[int]):
    def __init__(self, minimum: int, maximum: int | None = None) -> None:
        self.minimum = minimum
        self.maximum = maximum
        if maximum is None:
            self.form = f"a whole number of at least {minimum}"
        else:
            self.form = f"a whole number from {minimum} to {maximum}"

    def parse(self, raw: str) -> int:
        value = int(raw.replace("_", ""))
        if value < self.minimum or (self.maximum is not None and value > self.maximum):
            raise ValueError(raw)
        return value


class OptionalInteger(ValueType[int | None]):
    def __init__(self, minimum: int, maximum: int, empty_means: str) -> None:
        self._inner = Integer(minimum, maximum)
        self.form = f"{self._inner.form}, or empty ({empty_means})"

    def parse(self, raw: str) -> int | None:
        return self._inner.parse(raw) if raw else None

    def render(self, value: int | None) -> str:
        return "" if value is None else str(value)


_DURATION_UNITS_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_DURATION_RE = re.compile(r"(\d+(?:\.\d+)?)\s*([smhd]?)")


class Duration(ValueType[float]):
    """Seconds; the value may carry a unit (90s, 10m, 2h, 7d)."""

    def __init__(self, minimum_s: float = 0.0, maximum_s: float | None = None) -> None:
        self.minimum_s = minimum_s
        self.maximum_s = maximum_s
        bounds = f" of at least {_render_seconds(minimum_s)}" if minimum_s else ""
        if maximum_s is not None:
            bounds = (
                f" from {_render_seconds(minimum_s)} to {_render_seconds(maximum_s)}"
            )
        self.form = f"a duration{bounds} (90s, 10m, 2h, 7d; a bare number is seconds)"

    def parse(self, raw: str) -> float:
        match = _DURATION_RE.fullmatch(raw.lower())
        if match is None:
            raise ValueError(raw)
        value = float(match[1]) * _DURATION_UNITS_S[match[2] or "s"]
        if value < self.minimum_s or (
            self.maximum_s is not None and value > self.maximum_s
        ):
            raise ValueError(raw)
        return value

    def render(self, value: float) -> str:
        return _render_seconds(value)


def _render_seconds(value: float) -> str:
    if value and value == int(value):
        for unit in ("d", "h", "m"):
            size = _DURATION_UNITS_S[unit]
            if value % size == 0:
                return f"{int(value) // size}{unit}"
        return f"{int(value)}s"
    return f"{value:g}s"


class Boolean(ValueType[bool]):
    form = "yes or no (also true/false, on/off, 1/0)"
    _TRUE = frozenset({"yes", "true", "on", "1"})
    _FALSE = frozenset({"no", "false", "off", "0"})

    def parse(self, raw: str) -> bool:
        word = raw.lower()
        if word in self._TRUE:
            return True
        if word in self._FALSE:
            return False
        raise ValueError(raw)

    def render(self, value: bool) -> str:
        return "yes" if value else "no"


class Choice(ValueType[str]):
    def __init__(self, *options: str) -> None:
        self.options = options
        self.form = "one of " + ", ".join(options)

    def parse(self, raw: str) -> str:
        word = raw.lower()
        if word not in self.options:
            raise ValueError(raw)
        return word


class FilePath(ValueType[Path]):
    def __init__(self, relative_to: str) -> None:
        self.form = f"a file system path (a relative one is relative to {relative_to})"

    def parse(self, raw: str) -> Path:
        if not raw or "\0" in raw:
            raise ValueError(raw)
        return Path(raw).expanduser()


class PhoneNumber(ValueType[str | None]):
    """A number in international format; stored as E.164."""

    def __init__(self, *, optional: bool) -> None:
        self.optional = optional
        self.form = "a phone number in international format, e.g. +447700900123" + (
            " (or empty)" if optional else ""
        )

    def parse(self, raw: str) -> str | None:
        if not raw and self.optional:
            return None
        return parse_international(raw)

    def render(self, value: str | None) -> str:
        return value or ""


class Region(ValueType[str]):
    form = "a two-letter region code that phonenumbers knows, e.g. GB, US, DE"

    def parse(self, raw: str) -> str:
        code = raw.upper()
        if code not in phonenumbers.SUPPORTED_REGIONS:
            raise ValueError(raw)
        return code


class TimeZone(ValueType[zoneinfo.ZoneInfo]):
    form = "an IANA time zone name, e.g. Europe/London, America/New_York or UTC"

    def parse(self, raw: str) -> zoneinfo.ZoneInfo:
        try:
            return zoneinfo.ZoneInfo(raw)
        except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(raw) from exc

    def render(self, value: zoneinfo.ZoneInfo) -> str:
        return value.key


class OptionalTimeZone(TimeZone):
    form = "an IANA time zone name, e.g. Europe/London (empty: [gateway] timezone)"

    def parse(self, raw: str) -> zoneinfo.ZoneInfo | None:  # type: ignore[override]
        return None if not raw else super().parse(raw)

    def render(self, value: zoneinfo.ZoneInfo | None) -> str:
        return "" if value is None else value.key


_HOST_RE = re.compile(
    r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*\.?"
)


def _valid_host(text: str) -> bool:
    try:
        ipaddress.ip_address(text.strip("[]"))
    except ValueError:
        return _HOST_RE.fullmatch(text) is not None and len(text) <= 253
    return True


class Host(ValueType[str]):
    form = "a host name or IP address, e.g. 127.0.0.1, 0.0.0.0 or sms.example.com"

    def parse(self, raw: str) -> str:
        if not _valid_host(raw):
            raise ValueError(raw)
        return raw


class HttpUrl(ValueType[str | None]):
    form = "an http:// or https:// URL, e.g. https://sms.example.com (or empty)"

    def parse(self, raw: str) -> str | None:
        if not raw:
            return None
        parts = urlsplit(raw)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(raw)
        return raw.rstrip("/")

    def render(self, value: str | None) -> str:
        return value or ""


class DatabaseUrl(ValueType[str | None]):
    form = (
        "empty (the SQLite file at [database] path) or "
        "postgresql://USER:PASSWORD@HOST:PORT/DBNAME"
    )

    def parse(self, raw: str) -> str | None:
        if not raw:
            return None
        parts = urlsplit(raw)
        if parts.scheme not in ("postgresql", "postgres") or not parts.hostname:
            raise ValueError(raw)
        if not parts.path.strip("/"):
            raise ValueError(raw)
        return raw

    def render(self, value: str | None) -> str:
        return value or ""


class SerialPort(ValueType[str]):
    form = (
        "a serial device (/dev/serial/by-id/..., /dev/ttyUSB2), a PTY path, "
        "or socket://HOST:PORT"
    )

    def parse(self, raw: str) -> str:
        if raw.startswith("socket://"):
            parts = urlsplit(raw)
            try:
                port = parts.port
            except ValueError as exc:
                raise ValueError(raw) from exc
            if not parts.hostname or port is None or not _valid_host(parts.hostname):
                raise ValueError(raw)
            return raw
        if not raw.startswith("/") or "\0" in raw:
            raise ValueError(raw)
        return raw


class Pin(ValueType[str | None]):
    form = "4 to 8 digits (empty when the SIM has no PIN)"
    _RE = re.compile(r"\d{4,8}")

    def parse(self, raw: str) -> str | None:
        if not raw:
            return None
        if not self._RE.fullmatch(raw):
            raise ValueError(raw)
        return raw

    def render(self, value: str | None) -> str:
        return value or ""


class WordList(ValueType[tuple[str, ...]]):
    form = (
        "a comma-separated list of words or phrases, e.g. STOP, STOP ALL, UNSUBSCRIBE"
    )

    def parse(self, raw: str) -> tuple[str, ...]:
        words = tuple(" ".join(w.split()) for w in raw.split(","))
        if not raw or not all(words):
            raise ValueError(raw)
        return words

    def render(self, value: tuple[str, ...]) -> str:
        return ", ".join(value)


class ClockTime(ValueType[datetime.time]):
    form = "a time of day as HH:MM, e.g. 21:00"
    _RE = re.compile(r"([01]?\d|2[0-3]):([0-5]\d)")

    def parse(self, raw: str) -> datetime.time:
        match = self._RE.fullmatch(raw)
        if match is None:
            raise ValueError(raw)
        return datetime.time(int(match[1]), int(match[2]))

    def render(self, value: datetime.time) -> str:
        return f"{value.hour:02d}:{value.minute:02d}"


# ---------------------------------------------------------------------- the table


class _Required(enum.Enum):
    REQUIRED = "required"


REQUIRED = _Required.REQUIRED


@dataclass(frozen=True, slots=True)
class Setting:
    """One key of gateway.ini: its type, default and help text."""

    section: str  # "modem" stands for every [modem:NAME] section
    key: str
    type: ValueType[Any]
    default: Any  # a typed value, or REQUIRED
    help: str
    example: str | None = None  # shown (uncommented) in gateway.ini for required keys
    secret: bool = False  # never echoed back in errors
    default_text: str | None = None  # documents a default computed at load time

    @property
    def required(self) -> bool:
        return self.default is REQUIRED

    def documented_default(self) -> str:
        """The default as the docs show it."""
        if self.default_text is not None:
            return self.default_text
        if self.required:
            return "(required)"
        return self.type.render(self.default)


@dataclass(frozen=True, slots=True)
class Section:
    name: str
    help: str
    repeated: bool = False  # [NAME:LABEL] sections, any number of them


SECTIONS: tuple[Section, ...] = (
    Section(
        "gateway", "The box itself: where it keeps its state, how it logs, where it is."
    ),
    Section("database", "Where messages and conversations are stored."),
    Section("web", "The agents' inbox and the REST API."),
    Section(
        "auth",
        "Signing in to the inbox: sessions, login throttling and the session cookie. "
        "Users are added with `smsgw user add`; API tokens with `smsgw token create`.",
    ),
    Section(
        "inbound", "Customers' texts: reassembly of multipart messages and threading."
    ),
    Section(
        "outbound",
        "Sending: pacing, retries and limits. Per-modem pacing can override the default.",
    ),
    Section(
        "compliance",
        "Opt-out, opt-in and help keywords (the whole message, any case) and the replies "
        "they get. Free-text opt-out wording is flagged for an agent, never applied.",
    ),
    Section(
        "automation",
        "Support automation: triage of new conversations, collection of details, "
        "takeover by a human, routing and business-hours replies. These are the "
        "defaults: admins change them (and the triage options, flows, routing rules and "
        "queues) on the Automation page, which wins over this file. Whatever the rules, "
        "a customer is never trapped: a human takes over after max_prompts unanswered "
        "tries or max_questions questions, at takeover_words, or at a frustration signal.",
    ),
    Section(
        "notifications",
        "Proactive texts sent through POST /api/v1/notifications (README 'Notifications "
        "and templates'): reply options and quiet hours. Quiet hours are in the "
        "recipient's time zone (from their number, or the contact's timezone "
        "attribute); a notification due in them waits for their end, never dropped. "
        "Agents' replies and compliance confirmations are never held.",
    ),
    Section(
        "metrics",
        "Support metrics (the Dashboard page and GET /api/v1/metrics) and the "
        "operations metrics for Prometheus at GET /metrics. The definitions are in the "
        "README's Support metrics section.",
    ),
    Section(
        "csat",
        "The satisfaction survey texted after an agent resolves a conversation in which "
        "the customer wrote and a person replied (never after the automation resolved "
        "it, never to an opted-out number, one per conversation). The customer's next "
        "message answers it: a rating 1-5 (digits, words, 4/5, a number in a sentence "
        "such as I'd give it a 4) is recorded and leaves the conversation resolved; "
        "anything else reaches the inbox as a normal message.",
    ),
    Section(
        "webhooks",
        "The webhook relay: how events reach the endpoints set up on the Webhooks page "
        "or through the API (retries, dead letters and replay: the README's Webhooks "
        "section).",
    ),
    Section(
        "simulator",
        "The embedded simulated modem and its phones: it runs when no [modem:NAME] section "
        "is enabled, so a fresh box works with no hardware. Its control API plays the "
        "customers.",
    ),
    Section(
        "modem",
        "One section per USB GSM modem, named [modem:NAME] (NAME: letters, digits, - and "
        "_). Prefer /dev/serial/by-id/ paths: /dev/ttyUSB numbers change across reboots.",
        repeated=True,
    ),
)

_SIM_PROFILES = ("generic", "simcom", "quectel", "huawei")

SETTINGS: tuple[Setting, ...] = (
    # [gateway]
    Setting(
        "gateway",
        "data_dir",
        FilePath("the directory of this file"),
        Path("var"),
        "Directory for the database and other state; created when missing.",
    ),
    Setting(
        "gateway",
        "log_level",
        Choice("trace", "debug", "info", "warning", "error"),
        "info",
        "Least severe log level written. trace adds every byte exchanged with the modems; "
        "message bodies appear only at debug and below.",
    ),
    Setting(
        "gateway",
        "default_region",
        Region(),
        REQUIRED,
        "Region used to read numbers written in national form (07700 900123 with GB is "
        "+447700900123), from modems and from the API alike. There is no default: a "
        "wrong guess would split one customer into two contacts.",
        example="GB",
    ),
    Setting(
        "gateway",
        "timezone",
        TimeZone(),
        zoneinfo.ZoneInfo("UTC"),
        "Time zone for times shown to agents and for schedules. Storage is always UTC.",
    ),
    Setting(
        "gateway",
        "node_name",
        Name(),
        None,
        "This box's name when several boxes share one database.",
        default_text="(this machine's host name)",
    ),
    Setting(
        "gateway",
        "node_timeout_s",
        Duration(3.0, 7 * 86400.0),
        120.0,
        "When several boxes share one database: a box that has not written its "
        "heartbeat for this long is taken as gone, and the texts waiting on its modems "
        "go out through the other boxes' modems (the customer then sees another "
        "number). Keep the boxes' clocks in sync (NTP).",
    ),
    # [database]
    Setting(
        "database",
        "path",
        FilePath("data_dir"),
        Path("gateway.db"),
        "The SQLite database file (with its -wal and -shm files beside it).",
    ),
    Setting(
        "database",
        "url",
        DatabaseUrl(),
        None,
        "Set to a PostgreSQL URL to share one database between several boxes; empty "
        "keeps the embedded SQLite file. The environment variable SMSGW_DATABASE_URL, "
        "when set, takes its place (keeps the password out of this file).",
    ),
    Setting(
        "database",
        "pool_size",
        Integer(1, 64),
        3,
        "Connections this box opens: one writer, which runs every change in the order "
        "it was asked for (with group commit), and pool_size - 1 read-only ones, which "
        "serve pages, API lists and reports side by side, so a slow report never holds "
        "up an incoming text. 1: reads queue behind the writes.",
    ),
    Setting(
        "database",
        "batch_max_units",
        Integer(1, 10_000),
        256,
        "Most units of work committed together in one transaction when a burst arrives "
        "(group commit: a burst costs few disk flushes).",
    ),
    # [web]
    Setting("web", "enabled", Boolean(), True, "Serve the inbox and the API."),
    Setting(
        "web",
        "host",
        Host(),
        "127.0.0.1",
        "Address to listen on; 0.0.0.0 listens on every interface.",
    ),
    Setting("web", "port", Integer(1, 65535), 8080, "TCP port to listen on."),
    Setting(
        "web",
        "base_url",
        HttpUrl(),
        None,
        "The URL agents and webhook receivers use to reach this box, when it is behind a "
        "proxy or a name; empty means http://HOST:PORT.",
    ),
    # [auth]
    Setting(
        "auth",
        "session_idle_timeout_s",
        Duration(60.0, 30 * 86400.0),
        8 * 3600.0,
        "A signed-in session not used for this long ends; the agent signs in again.",
    ),
    Setting(
        "auth",
        "session_max_age_s",
        Duration(300.0, 365 * 86400.0),
        7 * 86400.0,
        "A session ends this long after sign-in, however busy it is.",
    ),
    Setting(
        "auth",
        "login_failure_limit",
        Integer(1, 100),
        5,
        "Failed sign-ins for one username within login_failure_window_s after which "
        "that username cannot sign in (even with the right password) until the oldest "
        "of them is older than the window.",
    ),
    Setting(
        "auth",
        "login_address_failure_limit",
        Integer(1, 10_000),
        20,
        "The same limit per client address, whatever the usernames tried (higher: an "
        "office behind one address shares it).",
    ),
    Setting(
        "auth",
        "login_failure_window_s",
        Duration(10.0, 86400.0),
        900.0,
        "How long a failed sign-in counts against its username and address.",
    ),
    Setting(
        "auth",
        "min_password_length",
        Integer(8, 128),
        10,
        "Shortest password `smsgw user add`, `smsgw user passwd` and the Users page "
        "accept.",
    ),
    Setting(
        "auth",
        "cookie_secure",
        Choice("auto", "yes", "no"),
        "auto",
        "Mark the session cookie Secure (sent over HTTPS only). auto: when [web] "
        "base_url starts with https://.",
    ),
    # [inbound]
    Setting(
        "inbound",
        "reassembly_timeout_s",
        Duration(1.0),
        600.0,
        "How long the parts of a multipart text may take to arrive. After it, the parts "
        "that came are delivered as one message marked incomplete.",
    ),
    Setting(
        "inbound",
        "reopen_window_s",
        Duration(0.0),
        7 * 86400.0,
        "A text within this time of its conversation being resolved reopens that "
        "conversation; a later one starts a new conversation. 0 never reopens.",
    ),
    # [outbound]
    Setting(
        "outbound",
        "parts_per_minute",
        Integer(1, 600),
        10,
        "Default pacing per SIM, in SMS parts per minute (operators throttle or block "
        "SIMs that send faster). A [modem:NAME] section can override it.",
    ),
    Setting(
        "outbound",
        "max_parts",
        Integer(1, 255),
        10,
        "Longest message accepted, in SMS parts (10 parts is 1530 GSM-7 or 670 UCS-2 "
        "characters).",
    ),
    Setting(
        "outbound",
        "retry_base_s",
        Duration(1.0),
        30.0,
        "Wait before the first retry of a part that failed transiently; it doubles with "
        "each attempt.",
    ),
    Setting(
        "outbound",
        "retry_max_s",
        Duration(1.0),
        1800.0,
        "Longest wait between two retries.",
    ),
    Setting(
        "outbound",
        "max_attempts",
        Integer(1, 100),
        8,
        "Attempts per part before the message fails.",
    ),
    Setting(
        "outbound",
        "max_age_s",
        Duration(60.0),
        86400.0,
        "A message not sent within this time of being queued fails (a late text can be "
        "worse than none).",
    ),
    Setting(
        "outbound",
        "status_reports",
        Boolean(),
        True,
        "Ask the network for delivery reports, so messages reach 'delivered'.",
    ),
    Setting(
        "outbound",
        "validity_s",
        Duration(0.0, 63 * 7 * 86400.0),
        86400.0,
        "How long the network keeps trying to deliver a text to a phone that is off; 0 "
        "leaves it to the network.",
    ),
    Setting(
        "outbound",
        "failover",
        Boolean(),
        True,
        "When a modem keeps failing a message that none of its parts left yet, send it "
        "through another modem (the customer then sees another number).",
    ),
    # [compliance]
    Setting(
        "compliance",
        "opt_out_keywords",
        WordList(),
        compliance_rules.DEFAULT_OPT_OUT,
        "Messages that opt the sender out at once.",
    ),
    Setting(
        "compliance",
        "opt_in_keywords",
        WordList(),
        compliance_rules.DEFAULT_OPT_IN,
        "Messages that opt the sender back in.",
    ),
    Setting(
        "compliance",
        "help_keywords",
        WordList(),
        compliance_rules.DEFAULT_HELP,
        "Messages that get the help text (and still reach an agent).",
    ),
    Setting(
        "compliance",
        "opt_out_reply",
        Text(),
        "You are unsubscribed and will get no more texts from us. Reply START to "
        "subscribe again.",
        "The one confirmation sent after an opt-out; empty sends none.",
    ),
    Setting(
        "compliance",
        "opt_in_reply",
        Text(),
        "You are subscribed again. Reply STOP to unsubscribe.",
        "Sent after an opt-in; empty sends none.",
    ),
    Setting(
        "compliance",
        "help_reply",
        Text(),
        "This is our support line: reply with your question and a person will answer. "
        "Reply STOP to unsubscribe.",
        "Sent in answer to a help keyword; empty sends none.",
    ),
    # [automation]
    Setting(
        "automation",
        "enabled",
        Boolean(),
        True,
        "Run the automation. no: every message simply waits for an agent (compliance "
        "keywords are still answered).",
    ),
    Setting(
        "automation",
        "max_prompts",
        Integer(0, 5),
        2,
        "Times a question (the triage menu, a detail asked for) is asked again after an "
        "answer that does not fit it; the next miss hands the conversation to a human "
        "with connecting_text.",
    ),
    Setting(
        "automation",
        "max_questions",
        Integer(1, 20),
        6,
        "Most questions (asked again or not) the automation sends in one conversation; "
        "one more would hand it to a human instead, whatever the rules say.",
    ),
    Setting(
        "automation",
        "takeover_words",
        WordList(),
        ("agent", "human", "person", "representative", "operator", "real person"),
        "Words or phrases (anywhere in a message, any case) that hand the conversation "
        "to a human at once: the automation stops, the priority rises, it goes to "
        "escalation_queue and agents are notified. The [compliance] help keywords do "
        "the same after their reply.",
    ),
    Setting(
        "automation",
        "frustration_words",
        WordList(),
        (
            "third time",
            "ridiculous",
            "unacceptable",
            "useless",
            "terrible",
            "worst",
            "fed up",
            "complaint",
        ),
        "Words or phrases that are a frustration signal: they escalate like the "
        "takeover words.",
    ),
    Setting(
        "automation",
        "frustration_messages",
        Integer(2, 50),
        3,
        "This many customer messages in a row with no reply, within "
        "frustration_window_s, are a frustration signal.",
    ),
    Setting(
        "automation",
        "frustration_window_s",
        Duration(60.0, 86400.0),
        600.0,
        "The time frustration_messages must fall within.",
    ),
    Setting(
        "automation",
        "caps_min_letters",
        Integer(0, 1000),
        12,
        "A message written all in capitals with at least this many letters is a "
        "frustration signal (0: never).",
    ),
    Setting(
        "automation",
        "exclamation_run",
        Integer(0, 20),
        3,
        "This many exclamation marks in a row (!!!) are a frustration signal (0: never).",
    ),
    Setting(
        "automation",
        "escalation_queue",
        Text(),
        "escalations",
        "Queue of escalated conversations (takeover words, help keywords, frustration); "
        "empty keeps their queue.",
    ),
    Setting(
        "automation",
        "escalation_priority",
        Choice("high", "urgent"),
        "high",
        "Priority an escalated conversation is raised to (never lowered).",
    ),
    Setting(
        "automation",
        "connecting_text",
        Text(),
        "Thanks - one moment while I connect you to an agent.",
        "Sent when the automation hands a conversation to a human (once).",
    ),
    Setting(
        "automation",
        "ack_text",
        Text(),
        "",
        "Sent once per conversation while its queue is open, to set expectations (We "
        "typically reply within 10 minutes.); a queue may have its own. Empty sends "
        "none.",
    ),
    Setting(
        "automation",
        "after_hours_text",
        Text(),
        "Thanks for your message. We're closed right now; we'll reply {when}.",
        "Sent while the conversation's queue is closed, once per closed spell; {when} "
        "becomes the next opening as the customer reads it (today at 5pm, tomorrow at "
        "8am, on Monday at 9:30am), in the queue's time zone. Empty sends none.",
    ),
    Setting(
        "automation",
        "agent_recent_s",
        Duration(0.0, 7 * 86400.0),
        1800.0,
        "No acknowledgement or after-hours reply when an agent replied in the "
        "conversation within this time: a person is already talking to them.",
    ),
    Setting(
        "automation",
        "online_window_s",
        Duration(60.0, 86400.0),
        600.0,
        "An agent is online (and gets new conversations by auto-assignment) while a "
        "console session of theirs was used within this time and they have not set "
        "themselves away.",
    ),
    Setting(
        "automation",
        "default_queue",
        Text(),
        "",
        "Queue of new conversations that no triage answer or routing rule places; "
        "empty leaves them in no queue.",
    ),
    Setting(
        "automation",
        "sticky_agent",
        Boolean(),
        True,
        "Give a returning customer's conversation to the agent who last handled them, "
        "when that agent is online.",
    ),
    Setting(
        "automation",
        "owner_attribute",
        Text(),
        "account_owner",
        "A contact attribute holding the username of the customer's account owner: "
        "their conversations go to that user (empty: no such attribute).",
    ),
    # [notifications]
    Setting(
        "notifications",
        "quiet_start",
        ClockTime(),
        datetime.time(21, 0),
        "Start of quiet hours in the recipient's time zone: no notification is sent "
        "from then until quiet_end (the same time as quiet_end: no quiet hours).",
    ),
    Setting(
        "notifications",
        "quiet_end",
        ClockTime(),
        datetime.time(8, 0),
        "End of quiet hours in the recipient's time zone: notifications held overnight "
        "go out from then.",
    ),
    Setting(
        "notifications",
        "options_ttl_s",
        Duration(60.0, 90 * 86400.0),
        3 * 86400.0,
        "How long a notification's reply options stay open when it gives neither "
        "expires_at nor ttl_s, counted from when it may first be sent; later replies "
        "land in the inbox with the notification's context.",
    ),
    # [metrics]
    Setting(
        "metrics",
        "timezone",
        OptionalTimeZone(),
        None,
        "Time zone of the reports' days and weeks (a day runs midnight to midnight "
        "there, 23 or 25 hours long at a DST change).",
        default_text="([gateway] timezone)",
    ),
    Setting(
        "metrics",
        "prometheus",
        Boolean(),
        True,
        "Serve the operations metrics at GET /metrics (Prometheus text format).",
    ),
    Setting(
        "metrics",
        "scrape_token",
        Text(),
        "",
        "A bearer token Prometheus must send (Authorization: Bearer TOKEN) to read "
        "/metrics. Empty: only clients on this machine (127.0.0.1, ::1) that came "
        "through no proxy may read it. Set one when a reverse proxy on this box "
        "forwards to the web port.",
        secret=True,
    ),
    # [csat]
    Setting(
        "csat",
        "enabled",
        Boolean(),
        True,
        "Text the survey after a resolution. no: no survey goes out (ratings already "
        "asked for are still read).",
    ),
    Setting(
        "csat",
        "survey_text",
        Text(),
        "How did we do? Reply 1-5 (5 = great).",
        "The survey.",
    ),
    Setting(
        "csat",
        "thanks_text",
        Text(),
        "Thanks for your feedback!",
        "Sent after a rating; empty sends none.",
    ),
    Setting(
        "csat",
        "delay_s",
        Duration(0.0, 7 * 86400.0),
        300.0,
        "How long after the resolution the survey goes out; a conversation reopened "
        "meanwhile gets none (until it is resolved again).",
    ),
    Setting(
        "csat",
        "expiry_s",
        Duration(60.0, 30 * 86400.0),
        3 * 86400.0,
        "How long a survey waits for its answer; a later reply is a normal message. "
        "Keep it within [inbound] reopen_window_s.",
    ),
    # [webhooks]
    Setting(
        "webhooks",
        "timeout_s",
        Duration(1.0, 300.0),
        10.0,
        "How long a receiver has to answer a request. No answer in time is a failure and "
        "is retried (the receiver may have acted on it: the webhook-id header lets it "
        "drop the repeat).",
    ),
    Setting(
        "webhooks",
        "concurrency",
        Integer(1, 64),
        4,
        "Requests in flight at once, over all endpoints. The events of one conversation "
        "go one at a time and in order whatever this is.",
    ),
    Setting(
        "webhooks",
        "retry_base_s",
        Duration(1.0),
        10.0,
        "Wait before the first retry of a failed delivery; it doubles with each attempt "
        "(with random jitter, so receivers coming back are not stampeded).",
    ),
    Setting(
        "webhooks",
        "retry_max_s",
        Duration(1.0),
        3600.0,
        "Longest wait between two attempts: a receiver that comes back gets its backlog "
        "within this time.",
    ),
    Setting(
        "webhooks",
        "max_age_s",
        Duration(60.0, 90 * 86400.0),
        3 * 86400.0,
        "A delivery still failing this long after it was queued (or replayed) is "
        "dead-lettered: kept with its attempts, never retried, replayable.",
    ),
    Setting(
        "webhooks",
        "max_rejected_attempts",
        Integer(1, 100),
        5,
        "Attempts a receiver may refuse with a 4xx status (other than 408, 409, 425 and "
        "429, which are retried like 5xx) before that delivery is dead-lettered, so an "
        "event it will not take does not hold up the rest of its conversation.",
    ),
    Setting(
        "webhooks",
        "retention_s",
        Duration(86400.0, 3650 * 86400.0),
        30 * 86400.0,
        "Delivered and dead deliveries, their attempts and their events are deleted "
        "this long after they ended.",
    ),
    # [simulator]
    Setting(
        "simulator",
        "enabled",
        Choice("auto", "yes", "no"),
        "auto",
        "auto runs the simulated modem only when no [modem:NAME] section is enabled.",
    ),
    Setting(
        "simulator",
        "number",
        PhoneNumber(optional=False),
        "+447700900000",
        "The simulated modem's own number (the 07700 900xxx range is reserved for drama, "
        "so it reaches nobody real).",
    ),
    Setting(
        "simulator",
        "profile",
        Choice(*_SIM_PROFILES),
        "generic",
        "Which vendor's quirks the simulated modem imitates.",
    ),
    Setting(
        "simulator",
        "control_host",
        Host(),
        "127.0.0.1",
        "Address of the simulator's control API (simulated phones text the box through "
        "it).",
    ),
    Setting(
        "simulator",
        "control_port",
        Integer(1, 65535),
        8081,
        "TCP port of the simulator's control API.",
    ),
    # [modem:NAME]
    Setting(
        "modem",
        "port",
        SerialPort(),
        REQUIRED,
        "Where the modem's AT port is.",
        example="/dev/serial/by-id/usb-SimTech__Incorporated_SimTech__Incorporated-if02-port0",
    ),
    Setting("modem", "enabled", Boolean(), True, "Use this modem."),
    Setting(
        "modem",
        "pin",
        Pin(),
        None,
        "The SIM's PIN, when it asks for one.",
        secret=True,
    ),
    Setting(
        "modem",
        "profile",
        Choice("auto", *_SIM_PROFILES),
        "auto",
        "Vendor quirks to apply; auto picks them from the modem's answer to AT+CGMI.",
    ),
    Setting(
        "modem",
        "own_number",
        PhoneNumber(optional=True),
        None,
        "The SIM's number, when the SIM does not know it (AT+CNUM comes back empty).",
    ),
    Setting(
        "modem",
        "parts_per_minute",
        OptionalInteger(1, 600, "the [outbound] default"),
        None,
        "Pacing for this SIM, in SMS parts per minute.",
        default_text="([outbound] parts_per_minute)",
    ),
    Setting(
        "modem",
        "baudrate",
        Integer(1200, 4_000_000),
        115200,
        "Serial speed (ignored for socket:// ports; USB modems accept any).",
    ),
    Setting(
        "modem",
        "sweep_interval_s",
        Duration(10.0),
        300.0,
        "How often every message storage of the modem is listed, as a safety net for "
        "notifications the modem never sent.",
    ),
)


def settings_in(section: str) -> tuple[Setting, ...]:
    """The table's keys of one section (`modem` for [modem:NAME])."""
    return tuple(s for s in SETTINGS if s.section == section)


# ---------------------------------------------------------------------- typed settings


@dataclass(frozen=True, slots=True)
class GatewaySettings:
    data_dir: Path  # absolute
    log_level: str
    default_region: str
    timezone: zoneinfo.ZoneInfo
    node_name: str
    node_timeout_s: float


@dataclass(frozen=True, slots=True)
class DatabaseSettings:
    path: Path  # absolute
    url: str | None
    pool_size: int
    batch_max_units: int

    @property
    def engine(self) -> str:
        """ "sqlite" or "postgresql"."""
        return "postgresql" if self.url else "sqlite"


@dataclass(frozen=True, slots=True)
class WebSettings:
    enabled: bool
    host: str
    port: int
    base_url: str | None


@dataclass(frozen=True, slots=True)
class AuthSettings:
    session_idle_timeout_s: float
    session_max_age_s: float
    login_failure_limit: int
    login_address_failure_limit: int
    login_failure_window_s: float
    min_password_length: int
    cookie_secure: str  # auto, yes or no; auto follows [web] base_url


@dataclass(frozen=True, slots=True)
class InboundSettings:
    reassembly_timeout_s: float
    reopen_window_s: float


@dataclass(frozen=True, slots=True)
class OutboundSettings:
    parts_per_minute: int
    max_parts: int
    retry_base_s: float
    retry_max_s: float
    max_attempts: int
    max_age_s: float
    status_reports: bool
    validity_s: float
    failover: bool


@dataclass(frozen=True, slots=True)
class ComplianceSettings:
    opt_out_keywords: tuple[str, ...]
    opt_in_keywords: tuple[str, ...]
    help_keywords: tuple[str, ...]
    opt_out_reply: str
    opt_in_reply: str
    help_reply: str


@dataclass(frozen=True, slots=True)
class AutomationSettings:
    enabled: bool
    max_prompts: int
    max_questions: int
    takeover_words: tuple[str, ...]
    frustration_words: tuple[str, ...]
    frustration_messages: int
    frustration_window_s: float
    caps_min_letters: int
    exclamation_run: int
    escalation_queue: str
    escalation_priority: str
    connecting_text: str
    ack_text: str
    after_hours_text: str
    agent_recent_s: float
    online_window_s: float
    default_queue: str
    sticky_agent: bool
    owner_attribute: str


@dataclass(frozen=True, slots=True)
class NotificationSettings:
    quiet_start: datetime.time
    quiet_end: datetime.time
    options_ttl_s: float


@dataclass(frozen=True, slots=True)
class MetricsSettings:
    timezone: zoneinfo.ZoneInfo  # [gateway] timezone when the key is empty
    prometheus: bool
    scrape_token: str = dataclasses.field(repr=False)


@dataclass(frozen=True, slots=True)
class CsatSettings:
    enabled: bool
    survey_text: str
    thanks_text: str
    delay_s: float
    expiry_s: float


@dataclass(frozen=True, slots=True)
class WebhookSettings:
    timeout_s: float
    concurrency: int
    retry_base_s: float
    retry_max_s: float
    max_age_s: float
    max_rejected_attempts: int
    retention_s: float


@dataclass(frozen=True, slots=True)
class SimulatorSettings:
    enabled: bool  # "auto" resolved against the modem sections
    number: str
    profile: str
    control_host: str
    control_port: int


@dataclass(frozen=True, slots=True)
class ModemSettings:
    name: str
    port: str
    enabled: bool
    pin: str | None
    profile: str
    own_number: str | None
    parts_per_minute: int  # the [outbound] default when the section leaves it out
    baudrate: int
    sweep_interval_s: float


@dataclass(frozen=True, slots=True)
class Settings:
    gateway: GatewaySettings
    database: DatabaseSettings
    web: WebSettings
    auth: AuthSettings
    inbound: InboundSettings
    outbound: OutboundSettings
    compliance: ComplianceSettings
    simulator: SimulatorSettings
    modems: tuple[ModemSettings, ...]
    webhooks: WebhookSettings
    automation: AutomationSettings
    notifications: NotificationSettings
    metrics: MetricsSettings
    csat: CsatSettings
    source: str  # the file these came from, for messages

    @property
    def enabled_modems(self) -> tuple[ModemSettings, ...]:
        return tuple(m for m in self.modems if m.enabled)


SECTION_TYPES: Mapping[str, type[Any]] = {
    "gateway": GatewaySettings,
    "database": DatabaseSettings,
    "web": WebSettings,
    "auth": AuthSettings,
    "inbound": InboundSettings,
    "outbound": OutboundSettings,
    "compliance": ComplianceSettings,
    "automation": AutomationSettings,
    "notifications": NotificationSettings,
    "metrics": MetricsSettings,
    "csat": CsatSettings,
    "webhooks": WebhookSettings,
    "simulator": SimulatorSettings,
    "modem": ModemSettings,
}

_MODEM_NAME_RE = re.compile(r"[A-Za-z0-9_-]{1,32}")


# ---------------------------------------------------------------------- loading


def load_settings(path: str | Path) -> Settings:
    """Read and validate a gateway.ini; raises ConfigError listing every problem in it."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        problem = ConfigProblem(
            section="-",
            key=None,
            value=None,
            expected=f"a readable UTF-8 file ({exc.__class__.__name__}: {exc})",
        )
        raise ConfigError([problem], source=str(path)) from exc
    return parse_settings(text, base_dir=path.resolve().parent, source=str(path))


DATABASE_URL_ENV = "SMSGW_DATABASE_URL"


def _database_url_from_environment(problems: list[ConfigProblem]) -> str | None:
    """SMSGW_DATABASE_URL, which takes the place of [database] url when set."""
    raw = os.environ.get(DATABASE_URL_ENV, "")
    try:
        return DatabaseUrl().parse(raw)
    except ValueError:
        problems.append(
            ConfigProblem(
                "database",
                "url",
                f"${DATABASE_URL_ENV}",  # not its value: it may hold a password
                "postgresql://USER:PASSWORD@HOST:PORT/DBNAME (or unset)",
            )
        )
        return None


def parse_settings(text: str, *, base_dir: Path, source: str = "<string>") -> Settings:
    """Validate ini `text`; relative paths are taken from `base_dir`."""
    parser = configparser.ConfigParser(
        interpolation=None,
        default_section="\0no-defaults",  # no [DEFAULT] inheritance: it hides mistakes
        strict=True,
        empty_lines_in_values=False,
    )
    try:
        parser.read_string(text, source)
    except configparser.Error as exc:
        raise ConfigError(_syntax_problems(exc, text), source=source) from exc

    problems: list[ConfigProblem] = []
    raw_sections: dict[str, dict[str, Any]] = {}
    for name in parser.sections():
        spec = _section_spec(name)
        if spec is None:
            problems.append(_unknown_section(name))
            continue
        raw_sections[name] = _parse_section(name, spec, parser[name], problems)

    for name, spec in ((s.name, s) for s in SECTIONS if not s.repeated):
        if name not in raw_sections:
            raw_sections[name] = _parse_section(name, spec, {}, problems)

    # Cross-key rules are checked even when single keys are wrong (with their defaults in
    # place), so one run lists everything; they need every required key to be there.
    complete = all(
        setting.key in values
        for name, values in raw_sections.items()
        for setting in settings_in(name.partition(":")[0])
        if setting.required
    )
    settings = _build(raw_sections, base_dir, source, problems) if complete else None
    if problems or settings is None:
        raise ConfigError(problems, source=source)
    return settings


def _syntax_problems(exc: configparser.Error, text: str) -> list[ConfigProblem]:
    if isinstance(exc, configparser.DuplicateOptionError):
        return [
            ConfigProblem(
                exc.section,
                exc.option,
                f"(line {exc.lineno})",
                "each key at most once per section",
            )
        ]
    if isinstance(exc, configparser.DuplicateSectionError):
        return [
            ConfigProblem(
                exc.section,
                None,
                None,
                f"each section once (again at line {exc.lineno})",
            )
        ]
    if isinstance(exc, configparser.MissingSectionHeaderError):
        return [
            ConfigProblem(
                "-",
                None,
                exc.line.strip(),
                f"a [section] header before the first key (line {exc.lineno})",
            )
        ]
    if isinstance(exc, configparser.ParsingError):
        return [
            ConfigProblem(
                _section_at(text, lineno),
                None,
                line.strip("'").strip().removesuffix("\\n"),
                f"KEY = VALUE, a [section] header or a # comment (line {lineno})",
            )
            for lineno, line in exc.errors
        ]
    return [ConfigProblem("-", None, None, f"a valid ini file ({exc})")]


def _section_at(text: str, lineno: int) -> str:
    section = "-"
    for line in text.splitlines()[:lineno]:
        match = re.fullmatch(r"\s*\[([^\]]+)\]\s*", line)
        if match:
            section = match[1]
    return section


def _section_spec(name: str) -> Section | None:
    for spec in SECTIONS:
        if spec.repeated:
            prefix, sep, label = name.partition(":")
            if sep and prefix == spec.name:
                return spec if _MODEM_NAME_RE.fullmatch(label) else None
        elif name == spec.name:
            return spec
    return None


def _known_section_names() -> list[str]:
    return [f"{s.name}:NAME" if s.repeated else s.name for s in SECTIONS]


def _unknown_section(name: str) -> ConfigProblem:
    known = _known_section_names()
    hint = ""
    prefix = name.partition(":")[0]
    if prefix == "modem":
        hint = " (modem names use letters, digits, - and _)"
    else:
        close = difflib.get_close_matches(name.lower(), known, n=1)
        if close:
            hint = f" (did you mean [{close[0]}]?)"
    listed = ", ".join(f"[{k}]" for k in known)
    return ConfigProblem(name, None, None, f"a known section{hint}: one of {listed}")


def _parse_section(
    name: str,
    spec: Section,
    items: Mapping[str, str],
    problems: list[ConfigProblem],
) -> dict[str, Any]:
    table = {s.key: s for s in settings_in(spec.name)}
    values: dict[str, Any] = {}
    for key, raw in items.items():
        setting = table.get(key)
        if setting is None:
            problems.append(_unknown_key(name, key, raw, table))
            continue
        raw = raw.strip()
        try:
            values[key] = setting.type.parse(raw)
        except ValueError:
            shown = "***" if setting.secret else raw
            problems.append(ConfigProblem(name, key, shown, setting.type.form))
            if not setting.required:
                values[key] = setting.default  # lets the cross-key rules still run
    for key, setting in table.items():
        if key in values or key in items:
            continue
        if setting.required:
            problems.append(ConfigProblem(name, key, None, setting.type.form))
        else:
            values[key] = setting.default
    return values


def _unknown_key(
    section: str, key: str, raw: str, table: Mapping[str, Setting]
) -> ConfigProblem:
    close = difflib.get_close_matches(key, list(table), n=1)
    hint = f" (did you mean {close[0]}?)" if close else ""
    return ConfigProblem(
        section, key, raw.strip(), f"a known key{hint}: one of {', '.join(table)}"
    )


def _build(
    raw: dict[str, dict[str, Any]],
    base_dir: Path,
    source: str,
    problems: list[ConfigProblem],
) -> Settings:
    """Typed settings from parsed sections: resolves derived values, checks cross-key rules
    (adding to `problems`)."""
    gw = raw["gateway"]
    data_dir = (base_dir / gw["data_dir"]).resolve()
    gateway = GatewaySettings(**{**gw, "data_dir": data_dir})
    if not gateway.node_name:
        gateway = dataclasses.replace(gateway, node_name=socket.gethostname())
    db = raw["database"]
    database = DatabaseSettings(
        **{
            **db,
            "path": (data_dir / db["path"]).resolve(),
            "url": _database_url_from_environment(problems) or db["url"],
        }
    )
    web = WebSettings(**raw["web"])
    auth = AuthSettings(**raw["auth"])
    inbound = InboundSettings(**raw["inbound"])
    outbound = OutboundSettings(**raw["outbound"])
    compliance = ComplianceSettings(**raw["compliance"])
    webhooks = WebhookSettings(**raw["webhooks"])
    metrics = MetricsSettings(
        **{**raw["metrics"], "timezone": raw["metrics"]["timezone"] or gateway.timezone}
    )
    csat = CsatSettings(**raw["csat"])
    automation = AutomationSettings(**raw["automation"])
    notifications = NotificationSettings(**raw["notifications"])

    modems = tuple(
        ModemSettings(
            name=name.partition(":")[2],
            **{
                **values,
                "parts_per_minute": values["parts_per_minute"]
                or outbound.parts_per_minute,
            },
        )
        for name, values in raw.items()
        if name.startswith("modem:")
    )
    sim = raw["simulator"]
    simulator = SimulatorSettings(
        **{
            **sim,
            "enabled": sim["enabled"] == "yes"
            or (sim["enabled"] == "auto" and not any(m.enabled for m in modems)),
        }
    )

    if outbound.retry_max_s < outbound.retry_base_s:
        problems.append(
            ConfigProblem(
                "outbound",
                "retry_max_s",
                _render_seconds(outbound.retry_max_s),
                f"at least retry_base_s ({_render_seconds(outbound.retry_base_s)})",
            )
        )
    if webhooks.retry_max_s < webhooks.retry_base_s:
        problems.append(
            ConfigProblem(
                "webhooks",
                "retry_max_s",
                _render_seconds(webhooks.retry_max_s),
                f"at least retry_base_s ({_render_seconds(webhooks.retry_base_s)})",
            )
        )
    for key in ("connecting_text", "ack_text", "after_hours_text"):
        text = getattr(automation, key)
        allowed = "{when}" if key == "after_hours_text" else ""
        rest = text.replace(allowed, "") if allowed else text
        if "{" in rest or "}" in rest:
            problems.append(
                ConfigProblem(
                    "automation",
                    key,
                    text,
                    "text without braces"
                    + (", but for {when}" if allowed else "")
                    + " (no other placeholder is filled in)",
                )
            )
    if csat.enabled and not csat.survey_text.strip():
        problems.append(
            ConfigProblem(
                "csat", "survey_text", "", "the survey's text (or enabled = no)"
            )
        )
    problems += _duplicates(modems, "port", lambda m: m.port)
    problems += _duplicates(modems, "own_number", lambda m: m.own_number)
    try:
        compliance_rules.KeywordRules.build(
            compliance.opt_out_keywords,
            compliance.opt_in_keywords,
            compliance.help_keywords,
        )
    except ValueError as exc:
        problems.append(
            ConfigProblem(
                "compliance",
                "opt_in_keywords",
                ", ".join(compliance.opt_in_keywords),
                f"keywords that are in only one of the three lists ({exc})",
            )
        )
    if (
        simulator.enabled
        and web.enabled
        and simulator.control_port == web.port
        and simulator.control_host == web.host
    ):
        problems.append(
            ConfigProblem(
                "simulator",
                "control_port",
                str(simulator.control_port),
                f"a port other than [web] port ({web.port})",
            )
        )
    return Settings(
        gateway=gateway,
        database=database,
        web=web,
        auth=auth,
        inbound=inbound,
        outbound=outbound,
        compliance=compliance,
        simulator=simulator,
        modems=modems,
        webhooks=webhooks,
        metrics=metrics,
        csat=csat,
        source=source,
        automation=automation,
        notifications=notifications,
    )


def _duplicates(
    modems: Iterable[ModemSettings],
    key: str,
    get: Callable[[ModemSettings], str | None],
) -> list[ConfigProblem]:
    seen: dict[str, str] = {}
    problems = []
    for modem in modems:
        value = get(modem)
        if value is None:
            continue
        if value in seen:
            problems.append(
                ConfigProblem(
                    f"modem:{modem.name}",
                    key,
                    value,
                    f"a value no other modem has ([modem:{seen[value]}] has it)",
                )
            )
        else:
            seen[value] = modem.name
    return problems


# ---------------------------------------------------------------------- reference docs

_INI_WIDTH = 88
_INI_HEADER = """\
# gateway.ini: the smsgw configuration.
#
# Generated from the settings table in gateway/config.py; regenerate it with
#   smsgw config reference --format ini > gateway.ini
# and check a file with `smsgw config check --config PATH`.
#
# Every key is listed with its help and default, commented out: uncomment a line to
# change it. Comments go on lines of their own (a # after a value is part of the value).
# Durations take a unit (90s, 10m, 2h, 7d); a bare number is seconds.
#
# As shipped, no [modem:NAME] section is enabled, so the embedded simulated modem runs
# and this file works on a machine with no modem.
"""


def _comment(text: str, indent: str = "") -> list[str]:
    return textwrap.wrap(
        text,
        width=_INI_WIDTH,
        initial_indent=f"# {indent}",
        subsequent_indent=f"# {indent}",
    )


def render_reference_ini() -> str:
    """The shipped gateway.ini: every section and key, its help, form and default."""
    lines = _INI_HEADER.splitlines()
    for section in SECTIONS:
        lines.append("")
        header = f"[{section.name}:usb0]" if section.repeated else f"[{section.name}]"
        lines += _comment(section.help)
        lines.append(f"# {header}" if section.repeated else header)
        for setting in settings_in(section.name):
            lines.append("")
            note = " Required." if setting.required else ""
            if setting.default_text is not None:
                note = f" Default: {setting.default_text.strip('()')}."
            lines += _comment(setting.help + note)
            lines += _comment(f"Form: {setting.type.form}.")
            if setting.required:
                key_line = f"{setting.key} = {setting.example}"
            elif setting.default_text is not None:
                key_line = f"{setting.key} ="
            else:
                key_line = f"{setting.key} = {setting.documented_default()}".rstrip()
            commented = section.repeated or not setting.required
            lines.append(f"# {key_line}" if commented else key_line)
    return "\n".join(lines) + "\n"


README_BEGIN = (
    "<!-- BEGIN config-reference: generated by `smsgw config reference --format markdown`;"
    " tests/gateway/test_config_docs.py checks it -->"
)
README_END = "<!-- END config-reference -->"


def _md(text: str) -> str:
    return text.replace("|", "\\|")


def render_reference_markdown() -> str:
    """The README's configuration reference: one table per section."""
    lines = [README_BEGIN, ""]
    for section in SECTIONS:
        title = f"[{section.name}:NAME]" if section.repeated else f"[{section.name}]"
        lines += [f"### `{title}`", "", section.help, ""]
        lines += ["| Key | Default | Form | Meaning |", "|---|---|---|---|"]
        for setting in settings_in(section.name):
            default = setting.documented_default()
            shown = (
                f"`{default}`" if default and not default.startswith("(") else default
            )
            help_text = setting.help + (" Required." if setting.required else "")
            lines.append(
                f"| `{setting.key}` | {_md(shown or '(empty)')} | {_md(setting.type.form)} "
                f"| {_md(help_text)} |"
            )
        lines.append("")
    lines.append(README_END)
    return "\n".join(lines) + "\n"

"""PURE: a notification's reply options, and which one a customer's reply picks.

A reply picks an option when, normalised, it is exactly one of that option's names and
of no other option's: its key ("1", "A"), its value ("confirm") and its aliases. The
whole message counts, trimmed, in any case, NFKC (full-width digits), with surrounding
punctuation and a leading "option", "opt", "choice", "number" or "#" ignored: "2",
" 2. ", "(2)", "Option 2", "#2" and "２" all pick "2". A compliance keyword (STOP, START,
HELP and the configured lists) never picks anything: compliance acts on it first, and an
option may not be named after one.
"""

from __future__ import annotations

import enum
import re
import unicodedata
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from gateway import compliance_rules
from gateway.compliance_rules import KeywordRules
from gateway.domain import JsonValue
from gateway.errors import InvalidInput

MAX_OPTIONS = 10
MAX_KEY_CHARS = 20
MAX_VALUE_CHARS = 60
MAX_ALIASES = 10
MAX_QUEUE_CHARS = 64
MAX_REPLY_CHARS = 2000  # a template; what it renders to must fit [outbound] max_parts

_PUNCTUATION = ".,;:!?¡¿()[]{}<>\"'`«»“”‘’-_*~/\\|#"
_PREFIX_RE = re.compile(
    r"^(?:(?:option|opt|choice|number|num)(?![a-z])|no\.|#)\s*[#:.)-]?\s*"
)
_QUEUE_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}")


class OptionAction(enum.StrEnum):
    """What choosing an option does beyond the webhook and the confirmation."""

    CONFIRM = "confirm"  # nothing for agents: the conversation stays as it was
    HANDOVER = "handover"  # a person takes it: the conversation is open (in `queue`)


@dataclass(frozen=True, slots=True)
class ReplyOption:
    key: str
    value: str
    aliases: tuple[str, ...] = ()
    action: OptionAction = OptionAction.CONFIRM
    queue: str | None = None
    reply: str | None = None  # the confirmation text (a template), None: no text

    def names(self, rules: KeywordRules) -> frozenset[str]:
        """What a reply may say to pick it (normalised); never a compliance keyword."""
        words = {normalise(self.key), *(normalise(a) for a in self.aliases)}
        value = normalise(self.value)
        if value and compliance_rules.classify(self.value, rules) is None:
            words.add(value)  # "cancel" is an opt-out keyword: it opts out instead
        words.discard("")
        return frozenset(words)

    def as_json(self) -> dict[str, JsonValue]:
        return {
            "key": self.key,
            "value": self.value,
            "aliases": list(self.aliases),
            "action": self.action.value,
            "queue": self.queue,
            "reply": self.reply,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, JsonValue]) -> ReplyOption:
        """From what `as_json` stored."""
        aliases = data.get("aliases") or []
        queue, reply = data.get("queue"), data.get("reply")
        return cls(
            key=str(data["key"]),
            value=str(data["value"]),
            aliases=tuple(str(a) for a in aliases) if isinstance(aliases, list) else (),
            action=OptionAction(str(data.get("action") or "confirm")),
            queue=queue if isinstance(queue, str) else None,
            reply=reply if isinstance(reply, str) else None,
        )


def normalise(text: str) -> str:
    """What matching compares: NFKC, case-folded, single spaces, no surrounding
    punctuation, no leading "option"/"#"."""
    text = " ".join(unicodedata.normalize("NFKC", text).casefold().split())
    while True:
        text = text.strip(_PUNCTUATION + " ")
        stripped = _PREFIX_RE.sub("", text, count=1)
        if not stripped.strip(_PUNCTUATION + " ") or stripped == text:
            return text
        text = stripped


def match(
    reply: str, options: Sequence[ReplyOption], rules: KeywordRules
) -> ReplyOption | None:
    """The option `reply` picks: the only one one of whose names it is; else None."""
    if not options or compliance_rules.classify(reply, rules) is not None:
        return None
    said = normalise(reply)
    if not said:
        return None
    hits = [option for option in options if said in option.names(rules)]
    return hits[0] if len(hits) == 1 else None


# ---------------------------------------------------------------------- input


def parse_options(
    raw: Mapping[str, JsonValue], rules: KeywordRules, *, field: str = "reply_options"
) -> tuple[ReplyOption, ...]:
    """Options from the API's map: {"1": "confirm", "2": {"value": "reschedule",
    "action": "handover", "queue": "bookings", "reply": "...", "aliases": [...]}}.

    InvalidInput naming the option for anything unusable: a name shared by two options
    (a reply could not pick either), a name that is a compliance keyword, bad fields.
    """
    if len(raw) > MAX_OPTIONS:
        raise InvalidInput(field, f"at most {MAX_OPTIONS} options, not {len(raw)}")
    options = [_option(key, spec, rules, f"{field}.{key}") for key, spec in raw.items()]
    owner: dict[str, str] = {}
    for option in options:
        for name in option.names(rules):
            if name in owner and owner[name] != option.key:
                raise InvalidInput(
                    f"{field}.{option.key}",
                    f"{name!r} would pick both option {owner[name]!r} and option "
                    f"{option.key!r}",
                )
            owner[name] = option.key
    return tuple(options)


def _option(key: str, spec: JsonValue, rules: KeywordRules, field: str) -> ReplyOption:
    if not 1 <= len(key) <= MAX_KEY_CHARS or not normalise(key):
        raise InvalidInput(field, f"a key of 1 to {MAX_KEY_CHARS} characters")
    _not_a_keyword(key, rules, field)
    if isinstance(spec, str):
        spec = {"value": spec}
    if not isinstance(spec, dict):
        raise InvalidInput(field, "the option's value (text) or an object")
    unknown = sorted(set(spec) - {"value", "aliases", "action", "queue", "reply"})
    if unknown:
        raise InvalidInput(
            field,
            f"unknown field {unknown[0][:40]!r}; it takes value, aliases, action, "
            "queue, reply",
        )
    value = spec.get("value")
    if not isinstance(value, str) or not 1 <= len(value.strip()) <= MAX_VALUE_CHARS:
        raise InvalidInput(f"{field}.value", f"text of 1 to {MAX_VALUE_CHARS}")
    aliases = spec.get("aliases", [])
    if not isinstance(aliases, list) or len(aliases) > MAX_ALIASES:
        raise InvalidInput(f"{field}.aliases", f"a list of up to {MAX_ALIASES} words")
    for alias in aliases:
        if not isinstance(alias, str) or not normalise(alias) or len(alias) > 60:
            raise InvalidInput(f"{field}.aliases", "each alias is a word or phrase")
        _not_a_keyword(alias, rules, f"{field}.aliases")
    action = spec.get("action", OptionAction.CONFIRM.value)
    if action not in tuple(OptionAction):
        raise InvalidInput(f"{field}.action", "confirm or handover")
    queue = spec.get("queue")
    if queue is not None and (
        not isinstance(queue, str) or not _QUEUE_RE.fullmatch(queue)
    ):
        raise InvalidInput(
            f"{field}.queue", "a queue name: letters, digits, ' ', '_', '.', '-'"
        )
    reply = spec.get("reply")
    if reply is not None and (
        not isinstance(reply, str) or not 1 <= len(reply) <= MAX_REPLY_CHARS
    ):
        raise InvalidInput(f"{field}.reply", f"text of 1 to {MAX_REPLY_CHARS}")
    return ReplyOption(
        key=key,
        value=value.strip(),
        aliases=tuple(str(a) for a in aliases),
        action=OptionAction(str(action)),
        queue=queue,
        reply=reply or None,
    )


def _not_a_keyword(word: str, rules: KeywordRules, field: str) -> None:
    keyword = compliance_rules.classify(word, rules)
    if keyword is not None:
        raise InvalidInput(
            field,
            f"{word!r} is a compliance keyword ({keyword.value.replace('_', '-')}): "
            "compliance answers it, so it could never pick an option",
        )

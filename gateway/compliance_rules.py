"""PURE opt-out/opt-in/help keyword rules: what a customer's whole message asks for.

Keywords match the whole message, trimmed, in any case, ignoring trailing punctuation
("Stop!" opts out). Free-text wording ("please stop texting me") is only *flagged* for an
agent: applying it silently would opt out people who wrote "don't stop the delivery".
"""

from __future__ import annotations

import enum
import re
import unicodedata
from dataclasses import dataclass

DEFAULT_OPT_OUT = (
    "STOP",
    "STOPALL",
    "STOP ALL",
    "UNSUBSCRIBE",
    "CANCEL",
    "END",
    "QUIT",
    "REVOKE",
    "OPTOUT",
    "OPT OUT",
)
DEFAULT_OPT_IN = ("START", "YES", "UNSTOP")
DEFAULT_HELP = ("HELP", "INFO")

# Phrases that suggest an opt-out request in free text. Matched on word boundaries.
_OPT_OUT_PHRASES = (
    r"stop (?:texting|messaging|sending|contacting)",
    r"(?:don'?t|do not|never) (?:text|message|contact|sms)",
    r"unsubscribe",
    r"remove me",
    r"take me off",
    r"opt(?:[- ])?out",
    r"no more (?:texts|messages|sms)",
    r"leave me alone",
)
_OPT_OUT_RE = re.compile(r"\b(?:" + "|".join(_OPT_OUT_PHRASES) + r")\b", re.IGNORECASE)
_TRAILING_PUNCTUATION = ".!?,;:)\"' "


class Keyword(enum.StrEnum):
    OPT_OUT = "opt_out"
    OPT_IN = "opt_in"
    HELP = "help"


@dataclass(frozen=True, slots=True)
class KeywordRules:
    """Configurable keyword lists (normalised to upper case with single spaces)."""

    opt_out: frozenset[str]
    opt_in: frozenset[str]
    help: frozenset[str]

    @classmethod
    def build(
        cls,
        opt_out: tuple[str, ...] = DEFAULT_OPT_OUT,
        opt_in: tuple[str, ...] = DEFAULT_OPT_IN,
        help: tuple[str, ...] = DEFAULT_HELP,
    ) -> KeywordRules:
        sets = [
            frozenset(normalise(k) for k in words) for words in (opt_out, opt_in, help)
        ]
        for a, b in ((0, 1), (0, 2), (1, 2)):
            if shared := sets[a] & sets[b]:
                raise ValueError(f"keyword(s) {sorted(shared)} appear in two lists")
        return cls(*sets)


def normalise(text: str) -> str:
    """Upper case, NFKC (full-width letters), single spaces, no surrounding punctuation."""
    text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split()).strip(_TRAILING_PUNCTUATION).upper()


def classify(body: str, rules: KeywordRules) -> Keyword | None:
    """The keyword the whole message is, if it is one."""
    word = normalise(body)
    if word in rules.opt_out:
        return Keyword.OPT_OUT
    if word in rules.opt_in:
        return Keyword.OPT_IN
    if word in rules.help:
        return Keyword.HELP
    return None


def sounds_like_opt_out(body: str) -> bool:
    """True when free text reads like a request to stop; flag it for an agent, don't apply it."""
    return _OPT_OUT_RE.search(unicodedata.normalize("NFKC", body)) is not None

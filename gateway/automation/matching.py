"""PURE text matching for automation: words, close spellings, menu answers, takeover
words and frustration signals.

Text is compared in a normal form: NFKC, accents dropped, case folded, every run of
characters that are not letters or digits one space. A phrase matches when its words
appear in a row in the message. A word matches its close spellings too ("deliverry" is
"delivery"): an edit distance (insert, delete, substitute, swap two neighbours) of at
most 1 for words of 4 to 7 letters and 2 from 8 letters; shorter words only exactly, so
"no" never reads as "to".
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

# Close spellings: (shortest word length, edits allowed), longest first.
FUZZY_STEPS = ((8, 2), (4, 1))
MAX_TEXT_CHARS = 2000  # longer texts are cut before matching (an SMS is shorter anyway)

_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)


def normalise(text: str) -> str:
    """The normal form words are compared in (see the module docstring)."""
    text = unicodedata.normalize("NFKC", text[:MAX_TEXT_CHARS])
    stripped = "".join(
        c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c)
    )
    return " ".join(_NOT_WORD.sub(" ", stripped.casefold()).split())


def words(text: str) -> tuple[str, ...]:
    return tuple(normalise(text).split())


def allowed_edits(word: str) -> int:
    """Edits a word may be off by and still match it."""
    for length, edits in FUZZY_STEPS:
        if len(word) >= length:
            return edits
    return 0


def edit_distance(a: str, b: str, limit: int) -> int:
    """Optimal-string-alignment distance between a and b, or limit + 1 once it is more."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    previous2: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, start=1):
        current = [i] + [0] * len(b)
        for j, cb in enumerate(b, start=1):
            cost = 0 if ca == cb else 1
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost)
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                value = min(value, previous2[j - 2] + 1)
            current[j] = value
        if min(current) > limit:
            return limit + 1
        previous2, previous = previous, current
    return min(previous[-1], limit + 1)


def close(word: str, target: str) -> bool:
    """`word` is `target` or a close spelling of it."""
    if word == target:
        return True
    limit = allowed_edits(target)
    return limit > 0 and edit_distance(word, target, limit) <= limit


def find_phrase(text_words: Sequence[str], phrase: str, *, fuzzy: bool = True) -> bool:
    """Whether the phrase's words appear in a row in `text_words`."""
    wanted = (
        phrase.split() if phrase == normalise(phrase) else normalise(phrase).split()
    )
    if not wanted or len(wanted) > len(text_words):
        return False
    for start in range(len(text_words) - len(wanted) + 1):
        window = text_words[start : start + len(wanted)]
        if all(
            (close(w, p) if fuzzy else w == p)
            for w, p in zip(window, wanted, strict=True)
        ):
            return True
    return False


def first_phrase(
    text_words: Sequence[str], phrases: Sequence[str], *, fuzzy: bool = True
) -> str | None:
    """The first of `phrases` found in the text (exact matches before close ones)."""
    for exact in (True, False) if fuzzy else (True,):
        for phrase in phrases:
            if find_phrase(text_words, phrase, fuzzy=not exact):
                return phrase
    return None


# ---------------------------------------------------------------------- menus


@dataclass(frozen=True, slots=True)
class Choice:
    """A menu entry as matching sees it: its key (1, A), label and keywords."""

    key: str
    label: str
    keywords: tuple[str, ...] = ()

    def phrases(self) -> tuple[str, ...]:
        return tuple(p for p in (self.label, *self.keywords) if normalise(p))


@dataclass(frozen=True, slots=True)
class Picked:
    """Which entry an answer picked, and why (for the rule tester)."""

    index: int
    how: str  # "key 2", "keyword 'delivery'", "close to 'delivery'"


# Answers longer than this many words are not read as a bare key ("1 please" is; "I
# have 2 questions about my bill" is not).
KEY_ANSWER_MAX_WORDS = 3


def pick(answer: str, choices: Sequence[Choice], *, by_key: bool) -> Picked | None:
    """The one entry `answer` picks - by its key (when `by_key`: an answer to the menu),
    by a label or keyword, then by a close spelling of one; None when none or several fit.
    """
    text_words = words(answer)
    if not text_words:
        return None
    if by_key and len(text_words) <= KEY_ANSWER_MAX_WORDS:
        first = text_words[0]
        keyed = [i for i, c in enumerate(choices) if normalise(c.key) == first]
        if len(keyed) == 1:
            return Picked(keyed[0], f"key {choices[keyed[0]].key}")
    for fuzzy in (False, True):
        found: dict[int, str] = {}
        for index, choice in enumerate(choices):
            for phrase in choice.phrases():
                if find_phrase(text_words, phrase, fuzzy=fuzzy):
                    found.setdefault(index, phrase)
                    break
        if len(found) == 1:
            ((index, phrase),) = found.items()
            how = "close to" if fuzzy else "keyword"
            return Picked(index, f"{how} {normalise(phrase)!r}")
        if len(found) > 1:
            return None  # ambiguous: ask again rather than guess
    return None


YES_WORDS = frozenset(
    {"yes", "y", "yeah", "yep", "yup", "correct", "right", "ok", "okay", "sure",
     "confirm", "confirmed", "that s right", "it is", "true"}
)  # fmt: skip
NO_WORDS = frozenset(
    {"no", "n", "nope", "nah", "wrong", "incorrect", "not right", "it isn t", "false",
     "changed", "different"}
)  # fmt: skip


def yes_or_no(answer: str) -> bool | None:
    """True for a yes, False for a no, None when the answer is neither or both."""
    text = normalise(answer)
    text_words = text.split()
    yes = text in YES_WORDS or (bool(text_words) and text_words[0] in YES_WORDS)
    no = text in NO_WORDS or (bool(text_words) and text_words[0] in NO_WORDS)
    if yes == no:
        return None
    return yes


# ---------------------------------------------------------------------- frustration


@dataclass(frozen=True, slots=True)
class FrustrationRules:
    words: tuple[str, ...]
    messages: int  # this many unanswered messages ...
    window_s: float  # ... within this time
    caps_min_letters: int  # 0: off
    exclamation_run: int  # 0: off


def frustration_signals(
    text: str,
    unanswered: Sequence[datetime],
    now: datetime,
    rules: FrustrationRules,
) -> tuple[str, ...]:
    """Why the message reads as frustrated (empty: it does not). `unanswered` are the
    times of the customer's messages since the last reply to them, this one included."""
    found = []
    letters = [c for c in text if c.isalpha()]
    if (
        rules.caps_min_letters
        and len(letters) >= rules.caps_min_letters
        and all(c.isupper() for c in letters if c.lower() != c.upper())
        and any(c.lower() != c.upper() for c in letters)
    ):
        found.append("written in capitals")
    if rules.exclamation_run and "!" * rules.exclamation_run in text.replace(" ", ""):
        found.append("!" * rules.exclamation_run)
    phrase = first_phrase(words(text), rules.words, fuzzy=False)
    if phrase is not None:
        found.append(f"said {normalise(phrase)!r}")
    recent = [at for at in unanswered if now - at <= timedelta(seconds=rules.window_s)]
    if len(recent) >= rules.messages:
        minutes = round(rules.window_s / 60)
        found.append(f"{len(recent)} messages without a reply within {minutes} minutes")
    return tuple(found)

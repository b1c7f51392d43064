"""PURE: a customer's answer to "How did we do? Reply 1-5" read as a rating, or not.

`parse_rating(text) -> int | None`. A rating is 1 to 5. The reader is generous with the
forms a rating takes and strict about doubt: a reply that could mean two things, or
that reads like a question or a new problem, is no rating and goes to the inbox.

Accepted (case, spacing, punctuation and emoji around them do not matter; NFKC folds
full-width and circled digits):
- a digit 1-5 alone or with polite filler: "5", "5!", "4 thanks", "5 stars", "⭐⭐⭐⭐";
- a fraction of 5 or of 10: "5/5", "4 out of 5", "five out of five", "9/10" (halved and
  rounded up: 9 -> 5, 7 -> 4, 1 -> 1);
- a number word one-five: "five", "Four stars";
- a number inside a sentence with a rating word (give, rate, score, star, points):
  "I'd give it a 4 thanks", "my rating is 3";
- one opinion word in a short reply (at most `MAX_OPINION_WORDS` words, no negation, no
  "but"): excellent/great/perfect/amazing ... 5, good/nice 4, average/meh 3,
  bad/poor 2, terrible/awful/worst ... 1 ("very good" 5, "very bad" 1).

Refused (None): two different ratings ("1 or 2", "4-5", "3 to 4"), a decimal ("4.5"),
another number beside the rating ("5 of my 12 orders"), a negation ("not 5", "not
good"), a number in a sentence without a rating word ("I have 2 questions"), a bare
acknowledgement ("ok", "thanks"), and anything over `MAX_CHARS` characters.
"""

from __future__ import annotations

import math
import re
import unicodedata

MAX_CHARS = 300  # a longer reply is a message, not a rating
MAX_OPINION_WORDS = 5  # an opinion word rates only in a reply this short
RATING_MIN = 1
RATING_MAX = 5

_NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5}
_OTHER_NUMBER_WORDS = frozenset(
    {"zero", "six", "seven", "eight", "nine", "ten", "eleven", "twelve", "hundred"}
)
_STARS = frozenset("★⭐🌟")
_EMPTY_STARS = frozenset("☆")


def _words(text: str) -> frozenset[str]:
    return frozenset(text.split())


# Words that may stand beside a rating without making the reply a message.
_FILLER = _words(
    """
    a an the it its it's is was be would i i'd id i'll ill you your u we our us my me
    thanks thank thx ty cheers much very so really definitely easily just all guys team
    star stars out of for from rate rating rated score scored points point mark give gave
    giving solid full service support help helpful quick fast friendly lovely nice good
    great excellent perfect amazing awesome brilliant fantastic superb top ok okay yes yep
    and say think guess overall honestly x xx xxx
    """
)
# A number inside a longer sentence is a rating only beside one of these.
_CUES = _words("give gave giving rate rating rated score scored star stars points mark")
_NEGATIONS = _words(
    "not no never nothing neither nor dont don't didnt didn't wouldnt wouldn't cant "
    "can't cannot isnt isn't wasnt wasn't"
)
_CONTRAST = _words("but although though however except")

_OPINIONS = {
    **dict.fromkeys(
        _words(
            "excellent great perfect amazing awesome fantastic brilliant outstanding "
            "superb wonderful flawless"
        ),
        5,
    ),
    **dict.fromkeys(_words("good nice"), 4),
    **dict.fromkeys(_words("average meh mediocre so-so"), 3),
    **dict.fromkeys(_words("bad poor disappointing disappointed"), 2),
    **dict.fromkeys(
        _words("terrible awful horrible worst useless appalling dreadful rubbish"), 1
    ),
}
_INTENSIFIERS = frozenset({"very", "really", "so", "extremely"})

_NUM = r"(?:\d+|one|two|three|four|five|six|seven|eight|nine|ten)"
_FRACTION_RE = re.compile(
    rf"(?<![\w.,]){_NUM}\s*(?:/|out\s+of|outta|of)\s*{_NUM}(?![\w]|[.,]\d)"
)
_DECIMAL_RE = re.compile(r"\d+[.,]\d+")
_INTEGER_RE = re.compile(r"(?<![\w])\d+(?![\w])")
_WORD_RE = re.compile(r"[a-z]+(?:['-][a-z]+)*")


def parse_rating(text: str) -> int | None:
    """The rating 1-5 that `text` gives, or None when it is not (surely) a rating."""
    if len(text) > MAX_CHARS:
        return None
    norm = unicodedata.normalize("NFKC", text).casefold().replace("\u2019", "'")
    candidates: list[int] = []
    others = 0
    rest = norm
    for match in _FRACTION_RE.finditer(norm):
        value = _fraction(match.group(0))
        if value is None:
            others += 1
        else:
            candidates.append(value)
        rest = rest.replace(match.group(0), " ", 1)
    if _DECIMAL_RE.search(rest):
        return None
    for match in _INTEGER_RE.finditer(rest):
        number = int(match.group(0)) if len(match.group(0)) < 6 else 0
        if RATING_MIN <= number <= RATING_MAX:
            candidates.append(number)
        else:
            others += 1
    words = _WORD_RE.findall(rest)
    for word in words:
        if word in _NUMBER_WORDS:
            candidates.append(_NUMBER_WORDS[word])
        elif word in _OTHER_NUMBER_WORDS:
            others += 1
    stars = sum(ch in _STARS for ch in norm)
    if not candidates and stars and not any(ch in _EMPTY_STARS for ch in norm):
        if stars > RATING_MAX:
            return None
        candidates.append(stars)
    elif not candidates and stars:
        # "★★★★☆": the filled ones, out of five symbols
        empty = sum(ch in _EMPTY_STARS for ch in norm)
        if stars + empty != RATING_MAX:
            return None
        candidates.append(stars)
    plain = [w for w in words if w not in _NUMBER_WORDS]
    if any(_negated(w) for w in plain) or any(w in _CONTRAST for w in plain):
        return None
    if candidates:
        if len(set(candidates)) != 1 or others:
            return None
        if all(w in _FILLER for w in plain) or any(w in _CUES for w in plain):
            return candidates[0]
        return None
    if others:
        return None
    return _opinion(plain)


def _fraction(text: str) -> int | None:
    """ "4/5" -> 4, "9 out of 10" -> 5; None for any other scale or a value off it."""
    parts = re.findall(_NUM, text)
    numerator, denominator = (_number(p) for p in (parts[0], parts[-1]))
    if denominator == RATING_MAX and RATING_MIN <= numerator <= RATING_MAX:
        return numerator
    if denominator == 2 * RATING_MAX and 1 <= numerator <= 2 * RATING_MAX:
        return math.ceil(numerator / 2)
    return None


def _number(token: str) -> int:
    words = {**_NUMBER_WORDS, "six": 6, "seven": 7, "eight": 8, "nine": 9, "ten": 10}
    if token in words:
        return words[token]
    return int(token) if len(token) < 6 else 0


def _negated(word: str) -> bool:
    return word in _NEGATIONS or word.endswith("n't")


def _opinion(words: list[str]) -> int | None:
    """One opinion word in a short reply ("Excellent!", "very good thanks")."""
    if not words or len(words) > MAX_OPINION_WORDS:
        return None
    found = [(i, _OPINIONS[w]) for i, w in enumerate(words) if w in _OPINIONS]
    if len({value for _, value in found}) != 1:
        return None
    index, value = found[0]
    if index > 0 and words[index - 1] in _INTENSIFIERS:
        value = RATING_MAX if value >= 4 else RATING_MIN if value <= 2 else value
    if not all(w in _FILLER or w in _OPINIONS or w in _INTENSIFIERS for w in words):
        return None
    return value

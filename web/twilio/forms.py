"""Input of the Twilio API: the Messages form (POST) and the list's query (GET), read as
Twilio reads them; bad values are Twilio errors naming the parameter.

Parameters this box does not use (ApplicationSid, MaxPrice, ValidityPeriod,
MessagingServiceSid, SmartEncoded, ...) are accepted and ignored, as Twilio's clients
send them freely. MediaUrl is refused: dropping a picture silently would lose content.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from multidict import MultiMapping

from gateway.twilio.errors import invalid_parameter
from gateway.twilio.paging import DEFAULT_PAGE_SIZE
from gateway.twilio.paging import request as page_request
from gateway.twilio.records import MessageFilter, PageRequest

FILTERS = ("To", "From", "DateSent", "DateSent<", "DateSent>")
_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _one(params: MultiMapping[Any], name: str) -> str | None:
    """A parameter's one value (None when absent); given twice or as a file: refused."""
    values = params.getall(name, [])
    if not values:
        return None
    if len(values) > 1:
        raise invalid_parameter(name, "given more than once")
    value = values[0]
    if not isinstance(value, str):
        raise invalid_parameter(name, "text, not a file")
    return value


@dataclass(frozen=True, slots=True)
class SendForm:
    """The Messages create form."""

    to: str | None
    body: str | None
    from_: str | None
    status_callback: str | None
    media: bool

    @classmethod
    def parse(cls, form: MultiMapping[Any]) -> SendForm:
        return cls(
            to=_one(form, "To"),
            body=_one(form, "Body"),
            from_=_one(form, "From"),
            status_callback=_one(form, "StatusCallback"),
            media=bool(form.getall("MediaUrl", [])),
        )


@dataclass(frozen=True, slots=True)
class ListQuery:
    """The Messages list's query: filters, the page, and the filters as given (which
    the page URIs carry on)."""

    where: MessageFilter
    page: PageRequest
    given: tuple[tuple[str, str], ...]

    @classmethod
    def parse(cls, query: MultiMapping[str]) -> ListQuery:
        values = {name: _one(query, name) for name in (*FILTERS, "PageSize", "Page")}
        start, end = sent_range(
            values["DateSent"], values["DateSent<"], values["DateSent>"]
        )
        where = MessageFilter(
            to=values["To"] or None,
            from_=values["From"] or None,
            sent_from=start,
            sent_before=end,
        )
        page = page_request(
            size=_whole(values["PageSize"], "PageSize", DEFAULT_PAGE_SIZE),
            number=_whole(values["Page"], "Page", 0),
            token=_one(query, "PageToken") or None,
        )
        given = tuple((name, v) for name in FILTERS if (v := values[name]))
        return cls(where, page, given)


def _whole(raw: str | None, name: str, default: int) -> int:
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw.strip())
    except ValueError:
        raise invalid_parameter(name, f"a whole number, not {raw[:40]!r}") from None


def _when(raw: str, name: str) -> tuple[datetime, bool]:
    """(the time, whether it was a date alone): YYYY-MM-DD, or ISO 8601 with a time
    (no zone: UTC, Twilio's GMT)."""
    text = raw.strip()
    try:
        if _DATE_RE.fullmatch(text):
            return datetime.combine(date.fromisoformat(text), time(), UTC), True
        parsed = datetime.fromisoformat(text)
    except ValueError:
        raise invalid_parameter(
            name, f"YYYY-MM-DD or an ISO 8601 time, not {raw[:40]!r}"
        ) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC), False


def sent_range(
    on: str | None, before: str | None, after: str | None
) -> tuple[datetime | None, datetime | None]:
    """DateSent (that UTC day), DateSent< (on or before) and DateSent> (on or after) as
    one range [start, end) of date_sent; None where open."""
    start: datetime | None = None
    end: datetime | None = None
    bounds: list[tuple[datetime | None, datetime | None]] = []
    if on:
        moment, _ = _when(on, "DateSent")
        day = datetime.combine(moment.date(), time(), UTC)
        bounds.append((day, day + timedelta(days=1)))
    if before:
        moment, whole_day = _when(before, "DateSent<")
        # on or before: a date takes in its whole day, a time that very moment
        bounds.append(
            (None, moment + (timedelta(days=1) if whole_day else timedelta(0, 0, 1)))
        )
    if after:
        moment, _ = _when(after, "DateSent>")
        bounds.append((moment, None))
    for low, high in bounds:
        if low is not None:
            start = low if start is None else max(start, low)
        if high is not None:
            end = high if end is None else min(end, high)
    return start, end

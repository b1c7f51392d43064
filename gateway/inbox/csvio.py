"""Contact CSV files, both ways. Pure: text in, rows and problems out; rows in, text out.

Import: a header row naming the columns, `number` required, `name` optional, any other
column an attribute (its header is the key). Row numbers are the spreadsheet's: the
header is row 1. An empty cell leaves that field as it is. `opted_out` and `id` columns
(what the export writes) are read-only and ignored: consent changes go through
ComplianceService.set_consent. Attribute cells "true"/"false" become booleans and
canonical numbers ("42", "2.5", not "007") numbers; everything else stays text.

Export: `number,name,opted_out,<attribute keys...>`; a cell that a spreadsheet would run
as a formula (starting = + - @, tab or CR) is written with a leading `'`, which the
import takes off again, so an export imports back unchanged.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from gateway.domain import JsonValue
from gateway.errors import InvalidInput
from gateway.inbox import policy
from gateway.inbox.records import ContactRow, ImportProblem

MAX_IMPORT_ROWS = 50_000
MAX_IMPORT_COLUMNS = 2 + policy.MAX_ATTRIBUTES
NUMBER_COLUMN = "number"
NAME_COLUMN = "name"
# what the export writes about a contact that an import does not change
READ_ONLY_COLUMNS = frozenset({"id", "opted_out"})
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_CANONICAL_INT = re.compile(r"-?(0|[1-9][0-9]{0,15})")
_CANONICAL_FLOAT = re.compile(r"-?(0|[1-9][0-9]{0,15})\.[0-9]{1,15}")


@dataclass(frozen=True, slots=True)
class CsvContact:
    """One data row of an import, checked except for its number (the region reads it)."""

    row: int
    number: str  # as written (the formula guard taken off)
    name: str | None  # None: leave the name as it is
    attributes: Mapping[str, JsonValue]


# ------------------------------------------------------------------ export


def _guarded(text: str) -> bool:
    # any run of quotes, then what a spreadsheet reads as the start of a formula
    return text.lstrip("'").startswith(FORMULA_STARTS)


def safe_cell(text: str) -> str:
    """A cell no spreadsheet runs as a formula: '=1+1' -> "'=1+1"."""
    # "'=1" becomes "''=1" too, so that unsafe_cell always takes exactly one quote off.
    return "'" + text if _guarded(text) else text


def unsafe_cell(text: str) -> str:
    """The value `safe_cell` guarded: "'=1+1" -> '=1+1' (other text is left alone)."""
    if text.startswith("'") and _guarded(text):
        return text[1:]
    return text


def attribute_text(value: JsonValue) -> str:
    """An attribute value as a cell: true/false, numbers as JSON writes them, text."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return str(value)


def export_header(keys: Sequence[str]) -> list[str]:
    return [NUMBER_COLUMN, NAME_COLUMN, "opted_out", *keys]


def export_lines(rows: Iterable[Sequence[str]]) -> str:
    """CSV text (RFC 4180, CRLF line ends) for rows of cells, each cell guarded."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    for row in rows:
        writer.writerow([safe_cell(cell) for cell in row])
    return out.getvalue()


def export_row(row: ContactRow, keys: Sequence[str]) -> list[str]:
    contact = row.contact
    return [
        contact.number,
        contact.name or "",
        "true" if row.opted_out else "false",
        *(attribute_text(contact.attributes.get(key)) for key in keys),
    ]


# ------------------------------------------------------------------ import


def _decode(data: bytes | str) -> str:
    if isinstance(data, str):
        return data.removeprefix("\ufeff")
    try:
        return data.decode("utf-8-sig")  # spreadsheets often start with a BOM
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            "file", f"not UTF-8 text (byte {exc.start}); save the CSV as UTF-8"
        ) from None


def _dialect(text: str) -> str:
    first = text.split("\n", 1)[0]
    # Spreadsheets in locales with a decimal comma write ';'.
    if first.count(";") > first.count(",") and first.count(";") >= 1:
        return ";"
    return ","


def coerce(text: str) -> JsonValue:
    """An attribute cell's value: true/false, a canonical number, or the text."""
    if text == "true":
        return True
    if text == "false":
        return False
    if _CANONICAL_INT.fullmatch(text):
        return int(text)
    if _CANONICAL_FLOAT.fullmatch(text):
        value = float(text)
        if math.isfinite(value) and repr(value) == text:
            return value
    return text


def _header(cells: list[str]) -> tuple[int, int | None, list[tuple[int, str]]]:
    names = [c.strip().lower() for c in cells]
    if NUMBER_COLUMN not in names:
        raise InvalidInput("file", "the header row has no 'number' column")
    if len(names) > MAX_IMPORT_COLUMNS:
        raise InvalidInput("file", f"at most {MAX_IMPORT_COLUMNS} columns")
    seen: set[str] = set()
    attributes: list[tuple[int, str]] = []
    for index, name in enumerate(names):
        if not name:
            raise InvalidInput("file", f"column {index + 1} of the header is empty")
        if name in seen:
            raise InvalidInput("file", f"column {name!r} appears twice in the header")
        seen.add(name)
        if name in (NUMBER_COLUMN, NAME_COLUMN) or name in READ_ONLY_COLUMNS:
            continue
        policy.attribute_key(name, field="file")
        attributes.append((index, name))
    name_index = names.index(NAME_COLUMN) if NAME_COLUMN in names else None
    return names.index(NUMBER_COLUMN), name_index, attributes


def parse_import(
    data: bytes | str, *, max_rows: int = MAX_IMPORT_ROWS
) -> tuple[list[CsvContact], list[ImportProblem], int]:
    """A contact CSV's (good rows, problems, data rows); InvalidInput('file') if unreadable."""
    # A bad row is a problem naming its row and field; the other rows still count.
    text = _decode(data)
    if "\x00" in text:
        raise InvalidInput("file", "not a text file (it holds NUL bytes)")
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_dialect(text))
    try:
        header = next(reader, None)
        if header is None:
            raise InvalidInput("file", "the file is empty: a header row is required")
        number_at, name_at, attribute_columns = _header(header)
        good: list[CsvContact] = []
        problems: list[ImportProblem] = []
        count = 0
        for row_number, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue  # blank lines (a trailing one, most often)
            count += 1
            if count > max_rows:
                raise InvalidInput("file", f"at most {max_rows} rows per import")
            parsed = _row(
                row_number, cells, header, number_at, name_at, attribute_columns
            )
            if isinstance(parsed, ImportProblem):
                problems.append(parsed)
            else:
                good.append(parsed)
    except csv.Error as exc:
        raise InvalidInput("file", f"not a readable CSV file: {exc}") from None
    return good, problems, count


def _row(
    row: int,
    cells: list[str],
    header: list[str],
    number_at: int,
    name_at: int | None,
    attribute_columns: list[tuple[int, str]],
) -> CsvContact | ImportProblem:
    if len(cells) > len(header):
        return ImportProblem(
            row, "row", f"{len(cells)} cells, but the header has {len(header)} columns"
        )
    cells = [unsafe_cell(c.strip()) for c in cells] + [""] * (len(header) - len(cells))
    number = cells[number_at]
    if not number:
        return ImportProblem(row, NUMBER_COLUMN, "the number is missing")
    try:
        name = None if name_at is None else policy.contact_name(cells[name_at])
        attributes: dict[str, JsonValue] = {}
        for index, key in attribute_columns:
            if cells[index]:
                value = coerce(cells[index])
                attributes[key] = policy.attribute_value(value, field=key)
    except InvalidInput as exc:
        return ImportProblem(row, exc.field, exc.reason)
    return CsvContact(row, number, name, attributes)

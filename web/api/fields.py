"""Declared inputs of the API: a JSON body or a query string read against its fields.

Each endpoint declares what it takes as data (`Body`, `Query`, `PathId`): the same
declaration validates requests and writes the request half of the OpenAPI document
(web/api/openapi.py), so the two cannot disagree. Anything unacceptable raises
InvalidInput naming the field (a 400 in the one error shape): a wrong type, a missing
field, a value out of bounds, and an unknown field or parameter (refused, Stripe-like,
so a misspelt option is never silently ignored).
"""

from __future__ import annotations

import json
import math
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import ClassVar

from aiohttp import web
from multidict import MultiMapping

from gateway.domain import JsonObject, JsonValue, refuse_nul
from gateway.errors import GatewayError, InvalidInput

JsonDict = dict[str, JsonValue]

# SQLite integers are 64-bit: a larger id is no id at all (and must not reach the store).
MAX_ID = 2**63 - 1
# Nesting of a JSON object field (context): deep enough for any real record.
MAX_JSON_DEPTH = 16
JSON_TYPES = ("application/json",)


class InvalidJson(GatewayError):
    """The request body is not a JSON value (or not the object the endpoint takes)."""

    code = "invalid_json"
    http_status = 400


# ---------------------------------------------------------------------- the body


async def read_json(request: web.Request) -> JsonValue:
    """The request's JSON body: UTF-8, no NaN or Infinity, sent as application/json."""
    kind = request.content_type
    if not is_json(kind):
        raise web.HTTPUnsupportedMediaType(
            text=f"send the body as JSON (Content-Type: application/json), not {kind}"
        )
    raw = await request.read()
    if not raw.strip():
        raise InvalidJson("the body is empty: send a JSON object")
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)  # type: ignore[no-any-return]
    except UnicodeDecodeError:
        raise InvalidJson("the body is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise InvalidJson(
            f"the body is not valid JSON ({exc.msg} at line {exc.lineno})"
        ) from None
    except ValueError as exc:  # from _no_constant
        raise InvalidJson(f"the body is not valid JSON ({exc})") from None
    except RecursionError:
        raise InvalidJson("the body is nested too deeply") from None


def is_json(content_type: str) -> bool:
    """Whether a body of this type is JSON (application/json, or anything +json)."""
    return content_type in JSON_TYPES or content_type.endswith("+json")


def _no_constant(name: str) -> JsonValue:
    raise ValueError(f"{name} is not a JSON number")


# ---------------------------------------------------------------------- fields


@dataclass(frozen=True, slots=True, kw_only=True)
class Field:
    """One named input. `check` takes a JSON value, `parse` a query-string text."""

    name: str
    description: str
    required: bool = False
    nullable: bool = False  # JSON null is a value (e.g. "clear the name")
    example: JsonValue = None
    default: JsonValue = None  # what an absent query parameter means (documented)

    json_type: ClassVar[str] = "string"

    def schema(self) -> JsonDict:
        """The JSON Schema of the value (OpenAPI 3.1: JSON Schema 2020-12)."""
        schema: JsonDict = {"description": self.description}
        schema.update(self._schema())
        if self.nullable:
            schema["type"] = [self.json_type, "null"]
        if self.example is not None:
            schema["examples"] = [self.example]
        if self.default is not None:
            schema["default"] = self.default
        return schema

    def _schema(self) -> JsonDict:
        return {"type": self.json_type}

    def check(self, value: JsonValue) -> JsonValue:
        """The value from a JSON body, validated (null only when nullable)."""
        if value is None:
            if self.nullable:
                return None
            raise InvalidInput(self.name, f"{self._kind()} is required, not null")
        return self._check(value)

    def parse(self, text: str) -> object:
        """The value from a query string's text."""
        return self._check(text)

    def _check(self, value: JsonValue) -> JsonValue:
        raise NotImplementedError

    def _kind(self) -> str:
        return "a value"

    def _wrong(self, value: JsonValue) -> InvalidInput:
        return InvalidInput(self.name, f"{self._kind()}, not {_json_kind(value)}")


@dataclass(frozen=True, slots=True, kw_only=True)
class Text(Field):
    """A string of `min_length` to `max_length` characters (no NUL, no lone surrogates)."""

    max_length: int
    min_length: int = 1
    values: tuple[str, ...] = field(default=())  # when given: one of these exactly
    format: str | None = None  # documentation only ("date-time" is Time's)
    controls: bool = True  # False: control characters other than whitespace refused
    blank: bool = True  # False: only whitespace is refused (pattern \S documents it)

    def _schema(self) -> JsonDict:
        if self.values:
            return {"type": "string", "enum": list(self.values)}
        schema: JsonDict = {
            "type": "string",
            "minLength": self.min_length,
            "maxLength": self.max_length,
        }
        if self.format is not None:
            schema["format"] = self.format
        if not self.blank:
            schema["pattern"] = r"\S"
        return schema

    def _kind(self) -> str:
        if self.values:
            return "one of " + ", ".join(self.values)
        return "text"

    def _check(self, value: JsonValue) -> JsonValue:
        if not isinstance(value, str):
            raise self._wrong(value)
        if self.values:
            if value not in self.values:
                raise InvalidInput(
                    self.name, f"one of {', '.join(self.values)}, not {value[:40]!r}"
                )
            return value
        if not self.min_length <= len(value) <= self.max_length:
            raise InvalidInput(
                self.name,
                f"{self.min_length} to {self.max_length} characters, not {len(value)}",
            )
        storable(value, self.name)
        if not self.blank and not value.strip():
            raise InvalidInput(self.name, "the text is empty")
        if not self.controls and any(
            unicodedata.category(c) == "Cc" and not c.isspace() for c in value
        ):
            raise InvalidInput(self.name, "control characters are not allowed")
        return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Integer(Field):
    """A whole number from `minimum` to `maximum` (true and false are not numbers)."""

    minimum: int = 1
    maximum: int = MAX_ID

    json_type: ClassVar[str] = "integer"

    def _schema(self) -> JsonDict:
        return {"type": "integer", "minimum": self.minimum, "maximum": self.maximum}

    def _kind(self) -> str:
        return "a whole number"

    def parse(self, text: str) -> object:
        stripped = text.strip()
        digits = stripped.lstrip("+-")
        if not (digits.isascii() and digits.isdigit()) or len(stripped) > 20:
            raise InvalidInput(self.name, f"a whole number, not {text[:40]!r}")
        return self._check(int(stripped))

    def _check(self, value: JsonValue) -> JsonValue:
        if isinstance(value, float) and value.is_integer():
            value = int(value)  # 12.0 is an integer to JSON Schema, so to us too
        if isinstance(value, bool) or not isinstance(value, int):
            raise self._wrong(value)
        if not self.minimum <= value <= self.maximum:
            raise InvalidInput(
                self.name, f"{self.minimum} to {self.maximum}, not {value}"
            )
        return value


@dataclass(frozen=True, slots=True, kw_only=True)
class Time(Field):
    """An ISO 8601 time with its zone (2026-03-01T09:00:00Z); read as UTC."""

    def _schema(self) -> JsonDict:
        return {"type": "string", "format": "date-time"}

    def parse(self, text: str) -> object:
        try:
            when = datetime.fromisoformat(text.strip())
        except ValueError:
            raise InvalidInput(
                self.name,
                f"an ISO 8601 time such as 2026-03-01T09:00:00Z, not {text[:40]!r}",
            ) from None
        if when.tzinfo is None:
            raise InvalidInput(self.name, "a time with its zone (Z or +01:00)")
        try:
            return when.astimezone(UTC)
        except OverflowError:
            raise InvalidInput(self.name, "a time within years 1 to 9999") from None

    def _check(self, value: JsonValue) -> JsonValue:
        raise NotImplementedError("Time is a query parameter")


@dataclass(frozen=True, slots=True, kw_only=True)
class JsonMap(Field):
    """A JSON object of at most `max_bytes` (as UTF-8 JSON), `MAX_JSON_DEPTH` deep."""

    max_bytes: int
    documented: JsonDict | None = None  # what the service checks, for the document

    json_type: ClassVar[str] = "object"

    def _schema(self) -> JsonDict:
        return {"type": "object", **(self.documented or {})}

    def _kind(self) -> str:
        return "an object"

    def _check(self, value: JsonValue) -> JsonValue:
        if not isinstance(value, dict):
            raise self._wrong(value)
        _check_tree(value, self.name, 1)
        size = len(json.dumps(value, ensure_ascii=False).encode())
        if size > self.max_bytes:
            raise InvalidInput(
                self.name, f"at most {self.max_bytes} bytes as JSON, not {size}"
            )
        return value


@dataclass(frozen=True, slots=True, kw_only=True)
class TextList(Field):
    """A list of 1 to `max_items` strings of at most `max_length` characters each."""

    max_items: int
    max_length: int

    json_type: ClassVar[str] = "array"

    def _schema(self) -> JsonDict:
        return {
            "type": "array",
            "minItems": 1,
            "maxItems": self.max_items,
            "items": {"type": "string", "minLength": 1, "maxLength": self.max_length},
        }

    def _kind(self) -> str:
        return "a list of text"

    def _check(self, value: JsonValue) -> JsonValue:
        if not isinstance(value, list):
            raise self._wrong(value)
        if not 1 <= len(value) <= self.max_items:
            raise InvalidInput(
                self.name, f"1 to {self.max_items} items, not {len(value)}"
            )
        for item in value:
            if not isinstance(item, str) or not 1 <= len(item) <= self.max_length:
                raise InvalidInput(
                    self.name, f"each item is text of 1 to {self.max_length} characters"
                )
            storable(item, self.name)
        return value


def storable(text: str, name: str) -> None:
    """Refuse text the store cannot keep as UTF-8, or that no person typed (NUL)."""
    refuse_nul(text, name)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidInput(name, "not valid text (a lone surrogate)") from None


def _check_tree(value: JsonValue, name: str, depth: int) -> None:
    if depth > MAX_JSON_DEPTH:
        raise InvalidInput(name, f"nested at most {MAX_JSON_DEPTH} deep")
    if isinstance(value, dict):
        for key, item in value.items():
            storable(key, name)
            _check_tree(item, name, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_tree(item, name, depth + 1)
    elif isinstance(value, str):
        storable(value, name)
    elif isinstance(value, float) and not math.isfinite(value):
        raise InvalidInput(name, "numbers must be finite")


def _json_kind(value: JsonValue) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true/false"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "text"
    if isinstance(value, list):
        return "a list"
    return "an object"


# ---------------------------------------------------------------------- read values


class Values:
    """What a Body or a Query read: validated values, by name, with typed getters."""

    __slots__ = ("_values",)

    def __init__(self, values: Mapping[str, object]) -> None:
        self._values = dict(values)

    def __contains__(self, name: object) -> bool:
        """Whether the field was given (null counts as given)."""
        return name in self._values

    def text(self, name: str) -> str:
        value = self._values[name]
        assert isinstance(value, str), name
        return value

    def text_or_none(self, name: str) -> str | None:
        value = self._values.get(name)
        assert value is None or isinstance(value, str), name
        return value

    def integer(self, name: str) -> int:
        value = self._values[name]
        assert isinstance(value, int), name
        return value

    def integer_or_none(self, name: str) -> int | None:
        value = self._values.get(name)
        assert value is None or isinstance(value, int), name
        return value

    def object_or_none(self, name: str) -> JsonObject | None:
        value = self._values.get(name)
        assert value is None or isinstance(value, dict), name
        return value

    def texts(self, name: str) -> tuple[str, ...]:
        value = self._values[name]
        assert isinstance(value, list), name
        return tuple(str(item) for item in value)

    def time_or_none(self, name: str) -> datetime | None:
        value = self._values.get(name)
        assert value is None or isinstance(value, datetime), name
        return value


# ---------------------------------------------------------------------- specs


@dataclass(frozen=True, slots=True)
class Body:
    """A JSON object body: these fields and no others."""

    fields: tuple[Field, ...]
    description: str = ""
    example: JsonDict | None = None

    def read(self, raw: JsonValue) -> Values:
        """The body's values; InvalidInput for a missing, wrong or unknown field."""
        if not isinstance(raw, dict):
            raise InvalidJson(f"the body must be a JSON object, not {_json_kind(raw)}")
        _refuse_unknown(raw, self.fields, "field")
        values: dict[str, object] = {}
        for spec in self.fields:
            if spec.name in raw:
                values[spec.name] = spec.check(raw[spec.name])
            elif spec.required:
                raise InvalidInput(spec.name, "required")
        return Values(values)

    def schema(self) -> JsonDict:
        """The body's JSON Schema (unknown fields refused: additionalProperties false)."""
        schema: JsonDict = {
            "type": "object",
            "properties": {f.name: f.schema() for f in self.fields},
            "required": [f.name for f in self.fields if f.required],
            "additionalProperties": False,
        }
        if self.example is not None:
            schema["examples"] = [self.example]
        return schema


@dataclass(frozen=True, slots=True)
class Query:
    """Query-string parameters: these and no others, each given at most once."""

    params: tuple[Field, ...]

    def read(self, query: MultiMapping[str]) -> Values:
        """The parameters' values (defaults for those absent); InvalidInput otherwise."""
        _refuse_unknown(query, self.params, "parameter")
        values: dict[str, object] = {}
        for spec in self.params:
            given = query.getall(spec.name, [])
            if len(given) > 1:
                raise InvalidInput(spec.name, "given more than once")
            if given:
                values[spec.name] = spec.parse(given[0])
            elif spec.required:
                raise InvalidInput(spec.name, "required")
            else:
                values[spec.name] = spec.default
        return Values(values)

    def parameters(self) -> list[JsonValue]:
        """The OpenAPI parameter objects."""
        return [
            {
                "name": spec.name,
                "in": "query",
                "required": spec.required,
                "description": spec.description,
                "schema": {
                    k: v for k, v in spec.schema().items() if k != "description"
                },
            }
            for spec in self.params
        ]


NO_QUERY = Query(())


def _refuse_unknown(
    given: Mapping[str, object], specs: tuple[Field, ...], what: str
) -> None:
    known = [spec.name for spec in specs]
    unknown = sorted(set(given) - set(known))
    if not unknown:
        return
    takes = f"it takes {', '.join(known)}" if known else f"it takes no {what}s"
    name = unknown[0][:60]
    plural = "s" if len(unknown) > 1 else ""
    listed = ", ".join(repr(u[:60]) for u in unknown[:5])
    raise InvalidInput(name, f"unknown {what}{plural} {listed}; {takes}")


@dataclass(frozen=True, slots=True)
class PathId:
    """A whole-number id in the path (`/messages/{id}`)."""

    name: str
    description: str
    example: int = 1

    def read(self, request: web.Request) -> int:
        value = Integer(name=self.name, description=self.description).parse(
            request.match_info[self.name]
        )
        assert isinstance(value, int)
        return value

    def parameter(self) -> JsonDict:
        return {
            "name": self.name,
            "in": "path",
            "required": True,
            "description": self.description,
            "schema": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
            "example": self.example,
        }


@dataclass(frozen=True, slots=True)
class PathName:
    """A name in the path (`/modems/{name}`)."""

    name: str
    description: str
    max_length: int = 100
    example: str | None = None

    def read(self, request: web.Request) -> str:
        text = request.match_info[self.name]
        if not 1 <= len(text) <= self.max_length:
            raise InvalidInput(self.name, f"1 to {self.max_length} characters")
        storable(text, self.name)
        return text

    def parameter(self) -> JsonDict:
        parameter: JsonDict = {
            "name": self.name,
            "in": "path",
            "required": True,
            "description": self.description,
            "schema": {"type": "string", "minLength": 1, "maxLength": self.max_length},
        }
        if self.example is not None:
            parameter["example"] = self.example
        return parameter

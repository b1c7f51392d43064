"""Canned texts as Jinja2 templates, rendered in a sandbox that only reads data.

A template sees plain data (the contact, the conversation, a context: JSON values) and
nothing else: attributes are looked up as keys of that data, never as Python attributes,
so `{{ ''.__class__ }}` or `{{ contact.items }}` reach no object's internals (the
SandboxedEnvironment underneath is a second fence). What a template may say is a short
list checked when it is saved: output, `if`/`elif`/`else`, one level of `for` over data,
filters and tests from an allow-list; no `set`, macros, calls, includes or imports. So
the work of a render is bounded by the template's length and the data's size, and every
string it builds is bounded again (`MAX_RENDER_CHARS`), as are time and output.

A variable without a value is an ERROR that names it (StrictUndefined), never a blank in
a customer's text; `{{ contact.first_name | default("there") }}` gives a fallback.
Autoescaping is off: the output is SMS text, not HTML (the console escapes it).
"""

from __future__ import annotations

import functools
import math
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import (
    SecurityError,
    TemplateError,
    TemplateRuntimeError,
    UndefinedError,
)
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import missing

from gateway.domain import JsonValue
from gateway.templates.errors import MissingVariable, RenderFailed, TemplateInvalid

MAX_TEMPLATE_CHARS = 2000
MAX_RENDER_CHARS = 2000  # the rendered text, and any string or list built on the way
MAX_NUMBER = 10**15  # arithmetic results beyond this are refused
RENDER_TIMEOUT_S = 0.25

# The variables a template may name (what each holds: docs/internals.md, README).
ROOTS = ("contact", "conversation", "context", "agent", "option")

SAFE_FILTERS = (
    "abs",
    "capitalize",
    "count",
    "d",
    "default",
    "first",
    "float",
    "int",
    "join",
    "last",
    "length",
    "list",
    "lower",
    "max",
    "min",
    "replace",
    "round",
    "string",
    "title",
    "trim",
    "truncate",
    "upper",
    "wordcount",
)
SAFE_TESTS = (
    "defined",
    "undefined",
    "none",
    "number",
    "string",
    "mapping",
    "sequence",
    "true",
    "false",
    "boolean",
    "integer",
    "float",
    "odd",
    "even",
    "divisibleby",
    "in",
    "eq",
    "ne",
    "lt",
    "le",
    "gt",
    "ge",
    "==",
    "!=",
    "<",
    "<=",
    ">",
    ">=",
)
_ALLOWED_NODES: tuple[type[nodes.Node], ...] = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Slice,
    nodes.Filter,
    nodes.Test,
    nodes.If,
    nodes.For,
    nodes.CondExpr,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Neg,
    nodes.Pos,
    nodes.Concat,
    nodes.Add,
    nodes.Sub,
    nodes.Mul,
    nodes.Div,
    nodes.FloorDiv,
    nodes.Mod,
    nodes.Pow,
    nodes.List,
    nodes.Tuple,
    nodes.Keyword,
)
_WHAT = {
    nodes.Assign: "{% set %}",
    nodes.AssignBlock: "{% set %}",
    nodes.Macro: "{% macro %}",
    nodes.CallBlock: "{% call %}",
    nodes.FilterBlock: "{% filter %}",
    nodes.With: "{% with %}",
    nodes.Include: "{% include %}",
    nodes.Import: "{% import %}",
    nodes.FromImport: "{% from ... import %}",
    nodes.Extends: "{% extends %}",
    nodes.Block: "{% block %}",
    nodes.Call: "calling a function or method",
    nodes.Dict: "a {...} literal",
}


_LOOP_FIELDS = frozenset(
    {"index", "index0", "revindex", "revindex0", "first", "last", "length"}
)


class _MissingVariable(UndefinedError):
    """Raised by _Missing: its message is the variable's path."""


class _Missing(StrictUndefined):
    """StrictUndefined whose error carries the whole path (conversation.context.x)."""

    __slots__ = ()

    def __init__(
        self,
        hint: str | None = None,
        obj: Any = missing,
        name: str | None = None,
        exc: type[TemplateRuntimeError] = _MissingVariable,
    ) -> None:
        super().__init__(hint if hint is not None else name, obj, name, exc)


class _Data(dict[str, Any]):
    """A mapping the template reads, knowing its own path for error messages."""

    __slots__ = ("path",)

    def __init__(self, path: str, items: Mapping[str, Any]) -> None:
        super().__init__(items)
        self.path = path


class _List(list[Any]):
    __slots__ = ("path",)

    def __init__(self, path: str, items: Sequence[Any]) -> None:
        super().__init__(items)
        self.path = path


def _wrap(path: str, value: Any) -> Any:
    """JSON data as _Data/_List (paths for errors); anything else becomes its text."""
    if isinstance(value, Mapping):
        return _Data(path, {str(k): _wrap(f"{path}.{k}", v) for k, v in value.items()})
    if isinstance(value, list | tuple):
        return _List(path, [_wrap(f"{path}[{i}]", v) for i, v in enumerate(value)])
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)


def _too_big(value: Any) -> bool:
    if isinstance(value, str | list | tuple | dict):
        return len(value) > MAX_RENDER_CHARS
    if isinstance(value, int | float) and not isinstance(value, bool):
        return not math.isfinite(value) or abs(value) > MAX_NUMBER
    return False


def _bounded(function: Callable[..., Any]) -> Callable[..., Any]:
    """A filter whose result may not grow past the bounds."""

    @functools.wraps(function)  # keeps jinja_pass_arg (pass_context and friends)
    def bounded(*args: Any, **kwargs: Any) -> Any:
        result = function(*args, **kwargs)
        if _too_big(result):
            raise SecurityError(f"a filter's result is over {MAX_RENDER_CHARS} long")
        return result

    return bounded


class SmsEnvironment(SandboxedEnvironment):
    """The sandbox: data lookups only, bounded operators, an allow-list of filters."""

    intercepted_binops = frozenset({"*", "**", "+", "-", "/", "//", "%"})

    def __init__(self) -> None:
        super().__init__(
            undefined=_Missing,
            autoescape=False,  # SMS text; the console escapes what it shows
            keep_trailing_newline=False,
            auto_reload=False,
            cache_size=200,
        )
        defaults = dict(self.filters)
        self.filters = {name: _bounded(defaults[name]) for name in SAFE_FILTERS}
        tests = dict(self.tests)
        self.tests = {name: tests[name] for name in SAFE_TESTS}
        self.globals = {}

    def getattr(self, obj: Any, attribute: str) -> Any:
        return self._lookup(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        if isinstance(argument, slice):
            if isinstance(obj, str | list):
                return obj[argument]
            return self._unsafe(obj, "[...]")
        return self._lookup(obj, argument)

    def _lookup(self, obj: Any, key: Any) -> Any:
        if isinstance(key, str) and key.startswith("_"):
            raise SecurityError(f"{key!r}: names starting with _ are not data")
        if isinstance(obj, LoopContext) and key in _LOOP_FIELDS:
            return getattr(obj, key)
        if isinstance(obj, _Data):
            if isinstance(key, str) and key in obj:
                return obj[key]
            return self.undefined(hint=f"{obj.path}.{key}", obj=obj, name=str(key))
        if isinstance(obj, _List):
            if isinstance(key, int) and not isinstance(key, bool):
                if -len(obj) <= key < len(obj):
                    return obj[key]
                return self.undefined(hint=f"{obj.path}[{key}]", obj=obj, name=str(key))
            return self._unsafe(obj, str(key))
        if isinstance(obj, StrictUndefined):
            return obj  # using it fails with ITS name, the first one missing
        return self._unsafe(obj, str(key))

    def _unsafe(self, obj: Any, key: str) -> Any:
        return self.undefined(
            hint=f"{key!r} of {type(obj).__name__} is not data a template may read",
            obj=obj,
            name=key,
            exc=SecurityError,
        )

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "%" and isinstance(left, str):
            raise SecurityError("printf-style formatting is not offered")
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise SecurityError("an exponent over 64")
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if (
                    isinstance(seq, str | list)
                    and isinstance(times, int)
                    and len(seq) * max(times, 0) > MAX_RENDER_CHARS
                ):
                    raise SecurityError(f"a repetition over {MAX_RENDER_CHARS}")
        result = super().call_binop(context, operator, left, right)
        if _too_big(result):
            raise SecurityError("a result too large for a text")
        return result


@dataclass(frozen=True, slots=True)
class Checked:
    """A template that passed `check`: what it names at its root."""

    roots: frozenset[str]


_ENV = SmsEnvironment()
_TAG_RE = re.compile(r"\{[{%#]")
_QUOTED_RE = re.compile(r"'([^']+)'")


def environment() -> SmsEnvironment:
    """The one sandbox (stateless apart from its compiled-template cache)."""
    return _ENV


def _column(source: str, line: int, hint: str | None) -> int:
    """Best effort: where on `line` the trouble is (Jinja reports only the line)."""
    lines = source.splitlines() or [""]
    text = lines[min(max(line, 1), len(lines)) - 1]
    if hint:
        at = text.find(hint)
        if at >= 0:
            return at + 1
    tag = _TAG_RE.search(text)
    return tag.start() + 1 if tag else 1


def check(source: str, *, field: str = "body") -> Checked:
    """Parse and vet a template; TemplateInvalid naming line and column otherwise."""
    if len(source) > MAX_TEMPLATE_CHARS:
        raise TemplateInvalid(
            field,
            f"{len(source)} characters; at most {MAX_TEMPLATE_CHARS}",
            line=1,
            column=1,
        )
    try:
        tree = _ENV.parse(source)
    except TemplateSyntaxError as exc:
        line = exc.lineno or 1
        quoted = _QUOTED_RE.search(exc.message or "")
        hint = quoted.group(1) if quoted else None
        raise TemplateInvalid(
            field,
            exc.message or "not a template",
            line=line,
            column=_column(source, line, hint),
        ) from None
    roots: set[str] = set()
    _vet(tree, source, field, roots, local=frozenset(), loops=0)
    return Checked(frozenset(roots))


def _vet(
    node: nodes.Node,
    source: str,
    field: str,
    roots: set[str],
    *,
    local: frozenset[str],
    loops: int,
) -> None:
    def refuse(reason: str, hint: str | None = None) -> TemplateInvalid:
        line = getattr(node, "lineno", 1) or 1
        return TemplateInvalid(
            field, reason, line=line, column=_column(source, line, hint)
        )

    if not isinstance(node, _ALLOWED_NODES):
        what = _WHAT.get(type(node), type(node).__name__)
        raise refuse(f"{what} is not offered in templates", what.strip("{}% ."))
    if (
        isinstance(node, nodes.Name)
        and node.ctx == "load"
        and node.name not in local
        and node.name != "loop"
    ):
        if node.name not in ROOTS:
            raise refuse(
                f"unknown variable {node.name!r}: use {', '.join(ROOTS)}", node.name
            )
        roots.add(node.name)
    if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
        raise refuse(f"{node.attr!r}: names starting with _ are not data", node.attr)
    if isinstance(node, nodes.Filter) and node.name not in SAFE_FILTERS:
        raise refuse(f"the filter {node.name!r} is not offered", node.name)
    if isinstance(node, nodes.Test) and node.name not in SAFE_TESTS:
        raise refuse(f"the test {node.name!r} is not offered", node.name)
    if isinstance(node, nodes.For):
        if loops or node.recursive:
            raise refuse("loops cannot be nested", "for")
        # the loop's own names, then its body with them in scope
        _vet(node.iter, source, field, roots, local=local, loops=loops)
        target = node.target
        found = [target, *target.find_all(nodes.Name)]
        names = frozenset(n.name for n in found if isinstance(n, nodes.Name))
        inner = local | names
        for child in (*node.body, *node.else_):
            _vet(child, source, field, roots, local=inner, loops=loops + 1)
        if node.test is not None:
            _vet(node.test, source, field, roots, local=inner, loops=loops + 1)
        return
    for child in node.iter_child_nodes():
        _vet(child, source, field, roots, local=local, loops=loops)


def render(
    source: str, variables: Mapping[str, JsonValue], *, field: str = "body"
) -> str:
    """The text of `source` with `variables` (JSON data by root name), checked first.

    Raises TemplateInvalid (does not parse, or not offered), MissingVariable (naming the
    variable), RenderFailed (too long, too slow, refused by the sandbox).
    """
    check(source, field=field)
    data = {name: _wrap(name, value) for name, value in variables.items()}
    try:
        template = _ENV.from_string(source)
        return _collect(template.generate(data), field)
    except _MissingVariable as exc:
        raise MissingVariable(field, str(exc)) from None
    except SecurityError as exc:
        raise RenderFailed(field, f"refused by the sandbox: {exc}") from None
    except (
        TemplateError,
        TypeError,
        ValueError,
        ArithmeticError,
        LookupError,
        AttributeError,
        RecursionError,
    ) as exc:
        raise RenderFailed(field, f"cannot render: {exc}") from None


def _collect(chunks: Iterator[str], field: str) -> str:
    deadline = time.monotonic() + RENDER_TIMEOUT_S
    out: list[str] = []
    size = 0
    for chunk in chunks:
        size += len(chunk)
        if size > MAX_RENDER_CHARS:
            raise RenderFailed(
                field, f"the text would be over {MAX_RENDER_CHARS} characters"
            )
        if time.monotonic() > deadline:
            raise RenderFailed(field, f"rendering took over {RENDER_TIMEOUT_S} s")
        out.append(chunk)
    return "".join(out)

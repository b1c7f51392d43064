"""Why a template cannot be saved or rendered: InvalidInputs, so the web maps them (400)."""

from __future__ import annotations

from gateway.errors import InvalidInput


class TemplateInvalid(InvalidInput):
    """The template does not parse, or uses what the sandbox does not offer; names where."""

    code = "invalid_template"

    def __init__(self, field: str, reason: str, *, line: int, column: int) -> None:
        super().__init__(field, f"line {line}, column {column}: {reason}")
        self.line = line
        self.column = column

    def details(self) -> dict[str, object]:
        return {**super().details(), "line": self.line, "column": self.column}


class MissingVariable(InvalidInput):
    """A variable the template uses has no value for this recipient: nothing is sent."""

    code = "template_variable_missing"

    def __init__(self, field: str, variable: str) -> None:
        super().__init__(
            field,
            f"{variable} has no value here; give it one, or write "
            f'{{{{ {variable} | default("...") }}}} in the template',
        )
        self.variable = variable

    def details(self) -> dict[str, object]:
        return {**super().details(), "variable": self.variable}


class RenderFailed(InvalidInput):
    """Rendering stopped: too long, too slow, or an operation the sandbox refuses."""

    code = "template_render_failed"

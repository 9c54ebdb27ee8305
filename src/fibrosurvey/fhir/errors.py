"""The one error raised when FHIR content does not map onto an instrument definition.

Its problems are :class:`fibrosurvey.problems.Problem`: ``column`` holds the FHIR path
(``QuestionnaireResponse.item[0].answer[0].valueInteger``), ``row`` the table row when a table
is being written as resources, else None.
"""

from __future__ import annotations

from collections.abc import Iterable

from fibrosurvey.problems import Problem

__all__ = ["FhirMappingError", "shown"]


def shown(value: object, limit: int = 80) -> str:
    """A value found in a resource as problem text: text as it is, nothing as "", anything
    else (numbers, lists, objects) as Python writes it; cut to ``limit`` characters."""
    if value is None:
        return ""
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


class FhirMappingError(ValueError):
    """FHIR content that cannot be mapped without guessing. ``problems`` lists every problem."""

    def __init__(self, problems: Iterable[Problem], summary: str = "") -> None:
        self.problems = list(problems)
        head = summary or f"{len(self.problems)} problem(s) mapping FHIR content"
        lines = [head, *(f"  - {problem}" for problem in self.problems)]
        super().__init__("\n".join(lines))

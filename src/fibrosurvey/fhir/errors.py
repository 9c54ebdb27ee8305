"""The one error raised when FHIR content does not map onto an instrument definition."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["FhirMappingError", "MappingProblem"]


@dataclass(frozen=True)
class MappingProblem:
    """One thing that did not match: where (a FHIR path), what was found and what is allowed."""

    path: str
    value: str
    allowed: str
    message: str

    def __str__(self) -> str:
        allowed = f"; allowed: {self.allowed}" if self.allowed else ""
        return f"{self.path}: {self.message} (got {self.value}{allowed})"


class FhirMappingError(ValueError):
    """FHIR content that cannot be mapped without guessing. ``problems`` lists every problem."""

    def __init__(self, problems: Iterable[MappingProblem], summary: str = "") -> None:
        self.problems = list(problems)
        head = summary or f"{len(self.problems)} problem(s) mapping FHIR content"
        lines = [head, *(f"  - {problem}" for problem in self.problems)]
        super().__init__("\n".join(lines))

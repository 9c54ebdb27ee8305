"""The one shape of a problem found in input, for every reader: survey tables and responses,
lab tables, FHIR resources, enrolment files and the web API's error bodies."""

from __future__ import annotations

from dataclasses import asdict, dataclass

__all__ = ["Problem"]


@dataclass(frozen=True)
class Problem:
    """One bad value: where it is, what was found, what is allowed and what is wrong.

    ``row`` counts data rows from 1 (row 1 is the line after a CSV header); None when the
    problem is about a whole column or file, a single response or a FHIR resource. ``column``
    is the table column, form field or FHIR path; ``value`` the text found there ("" when
    nothing was).
    """

    row: int | None
    column: str
    value: str
    allowed: str
    message: str

    def __str__(self) -> str:
        where = "" if self.row is None else f"row {self.row}, "
        allowed = f"; allowed: {self.allowed}" if self.allowed else ""
        return f"{where}{self.column}: {self.message} (got {self.value!r}{allowed})"

    def as_dict(self) -> dict[str, int | str | None]:
        """The problem as a JSON object (API error bodies, stored job results)."""
        return asdict(self)

"""The API's request and response schemas (django-ninja), as published in /api/openapi.json."""

from __future__ import annotations

from datetime import date
from typing import Any

from ninja import Schema

__all__ = [
    "ErrorOut",
    "LabImportOut",
    "Page",
    "ParticipantOut",
    "ParticipantPage",
    "ProblemOut",
    "ResponseFilter",
    "ResponseOut",
    "ResponsePage",
    "StudyOut",
    "SubmissionOut",
]


class StudyOut(Schema):
    id: int
    name: str
    role: str
    site: str | None
    sites: list[str]
    events: list[str]


class ParticipantOut(Schema):
    participant_id: str
    site: str
    language: str
    enrolled_date: date  # shifted, as in the exports
    consented: bool
    withdrawn: bool
    withdrawn_date: date | None  # shifted


class ResponseOut(Schema):
    id: int
    participant_id: str
    event: str
    instrument_id: str
    instrument_version: str
    status: str
    answers: dict[str, Any]
    scores: dict[str, Any] | None
    event_date: date | None  # completion date, shifted as in the exports
    withdrawn: bool
    withdrawn_date: date | None  # shifted


class Page(Schema):
    count: int
    limit: int
    offset: int


class ParticipantPage(Page):
    items: list[ParticipantOut]


class ResponsePage(Page):
    items: list[ResponseOut]


class LabImportOut(Schema):
    samples_created: int
    results_created: int


class ProblemOut(Schema):
    """One :class:`fibrosurvey.problems.Problem`; ``column`` is the CSV column, form field or
    FHIR path."""

    row: int | None = None
    column: str = ""
    value: str = ""
    allowed: str = ""
    message: str


class ErrorOut(Schema):
    detail: str
    problems: list[ProblemOut] = []


class SubmissionOut(Schema):
    instrument_id: str
    status: str
    replayed: bool
    survey_complete: bool


class ResponseFilter(Schema):
    event: str | None = None
    instrument: str | None = None
    participant_id: str | None = None
    limit: int = 100
    offset: int = 0

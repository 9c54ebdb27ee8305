"""Corrections from the lab as a CSV file: every row corrects or retracts one stored result.

Columns: ``participant_id``, ``event``, ``analyte`` (any accepted spelling), ``action``
(``correct`` | ``retract``), ``value`` and ``unit`` (for ``correct``; ``<LLOQ`` allowed),
``reason`` (required). Each row must name a result in force that the importing member may see;
the file is checked whole and applied all or nothing, each change audited like one made on
the result's page.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from django.db import transaction

from fibrosurvey.biomarkers import ANALYTE_NAMES, UnitError
from fibrosurvey.biomarkers.units import ALLOWED_ANALYTES_TEXT, canonical_analyte
from fibrosurvey.problems import Problem
from fibrosurvey.web.audit.services import record
from fibrosurvey.web.labs.corrections import (
    LabCorrectionError,
    clean_reason,
    do_correct_result,
    do_retract_result,
    parse_corrected_value,
)
from fibrosurvey.web.labs.csv_reading import LabImportError, read_lab_csv
from fibrosurvey.web.labs.models import LabResult
from fibrosurvey.web.studies.models import Membership, Study
from fibrosurvey.web.studies.permissions import filter_to_site

__all__ = ["CORRECTION_COLUMNS", "CorrectionImportResult", "do_import_lab_corrections"]

CORRECTION_COLUMNS = ("participant_id", "event", "analyte", "action", "value", "unit", "reason")
_ACTIONS = ("correct", "retract")


@dataclass(frozen=True)
class CorrectionImportResult:
    corrected: int
    retracted: int


@dataclass(frozen=True)
class _Change:
    result: LabResult
    action: str
    value: str
    unit: str
    reason: str


def _problem(row: int, error: LabCorrectionError) -> Problem:
    return Problem(row, error.field, error.value, error.allowed, error.message)


def _results_in_force(
    study: Study, membership: Membership | None
) -> dict[tuple[str, str, str], LabResult]:
    results = LabResult.objects.filter(sample__participant__study=study)
    if membership is not None:
        results = filter_to_site(results, membership, "sample__participant__site")
    return {
        (r.sample.participant.study_code, r.sample.event.code, r.analyte): r
        for r in results.select_related("sample__participant", "sample__event")
    }


def _check(
    rows: list[dict[str, str]], in_force: dict[tuple[str, str, str], LabResult]
) -> tuple[list[Problem], list[_Change]]:
    problems: list[Problem] = []
    changes: list[_Change] = []
    first_row: dict[tuple[str, str, str], int] = {}
    for number, raw in enumerate(rows, start=1):
        cell = {c: (raw.get(c) or "").strip() for c in CORRECTION_COLUMNS}
        before = len(problems)
        try:
            analyte = canonical_analyte(cell["analyte"])
        except UnitError:
            problems.append(
                Problem(
                    number, "analyte", cell["analyte"], ALLOWED_ANALYTES_TEXT, "unknown analyte"
                )
            )
            continue
        action = cell["action"].lower()
        if action not in _ACTIONS:
            problems.append(
                Problem(number, "action", cell["action"], " | ".join(_ACTIONS), "unknown action")
            )
        key = (cell["participant_id"], cell["event"], analyte)
        if key in first_row:
            problems.append(
                Problem(
                    number,
                    "analyte",
                    ANALYTE_NAMES[analyte],
                    "one row per participant_id x event x analyte",
                    f"duplicate of row {first_row[key]}",
                )
            )
            continue
        first_row[key] = number
        result = in_force.get(key)
        if result is None:
            problems.append(
                Problem(
                    number,
                    "analyte",
                    ANALYTE_NAMES[analyte],
                    "a result in force for this participant and event that you may see",
                    "no such result to correct (never imported, or already retracted)",
                )
            )
            continue
        try:
            clean_reason(cell["reason"])
        except LabCorrectionError as error:
            problems.append(_problem(number, error))
        if action == "correct":
            try:
                parse_corrected_value(cell["value"], cell["unit"], result)
            except LabCorrectionError as error:
                problems.append(_problem(number, error))
        if len(problems) == before:
            changes.append(_Change(result, action, cell["value"], cell["unit"], cell["reason"]))
    return problems, changes


def do_import_lab_corrections(
    study: Study,
    content: bytes | str,
    *,
    actor: Any,
    membership: Membership | None = None,
    file_name: str = "",
    request: Any = None,
) -> CorrectionImportResult:
    """Check every row, then apply every correction and retraction in one transaction.

    Raises :class:`~fibrosurvey.web.labs.csv_reading.LabImportError` (nothing changed) when any
    row has a problem.
    """
    frame = read_lab_csv(content)
    missing = [c for c in CORRECTION_COLUMNS if c not in frame.columns]
    if missing:
        raise LabImportError(
            [
                Problem(None, column, "", "a column of this name", "required column is missing")
                for column in missing
            ]
        )
    rows = frame.select(CORRECTION_COLUMNS).to_dicts()
    problems, changes = _check(rows, _results_in_force(study, membership))
    if problems:
        raise LabImportError(problems)
    raw = content.encode("utf-8") if isinstance(content, str) else content
    try:
        with transaction.atomic():
            for change in changes:
                if change.action == "retract":
                    do_retract_result(
                        change.result, reason=change.reason, actor=actor, request=request
                    )
                else:
                    do_correct_result(
                        change.result,
                        value=change.value,
                        unit=change.unit,
                        reason=change.reason,
                        actor=actor,
                        request=request,
                    )
            retracted = sum(1 for c in changes if c.action == "retract")
            record(
                "import",
                actor=actor,
                study=study,
                object_type="labs.corrections",
                after={
                    "kind": "lab_corrections",
                    "file_name": file_name,
                    "sha256": hashlib.sha256(raw).hexdigest(),
                    "rows": len(rows),
                    "corrected": len(changes) - retracted,
                    "retracted": retracted,
                },
                request=request,
            )
    except LabCorrectionError as error:
        # Another member changed one of these results between our check and our write.
        raise LabImportError(
            [Problem(None, error.field, error.value, error.allowed, error.message)]
        ) from None
    return CorrectionImportResult(len(changes) - retracted, retracted)

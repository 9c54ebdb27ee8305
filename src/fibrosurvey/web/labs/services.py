"""Lab results import: the whole file or nothing.

The file is read and its header checked by :func:`~fibrosurvey.web.labs.csv_reading.read_lab_csv`.
The core (``fibrosurvey.biomarkers.validate_lab_frame``) checks columns, units, analytes,
numbers, LLOQ flags, in-file duplicates and pre-analytical fields, and converts values to
pmol/mL. This module adds what only the database knows: is the participant enrolled in THIS
study (and at the importing member's site), does the study have that event, and is the result
already stored. Any problem -> :class:`LabImportError` with every problem and nothing stored.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.http import HttpRequest

from fibrosurvey.biomarkers import validate_lab_frame
from fibrosurvey.dataset import MAX_MINUTES_TO_CENTRIFUGE
from fibrosurvey.problems import Problem
from fibrosurvey.web.audit.services import record, snapshot
from fibrosurvey.web.labs.csv_reading import LabImportError, read_lab_csv
from fibrosurvey.web.labs.models import (
    DATE_FIELDS,
    PREANALYTICAL_FIELDS,
    LabImport,
    LabResult,
    LabSample,
)
from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.studies.models import Membership, Study
from fibrosurvey.web.studies.permissions import filter_to_site

__all__ = [
    "LabImportResult",
    "do_import_labs",
]

_ROW = "__row"


@dataclass(frozen=True)
class LabImportResult:
    lab_import: LabImport
    samples_created: int
    results_created: int
    flagged_delayed: int
    below_lloq: int


def _database_problems(
    frame: pl.DataFrame,
    clean: pl.DataFrame,
    core_problems: list[Problem],
    study: Study,
    membership: Membership | None,
) -> tuple[list[Problem], dict[str, Participant], dict[str, Any]]:
    """Unknown participants/events and results already stored (vectorised per check)."""
    problems: list[Problem] = []
    visible = Participant.objects.filter(study=study)
    where = "this study"
    if membership is not None and membership.site is not None:
        visible = filter_to_site(visible, membership)
        where = f"this study at site {membership.site.code}"
    codes = [code for code in frame["participant_id"].drop_nulls().unique().to_list()]
    participants = {
        p.study_code: p for p in visible.filter(study_code__in=[c.strip() for c in codes])
    }
    events = {event.code: event for event in study.events.all()}
    rows = frame.with_row_index(_ROW, offset=1).select(
        pl.col(_ROW).cast(pl.Int64),
        pl.col("participant_id").str.strip_chars(),
        pl.col("event").str.strip_chars(),
    )
    unknown = rows.filter(
        pl.col("participant_id").is_not_null() & ~pl.col("participant_id").is_in(list(participants))
    )
    problems += [
        Problem(row, "participant_id", code, f"a participant enrolled in {where}", "unknown")
        for row, code, _ in unknown.iter_rows()
    ]
    reported_events = {p.row for p in core_problems if p.column == "event"}
    missing_event = rows.filter(
        pl.col("event").is_not_null()
        & ~pl.col("event").is_in(list(events))
        & ~pl.col(_ROW).is_in(list(reported_events))
    )
    problems += [
        Problem(row, "event", event, " | ".join(events), "this study has no such event")
        for row, _, event in missing_event.iter_rows()
    ]

    # Clean rows are the rows without a core problem, in file order: give them their row number.
    bad_rows = {p.row for p in core_problems if p.row is not None}
    clean_rows = [r for r in range(1, frame.height + 1) if r not in bad_rows]
    keyed = clean.with_columns(pl.Series(_ROW, clean_rows, dtype=pl.Int64))
    known = keyed.filter(
        pl.col("participant_id").is_in(list(participants)) & pl.col("event").is_in(list(events))
    )
    stored = {
        (code, event, analyte)
        for code, event, analyte in LabResult.objects.filter(
            sample__participant__in=participants.values()
        ).values_list("sample__participant__study_code", "sample__event__code", "analyte")
    }
    for row, code, event, analyte in known.select(
        _ROW, "participant_id", "event", "analyte"
    ).iter_rows():
        if (code, event, analyte) in stored:
            problems.append(
                Problem(
                    row,
                    "analyte",
                    analyte,
                    "one result per participant x event x analyte",
                    "already imported for this participant and event; to change it, correct "
                    "or retract it (with a reason) from the lab samples page",
                )
            )
    problems += _conflicts_with_stored_samples(known, participants, events)
    return problems, participants, events


def _conflicts_with_stored_samples(
    known: pl.DataFrame, participants: dict[str, Participant], events: dict[str, Any]
) -> list[Problem]:
    """A new analyte for a stored sample must repeat the sample's pre-analytical values."""
    samples = {
        (s.participant_id, s.event_id): s
        for s in LabSample.objects.filter(participant__in=participants.values())
    }
    if not samples:
        return []
    problems: list[Problem] = []
    for row in known.iter_rows(named=True):
        sample = samples.get((participants[row["participant_id"]].pk, events[row["event"]].pk))
        if sample is None:
            continue
        for column, field in (PREANALYTICAL_FIELDS | DATE_FIELDS).items():
            given = row.get(column)
            stored = getattr(sample, field)
            if given is None or stored in (None, ""):
                continue
            same = (
                abs(float(given) - float(stored)) < 1e-9
                if isinstance(stored, int | float)
                else given == stored
                if column in DATE_FIELDS
                else str(given) == str(stored)
            )
            if not same:
                problems.append(
                    Problem(
                        row[_ROW],
                        column,
                        str(given),
                        f"{stored} (the value stored for this sample)",
                        "conflicts with the sample already stored",
                    )
                )
    return problems


def _sample_fields(row: dict[str, Any]) -> dict[str, Any]:
    fields = {}
    for column, field in PREANALYTICAL_FIELDS.items():
        value = row.get(column)
        if value is None and field in ("tube", "draw_time"):
            value = ""
        fields[field] = value
    for column, field in DATE_FIELDS.items():
        fields[field] = row.get(column)
    return fields


def do_import_labs(
    study: Study,
    content: bytes | str,
    *,
    actor: User,
    membership: Membership | None = None,
    file_name: str = "",
    request: HttpRequest | None = None,
) -> LabImportResult:
    """Validate the whole lab file, then store every result in one transaction.

    ``membership`` limits participants to the member's site. Raises :class:`LabImportError`
    (nothing stored) when any row has a problem.
    """
    frame = read_lab_csv(content)
    raw = content.encode("utf-8") if isinstance(content, str) else content
    validation = validate_lab_frame(frame)
    problems = list(validation.problems)
    if any(p.row is None for p in validation.problems):  # a missing column: nothing else to say
        raise LabImportError(problems)
    db_problems, participants, events = _database_problems(
        frame, validation.clean, validation.problems, study, membership
    )
    problems += db_problems
    if problems:
        problems.sort(key=lambda p: (p.row or 0, p.column))
        raise LabImportError(problems)

    clean = validation.clean
    try:
        with transaction.atomic():
            return _store(
                study, clean, participants, events, raw, frame.height, actor, file_name, request
            )
    except IntegrityError:
        # Another import stored the same result between our check and our insert.
        raise LabImportError(
            [
                Problem(
                    None,
                    "analyte",
                    "",
                    "one result per participant x event x analyte",
                    "another import stored some of these results at the same time; "
                    "import the file again to see which",
                )
            ]
        ) from None


def _store(
    study: Study,
    clean: pl.DataFrame,
    participants: dict[str, Participant],
    events: dict[str, Any],
    raw: bytes,
    n_rows: int,
    actor: User,
    file_name: str,
    request: HttpRequest | None,
) -> LabImportResult:
    lab_import = LabImport.objects.create(
        study=study,
        file_name=file_name[:255],
        sha256=hashlib.sha256(raw).hexdigest(),
        rows=n_rows,
        samples_created=0,
        results_created=0,
        imported_by=actor if getattr(actor, "is_authenticated", False) else None,
    )
    keys = clean.select("participant_id", "event").unique(maintain_order=True)
    existing = {
        (s.participant_id, s.event_id): s
        for s in LabSample.objects.select_for_update().filter(participant__in=participants.values())
    }
    first_rows = {
        (r["participant_id"], r["event"]): r
        for r in clean.unique(
            ["participant_id", "event"], keep="first", maintain_order=True
        ).iter_rows(named=True)
    }
    new_samples = []
    for code, event_code in keys.iter_rows():
        key = (participants[code].pk, events[event_code].pk)
        if key in existing:
            continue
        new_samples.append(
            LabSample(
                participant=participants[code],
                event=events[event_code],
                lab_import=lab_import,
                **_sample_fields(first_rows[(code, event_code)]),
            )
        )
    LabSample.objects.bulk_create(new_samples)
    samples = {
        (s.participant_id, s.event_id): s
        for s in LabSample.objects.filter(participant__in=participants.values())
    }
    results = [
        LabResult(
            sample=samples[(participants[r["participant_id"]].pk, events[r["event"]].pk)],
            analyte=r["analyte"],
            value_pmol_ml=r["value"],
            lloq=r["lloq"],
            below_lloq=bool(r["below_lloq"]),
            includes_1ag=None if r["includes_1ag"] is None else bool(r["includes_1ag"]),
            unit_reported=r["unit_reported"],
        )
        for r in clean.iter_rows(named=True)
    ]
    LabResult.objects.bulk_create(results)
    lab_import.samples_created = len(new_samples)
    lab_import.results_created = len(results)
    lab_import.save(update_fields=["samples_created", "results_created"])

    for sample in new_samples:
        record(
            "create",
            actor=actor,
            study=study,
            obj=sample,
            after=snapshot(sample)
            | {
                "results": [
                    {
                        "analyte": r.analyte,
                        "value_pmol_ml": r.value_pmol_ml,
                        "below_lloq": r.below_lloq,
                    }
                    for r in results
                    if r.sample_id == sample.pk
                ]
            },
            request=request,
        )
    delayed = sum(
        1 for s in new_samples if (s.minutes_to_centrifuge or 0) > MAX_MINUTES_TO_CENTRIFUGE
    )
    below = sum(1 for r in results if r.below_lloq)
    record(
        "import",
        actor=actor,
        study=study,
        obj=lab_import,
        after={
            "kind": "lab_results",
            "file_name": file_name,
            "sha256": lab_import.sha256,
            "rows": n_rows,
            "samples_created": len(new_samples),
            "results_created": len(results),
            "below_lloq": below,
        },
        request=request,
    )
    return LabImportResult(lab_import, len(new_samples), len(results), delayed, below)

"""Bulk-load a synthetic cohort (``fibrosurvey.synth``) into a study, for benchmarks, tests
and demos: participants, complete responses, design variables and lab samples with results.

Bulk inserts in chunks of participants; no audit records (this is generated data, not
captured data) except one summary record written by the caller if wanted.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from typing import Any

import polars as pl
from django.db import connection, models, transaction
from django.utils import timezone

from fibrosurvey.dataset import ANALYTES
from fibrosurvey.instruments import get_instrument
from fibrosurvey.tables import json_cell
from fibrosurvey.web.exports.models import DesignVariables
from fibrosurvey.web.labs.models import PREANALYTICAL_FIELDS, LabResult, LabSample
from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.studies.models import Study
from fibrosurvey.web.survey.models import Response

__all__ = ["load_cohort"]


def _insert(model: type[models.Model], fields: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Insert plain value rows (``fields`` are attribute names, FKs as ``x_id``).

    PostgreSQL: COPY, without building model instances (Django's multi-row INSERT spends most
    of its time building SQL: ~1,500 responses/s against tens of thousands with COPY). Other
    databases: bulk_create.
    """
    if connection.vendor != "postgresql":
        model._default_manager.bulk_create(
            (model(**dict(zip(fields, row, strict=True))) for row in rows), batch_size=2000
        )
        return
    meta = model._meta
    concrete: list[models.Field[Any, Any]] = []
    for name in fields:
        field = meta.get_field(name)
        assert isinstance(field, models.Field), f"{name} is a reverse relation, not a column"
        concrete.append(field)
    # Columns the caller leaves out take the value bulk_create would give them (COPY bypasses
    # the model: a NOT NULL column added later would otherwise get NULL).
    defaulted = [f for f in meta.concrete_fields if f not in concrete and not f.primary_key]
    now = timezone.now()
    defaults = tuple(
        now
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
        else field.get_default()
        for field in defaulted
    )
    concrete += defaulted
    columns = ", ".join(f'"{field.column}"' for field in concrete)
    json_at = [i for i, field in enumerate(concrete) if isinstance(field, models.JSONField)]
    sql = f'COPY "{meta.db_table}" ({columns}) FROM STDIN'
    with connection.cursor() as cursor, cursor.cursor.copy(sql) as copy:
        for given in rows:
            row = given + defaults
            if json_at:
                values = list(row)
                for i in json_at:
                    values[i] = None if values[i] is None else json.dumps(values[i])
                copy.write_row(values)
            else:
                copy.write_row(row)


def load_cohort(
    study: Study,
    data: pl.DataFrame,
    *,
    chunk: int = 5000,
    on_chunk: Callable[[int], None] | None = None,
) -> int:
    """Insert every participant of ``data`` (analysis-dataset columns) into ``study``.

    Sites are matched by code (they must exist). Returns the number of participants.
    """
    sites = {s.code: s for s in study.sites.all()}
    events = {e.code: e for e in study.events.all()}
    versions = dict(study.instruments.values_list("instrument_id", "version"))
    batteries = {code: event.instrument_ids() for code, event in events.items()}
    now = timezone.now()
    people = data.select(
        "participant_id", "site", "design_stratum", "design_psu", "design_weight", "design_fpc"
    ).unique("participant_id", maintain_order=True)
    total = 0
    for start in range(0, people.height, chunk):
        block = people.slice(start, chunk)
        codes = block["participant_id"].to_list()
        rows = data.filter(pl.col("participant_id").is_in(codes))
        with transaction.atomic():
            created = Participant.objects.bulk_create(
                Participant(
                    study=study,
                    study_code=code,
                    site=sites[site],
                    consent_version=study.consent_version,
                    consented_at=now,
                    enrolled_at=now,
                )
                for code, site, *_ in block.iter_rows()
            )
            by_code = {p.study_code: p for p in created}
            DesignVariables.objects.bulk_create(
                DesignVariables(
                    participant=by_code[code],
                    stratum=json_cell(stratum),
                    psu=json_cell(psu),
                    weight=json_cell(weight),
                    fpc=json_cell(fpc),
                )
                for code, _site, stratum, psu, weight, fpc in block.iter_rows()
            )
            responses: list[tuple[Any, ...]] = []
            samples: list[LabSample] = []
            results: list[tuple[LabSample, str, dict[str, Any]]] = []
            for row in rows.iter_rows(named=True):
                participant = by_code[row["participant_id"]]
                event = events[row["event"]]
                for instrument_id in batteries[row["event"]]:
                    instrument = get_instrument(instrument_id)
                    answers = {c: json_cell(row.get(c)) for c in instrument.item_columns()}
                    if all(v is None for v in answers.values()):
                        continue
                    responses.append(
                        (
                            participant.pk,
                            event.pk,
                            instrument_id,
                            versions.get(instrument_id, instrument.version),
                            answers,
                            Response.Status.COMPLETE,
                            None,
                            now,
                            now,
                            now,
                        )
                    )
                if row.get("lab_matrix") is not None:
                    sample = LabSample(
                        participant=participant,
                        event=event,
                        **{
                            field: (
                                ""
                                if row.get(column) is None and field in ("tube", "draw_time")
                                else json_cell(row.get(column))
                            )
                            for column, field in PREANALYTICAL_FIELDS.items()
                        },
                    )
                    samples.append(sample)
                    results += [(sample, a, row) for a in ANALYTES if row.get(a) is not None]
            _insert(
                Response,
                [
                    "participant_id",
                    "event_id",
                    "instrument_id",
                    "instrument_version",
                    "answers",
                    "status",
                    "scores",
                    "created_at",
                    "updated",
                    "completed_at",
                ],
                responses,
            )
            LabSample.objects.bulk_create(samples, batch_size=2000)
            _insert(
                LabResult,
                [
                    "sample_id",
                    "analyte",
                    "value_pmol_ml",
                    "lloq",
                    "below_lloq",
                    "includes_1ag",
                    "unit_reported",
                ],
                [
                    (
                        sample.pk,
                        analyte,
                        row[analyte],
                        row.get(f"{analyte}_lloq"),
                        bool(row.get(f"{analyte}_below_lloq") or 0),
                        bool(row.get("twoag_includes_1ag") or 0) if analyte == "twoag" else None,
                        "pmol/mL",
                    )
                    for sample, analyte, row in results
                ],
            )
        total += block.height
        if on_chunk is not None:
            on_chunk(total)
    return total

"""Bulk-load a synthetic cohort (``fibrosurvey.synth``) into a study, for benchmarks, tests
and demos: participants, complete responses, design variables and lab samples with results.

Bulk inserts in chunks of participants; no audit records (this is generated data, not
captured data) except one summary record written by the caller if wanted.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import polars as pl
from django.db import transaction
from django.utils import timezone

from fibrosurvey.dataset import ANALYTES
from fibrosurvey.instruments import get_instrument
from fibrosurvey.web.exports.models import DesignVariables
from fibrosurvey.web.labs.models import PREANALYTICAL_FIELDS, LabResult, LabSample
from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.studies.models import Study
from fibrosurvey.web.survey.models import Response

__all__ = ["load_cohort"]


def _clean(value: Any) -> Any:
    if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
        return None
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


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
                    stratum=_clean(stratum),
                    psu=_clean(psu),
                    weight=_clean(weight),
                    fpc=_clean(fpc),
                )
                for code, _site, stratum, psu, weight, fpc in block.iter_rows()
            )
            responses: list[Response] = []
            samples: list[LabSample] = []
            results: list[tuple[LabSample, str, dict[str, Any]]] = []
            for row in rows.iter_rows(named=True):
                participant = by_code[row["participant_id"]]
                event = events[row["event"]]
                for instrument_id in batteries[row["event"]]:
                    instrument = get_instrument(instrument_id)
                    answers = {c: _clean(row.get(c)) for c in instrument.item_columns()}
                    if all(v is None for v in answers.values()):
                        continue
                    responses.append(
                        Response(
                            participant=participant,
                            event=event,
                            instrument_id=instrument_id,
                            instrument_version=versions.get(instrument_id, instrument.version),
                            answers=answers,
                            status=Response.Status.COMPLETE,
                            completed_at=now,
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
                                else _clean(row.get(column))
                            )
                            for column, field in PREANALYTICAL_FIELDS.items()
                        },
                    )
                    samples.append(sample)
                    results += [(sample, a, row) for a in ANALYTES if row.get(a) is not None]
            Response.objects.bulk_create(responses, batch_size=2000)
            LabSample.objects.bulk_create(samples, batch_size=2000)
            LabResult.objects.bulk_create(
                (
                    LabResult(
                        sample=sample,
                        analyte=analyte,
                        value_pmol_ml=row[analyte],
                        lloq=row.get(f"{analyte}_lloq"),
                        below_lloq=bool(row.get(f"{analyte}_below_lloq") or 0),
                        includes_1ag=(
                            bool(row.get("twoag_includes_1ag") or 0) if analyte == "twoag" else None
                        ),
                        unit_reported="pmol/mL",
                    )
                    for sample, analyte, row in results
                ),
                batch_size=2000,
            )
        total += block.height
        if on_chunk is not None:
            on_chunk(total)
    return total

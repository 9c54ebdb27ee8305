"""The analysis dataset of a study, built in chunks of participants.

One row per participant x event: identification, design variables, shifted dates, every item
of the study's instruments (numeric, empty unless answered, with an ``<item>_status`` column
where an empty cell has more than one reason: ``fibrosurvey.scoring.status``), the scores
computed by the core (``fibrosurvey.scoring.score_frame`` on the stored answers, never the web
layer's own arithmetic), the biomarkers in pmol/mL and the pre-analytical metadata. Contact
details are never read.

Chunks keep memory flat: each chunk reads ``chunk_size`` participants (keyset pagination on the
primary key), turns their stored answers and lab results into one Polars frame with a fixed
schema, and scores it. 100,000 participants stream in ~50 chunks.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from functools import cached_property
from typing import TypeVar

import polars as pl
from django.db.models import F, Model, QuerySet, TextField
from django.db.models.functions import Cast

from fibrosurvey.biomarkers import LAB_DATE_COLUMNS
from fibrosurvey.dataset import (
    ANALYTES,
    DESIGN_COLUMNS,
    ID_COLUMNS,
    PREANALYTICAL_COLUMNS,
    TEXT_PREANALYTICAL_COLUMNS,
    column_dtype,
)
from fibrosurvey.dataset import biomarker_columns as core_biomarker_columns
from fibrosurvey.instruments import Instrument
from fibrosurvey.instruments.localize import for_country
from fibrosurvey.scoring import SCORING_VERSIONS_COLUMN, score_frame
from fibrosurvey.scoring.status import (
    STATUS_SUFFIX,
    item_status_frame,
    status_columns,
    without_prefer_not_to_answer,
)
from fibrosurvey.web.builder.active import export_instruments, versioned_instruments
from fibrosurvey.web.exports.copy_frames import BOOLEAN, ColumnType, copy_frame
from fibrosurvey.web.exports.deidentify import MAX_SHIFT_DAYS, date_offset_days, deidentify
from fibrosurvey.web.exports.models import study_secret
from fibrosurvey.web.labs.models import DATE_FIELDS, PREANALYTICAL_FIELDS, LabResult, LabSample
from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.recruitment.flow import recruitment_frame
from fibrosurvey.web.recruitment.models import OpenLink
from fibrosurvey.web.studies.models import Membership, Site, Study
from fibrosurvey.web.survey.models import Response

_M = TypeVar("_M", bound=Model)

__all__ = [
    "CONSENT_COLUMN",
    "DATE_COLUMNS",
    "MAX_SHIFT_DAYS",
    "WITHDRAWAL_COLUMNS",
    "DatasetBuilder",
    "date_offset_days",
]

DATE_COLUMNS = ("enrolled_date", "event_date")
# Every output says whether (and, shifted, when) the participant withdrew.
WITHDRAWAL_COLUMNS = ("withdrawn", "withdrawn_date")
# The consent version the participant last accepted (a new version asks them again).
CONSENT_COLUMN = "consent_version"
_TIMESTAMP = pl.Datetime("us", "UTC")


def _item_dtype(kind: str) -> pl.DataType:
    """An item's column type as answers are read (dates arrive as ISO text)."""
    if kind in ("text", "date"):
        return pl.String()
    return pl.Float64() if kind == "number" else pl.Int64()


def _administered(instrument_id: str) -> str:
    """Working column: the participant has a response to the instrument at that event."""
    return f"__given_{instrument_id}"


@dataclass
class DatasetBuilder:
    """Builds the de-identified dataset of ``study`` as seen by ``membership`` (a
    site-limited member sees their site only), or limited to ``site`` (an analysis run
    requested by a site-limited member). Every chunk goes through
    :func:`~fibrosurvey.web.exports.deidentify.deidentify`."""

    study: Study
    membership: Membership | None = None
    chunk_size: int = 2000
    site: Site | None = None

    @property
    def site_id(self) -> int | None:
        """The one site the dataset is limited to, or None (every site)."""
        if self.membership is not None and self.membership.site_id is not None:
            return self.membership.site_id
        return self.site.pk if self.site is not None else None

    def _limit(self, queryset: QuerySet[_M], site_field: str = "site") -> QuerySet[_M]:
        site_id = self.site_id
        return queryset if site_id is None else queryset.filter(**{f"{site_field}_id": site_id})

    @cached_property
    def instruments(self) -> list[Instrument]:
        ids = list(self.study.instruments.values_list("instrument_id", flat=True))
        # Battery order of the events first, then anything else the study froze.
        ordered: list[str] = []
        for event in self.study.events.all():
            for instrument_id in event.instrument_ids():
                if instrument_id not in ordered:
                    ordered.append(instrument_id)
        ordered += [i for i in ids if i not in ordered]
        # As the study's country asks them: its regions only, its drug examples; a study's
        # own instrument with every column any of its versions had, in place.
        with export_instruments(self.study.pk):
            return [for_country(i, self.study.country) for i in ordered]

    @cached_property
    def item_schema(self) -> dict[str, pl.DataType]:
        return {
            item.column: _item_dtype(item.kind)
            for instrument in self.instruments
            for item in instrument.items
        }

    @cached_property
    def left_out(self) -> list[str]:
        """Item columns never exported: free text (it can hold names and other identifiers)
        and direct identifiers (stored apart, encrypted; never in a response)."""
        return [
            column
            for instrument in self.instruments
            for item in instrument.items
            if item.kind == "text" or item.identifier
            # An identifier's status would say "skipped" (its answer is never in a response);
            # a free-text item's status (answered or not) is kept.
            for column in (item.column, f"{item.column}{STATUS_SUFFIX}")
            if item.identifier or column == item.column
        ]

    @cached_property
    def item_dates(self) -> list[str]:
        """Date items' columns: shifted by the participant's offset, like every date."""
        return [
            item.column
            for instrument in self.instruments
            for item in instrument.items
            if item.kind == "date" and not item.identifier
        ]

    def _deidentify(self, frame: pl.DataFrame) -> pl.DataFrame:
        frame = frame.drop([c for c in self.left_out if c in frame.columns])
        frame = frame.with_columns(
            pl.col(c).str.to_date("%Y-%m-%d", strict=False) for c in self.item_dates
        )
        return deidentify(frame, self.secret, item_dates=self.item_dates)

    @cached_property
    def recruitment(self) -> pl.DataFrame | None:
        """Open recruitment's columns per participant: ``recruitment_source``, the screener
        answers (``screener_<question>``), ``quality_flag`` and ``quality_reasons``; None for a
        study without an open link (its datasets keep their columns). Participants enrolled
        by staff get empty cells."""
        if not OpenLink.objects.filter(study=self.study).exists():
            return None
        return recruitment_frame(self.study)

    @property
    def recruitment_schema(self) -> dict[str, pl.DataType]:
        extra = self.recruitment
        if extra is None:
            return {}
        return {c: t for c, t in extra.schema.items() if c != "participant_id"}

    @cached_property
    def input_schema(self) -> dict[str, pl.DataType]:
        schema: dict[str, pl.DataType] = {c: pl.String() for c in ID_COLUMNS}
        schema |= {c: column_dtype(c) for c in DESIGN_COLUMNS}
        schema |= {c: _TIMESTAMP for c in DATE_COLUMNS}
        schema |= {"withdrawn": pl.Int64(), "withdrawn_date": _TIMESTAMP}
        schema |= {CONSENT_COLUMN: pl.String()}
        schema |= self.recruitment_schema
        schema |= self.item_schema
        schema |= {column: pl.String() for column in self._versioned.values()}
        schema |= {c: column_dtype(c) for c in core_biomarker_columns()}
        schema |= {c: column_dtype(c) for c in PREANALYTICAL_COLUMNS}
        schema |= {c: pl.Date() for c in LAB_DATE_COLUMNS}
        return schema

    @cached_property
    def schema(self) -> dict[str, pl.DataType]:
        """The output columns and types, in order (fixed for every chunk)."""
        empty = pl.DataFrame(schema=self.input_schema | self._administered_schema)
        scored = self._deidentify(self._with_statuses(self._score(empty)))
        columns: list[str] = [*ID_COLUMNS, *DESIGN_COLUMNS, *DATE_COLUMNS, *WITHDRAWAL_COLUMNS]
        columns.append(CONSENT_COLUMN)
        columns += list(self.recruitment_schema)
        for instrument in self.instruments:
            columns += [c for c in instrument.item_columns() if c not in self.left_out]
            columns += [c for c in status_columns(instrument) if c not in self.left_out]
            columns += [c for c in instrument.score_columns() if c in scored.columns]
        columns += [
            *core_biomarker_columns(),
            *PREANALYTICAL_COLUMNS,
            *LAB_DATE_COLUMNS,
            SCORING_VERSIONS_COLUMN,
        ]
        return {c: scored.schema[c] for c in columns}

    @property
    def columns(self) -> list[str]:
        return list(self.schema)

    @cached_property
    def secret(self) -> str:
        return study_secret(self.study)

    def participants(self) -> QuerySet[Participant]:
        return self._limit(Participant.objects.filter(study=self.study))

    def count_rows(self) -> int:
        """Participant x event pairs with any response or lab sample."""
        visible = self.participants()
        responses = (
            Response.objects.filter(participant__in=visible)
            .exclude(completed_at__gt=F("participant__withdrawn_at"))
            .order_by()
            .values_list("participant_id", "event_id")
        )
        samples = (
            LabSample.objects.filter(participant__in=visible)
            .order_by()
            .values_list("participant_id", "event_id")
        )
        return responses.union(samples).count()

    @cached_property
    def _versioned(self) -> dict[str, str]:
        """Own instruments with several versions -> the hidden column naming each row's."""
        return {i: f"__version_{i}" for i in versioned_instruments(self.study.pk)}

    def _score(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Scores by the rules of the version each row's response was given (own instruments
        with several versions); every other instrument by its one definition."""
        hidden = [c for c in self._versioned.values() if c in frame.columns]
        if not hidden or frame.height == 0:
            return self._score_as(frame.drop(hidden), {})
        frame = frame.with_row_index("__row")
        parts = []
        for keys, group in frame.group_by(hidden, maintain_order=True):
            given = {
                instrument_id: version
                for (instrument_id, column), version in zip(
                    self._versioned.items(), keys, strict=False
                )
                if column in hidden and version is not None
            }
            parts.append(self._score_as(group.drop(hidden), given))
        return pl.concat(parts, how="diagonal_relaxed").sort("__row").drop("__row")

    def _score_as(self, frame: pl.DataFrame, given: dict[str, str]) -> pl.DataFrame:
        with export_instruments(self.study.pk, given):
            scored = score_frame(frame, [i.id for i in self.instruments])
        if SCORING_VERSIONS_COLUMN in scored.columns:
            scored = scored.with_columns(pl.col(SCORING_VERSIONS_COLUMN).cast(pl.String))
        else:
            scored = scored.with_columns(pl.lit(None, pl.String).alias(SCORING_VERSIONS_COLUMN))
        return scored

    @property
    def _administered_schema(self) -> dict[str, pl.DataType]:
        return {_administered(i.id): pl.Boolean() for i in self.instruments}

    def _with_statuses(self, frame: pl.DataFrame) -> pl.DataFrame:
        """Add each ``<item>_status`` and empty the "prefer not to answer" codes.

        Answered, skipped, not applicable (skip logic hid it) or prefer not to answer; empty
        when the instrument was not given at that event (no response to it at all). Computed
        from the stored answers before the numeric columns are emptied of refusal codes.
        """
        # A study's own instruments are known to the core only inside this context.
        with export_instruments(self.study.pk):
            answered = without_prefer_not_to_answer(frame)
            statuses = item_status_frame(frame, [i.id for i in self.instruments])
        if statuses.width == 0:
            return answered
        given = {
            f"{item.column}{STATUS_SUFFIX}": _administered(instrument.id)
            for instrument in self.instruments
            for item in instrument.items
        }
        statuses = statuses.with_columns(
            pl.when(frame[given[column]].fill_null(False)).then(pl.col(column)).alias(column)
            for column in statuses.columns
        )
        return answered.hstack(statuses)

    def chunks(self) -> Iterator[pl.DataFrame]:
        """Scored, de-identified chunks with exactly :attr:`schema`; rows ordered by
        participant, event. Scores are computed before de-identification, so BMI and other
        scores use the answers as given (an age of 97, shown as 90)."""
        schema = self.schema
        last_pk = 0
        base = self.participants().order_by("pk")
        while True:
            people = copy_frame(
                base.filter(pk__gt=last_pk).values_list(
                    "pk", "study_code", "site__code", "enrolled_at", "withdrawn_at",
                    "design__stratum", "design__psu", "design__weight", "design__fpc",
                    "consent_version",
                )[: self.chunk_size],
                self._people_schema,
            )  # fmt: skip
            if people.height == 0:
                return
            last_pk = int(people["__pk"][-1])
            frame = self._chunk_frame(people)
            if frame.height:
                yield self._deidentify(self._with_statuses(self._score(frame))).select(
                    pl.col(c).cast(dtype) for c, dtype in schema.items()
                )

    @property
    def _people_schema(self) -> dict[str, ColumnType]:
        return {
            "__pk": pl.Int64,
            "participant_id": pl.String,
            "site": pl.String,
            "enrolled_date": _TIMESTAMP,
            "withdrawn_date": _TIMESTAMP,
            **{c: column_dtype(c) for c in DESIGN_COLUMNS},
            CONSENT_COLUMN: pl.String,
        }

    def frame(self) -> pl.DataFrame:
        """The whole dataset in memory (for the analysis run; exports stream chunks)."""
        parts = list(self.chunks())
        if not parts:
            return pl.DataFrame(schema=self.schema)
        return pl.concat(parts, how="vertical")

    def _chunk_frame(self, people: pl.DataFrame) -> pl.DataFrame:
        """One chunk's rows as a typed frame (no scores yet).

        The answers JSON is fetched as text and decoded, merged across instruments and typed
        by Polars (``str.json_decode`` into a struct of every item column, then one row per
        participant x event), not by a Python loop over responses.
        """
        ids = people["__pk"].to_list()
        people = people.with_columns(
            pl.col("withdrawn_date").is_not_null().cast(pl.Int64).alias("withdrawn"),
            pl.when(pl.col(CONSENT_COLUMN) != "")
            .then(pl.col(CONSENT_COLUMN))
            .alias(CONSENT_COLUMN),
        )
        answers = self._answers(ids)
        labs = self._labs(ids)
        keys = pl.concat(
            [answers.select("__pk", "event"), labs.select("__pk", "event")], how="vertical"
        ).unique(maintain_order=True)
        if keys.height == 0:
            return pl.DataFrame(schema=self.input_schema | self._administered_schema)
        order = {e.code: e.order for e in self.study.events.all()}
        frame = (
            keys.join(people, on="__pk", how="left")
            .join(answers, on=["__pk", "event"], how="left")
            .join(labs, on=["__pk", "event"], how="left")
            .with_columns(
                pl.col("__completed").alias("event_date"),
                pl.col("event")
                .replace_strict(order, default=99, return_dtype=pl.Int64)
                .alias("__order"),
            )
            .sort("__pk", "__order")
        )
        if self.recruitment is not None:
            frame = frame.join(self.recruitment, on="participant_id", how="left")
        return frame.select(
            pl.col(c).cast(dtype) if c in frame.columns else pl.lit(None, dtype).alias(c)
            for c, dtype in (self.input_schema | self._administered_schema).items()
        )

    def _in_chunk(self, queryset: QuerySet[_M], participant: str, ids: list[int]) -> QuerySet[_M]:
        """Rows of the chunk's participants: a primary-key RANGE (an index range scan; a list
        of 2,000 ids makes PostgreSQL scan the whole table), restricted to the study and, for
        a site-limited member, to their site."""
        chunk = queryset.filter(
            **{
                f"{participant}_id__gte": ids[0],
                f"{participant}_id__lte": ids[-1],
                f"{participant}__study": self.study,
            }
        ).order_by()
        return self._limit(chunk, f"{participant}__site")

    def _answers(self, ids: list[int]) -> pl.DataFrame:
        """(participant pk, event) -> every item column, and the last completion time."""
        # A withdrawn participant's data up to the withdrawal stay; nothing after it counts.
        responses = self._in_chunk(Response.objects.all(), "participant", ids).exclude(
            completed_at__gt=F("participant__withdrawn_at")
        )
        rows = responses.annotate(__text=Cast("answers", TextField())).values_list(
            "participant_id", "event__code", "completed_at", "instrument_id", "__text"
        )
        frame = copy_frame(
            rows,
            {
                "__pk": pl.Int64,
                "event": pl.String,
                "__completed": _TIMESTAMP,
                "__instrument": pl.String,
                "__text": pl.String,
            },
        )
        # One object per participant x event: the members of its responses' answers objects
        # (text without the braces) joined. Items belong to one instrument and a participant
        # answers an instrument once per event (a unique constraint), so members never
        # collide. Then one newline-delimited JSON read types every item column at once.
        members = pl.col("__text").str.slice(1).str.head(-1)
        merged = (
            frame.with_columns(pl.when(members != "").then(members).alias("__text"))
            .group_by("__pk", "event", maintain_order=True)
            .agg(
                pl.col("__completed").max(),
                pl.col("__text").drop_nulls().str.join(", "),
                *[
                    (pl.col("__instrument") == instrument.id)
                    .any()
                    .alias(_administered(instrument.id))
                    for instrument in self.instruments
                ],
            )
        )
        lines = ("{" + merged.get_column("__text") + "}").str.join("\n").item()
        items = (
            pl.read_ndjson(lines.encode(), schema=self._answer_schema)
            if merged.height
            else pl.DataFrame(schema=self._answer_schema)
        )
        merged = pl.concat([merged.drop("__text"), items], how="horizontal")
        for instrument_id, column in self._versioned.items():
            versions = copy_frame(
                responses.filter(instrument_id=instrument_id).values_list(
                    "participant_id", "event__code", "instrument_version"
                ),
                {"__pk": pl.Int64, "event": pl.String, column: pl.String},
            )
            merged = merged.join(versions, on=["__pk", "event"], how="left")
        return merged

    @property
    def _answer_schema(self) -> dict[str, pl.DataType]:
        """Answers as the JSON holds them: numbers as Float64, text and dates as text."""
        return {
            column: pl.String() if dtype == pl.String else pl.Float64()
            for column, dtype in self.item_schema.items()
        }

    def _labs(self, ids: list[int]) -> pl.DataFrame:
        """(participant pk, event) -> biomarker and pre-analytical columns."""
        sample_fields = [*PREANALYTICAL_FIELDS.values(), *DATE_FIELDS.values()]
        samples = copy_frame(
            self._in_chunk(LabSample.objects.all(), "participant", ids).values_list(
                "participant_id", "event__code", *sample_fields
            ),
            {
                "__pk": pl.Int64,
                "event": pl.String,
                **{c: column_dtype(c) for c in PREANALYTICAL_FIELDS},
                **{c: pl.Date() for c in DATE_FIELDS},
            },
        ).with_columns(
            pl.when(pl.col(c) == "").then(None).otherwise(pl.col(c)).alias(c)
            for c in TEXT_PREANALYTICAL_COLUMNS
        )
        results = copy_frame(
            self._in_chunk(LabResult.objects.all(), "sample__participant", ids).values_list(
                "sample__participant_id",
                "sample__event__code",
                "analyte",
                "value_pmol_ml",
                "lloq",
                "below_lloq",
                "includes_1ag",
            ),
            {
                "__pk": pl.Int64,
                "event": pl.String,
                "analyte": pl.String,
                "value": pl.Float64,
                "lloq": pl.Float64,
                "below": BOOLEAN,
                "with_1ag": BOOLEAN,
            },
        )
        wide = samples
        for analyte in ANALYTES:
            part = results.filter(pl.col("analyte") == analyte).select(
                "__pk",
                "event",
                pl.col("value").alias(analyte),
                pl.col("lloq").alias(f"{analyte}_lloq"),
                pl.col("below").alias(f"{analyte}_below_lloq"),
                *([pl.col("with_1ag").alias("twoag_includes_1ag")] if analyte == "twoag" else []),
            )
            wide = wide.join(part, on=["__pk", "event"], how="full", coalesce=True)
        return wide

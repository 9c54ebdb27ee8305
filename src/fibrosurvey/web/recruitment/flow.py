"""Completed-survey checks, participant-flow counts and the analysis columns of open
recruitment.

Completion is written by the survey app in a conditional UPDATE (no signal), so completed
surveys are assessed when someone looks: the staff flow page and the analysis columns call
:func:`do_assess_completed` first. An assessment is done once per visit (``assessed_at``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from itertools import pairwise
from typing import Any

import polars as pl
from django.db.models import Exists, OuterRef
from django.utils import timezone

from fibrosurvey.recruitment import (
    DEFAULT_EXCLUSION,
    ExclusionRule,
    ExclusionSummary,
    FlowStage,
    earlier_near_duplicates,
    flow_stages,
    straightlined,
    too_fast,
)
from fibrosurvey.recruitment.quality import FLOW_STAGES, join_reasons
from fibrosurvey.web.audit.services import record
from fibrosurvey.web.participants.models import Invitation
from fibrosurvey.web.recruitment.models import OpenLink, QualityFlag, Visit
from fibrosurvey.web.recruitment.services import first_event, raise_flag, screener_of
from fibrosurvey.web.studies.models import Study
from fibrosurvey.web.survey.models import PageSubmission, Response

__all__ = [
    "STRAIGHTLINE_MIN_ITEMS",
    "FlowReport",
    "do_assess_completed",
    "flow_report",
    "recruitment_frame",
    "with_recruitment_columns",
]

STRAIGHTLINE_MIN_ITEMS = 8


def _page_seconds(invitation: Invitation) -> list[float]:
    """Seconds spent on each survey page: consent (or the first page shown) to the first
    submission, then between accepted submissions."""
    times = sorted(
        PageSubmission.objects.filter(invitation=invitation).values_list("submitted_at", flat=True)
    )
    start = invitation.participant.consented_at
    marks = ([start] if start is not None else []) + times
    return [(b - a).total_seconds() for a, b in pairwise(marks)]


def _answers_by_participant(participant_ids: list[int], event_id: int) -> dict[int, list[Any]]:
    """participant id -> [(instrument id, answers), ...] in one query."""
    found: dict[int, list[Any]] = defaultdict(list)
    for participant_id, instrument_id, answers in Response.objects.filter(
        participant_id__in=participant_ids, event_id=event_id
    ).values_list("participant_id", "instrument_id", "answers"):
        found[participant_id].append((instrument_id, answers))
    return found


def _vector(responses: list[Any]) -> dict[str, Any]:
    vector: dict[str, Any] = {}
    for _, answers in responses:
        vector.update(answers)
    return vector


def do_assess_completed(study: Study) -> int:
    """Checks every open-link participant whose baseline survey is complete and unchecked:
    time per page, straight-lining, near-identical answers to an earlier participant. Returns
    how many were assessed; each new flag leaves an audit record."""
    link = OpenLink.objects.filter(study=study).first()
    if link is None:
        return 0
    event = first_event(study)
    completed = Invitation.objects.filter(
        participant=OuterRef("participant"), event=event, completed_at__isnull=False
    )
    pending = list(
        Visit.objects.filter(study=study, participant__isnull=False, assessed_at__isnull=True)
        .filter(Exists(completed))
        .order_by("visited_at", "id")
    )
    if not pending:
        return 0
    done = dict(
        Visit.objects.filter(study=study, participant__isnull=False, assessed_at__isnull=False)
        .order_by("visited_at", "id")
        .values_list("pk", "participant_id")
    )
    answers = _answers_by_participant(
        [*done.values(), *(v.participant_id for v in pending if v.participant_id)], event.pk
    )
    vectors = [(pk, _vector(answers[participant_id])) for pk, participant_id in done.items()]
    vectors += [(visit.pk, _vector(answers[visit.participant_id or 0])) for visit in pending]
    copies = earlier_near_duplicates(
        vectors,
        len(done),
        threshold=link.duplicate_threshold,
        min_items=link.duplicate_min_items,
    )
    for visit in pending:
        assert visit.participant_id is not None
        invitation = Invitation.objects.select_related("participant").get(
            participant_id=visit.participant_id, event=event
        )
        new_flags: list[str] = []
        seconds = _page_seconds(invitation)
        detail = f"survey pages: median under {link.min_page_seconds} s"
        if too_fast(seconds, link.min_page_seconds) and raise_flag(visit, "too_fast", detail):
            new_flags.append("too_fast")
        straight = [
            instrument_id
            for instrument_id, given in answers[visit.participant_id]
            if straightlined(given, list(given), STRAIGHTLINE_MIN_ITEMS)
        ]
        if straight and raise_flag(visit, "straightlining", ", ".join(straight)):
            new_flags.append("straightlining")
        copied = copies.get(visit.pk)
        if copied is not None and raise_flag(visit, "duplicate_answers", f"like visit {copied}"):
            new_flags.append("duplicate_answers")
        visit.assessed_at = timezone.now()
        visit.save(update_fields=["assessed_at"])
        if new_flags:
            record(
                "update",
                actor_label="system",
                study=study,
                obj=visit,
                after={"quality_flags": new_flags, "pages": len(seconds)},
            )
    return len(pending)


@dataclass(frozen=True)
class FlowReport:
    stages: list[FlowStage]
    by_source: dict[str, dict[str, int]]
    not_eligible: int
    quota_full: int
    exclusion: ExclusionSummary
    # (flagged, reasons) of each participant who completed: the analysis applies its plan's
    # exclusion rule to these for the flow diagram's analysed stage.
    completed_flags: list[tuple[bool, list[str]]]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, to travel with an exported dataset to the report."""
        return {
            "stages": {stage.key: stage.count for stage in self.stages},
            "counts": {stage.key: stage.count for stage in self.stages if stage.key != "analysed"},
            "completed_flags": [[flagged, reasons] for flagged, reasons in self.completed_flags],
            "by_source": self.by_source,
            "not_eligible": self.not_eligible,
            "quota_full": self.quota_full,
            "excluded_by_reason": self.exclusion.by_reason,
        }


def flow_report(study: Study, rule: ExclusionRule = DEFAULT_EXCLUSION) -> FlowReport:
    """Participant-flow counts from the database: visited, screened, eligible, enrolled,
    consented, started, completed, analysed (completed minus the quality exclusion), in total
    and per source."""
    do_assess_completed(study)
    link = OpenLink.objects.filter(study=study).first()
    event = first_event(study)
    started = Response.objects.filter(participant=OuterRef("participant"), event=event)
    completed = Invitation.objects.filter(
        participant=OuterRef("participant"), event=event, completed_at__isnull=False
    )
    flags: dict[int, list[str]] = defaultdict(list)
    for visit_id, reason in QualityFlag.objects.filter(visit__study=study).values_list(
        "visit_id", "reason"
    ):
        flags[visit_id].append(reason)
    rows = (
        Visit.objects.filter(study=study)
        .annotate(has_started=Exists(started), has_completed=Exists(completed))
        .values_list(
            "pk",
            "source",
            "screened_at",
            "eligible",
            "outcome",
            "participant__consented_at",
            "has_started",
            "has_completed",
        )
    )
    keys = [key for key, _ in FLOW_STAGES]
    by_source: dict[str, dict[str, int]] = defaultdict(lambda: dict.fromkeys(keys, 0))
    total = dict.fromkeys(keys, 0)
    not_eligible = quota_full = 0
    completed_people: list[tuple[int, bool, str]] = []
    for pk, source, screened, eligible, outcome, consented, began, finished in rows:
        enrolled = outcome == Visit.Outcome.ENROLLED
        consented_ok = enrolled and consented is not None
        reached = {
            "visited": True,
            "screened": screened is not None,
            "eligible": bool(eligible),
            "enrolled": enrolled,
            "consented": consented_ok,
            "started": consented_ok and began,
            "completed": consented_ok and began and finished,
        }
        reached["analysed"] = reached["completed"] and not rule.excludes(
            bool(flags.get(pk)), flags.get(pk, [])
        )
        if reached["completed"]:
            completed_people.append((pk, bool(flags.get(pk)), join_reasons(flags.get(pk, []))))
        not_eligible += screened is not None and eligible is False
        quota_full += outcome == Visit.Outcome.QUOTA_FULL
        for key, value in reached.items():
            by_source[source][key] += int(value)
            total[key] += int(value)
    for source in [*(link.sources if link else []), "direct"]:
        by_source.setdefault(source, dict.fromkeys(keys, 0))
    excluded = total["completed"] - total["analysed"]
    by_reason: dict[str, int] = defaultdict(int)
    for _, flagged, joined in completed_people:
        reasons = [r for r in joined.split(";") if r]
        if rule.excludes(flagged, reasons):
            for reason in reasons:
                by_reason[reason] += 1
    return FlowReport(
        stages=flow_stages(total),
        by_source=dict(sorted(by_source.items())),
        not_eligible=not_eligible,
        quota_full=quota_full,
        exclusion=ExclusionSummary(total["completed"], excluded, dict(by_reason)),
        completed_flags=[
            (flagged, [r for r in joined.split(";") if r])
            for _, flagged, joined in completed_people
        ],
    )


def recruitment_frame(study: Study) -> pl.DataFrame:
    """One row per open-link participant: ``participant_id`` (study code),
    ``recruitment_source``, one ``screener_<question>`` column per screener question,
    ``quality_flag`` and ``quality_reasons`` (codes joined by ';')."""
    do_assess_completed(study)
    link = OpenLink.objects.filter(study=study).first()
    questions = list(screener_of(link).questions) if link else []
    flags: dict[int, list[str]] = defaultdict(list)
    for visit_id, reason in QualityFlag.objects.filter(visit__study=study).values_list(
        "visit_id", "reason"
    ):
        flags[visit_id].append(reason)
    visits = Visit.objects.filter(study=study, participant__isnull=False).values_list(
        "pk", "participant__study_code", "source", "answers"
    )
    schema: dict[str, Any] = {"participant_id": pl.String, "recruitment_source": pl.String}
    schema |= {
        f"screener_{q.id}": pl.Int64 if q.kind == "integer" else pl.String for q in questions
    }
    schema |= {"quality_flag": pl.Boolean, "quality_reasons": pl.String}
    rows = [
        {
            "participant_id": code,
            "recruitment_source": source,
            **{f"screener_{q.id}": answers.get(q.id) for q in questions},
            "quality_flag": bool(flags.get(pk)),
            "quality_reasons": join_reasons(flags.get(pk, [])),
        }
        for pk, code, source, answers in visits
    ]
    return pl.DataFrame(rows, schema=schema, orient="row")


def with_recruitment_columns(frame: pl.DataFrame, study: Study) -> pl.DataFrame:
    """The analysis dataset with the recruitment columns joined on ``participant_id``;
    participants enrolled by staff get nulls (no source, not flagged)."""
    extra = recruitment_frame(study)
    clash = (set(extra.columns) - {"participant_id"}) & set(frame.columns)
    if clash:
        raise ValueError(f"the dataset already has the columns {sorted(clash)}")
    return frame.join(extra, on="participant_id", how="left")

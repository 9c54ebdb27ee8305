"""Dashboard panel "lab samples received and flagged" (hook called by the dashboard app).

A sample is flagged when any of these holds (each counted separately too):
- more than ``MAX_MINUTES_TO_CENTRIFUGE`` minutes from draw to centrifugation (the default
  analysis plan's quality rule: such samples are excluded in a sensitivity analysis);
- any analyte below its LLOQ;
- 2-AG measured together with 1-AG.
"""

from __future__ import annotations

from typing import Any

from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, OuterRef, Q

from fibrosurvey.dataset import MAX_MINUTES_TO_CENTRIFUGE
from fibrosurvey.web.labs.models import LabResult, LabSample
from fibrosurvey.web.studies.models import Membership, Study
from fibrosurvey.web.studies.permissions import filter_to_site

__all__ = ["MAX_MINUTES_TO_CENTRIFUGE", "flagged_samples", "lab_sample_summary"]


def flagged_samples(study: Study, membership: Membership) -> Any:
    """The member's visible samples annotated with ``delayed``, ``below``, ``with_1ag``."""
    samples = filter_to_site(
        LabSample.objects.filter(participant__study=study), membership, "participant__site"
    )
    return samples.annotate(
        below=Exists(LabResult.objects.filter(sample=OuterRef("pk"), below_lloq=True)),
        with_1ag=Exists(LabResult.objects.filter(sample=OuterRef("pk"), includes_1ag=True)),
    ).annotate(
        delayed=ExpressionWrapper(
            Q(minutes_to_centrifuge__gt=MAX_MINUTES_TO_CENTRIFUGE), output_field=BooleanField()
        ),
    )


def lab_sample_summary(study: Study, membership: Membership) -> dict[str, Any]:
    """``received``, ``flagged`` and the three flag counts, in total and ``by_site``."""
    samples = flagged_samples(study, membership)
    flag = Q(delayed=True) | Q(below=True) | Q(with_1ag=True)
    rows = (
        samples.values("participant__site__code")
        .annotate(
            received=Count("pk"),
            flagged=Count("pk", filter=flag),
            delayed_n=Count("pk", filter=Q(delayed=True)),
            below_n=Count("pk", filter=Q(below=True)),
            with_1ag_n=Count("pk", filter=Q(with_1ag=True)),
        )
        .order_by("participant__site__code")
    )
    by_site: dict[str, dict[str, int]] = {}
    totals = {"received": 0, "flagged": 0, "delayed": 0, "below_lloq": 0, "includes_1ag": 0}
    for row in rows:
        counts = {
            "received": row["received"],
            "flagged": row["flagged"],
            "delayed": row["delayed_n"],
            "below_lloq": row["below_n"],
            "includes_1ag": row["with_1ag_n"],
        }
        by_site[row["participant__site__code"]] = counts
        for key, value in counts.items():
            totals[key] += value
    return {**totals, "by_site": by_site, "max_minutes": MAX_MINUTES_TO_CENTRIFUGE}

"""Correcting or retracting one stored lab result, always with a reason.

The row keeps the value in force; the old value and the reason go to the audit trail (action
``update``, before and after), and the row's ``status`` says whether it was corrected. A
retracted result leaves ``LabResult.objects`` and so the analysis dataset; the same analyte can
then be imported again for that sample.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.http import Http404
from django.utils import timezone

from fibrosurvey.biomarkers import UNITS, UnitError, canonical_unit, conversion_factor
from fibrosurvey.web.audit.services import record, snapshot
from fibrosurvey.web.labs.models import LabResult
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import filter_to_site

__all__ = [
    "MAX_REASON_CHARS",
    "LabCorrectionError",
    "clean_reason",
    "do_correct_result",
    "do_retract_result",
    "parse_corrected_value",
    "visible_result",
]

MAX_REASON_CHARS = 1000
_AUDITED = [
    "analyte",
    "value_pmol_ml",
    "lloq",
    "below_lloq",
    "unit_reported",
    "status",
    "status_reason",
]


@dataclass(frozen=True)
class LabCorrectionError(ValueError):
    """Nothing was changed: ``field`` has a problem, ``allowed`` says what it takes."""

    field: str
    value: str
    allowed: str
    message: str

    def __str__(self) -> str:
        return f"{self.field}: {self.message} (allowed: {self.allowed})"


def visible_result(membership: Membership, result_id: int) -> LabResult:
    """A result of the member's study (and site), retracted ones included; else 404."""
    results = LabResult.all_results.filter(sample__participant__study=membership.study)
    results = filter_to_site(results, membership, "sample__participant__site")
    found = (
        results.select_related("sample__participant", "sample__event", "status_changed_by")
        .filter(pk=result_id)
        .first()
    )
    if found is None:
        raise Http404("no such lab result")
    return found


def clean_reason(reason: str) -> str:
    """The reason, stripped; required and at most MAX_REASON_CHARS long."""
    text = (reason or "").strip()
    if not text:
        raise LabCorrectionError(
            "reason", "", "a few words on why (e.g. transcription error)", "a reason is required"
        )
    if len(text) > MAX_REASON_CHARS:
        raise LabCorrectionError(
            "reason", f"{len(text)} characters", f"at most {MAX_REASON_CHARS}", "too long"
        )
    return text


def parse_corrected_value(value: str, unit: str, result: LabResult) -> tuple[float, bool, str]:
    """(pmol/mL to store, below LLOQ, canonical unit), by the import's rules: a value below
    the LLOQ, or written ``<...``, is stored as the LLOQ with the flag. The same value as the
    one in force is refused: a correction must change something."""
    pmol, below, canonical = _converted(value, unit, result)
    if math.isclose(pmol, result.value_pmol_ml, rel_tol=1e-12) and below == result.below_lloq:
        raise LabCorrectionError(
            "value", value, "a value other than the one in force", "the same as the stored value"
        )
    return pmol, below, canonical


def _converted(value: str, unit: str, result: LabResult) -> tuple[float, bool, str]:
    allowed_units = ", ".join(sorted(set(UNITS.values())))
    try:
        canonical = canonical_unit(unit)
    except UnitError:
        raise LabCorrectionError("unit", unit, allowed_units, "unknown unit") from None
    text = (value or "").strip()
    below = text.startswith("<")
    if below:
        if result.lloq is None:
            raise LabCorrectionError(
                "value", text, "a number >= 0", "this result has no LLOQ to store instead"
            )
        return result.lloq, True, canonical
    try:
        number = float(text)
    except ValueError:
        raise LabCorrectionError("value", text, "a number >= 0, or <LLOQ", "not a number") from None
    if not math.isfinite(number) or number < 0:
        raise LabCorrectionError("value", text, "a finite number >= 0", "not a concentration")
    pmol = number * conversion_factor(canonical, result.analyte)
    if result.lloq is not None and pmol < result.lloq:
        return result.lloq, True, canonical
    return pmol, False, canonical


def _change(result: LabResult, actor: Any, request: Any, reason: str, **fields: Any) -> LabResult:
    """Apply ``fields`` under a row lock, stamp who/when/why, and audit old and new values."""
    with transaction.atomic():
        locked = LabResult.all_results.select_for_update().get(pk=result.pk)
        if locked.status == LabResult.Status.RETRACTED:
            raise LabCorrectionError(
                "status",
                locked.status,
                "a result in force",
                "already retracted; import the right value again instead",
            )
        before = snapshot(locked, _AUDITED)
        for name, value in fields.items():
            setattr(locked, name, value)
        locked.status_reason = reason
        locked.status_changed_at = timezone.now()
        locked.status_changed_by = actor if getattr(actor, "is_authenticated", False) else None
        locked.save()
        sample = locked.sample
        record(
            "update",
            actor=actor,
            study=sample.participant.study_id,
            obj=locked,
            before=before,
            after=snapshot(locked, _AUDITED)
            | {
                "participant": sample.participant.study_code,
                "event": sample.event.code,
            },
            request=request,
        )
    return locked


def do_correct_result(
    result: LabResult, *, value: str, unit: str, reason: str, actor: Any, request: Any = None
) -> LabResult:
    """Replace the value in force (given in ``unit``, converted to pmol/mL)."""
    why = clean_reason(reason)
    pmol, below, canonical = parse_corrected_value(value, unit, result)
    return _change(
        result,
        actor,
        request,
        why,
        value_pmol_ml=pmol,
        below_lloq=below,
        unit_reported=canonical,
        status=LabResult.Status.CORRECTED,
    )


def do_retract_result(
    result: LabResult, *, reason: str, actor: Any, request: Any = None
) -> LabResult:
    """Withdraw the result: kept for the record, out of every analysis."""
    return _change(result, actor, request, clean_reason(reason), status=LabResult.Status.RETRACTED)

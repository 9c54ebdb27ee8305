"""Safety alerts as cases: open -> contacted -> closed, each step a note in the case's
history and a record in the audit trail."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from fibrosurvey.instruments import get_instrument, safety_item
from fibrosurvey.web.audit.services import record, snapshot
from fibrosurvey.web.survey.models import SafetyAlert, SafetyAlertNote

__all__ = ["AlertAnswer", "alert_answer", "do_update_alert_case"]

_CASE_FIELDS = ["status", "acknowledged_at", "acknowledged_by"]


@dataclass(frozen=True)
class AlertAnswer:
    question: str  # the item's text
    label: str  # the chosen option's label ("More than half the days")
    value: int  # its code


def alert_answer(alert: SafetyAlert, language: str) -> AlertAnswer:
    """The question and the answer's label, in ``language`` (English when missing), from
    the instrument definition: staff read what the participant read, not a code."""
    item_rule = safety_item()
    instrument = get_instrument(item_rule.instrument_id)
    item = next(i for i in instrument.items if i.column == alert.item_column)
    labels = {option.code: option.label for option in item.options}
    label = labels.get(alert.value, {})
    return AlertAnswer(
        question=item.text.get(language) or item.text.get("en", alert.item_column),
        label=label.get(language) or label.get("en", str(alert.value)),
        value=alert.value,
    )


@transaction.atomic
def do_update_alert_case(
    alert: SafetyAlert,
    *,
    actor: User,
    status: str,
    note: str = "",
    request: HttpRequest | None = None,
) -> SafetyAlertNote:
    """Add a step to the case: a note and the status it leaves the case in (the same status
    for a note only). Closing records who and when; reopening clears them."""
    if status not in SafetyAlert.Status.values:
        raise ValueError(f"unknown status {status!r}; allowed: {', '.join(SafetyAlert.Status)}")
    alert = SafetyAlert.objects.select_for_update().get(pk=alert.pk)
    before = snapshot(alert, _CASE_FIELDS)
    step = SafetyAlertNote.objects.create(
        alert=alert,
        author=actor,
        author_label=actor.get_username(),
        status_before=alert.status,
        status_after=status,
        text=note,
    )
    alert.status = status
    if status == SafetyAlert.Status.CLOSED:
        alert.acknowledged_at = alert.acknowledged_at or timezone.now()
        alert.acknowledged_by = alert.acknowledged_by or actor
    else:
        alert.acknowledged_at = None
        alert.acknowledged_by = None
    alert.note = note or alert.note
    alert.save(update_fields=[*_CASE_FIELDS, "note"])
    record(
        "acknowledge" if status == SafetyAlert.Status.CLOSED else "update",
        actor=actor,
        study=alert.study_id,
        obj=alert,
        before=before,
        after=snapshot(alert, _CASE_FIELDS) | {"note": note},
        request=request,
    )
    return step

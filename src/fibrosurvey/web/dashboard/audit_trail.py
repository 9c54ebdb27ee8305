"""The audit trail page's reading of the records: filters (participant, user, action,
dates), the changed fields of each record as a diff, and the rows of the CSV download.

It lives in the dashboard app, above the features, because the participant filter must know
which records are about a participant (their invitations, responses, alerts, lab samples).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from django import forms
from django.db.models import Q, QuerySet
from django.utils.translation import gettext_lazy as _

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.studies.codes import CODE_MAX_LENGTH
from fibrosurvey.web.studies.models import Study

__all__ = ["AuditFilterForm", "Change", "changes", "filtered_records", "trail_frame"]


class AuditFilterForm(forms.Form):
    participant = forms.CharField(
        label=_("Participant (study code)"), required=False, max_length=CODE_MAX_LENGTH
    )
    user = forms.CharField(label=_("User"), required=False, max_length=150)
    action = forms.ChoiceField(label=_("Action"), required=False)
    date_from = forms.DateField(
        label=_("From"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    date_to = forms.DateField(
        label=_("To"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        action = self.fields["action"]
        assert isinstance(action, forms.ChoiceField)
        action.choices = [("", _("all")), *((a, a) for a in AuditRecord.Action.values)]


def _about_participant(participant: Participant) -> Q:
    """Records of the participant and of their objects. Matched by the object's stored
    description as well as its id, so records of deleted objects (withdraw and delete) are
    still found; one query for the lab samples, which describe themselves by event."""
    pk = participant.pk
    lab_samples = [str(i) for i in participant.lab_samples.values_list("pk", flat=True)]
    return (
        Q(object_type="participants.participant", object_id=str(pk))
        | Q(object_type="participants.contactdetails", object_id=str(pk))
        | Q(object_type="participants.invitation", object_repr__startswith=f"invitation {pk}/")
        | Q(object_type="survey.response", object_repr__startswith=f"{pk}/")
        | Q(object_type="survey.safetyalert", object_repr__startswith=f"safety alert {pk} ")
        | Q(object_type="labs.labsample", object_repr__startswith=f"lab sample {pk}/")
        | Q(object_type="labs.labsample", object_id__in=lab_samples)
    )


def filtered_records(study: Study, filters: dict[str, Any]) -> QuerySet[AuditRecord]:
    """The study's records matching the cleaned filters (empty values: no filter)."""
    records = AuditRecord.objects.filter(study=study)
    code = (filters.get("participant") or "").strip()
    if code:
        participant = study.participants.filter(study_code=code).first()
        if participant is None:
            return records.none()
        records = records.filter(_about_participant(participant))
    user = (filters.get("user") or "").strip()
    if user:
        records = records.filter(actor_label=user)
    if filters.get("action"):
        records = records.filter(action=filters["action"])
    if filters.get("date_from"):
        records = records.filter(at__date__gte=filters["date_from"])
    if filters.get("date_to"):
        records = records.filter(at__date__lte=filters["date_to"])
    return records.select_related("actor")


@dataclass(frozen=True)
class Change:
    field: str
    before: Any  # None: the field was not there (created)
    after: Any  # None: the field is gone (deleted)


def changes(record: AuditRecord) -> list[Change]:
    """Only what changed: fields whose value differs between before and after; nested
    dictionaries (answers) compared key by key, as ``answers.phq9_9``."""
    before = record.before if isinstance(record.before, dict) else {}
    after = record.after if isinstance(record.after, dict) else {}
    if record.before is not None and not isinstance(record.before, dict):
        before = {"value": record.before}
    if record.after is not None and not isinstance(record.after, dict):
        after = {"value": record.after}
    out: list[Change] = []
    for key in [*before, *(k for k in after if k not in before)]:
        old, new = before.get(key), after.get(key)
        if isinstance(old, dict) and isinstance(new, dict):
            out.extend(
                Change(f"{key}.{sub}", old.get(sub), new.get(sub))
                for sub in [*old, *(k for k in new if k not in old)]
                if old.get(sub) != new.get(sub)
            )
        elif old != new or key not in before or key not in after:
            out.append(Change(key, old, new))
    return out


def _as_text(value: Any) -> str:
    return "" if value is None else str(value)


def trail_frame(records: QuerySet[AuditRecord]) -> pl.DataFrame:
    """One row per record for the CSV download (the page's columns, changes as text)."""
    rows = [
        {
            "at_utc": record.at.isoformat(),
            "user": record.actor_label,
            "action": record.action,
            "object_type": record.object_type,
            "object_id": record.object_id,
            "object": record.object_repr,
            "changes": "; ".join(
                f"{c.field}: {_as_text(c.before)} -> {_as_text(c.after)}" for c in changes(record)
            ),
        }
        for record in records.iterator(chunk_size=2000)
    ]
    schema = dict.fromkeys(
        ["at_utc", "user", "action", "object_type", "object_id", "object", "changes"], pl.String
    )
    return pl.DataFrame(rows, schema=schema)

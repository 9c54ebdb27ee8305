"""Withdrawal: every open link stops working; optionally the research data is deleted."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone

from fibrosurvey.web.audit.services import record, snapshot
from fibrosurvey.web.participants.models import (
    ContactDetails,
    Participant,
    WithdrawalKind,
    WithdrawalReason,
)

__all__ = [
    "do_withdraw_participant",
]


def _delete_research_data(participant: Participant) -> dict[str, int]:
    """Delete the participant's research data; returns how many rows of each kind went.

    Consent records stay (they prove what was agreed, not research data), and so does the
    pseudonymous participant row, which carries the withdrawal for every output.
    """
    from fibrosurvey.web.exports.models import DesignVariables
    from fibrosurvey.web.labs.models import LabResult, LabSample
    from fibrosurvey.web.survey.models import Response, SafetyAlert

    counts = {
        "responses": Response.objects.filter(participant=participant).count(),
        "safety_alerts": SafetyAlert.objects.filter(participant=participant).count(),
        "lab_samples": LabSample.objects.filter(participant=participant).count(),
        "lab_results": LabResult.objects.filter(sample__participant=participant).count(),
        "design_variables": DesignVariables.objects.filter(participant=participant).count(),
    }
    SafetyAlert.objects.filter(participant=participant).delete()
    Response.objects.filter(participant=participant).delete()
    LabSample.objects.filter(participant=participant).delete()  # cascades to its results
    DesignVariables.objects.filter(participant=participant).delete()
    # Nobody may contact them again either: the contact details go with the data.
    ContactDetails.objects.filter(participant=participant).update(email="", phone="", name="")
    return counts


@transaction.atomic
def do_withdraw_participant(
    participant: Participant,
    *,
    actor: User,
    kind: str = WithdrawalKind.NO_FURTHER_CONTACT,
    reason: str = WithdrawalReason.PARTICIPANT_REQUEST,
    request: HttpRequest | None = None,
) -> Participant:
    """Withdraw a participant: every open link stops working and no invitation is issued
    again. ``kind`` "no_further_contact" keeps the data given so far; "withdraw_and_delete"
    also deletes their research data (responses, safety alerts, lab samples and results,
    design variables) and contact details, leaving counts in the audit record."""
    if kind not in WithdrawalKind.values:
        raise ValueError(f"unknown withdrawal kind {kind!r}; allowed: {', '.join(WithdrawalKind)}")
    if reason not in WithdrawalReason.values:
        raise ValueError(
            f"unknown withdrawal reason {reason!r}; allowed: {', '.join(WithdrawalReason)}"
        )
    participant = Participant.objects.select_for_update().get(pk=participant.pk)
    if participant.withdrawn_at is not None:
        return participant
    fields = ["withdrawn_at", "withdrawal_kind", "withdrawal_reason"]
    before = snapshot(participant, fields)
    participant.withdrawn_at = timezone.now()
    participant.withdrawal_kind = kind
    participant.withdrawal_reason = reason
    participant.save(update_fields=fields)
    participant.invitations.filter(revoked_at__isnull=True).update(
        revoked_at=participant.withdrawn_at
    )
    after = snapshot(participant, fields)
    if kind == WithdrawalKind.WITHDRAW_AND_DELETE:
        after["deleted"] = _delete_research_data(participant)
    record(
        "update",
        actor=actor,
        study=participant.study_id,
        obj=participant,
        before=before,
        after=after,
        request=request,
    )
    return participant

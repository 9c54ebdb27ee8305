"""Whether answers may be written for an invitation: the ONE rule every write path asks.

The web survey pages, the FHIR API and staff data entry all call :func:`write_refusal` (or
:func:`require_may_write`) instead of checking consent or completion themselves, so a change
of the rule (e.g. a new consent version) applies to every path at once.
``survey.services.do_save_page`` calls it too, so a path that forgets still cannot write.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from fibrosurvey.web.participants.models import Invitation

__all__ = ["AnswersRefused", "WriteRefusal", "require_may_write", "write_refusal"]


@dataclass(frozen=True)
class WriteRefusal:
    reason: Literal["withdrawn", "consent", "completed"]
    message: str


class AnswersRefused(PermissionError):
    """Answers cannot be stored for this invitation; ``refusal`` says why."""

    def __init__(self, refusal: WriteRefusal):
        self.refusal = refusal
        super().__init__(refusal.message)


def write_refusal(invitation: Invitation, *, staff_entry: bool = False) -> WriteRefusal | None:
    """Why answers may not be written for ``invitation`` now, or None when they may.

    ``staff_entry``: a coordinator entering or correcting answers (a paper form, with a
    reason in the audit trail) may do so after the survey is complete; withdrawal and
    consent apply to every write. Reads only what ``find_invitation`` already loaded
    (participant, study): no query.
    """
    participant = invitation.participant
    study = participant.study
    if participant.withdrawn_at is not None:
        return WriteRefusal("withdrawn", "the participant has withdrawn from the study")
    if participant.consented_at is None or participant.consent_version != study.consent_version:
        given = (
            f"consent version {participant.consent_version}"
            if participant.consented_at is not None
            else "no consent"
        )
        return WriteRefusal(
            "consent",
            f"the participant has not accepted the study's current consent (version "
            f"{study.consent_version}; on record: {given}); open the survey link to consent first",
        )
    if invitation.completed_at is not None and not staff_entry:
        return WriteRefusal(
            "completed",
            "the survey is complete; answers can change only after the study team reopens it",
        )
    return None


def require_may_write(invitation: Invitation) -> None:
    refusal = write_refusal(invitation)
    if refusal is not None:
        raise AnswersRefused(refusal)

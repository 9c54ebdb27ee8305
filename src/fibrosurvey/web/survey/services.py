"""Saving what participants answer: consent, language, and one page at a time.

Every page is validated by the core (``fibrosurvey.validation.validate_response``), saved in
one transaction, scored by the core (``fibrosurvey.scoring.score_response``) when its
instrument is complete, and audited with before/after. A replayed page (same invitation,
page and nonce) or a second copy of it (another tab) leaves exactly one response. Whether
answers may be written at all is ``survey.rules``' one decision.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.http import HttpRequest
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from fibrosurvey.instruments import Item, safety_item
from fibrosurvey.scoring import score_response
from fibrosurvey.tables import json_cell
from fibrosurvey.validation import Problem, validate_response
from fibrosurvey.web.audit.services import record, snapshot
from fibrosurvey.web.ops.text import one_line
from fibrosurvey.web.outbox.services import enqueue_email
from fibrosurvey.web.participants.models import Invitation
from fibrosurvey.web.studies.permissions import safety_alert_recipients
from fibrosurvey.web.studies.services import freeze_instrument_version
from fibrosurvey.web.survey.forms import MAX_TEXT_LENGTH
from fibrosurvey.web.survey.models import (
    ConsentRecord,
    IdentifierAnswer,
    PageSubmission,
    Response,
    SafetyAlert,
)
from fibrosurvey.web.survey.pages import SurveyPage, battery_logic, next_shown, page_plan
from fibrosurvey.web.survey.rules import AnswersRefused, require_may_write, write_refusal
from fibrosurvey.web.survey.units import entry_for, read_imperial

__all__ = [
    "SAFETY_ITEM",
    "PageResult",
    "do_choose_language",
    "do_record_consent",
    "do_reopen_survey",
    "do_save_page",
    "event_answers",
    "instrument_answers",
    "parse_page_answers",
    "survey_pages",
]

# PHQ-9 item 9 (thoughts of self-harm): the answers its instrument file flags raise an alert.
SAFETY_ITEM = safety_item()


def survey_pages(invitation: Invitation) -> tuple[SurveyPage, ...]:
    return page_plan(
        invitation.event.current_instrument_ids(), invitation.participant.study.country
    )


def event_answers(invitation: Invitation) -> dict[str, Any]:
    """Every answer stored for this invitation's event, by column (all instruments)."""
    rows = Response.objects.filter(
        participant_id=invitation.participant_id, event_id=invitation.event_id
    )
    merged: dict[str, Any] = {}
    for answers in rows.values_list("answers", flat=True):
        merged.update(answers)
    return merged


def instrument_answers(invitation: Invitation, instrument_id: str) -> dict[str, Any]:
    """The answers stored for one instrument of this invitation's event, by column."""
    answers: dict[str, Any] = (
        Response.objects.filter(
            participant_id=invitation.participant_id,
            event_id=invitation.event_id,
            instrument_id=instrument_id,
        )
        .values_list("answers", flat=True)
        .first()
        or {}
    )
    return answers


def _participant_label(invitation: Invitation) -> str:
    return f"participant {invitation.participant.study_code}"


@transaction.atomic
def do_record_consent(invitation: Invitation, *, language: str) -> ConsentRecord:
    participant = invitation.participant
    study = participant.study
    before = snapshot(participant, ["consent_version", "consented_at"])
    consent = ConsentRecord.objects.create(
        participant=participant, version=study.consent_version, language=language
    )
    participant.consent_version = study.consent_version
    participant.consented_at = consent.accepted_at
    participant.save(update_fields=["consent_version", "consented_at"])
    record(
        "consent",
        actor_label=_participant_label(invitation),
        study=study.pk,
        obj=participant,
        before=before,
        after=snapshot(participant, ["consent_version", "consented_at"]) | {"language": language},
    )
    return consent


@transaction.atomic
def do_choose_language(invitation: Invitation, *, language: str) -> None:
    participant = invitation.participant
    if language not in participant.study.languages:
        raise ValueError(
            f"language {language!r} is not offered; allowed: {participant.study.languages}"
        )
    if participant.language != language:
        before = snapshot(participant, ["language"])
        participant.language = language
        participant.save(update_fields=["language"])
        record(
            "update",
            actor_label=_participant_label(invitation),
            study=participant.study_id,
            obj=participant,
            before=before,
            after=snapshot(participant, ["language"]),
        )
    if not invitation.language_chosen:
        invitation.language_chosen = True
        invitation.save(update_fields=["language_chosen"])


# "25,5": a decimal comma, as most of the world writes it (and as Spanish keyboards type it).
_DECIMAL_COMMA = re.compile(r"^([+-]?\d+),(\d+)$")


def parse_page_answers(page: SurveyPage, data: Any) -> dict[str, str | None]:
    """Raw form values for the page's items: stripped text, blank -> None (missing).

    A number written with a decimal comma is read with a decimal point, in every language
    ("25,5" is 25.5); any other text is passed on as typed, for validation to refuse with a
    message. On a checklist page an unticked box is an answer: 0 (No).
    A US study's height and weight come in feet and inches, and pounds: read as cm and kg.
    """
    answers: dict[str, str | None] = {}
    checklist = page.display == "checklist"
    for item in page.items:
        entry = entry_for(item, page.country)
        if entry != "number":
            answers[item.column] = read_imperial(entry, item.column, data)
            continue
        value = (data.get(item.column) or "").strip()
        if item.kind in ("integer", "number"):
            value = _DECIMAL_COMMA.sub(r"\1.\2", value)
        elif checklist and not value:
            value = "0"
        answers[item.column] = value or None
    return answers


def _required(page: SurveyPage, disabled: set[str]) -> list[str]:
    """Items of the page that must be answered to move on (never one skip logic hides).

    Every item of an instrument scored only when complete (the FSQ: one blank would leave no
    ACR classification), and items marked ``required``.
    """
    return [
        item.column
        for item in page.items
        if (page.every_answer_needed or item.required) and item.column not in disabled
    ]


def _typed(item: Item, value: str | None) -> int | float | str | None:
    """A validated answer as a number, or as text for text and date (ISO) items (the core has
    already accepted it)."""
    if value is None or item.kind in ("text", "date"):
        return value
    number = float(value.replace(",", ".")) if item.kind == "number" else float(value)
    if item.kind == "number" and not number.is_integer():
        return number
    return int(number)


@dataclass
class PageResult:
    saved: bool  # False when validation failed or the form had no nonce (nothing stored)
    problems: dict[str, Problem] = field(default_factory=dict)
    replayed: bool = False  # the same form (invitation, page, nonce) was already processed
    changed: bool = False  # the stored response changed
    # The stored PHQ-9 item 9 answer on this page is above 0 (replays included): show the
    # safety information.
    safety_alert: bool = False
    completed_survey: bool = False
    reload_needed: bool = False  # no usable nonce: the participant must reload the page
    # The page index the participant goes to: ``moving_to``, past pages skip logic hides.
    moved_to: int = 0


# Forms carry a random nonce (views.page); a missing or oversized one is not a form we sent.
MAX_NONCE_LENGTH = 64


def _claim_nonce(invitation: Invitation, nonce: str, page_index: int) -> bool:
    """Record this form's nonce; False when it was already recorded (a replay).

    ``INSERT ... ON CONFLICT DO NOTHING`` instead of catching an IntegrityError: no savepoint
    round trips, and a concurrent copy of the same form waits on the unique index and then
    finds the nonce taken.
    """
    table = connection.ops.quote_name(PageSubmission._meta.db_table)
    submitted_at = connection.ops.adapt_datetimefield_value(timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (invitation_id, nonce, page_index, submitted_at) "
            "VALUES (%s, %s, %s, %s) "
            "ON CONFLICT (invitation_id, page_index, nonce) DO NOTHING RETURNING id",
            [invitation.pk, nonce, page_index, submitted_at],
        )
        return cursor.fetchone() is not None


def _stored_safety_answer(invitation: Invitation, page: SurveyPage) -> bool:
    """Whether this page holds PHQ-9 item 9 and its stored answer raises an alert."""
    if page.instrument.id != SAFETY_ITEM.instrument_id or SAFETY_ITEM.column not in page.columns:
        return False
    answers = (
        Response.objects.filter(
            participant_id=invitation.participant_id,
            event_id=invitation.event_id,
            instrument_id=SAFETY_ITEM.instrument_id,
        )
        .values_list("answers", flat=True)
        .first()
        or {}
    )
    return SAFETY_ITEM.raised_by(answers.get(SAFETY_ITEM.column))


def _replay(invitation: Invitation, page: SurveyPage) -> PageResult:
    # The first copy may have failed to show the safety page (a lost reply, a resubmitted
    # form): what is stored decides, not what this copy did.
    return PageResult(
        saved=True, replayed=True, safety_alert=_stored_safety_answer(invitation, page)
    )


def do_save_page(
    invitation: Invitation,
    page: SurveyPage,
    raw: dict[str, str | None],
    *,
    nonce: str,
    moving_to: int,
    pages: tuple[SurveyPage, ...] | None = None,
    require_answers: bool = False,
    entered_by: User | None = None,
    reason: str = "",
) -> PageResult:
    """Validate and store one page; ``moving_to`` is the page index the participant goes to
    (len(pages) = finished). ``pages`` is the survey's page plan when the caller has it.
    ``require_answers``: the participant moves on in the survey, so the page's required items
    (:func:`_required`) must be answered; going back, switching language and data from other
    systems (the FHIR API) store what is given.

    ``entered_by``: a staff member entering the page for the participant (a paper form), with
    the ``reason`` the audit record keeps; a completed survey stays completed.

    Raises :class:`AnswersRefused` when the write rule (``survey.rules``) refuses; a replay of
    a form already stored is still recognised then (its reply is the same as the first's).
    """
    usable_nonce = bool(nonce) and len(nonce) <= MAX_NONCE_LENGTH
    staff_entry = entered_by is not None
    if staff_entry and not reason.strip():
        raise ValueError("staff data entry needs a reason for the audit trail")
    refusal = write_refusal(invitation, staff_entry=staff_entry)
    if refusal is not None:
        if (
            usable_nonce
            and PageSubmission.objects.filter(
                invitation=invitation, page_index=page.index, nonce=nonce
            ).exists()
        ):
            return _replay(invitation, page)
        raise AnswersRefused(refusal)
    if not usable_nonce:
        return PageResult(saved=False, reload_needed=True)
    instrument_id = page.instrument.id
    pages = pages if pages is not None else survey_pages(invitation)
    logic = battery_logic(pages)
    battery = [p.instrument.id for p in pages]
    # Gates sit on earlier pages (the loader enforces it within an instrument), so what this
    # page asks follows from the answers stored before it. Instruments without skip logic
    # (most) need no read of the event's answers.
    instrument_gated = any(item.gated for item in page.instrument.items)
    stored = event_answers(invitation) if instrument_gated else {}
    required = _required(page, logic.disabled_columns({**stored, **raw})) if require_answers else []
    report = validate_response(
        raw,
        instrument_id,
        required=required,
        context=stored,
        battery=battery,
        country=page.country,
    )
    problems = {p.column: p for p in report.problems} | _too_long(page, raw)
    if problems:
        return PageResult(saved=False, problems=problems)
    disabled = logic.disabled_columns({**stored, **raw})
    typed = {
        item.column: _typed(item, raw[item.column])
        for item in page.items
        if item.column not in disabled
    }
    # Direct identifiers never go into the response: they are stored apart, encrypted.
    identifiers = {item.column: typed.pop(item.column) for item in page.items if item.identifier}
    identifier_columns = {item.column for item in page.instrument.items if item.identifier}
    page_count = len(pages)
    participant = invitation.participant
    result = PageResult(saved=True)
    with transaction.atomic():
        if not _claim_nonce(invitation, nonce, page.index):
            return _replay(invitation, page)
        # Django calls a callable default only when it creates the row; the stubs expect a value.
        response, created = Response.objects.select_for_update().get_or_create(  # type: ignore[misc]
            participant=participant,
            event=invitation.event,
            instrument_id=instrument_id,
            # Only a new response freezes (and reads) the study's instrument version.
            defaults={
                "instrument_version": lambda: freeze_instrument_version(
                    participant.study_id, instrument_id
                )
            },
        )
        before = {
            "answers": dict(response.answers),
            "status": response.status,
            "scores": response.scores,
        }
        answers = dict(response.answers) | typed
        # A changed gate hides what it gated: those answers are no longer kept.
        hidden = logic.disabled_columns({**stored, **answers}) if instrument_gated else set()
        answers = {column: value for column, value in answers.items() if column not in hidden}
        complete = set(page.instrument.item_columns()) <= set(answers) | hidden | identifier_columns
        response.answers = answers
        if complete:
            response.status = Response.Status.COMPLETE
            response.completed_at = response.completed_at or timezone.now()
            scores = score_response(answers, instrument_id)
            response.scores = {column: json_cell(value) for column, value in scores.items()}
        after = {"answers": response.answers, "status": response.status, "scores": response.scores}
        result.changed = created or after != before
        if result.changed:
            response.save(update_fields=["answers", "status", "scores", "completed_at", "updated"])
        _save_identifiers(invitation, instrument_id, identifiers, entered_by, reason)
        step = -1 if moving_to < page.index else 1
        moving_to = next_shown(
            pages, moving_to, step, lambda: {**event_answers(invitation), **answers}
        )
        result.moved_to = moving_to
        progress: dict[str, Any] = {"current_page": min(moving_to, page_count - 1)}
        if moving_to >= page_count:
            progress["completed_at"] = timezone.now()
            result.completed_survey = True
        if staff_entry and invitation.completed_at is not None:
            # A correction after completion: the participant's progress stays as it was.
            progress = {}
            result.completed_survey = False
        # Conditional on "not completed": another tab that finished the survey first wins, and
        # this copy is refused (rolled back) like any write after completion.
        elif not Invitation.objects.filter(pk=invitation.pk, completed_at__isnull=True).update(
            **progress
        ):
            invitation.refresh_from_db(fields=["completed_at", "current_page"])
            require_may_write(invitation)
        for name, value in progress.items():
            setattr(invitation, name, value)
        safety_answer = typed.get(SAFETY_ITEM.column)
        if instrument_id == SAFETY_ITEM.instrument_id and SAFETY_ITEM.raised_by(safety_answer):
            result.safety_alert = True
            _raise_safety_alert(invitation, response, int(safety_answer or 0))
        # The audit trail's chain head is one row every submission locks; writing the record
        # last keeps that lock for the shortest time (until the commit).
        if result.changed:
            record(
                "create" if created else "update",
                actor=entered_by,
                actor_label="" if staff_entry else _participant_label(invitation),
                study=participant.study_id,
                obj=response,
                before=None if created else before,
                after=after | ({"staff_entry_reason": reason.strip()} if staff_entry else {}),
            )
    return result


def _too_long(page: SurveyPage, raw: dict[str, str | None]) -> dict[str, Problem]:
    """Free-text answers longer than the survey takes (the input's maxlength, checked here
    for forms not sent by a browser)."""
    return {
        item.column: Problem(
            None,
            item.column,
            "",
            f"at most {MAX_TEXT_LENGTH} characters",
            f"too long: {len(raw[item.column] or '')} characters",
        )
        for item in page.items
        if item.kind == "text" and len(raw.get(item.column) or "") > MAX_TEXT_LENGTH
    }


def _save_identifiers(
    invitation: Invitation,
    instrument_id: str,
    identifiers: dict[str, int | float | str | None],
    entered_by: User | None,
    reason: str,
) -> None:
    """Store identifier answers encrypted (like contact details); each change is audited by
    column only: the audit trail never holds an identifier's value."""
    participant = invitation.participant
    for column, value in identifiers.items():
        text = "" if value is None else str(value)
        row = IdentifierAnswer.objects.filter(
            participant=participant, instrument_id=instrument_id, column=column
        ).first()
        if row is None and not text:
            continue
        if row is not None and row.value == text:
            continue
        created = row is None
        if row is None:
            row = IdentifierAnswer(
                participant=participant, instrument_id=instrument_id, column=column
            )
        row.value = text
        row.save()
        record(
            "create" if created else "update",
            actor=entered_by,
            actor_label="" if entered_by is not None else _participant_label(invitation),
            study=participant.study_id,
            obj=row,
            after={
                "instrument_id": instrument_id,
                "column": column,
                "value": "(encrypted, not recorded)" if text else "(emptied)",
            }
            | ({"staff_entry_reason": reason.strip()} if entered_by is not None else {}),
        )


def _raise_safety_alert(invitation: Invitation, response: Response, value: int) -> None:
    participant = invitation.participant
    alert, created = SafetyAlert.objects.get_or_create(
        participant=participant,
        event=invitation.event,
        item_column=SAFETY_ITEM.column,
        defaults={"study_id": participant.study_id, "response": response, "value": value},
    )
    if created:
        record(
            "create",
            actor_label=_participant_label(invitation),
            study=participant.study_id,
            obj=alert,
            after=snapshot(alert),
        )
    elif alert.value != value:
        before = snapshot(alert, ["value", "status", "acknowledged_at"])
        alert.value = value
        alert.status = SafetyAlert.Status.OPEN  # a new answer needs a new look
        alert.acknowledged_at = None
        alert.acknowledged_by = None
        alert.save(update_fields=["value", "status", "acknowledged_at", "acknowledged_by"])
        record(
            "update",
            actor_label=_participant_label(invitation),
            study=participant.study_id,
            obj=alert,
            before=before,
            after=snapshot(alert, ["value", "status", "acknowledged_at"]),
        )
    else:
        return
    _queue_safety_email(alert)


def _queue_safety_email(alert: SafetyAlert) -> None:
    """Queue the team's e-mail in the alert's own transaction; the outbox worker sends it.

    Never sent inside the participant's request: a mail server that is down (or a header
    error) must not cost the participant the safety page, nor lose the e-mail.
    """
    alert = SafetyAlert.objects.select_related("study", "participant__site", "event").get(
        pk=alert.pk
    )
    recipients = safety_alert_recipients(alert.study, alert.participant.site_id)
    if not recipients:
        return
    context = {
        "alert": alert,
        "url": settings.SITE_URL + reverse("dashboard:alert_case", args=[alert.study_id, alert.pk]),
    }
    # No answers or scores in e-mail: the participant code and where to look are enough.
    enqueue_email(
        kind="safety_alert",
        study=alert.study_id,
        subject=one_line(render_to_string("survey/email/safety_subject.txt", context)),
        body=render_to_string("survey/email/safety_body.txt", context),
        recipients=recipients,
    )


@transaction.atomic
def do_reopen_survey(
    invitation: Invitation, *, actor: User, request: HttpRequest | None = None
) -> Invitation:
    """Staff let a participant change a completed survey again (from its first page)."""
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.completed_at is None:
        raise ValueError("the survey is not complete; there is nothing to reopen")
    before = snapshot(invitation, ["completed_at", "current_page"])
    invitation.completed_at = None
    invitation.current_page = 0
    invitation.save(update_fields=["completed_at", "current_page"])
    record(
        "update",
        actor=actor,
        study=invitation.participant.study_id,
        obj=invitation,
        before=before,
        after=snapshot(invitation, ["completed_at", "current_page"]) | {"reopened": True},
        request=request,
    )
    return invitation

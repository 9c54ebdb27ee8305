"""Open recruitment pages (public: landing -> screener -> consent -> contact -> the survey)
and the staff flow page. Views validate input and call one service action."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import translation
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from fibrosurvey.recruitment import flow_diagram_svg
from fibrosurvey.web.ops.middleware import client_ip
from fibrosurvey.web.participants.invitations import find_invitation
from fibrosurvey.web.participants.models import Invitation
from fibrosurvey.web.recruitment import services
from fibrosurvey.web.recruitment.flow import flow_report
from fibrosurvey.web.recruitment.models import OpenLink, Visit
from fibrosurvey.web.studies.context import study_context
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.studies.permissions import can, filter_to_site, study_view
from fibrosurvey.web.survey.rules import write_refusal
from fibrosurvey.web.survey.services import do_record_consent

DEVICE_COOKIE = "fs_device"
VISIT_COOKIE = "fs_visit"
HONEYPOT_FIELD = "website"
LANGUAGE_NAMES = {"en": "English", "es": "Español"}
_PROBLEM_TEXT = {
    "required": lambda: _("Please answer this question."),
    "not_a_whole_number": lambda: _("Please give a whole number, for example 42."),
    "not_an_option": lambda: _("Please choose one of the answers."),
}


def _open_link(slug: str) -> OpenLink:
    return get_object_or_404(OpenLink.objects.select_related("study", "site"), slug=slug)


def _language(request: HttpRequest, link: OpenLink, visit: Visit | None = None) -> str:
    offered = link.study.languages or ["en"]
    for choice in (request.GET.get("lang"), visit.language if visit else None):
        if choice in offered:
            return str(choice)
    preferred = translation.get_language_from_request(request)
    return preferred if preferred in offered else offered[0]


def _current_visit(request: HttpRequest, link: OpenLink) -> Visit | None:
    key = request.get_signed_cookie(VISIT_COOKIE, default="", salt=f"visit-{link.pk}")
    if not key:
        return None
    return Visit.objects.filter(study=link.study, key=key).first()


def _render(
    request: HttpRequest,
    link: OpenLink,
    language: str,
    template: str,
    status: int = 200,
    **extra: Any,
) -> HttpResponse:
    study = link.study
    context = {
        "link": link,
        "study": study,
        "study_title": study.title_in(language),
        "language": language,
        "languages": [(code, LANGUAGE_NAMES.get(code, code)) for code in study.languages],
        **extra,
    }
    with translation.override(language):
        response = render(request, template, context, status=status)
    response["Content-Language"] = language
    response["Cache-Control"] = "no-store"
    return response


def _remember(response: HttpResponse, request: HttpRequest, link: OpenLink, visit: Visit) -> None:
    secure = bool(settings.SESSION_COOKIE_SECURE)
    response.set_signed_cookie(
        VISIT_COOKIE,
        visit.key,
        salt=f"visit-{link.pk}",
        max_age=24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=secure,
    )
    new_device = getattr(request, "_new_device", "")
    if new_device:
        response.set_cookie(
            DEVICE_COOKIE,
            new_device,
            max_age=365 * 24 * 3600,
            httponly=True,
            samesite="Lax",
            secure=secure,
        )


def _device(request: HttpRequest) -> str:
    device = request.COOKIES.get(DEVICE_COOKIE, "")
    if not device or len(device) > 64:
        device = secrets.token_urlsafe(24)
        request._new_device = device  # type: ignore[attr-defined]
    return device


@never_cache
@require_http_methods(["GET", "HEAD"])
def landing(request: HttpRequest, slug: str) -> HttpResponse:
    link = _open_link(slug)
    language = _language(request, link)
    if not link.is_open:
        return _render(request, link, language, "recruitment/closed.html")
    if request.method == "HEAD":  # link checkers: no visit counted
        return HttpResponse(status=200)
    visit = _current_visit(request, link)
    if visit is None or visit.screened_at is not None:
        if services.visit_rate_exceeded(link, client_ip(request)):
            response = _render(request, link, language, "recruitment/busy.html", status=429)
            response["Retry-After"] = str(services.RATE_WINDOW_SECONDS)
            return response
        visit = services.do_start_visit(
            link,
            source=request.GET.get("src", ""),
            device_cookie=_device(request),
            language=language,
        )
    elif visit.language != language:
        visit.language = language
        visit.save(update_fields=["language"])
    response = _render(request, link, language, "recruitment/landing.html", visit=visit)
    _remember(response, request, link, visit)
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def screener(request: HttpRequest, slug: str) -> HttpResponse:
    link = _open_link(slug)
    visit = _current_visit(request, link)
    if request.method == "POST" and visit is not None and visit.screened_at is not None:
        # Sent twice (a double tap): the visitor continues where the first one led.
        return _after_screening(link, services.do_screen(link, visit, {}, honeypot=""))
    if not link.is_open or visit is None or visit.screened_at is not None:
        # No visit (cookies off, or the screener was answered): start at the landing page.
        return redirect(_landing_url(link, visit))
    language = visit.language
    questions = services.screener_of(link).questions
    values: dict[str, str] = {}
    problems: dict[str, str] = {}
    if request.method == "POST":
        if services.source_rate_exceeded(link, visit.source, client_ip(request)):
            response = _render(request, link, language, "recruitment/busy.html", status=429)
            response["Retry-After"] = str(services.RATE_WINDOW_SECONDS)
            return response
        result = services.do_screen(
            link, visit, request.POST, honeypot=request.POST.get(HONEYPOT_FIELD, "")
        )
        if not result.problems:
            return _after_screening(link, result)
        problems = result.problems
        values = {q.id: str(request.POST.get(q.id, "")).strip() for q in questions}
    with translation.override(language):
        fields = [
            {
                "id": q.id,
                "kind": q.kind,
                "text": q.text(language),
                "help": q.help_text(language),
                "choices": q.choices(language),
                "value": values.get(q.id, ""),
                "required": q.required,
                "error": _PROBLEM_TEXT[problems[q.id]]() if q.id in problems else "",
            }
            for q in questions
        ]
    return _render(
        request,
        link,
        language,
        "recruitment/screener.html",
        status=422 if problems else 200,
        fields=fields,
        error_count=len(problems),
        honeypot=HONEYPOT_FIELD,
    )


def _after_screening(link: OpenLink, result: services.ScreenResult) -> HttpResponse:
    if result.token:
        return redirect("recruitment:consent", token=result.token)
    if result.visit.outcome in {Visit.Outcome.INELIGIBLE, Visit.Outcome.QUOTA_FULL}:
        return redirect("recruitment:closed", slug=link.slug, outcome=result.visit.outcome)
    return redirect(_landing_url(link, result.visit))


def _landing_url(link: OpenLink, visit: Visit | None) -> str:
    url = reverse("recruitment:landing", args=[link.slug])
    if visit is not None and visit.source not in {"direct", "other"}:
        url += f"?src={visit.source}"
    return url


@never_cache
def closed(request: HttpRequest, slug: str, outcome: str) -> HttpResponse:
    """The kind page for an ineligible visitor, or when their quota cell is full."""
    if outcome not in {Visit.Outcome.INELIGIBLE, Visit.Outcome.QUOTA_FULL}:
        raise Http404("no such page")
    link = _open_link(slug)
    visit = _current_visit(request, link)
    template = "recruitment/ineligible.html" if outcome == "ineligible" else "recruitment/full.html"
    return _render(request, link, _language(request, link, visit), template)


def _participant_page(request: HttpRequest, token: str) -> Invitation | None:
    invitation = find_invitation(token)
    if invitation is None or not hasattr(invitation.participant, "recruitment"):
        return None
    return invitation


def _survey_context(invitation: Invitation, token: str, **extra: Any) -> dict[str, Any]:
    study = invitation.participant.study
    language = invitation.participant.language
    return {
        "token": token,
        "study": study,
        "study_title": study.title_in(language),
        "language": language,
        **extra,
    }


@never_cache
@require_http_methods(["GET", "POST"])
def consent(request: HttpRequest, token: str) -> HttpResponse:
    """The study's consent, recorded by the survey's own consent service; the survey's write
    rule then lets the answers in."""
    invitation = _participant_page(request, token)
    if invitation is None:
        return render(request, "survey/invalid_link.html", status=404)
    refusal = write_refusal(invitation)
    if refusal is None or refusal.reason != "consent":
        return redirect("survey:entry", token=token)
    participant = invitation.participant
    language = participant.language
    study = participant.study
    error = ""
    with translation.override(language):
        if request.method == "POST":
            if request.POST.get("agree") == "yes":
                do_record_consent(invitation, language=language)
                return redirect("recruitment:contact", token=token)
            error = _("To take part, please tick the box to say you agree.")
        text = study.consent_text.get(language) or study.consent_text.get("en", "")
        response = render(
            request,
            "recruitment/consent.html",
            _survey_context(
                invitation,
                token,
                paragraphs=[p for p in text.split("\n\n") if p.strip()],
                error=error,
                version=study.consent_version,
            ),
            status=422 if error else 200,
        )
    response["Content-Language"] = language
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def contact(request: HttpRequest, token: str) -> HttpResponse:
    """Optional contact details for follow-up surveys and reminders (encrypted, kept apart)."""
    invitation = _participant_page(request, token)
    if invitation is None:
        return render(request, "survey/invalid_link.html", status=404)
    refusal = write_refusal(invitation)
    if refusal is not None:
        return redirect(
            "recruitment:consent" if refusal.reason == "consent" else "survey:entry", token=token
        )
    language = invitation.participant.language
    errors: dict[str, str] = {}
    values = {"email": "", "phone": ""}
    with translation.override(language):
        if request.method == "POST":
            if request.POST.get("action") == "skip":
                return redirect("survey:entry", token=token)
            values = {name: str(request.POST.get(name, "")).strip()[:200] for name in values}
            new_token, problems = services.do_give_contact(invitation, **values)
            if not problems:
                return redirect("survey:entry", token=new_token or token)
            wording = {
                "email": _("Please check the e-mail address, for example name@example.org."),
                "phone": _("Please check the phone number: digits, with the country code."),
            }
            errors = {problem.column: wording[problem.column] for problem in problems}
        response = render(
            request,
            "recruitment/contact.html",
            _survey_context(invitation, token, values=values, errors=errors),
            status=422 if errors else 200,
        )
    response["Content-Language"] = language
    return response


@study_view("view_dashboard")
def flow(request: HttpRequest, membership: Membership, study_id: int) -> HttpResponse:
    study = membership.study
    link = OpenLink.objects.filter(study=study).first()
    report = flow_report(study) if link else None
    base = settings.SITE_URL + reverse("recruitment:landing", args=[link.slug]) if link else ""
    diagram = ""
    if report is not None:
        # Built by the core from numbers and escaped labels only: safe to inline.
        diagram = mark_safe(flow_diagram_svg(report.stages, report.exclusion.by_reason))
    flagged = None
    if link is not None and can(membership, "view_participants"):
        # Pseudonymous codes with their reasons, for whoever may see the participant list.
        flagged = filter_to_site(
            Visit.objects.filter(study=study, participant__isnull=False, flags__isnull=False)
            .distinct()
            .select_related("participant")
            .prefetch_related("flags")
            .order_by("participant__study_code"),
            membership,
            "participant__site",
        )
    return render(
        request,
        "recruitment/flow.html",
        study_context(
            membership,
            link=link,
            report=report,
            diagram=diagram,
            flagged=flagged,
            public_url=base,
            source_urls=[(s, f"{base}?src={s}") for s in (link.sources if link else [])],
        ),
    )

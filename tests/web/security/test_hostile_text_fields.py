"""Every text a user can send (each text input of each web form, each API filter and body)
with NUL bytes, control characters or a huge string gets a 4xx or is accepted: never a 500,
and a refusal leaves the database unchanged. NUL, which PostgreSQL text cannot store, is a
400 naming the field before any view runs.

The walker reads the forms from the pages themselves (so a new form is fuzzed without being
listed here) and the API's filters from its OpenAPI schema. Run it on PostgreSQL too:
``DATABASE_URL=postgres://postgres@127.0.0.1:5432/<name> pytest tests/web/security``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote

import pytest
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.web.security.conftest import FUZZ_CASES

HOSTILE_TEXT = {
    "nul": "\x00",
    "nul inside": "North\x00hospital",
    "header injection": "Study\r\nBcc: everyone@example.org",
    "control characters": "\x1b[31m\x07\x7f\x85\u2028name",
    "huge": "x" * 100_000,
}
NOT_TEXT = {"checkbox", "radio", "submit", "button", "file", "image", "reset"}
SKIPPED_ACTIONS = ("/accounts/logout/",)  # the walker's own session must survive
# A view may read a parameter no form shows (the alert's "note"): every POST form gets it too.
UNDECLARED = "note"


@dataclass
class Form:
    page: str
    action: str
    method: str
    fields: dict[str, str] = field(default_factory=dict)
    text_fields: list[str] = field(default_factory=list)


class _FormReader(HTMLParser):
    """The forms of a page: every named field with its default value, text fields marked."""

    def __init__(self, page: str) -> None:
        super().__init__()
        self.page, self.forms = page, []
        self._form: Form | None = None
        self._select: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {key: value or "" for key, value in attrs}
        if tag == "form":
            method = found.get("method", "get").lower()
            self._form = Form(self.page, found.get("action") or self.page, method)
            self.forms.append(self._form)
        if self._form is None or "name" not in found:
            return
        name, kind = found["name"], found.get("type", "text").lower()
        if tag == "input" and kind not in NOT_TEXT:
            self._form.fields[name] = found.get("value", "")
            if name != "csrfmiddlewaretoken":
                self._form.text_fields.append(name)
        elif tag == "input" and kind in {"checkbox", "radio"} and "checked" in found:
            self._form.fields[name] = found.get("value", "on")
        elif tag == "textarea":
            self._form.fields[name] = ""
            self._form.text_fields.append(name)
            self._textarea = name
        elif tag == "select":
            self._select = name
        elif tag == "option" and self._select and self._select not in self._form.fields:
            self._form.fields[self._select] = found.get("value", "")

    def handle_data(self, data: str) -> None:
        if self._form is not None and self._textarea is not None:
            self._form.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None


def forms_on(client: Client, page: str) -> list[Form]:
    response = client.get(page, follow=True)
    assert response.status_code < 500, (page, response.status_code)
    reader = _FormReader(response.request["PATH_INFO"])
    reader.feed(response.content.decode())
    forms = [f for f in reader.forms if not f.action.startswith(SKIPPED_ACTIONS)]
    for form in forms:
        if form.method == "post" and UNDECLARED not in form.text_fields:
            form.text_fields.append(UNDECLARED)
    return [f for f in forms if f.text_fields]


def _check(response, sent: str, before: str, fingerprint, where: str) -> None:
    status = response.status_code
    assert status < 500, f"{where}: {status}"
    if "\x00" in sent:
        assert status == 400, f"{where}: NUL answered {status}"
        assert b"NUL character" in response.content, where
    if 400 <= status < 500:
        assert fingerprint() == before, f"{where}: refused ({status}) but the database changed"


@pytest.fixture
def alert(study, participant):
    from fibrosurvey.web.survey.models import Response, SafetyAlert

    event = study.events.get(code="baseline")
    response = Response.objects.create(
        participant=participant,
        event=event,
        instrument_id="phq9",
        instrument_version="1.0.0",
        answers={"phq9_9": 1},
    )
    return SafetyAlert.objects.create(
        study=study, participant=participant, event=event, response=response, value=1
    )


@pytest.fixture
def staff_pages(study, participant, alert):
    s, p = study.pk, participant.pk
    return [
        "/",
        "/studies/new/",
        f"/studies/{s}/",
        f"/studies/{s}/members/",
        f"/studies/{s}/audit/",
        f"/studies/{s}/participants/",
        f"/studies/{s}/participants/new/",
        f"/studies/{s}/participants/import/",
        f"/studies/{s}/participants/{p}/",
        f"/studies/{s}/participants/{p}/contact/",
        f"/studies/{s}/labs/",
        f"/studies/{s}/labs/import/",
        f"/studies/{s}/exports/",
        f"/studies/{s}/analyses/",
        f"/studies/{s}/api-tokens/",
        f"/studies/{s}/security/",
        "/accounts/2fa/setup/",
    ]


def test_every_text_input_of_every_web_form_is_refused_with_a_4xx_or_accepted(
    users, study, issued, staff_pages, fingerprint
):
    staff = Client()
    staff.force_login(users["alice"])
    participant = Client()
    token = issued.token
    participant.post(reverse("survey:consent", args=[token]), {"agree": "yes"})
    participant.post(reverse("survey:language", args=[token]), {"language": "en"})
    walks = [(staff, page) for page in staff_pages]
    walks += [(Client(), "/accounts/login/")]
    walks += [(participant, f"/s/{token}/page/1/"), (participant, f"/s/{token}/")]

    walked = 0
    for client, page in walks:
        for form in forms_on(client, page):
            for name in form.text_fields:
                for label, value in HOSTILE_TEXT.items():
                    FUZZ_CASES["web form text field"] += 1
                    data = dict(form.fields) | {name: value}
                    before = fingerprint()
                    if form.method == "post":
                        response = client.post(form.action, data)
                    else:
                        response = client.get(form.action, data)
                    where = f"{form.method.upper()} {form.action} {name}={label}"
                    _check(response, value, before, fingerprint, where)
                    walked += 1
            if client is staff:
                staff.force_login(users["alice"])
    # The walk must reach the forms the issue names (and more): not an empty loop.
    assert walked >= 100, walked


def _api_get_cases(study_id: int) -> list[tuple[str, str]]:
    """(path template with {study_id} filled, query parameter or path parameter name)."""
    from fibrosurvey.web.api.api import api

    schema = api.get_openapi_schema()
    cases = []
    for path, operations in schema["paths"].items():
        operation = operations.get("get")
        if operation is None:
            continue
        for parameter in operation.get("parameters", []):
            if (
                parameter["schema"].get("type", "string") == "string"
                or "anyOf" in (parameter["schema"])
            ):
                # Other path parameters are numbers: any one will do (a 404 is still not a 500).
                filled = path.replace("{study_id}", str(study_id)).replace("{response_id}", "1")
                cases.append((filled, parameter["name"]))
    return cases


def test_every_api_text_parameter_is_refused_with_a_4xx_or_accepted(api_client, study, fingerprint):
    client = api_client("alice")
    client.get("/api/studies")  # sets the token's last_used now: not a change made by a case
    cases = _api_get_cases(study.pk)
    # The four filters of the issue, at least, are walked.
    filters = {name for _, name in cases}
    assert {"site", "event", "instrument", "participant_id"} <= filters, filters
    for path, name in cases:
        for label, value in HOSTILE_TEXT.items():
            FUZZ_CASES["API text parameter"] += 1
            before = fingerprint()
            if "{" + name + "}" in path:
                url = path.replace("{" + name + "}", quote(value, safe=""))
                response = client.get(url)
            else:
                response = client.get(path, data={name: value})
            _check(response, value, before, fingerprint, f"GET {path} {name}={label}")


@pytest.mark.parametrize("label", HOSTILE_TEXT)
def test_hostile_strings_inside_api_bodies_are_refused_with_a_4xx(
    api_client, study, issued, fingerprint, label
):
    value = HOSTILE_TEXT[label]
    FUZZ_CASES["API body"] += 3
    client = api_client("alice")
    client.get("/api/studies")  # sets the token's last_used now: not a change made by a case
    fhir = {
        "resourceType": "QuestionnaireResponse",
        "status": "completed",
        "questionnaire": value,
        "item": [{"linkId": value, "answer": [{"valueString": value}]}],
    }
    for content_type in ("application/fhir+json", "text/plain"):
        before = fingerprint()
        response = client.post(
            f"/api/survey/{issued.token}/fhir", json.dumps(fhir), content_type=content_type
        )
        _check(response, json.dumps(fhir), before, fingerprint, f"FHIR {label} {content_type}")
    csv = f"participant_id,event,analyte,value,unit\n{value},baseline,aea,1,ng/mL\n"
    before = fingerprint()
    response = client.post(f"/api/studies/{study.pk}/labs", csv.encode(), "text/csv")
    _check(response, csv, before, fingerprint, f"labs CSV {label}")


# --- the cases of the issue, one by one --------------------------------------------------


@pytest.mark.parametrize(
    ("path", "parameter"),
    [
        ("participants", "site"),
        ("responses", "event"),
        ("responses", "instrument"),
        ("responses", "participant_id"),
    ],
)
def test_nul_in_an_api_filter_is_a_400_naming_it(api_client, study, path, parameter):
    response = api_client("alice").get(f"/api/studies/{study.pk}/{path}", data={parameter: "a\x00"})
    assert response.status_code == 400
    assert response.json()["detail"].startswith(f"The parameter '{parameter}' holds a NUL")


def test_nul_in_the_alert_note_is_a_400_and_the_alert_stays_unacknowledged(
    login, study, alert, fingerprint
):
    client = login("alice")
    before = fingerprint()
    response = client.post(
        reverse("dashboard:alert_case", args=[study.pk, alert.pk]),
        {"status": "closed", "note": "ok\x00"},
    )
    assert response.status_code == 400 and b"'note' holds a NUL" in response.content
    alert.refresh_from_db()
    assert alert.acknowledged_at is None
    assert fingerprint() == before


def test_nul_in_the_token_name_is_a_400_and_no_token_is_issued(login, study, fingerprint):
    client = login("alice")
    before = fingerprint()
    response = client.post(reverse("api_tokens:tokens", args=[study.pk]), {"name": "laptop\x00"})
    assert response.status_code == 400 and b"'name' holds a NUL" in response.content
    assert fingerprint() == before


def test_nul_in_the_survey_nonce_is_a_400_and_nothing_is_stored(client, issued, fingerprint):
    token = issued.token
    client.post(reverse("survey:consent", args=[token]), {"agree": "yes"})
    client.post(reverse("survey:language", args=[token]), {"language": "en"})
    before = fingerprint()
    response = client.post(reverse("survey:page", args=[token, 1]), {"nonce": "n\x00"})
    assert response.status_code == 400 and b"'nonce' holds a NUL" in response.content
    assert fingerprint() == before


def test_deep_json_sent_as_text_plain_to_the_fhir_endpoint_is_a_400(client, issued, fingerprint):
    before = fingerprint()
    body = '{"item": [' * 5_000 + "]}" * 5_000
    response = client.post(f"/api/survey/{issued.token}/fhir", body, content_type="text/plain")
    assert response.status_code == 400
    assert "nested deeper than 64 levels" in response.json()["detail"]
    assert fingerprint() == before


@pytest.mark.parametrize("name", ["Line one\nline two", "Tab\there", "Sep\u2028arated"])
def test_a_study_name_with_a_control_character_is_refused_by_form_and_service(
    login, users, fingerprint, name
):
    from fibrosurvey.web.studies.services import do_create_study_from_template

    client = login("alice")
    before = fingerprint()
    response = client.post(
        reverse("studies:create"),
        {"name": name, "template": "national_fibromyalgia_survey", "sites": "main: Main"},
    )
    assert response.status_code == 200  # the form again, with the error
    assert "Remove the control characters" in response.content.decode()
    with pytest.raises(ValueError, match="control characters"):
        do_create_study_from_template(name=name, owner=users["alice"])
    assert fingerprint() == before


def test_invitation_subjects_are_one_line_even_for_a_stored_multi_line_name(
    study, participant, settings
):
    from fibrosurvey.web.participants.invitations import do_issue_invitation

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    # A name stored before names were checked (or by a direct database edit).
    type(study).objects.filter(pk=study.pk).update(name="Fibro\r\nBcc: all@example.org")
    study.refresh_from_db()
    do_issue_invitation(participant, study.events.get(code="baseline"), send=True)
    [message] = mail.outbox
    assert "\n" not in message.subject and "\r" not in message.subject
    assert message.subject.startswith("Fibro Bcc: all@example.org")
    assert message.to == ["maria.lopez@example.org"] and not message.bcc


def test_an_enrolment_whose_code_is_taken_meanwhile_is_a_409_form_error(
    login, study, fingerprint, monkeypatch
):
    from fibrosurvey.web.participants import forms
    from fibrosurvey.web.participants.models import Participant

    checked = forms.EnrolForm.clean_study_code

    def check_then_lose_the_race(form):  # type: ignore[no-untyped-def]
        code = checked(form)
        # The other request commits its enrolment right after our form's check.
        Participant.objects.create(study=study, site=study.sites.get(code="north"), study_code=code)
        return code

    monkeypatch.setattr(forms.EnrolForm, "clean_study_code", check_then_lose_the_race)
    client = login("carol")
    north = study.sites.get(code="north")
    response = client.post(
        reverse("participants:enrol", args=[study.pk]),
        {"site": north.pk, "language": "en", "study_code": "P-RACE"},
    )
    assert response.status_code == 409
    assert "took this code at the same moment" in response.content.decode()
    assert Participant.objects.filter(study_code="P-RACE").count() == 1


def test_a_csv_enrolment_whose_code_is_taken_meanwhile_names_the_row(study, users, monkeypatch):
    from fibrosurvey.web.participants import enrolment
    from fibrosurvey.web.participants.models import Participant

    parsed = enrolment.parse_enrolment_csv

    def parse_then_lose_the_race(*args, **kwargs):  # type: ignore[no-untyped-def]
        rows = parsed(*args, **kwargs)
        Participant.objects.create(
            study=study, site=study.sites.get(code="south"), study_code="P-2"
        )
        return rows

    monkeypatch.setattr(enrolment, "parse_enrolment_csv", parse_then_lose_the_race)
    content = "study_code,site\nP-1,north\nP-2,north\n"
    with pytest.raises(enrolment.EnrolmentError) as caught:
        enrolment.do_enrol_csv(study, content, actor=users["carol"])
    [problem] = caught.value.problems
    assert (problem.row, problem.column, problem.value) == (2, "study_code", "P-2")
    assert not Participant.objects.filter(study_code="P-1").exists()

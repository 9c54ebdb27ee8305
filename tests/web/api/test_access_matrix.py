"""Access matrix for every page and API endpoint of labs, exports, analyses and the API.

Pages: anonymous -> login redirect, oscar (another study) -> 404, wrong role -> 403.
API: no token -> 401, oscar's token (another study) -> 404, wrong role -> 403, a site-limited
member -> 404 for another site's objects; a revoked token -> 401.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.web.access import (
    ALL_MEMBERS,
    ANALYSTS,
    ENROLLERS,
    ENROLLERS_NORTH,
    READERS,
    READERS_NORTH,
    as_status,
    check,
    ids,
    row,
)
from tests.web.conftest import PERSONAS

PAGES = [
    row("lab samples", "get", "labs:samples", ["study"], ALL_MEMBERS),
    row("lab import", "get", "labs:import", ["study"], ENROLLERS),
    row("lab template", "get", "labs:template", ["study"], ENROLLERS),
    row("lab corrections import", "get", "labs:import_corrections", ["study"], ENROLLERS),
    row(
        "lab result north", "get", "labs:correct_result", ["study", "north_result"], ENROLLERS_NORTH
    ),
    row("lab result south", "get", "labs:correct_result", ["study", "south_result"], ENROLLERS),
    row(
        "correct lab result north",
        "post",
        "labs:correct_result",
        ["study", "north_result"],
        as_status(ENROLLERS_NORTH, 302),
        body={"action": "correct", "value": "2", "unit": "nM", "reason": "re-run"},
    ),
    row(
        "retract lab result south",
        "post",
        "labs:correct_result",
        ["study", "south_result"],
        as_status(ENROLLERS, 302),
        body={"action": "retract", "unit": "nM", "reason": "haemolysed"},
    ),
    row("export page", "get", "exports:index", ["study"], ANALYSTS),
    *[
        row(f"export {fmt}", "get", "exports:download", ["study", fmt], ANALYSTS)
        for fmt in ("csv", "parquet", "dictionary", "fhir")
    ],
    row("analyses", "get", "analyses:index", ["study"], ALL_MEMBERS),
    row("run analysis", "post", "analyses:run", ["study"], as_status(ANALYSTS, 302)),
    # Only those who could request a run may read it (analysts and owners).
    row("analysis run", "get", "analyses:detail", ["study", "run"], ANALYSTS),
    row("analysis report", "get", "analyses:report", ["study", "run"], ANALYSTS),
    row("enrolment job", "get", "jobs:detail", ["study", "job"], ENROLLERS),
    row("api tokens", "get", "api_tokens:tokens", ["study"], ALL_MEMBERS),
    row(
        "revoke alice's token",
        "post",
        "api_tokens:revoke",
        ["study", "alice_token"],
        {"alice": 302, "carol": 404, "anna": 404, "vera": 404, "sam": 404},
    ),
]


@pytest.fixture
def objects(study, participant, participant_south, users, monkeypatch):
    from fibrosurvey.web.analyses.models import AnalysisRun
    from fibrosurvey.web.api.services import do_issue_token
    from fibrosurvey.web.jobs.models import Job
    from fibrosurvey.web.labs.models import LabResult
    from fibrosurvey.web.labs.services import do_import_labs
    from fibrosurvey.web.survey.models import Response

    monkeypatch.setenv("FIBROSURVEY_ANALYSIS_IN_PROCESS", "0")
    event = study.events.get(code="baseline")
    north_response = Response.objects.create(
        participant=participant,
        event=event,
        instrument_id="phq9",
        instrument_version="1.0.0",
        answers={"phq9_1": 1},
    )
    run = AnalysisRun.objects.create(
        study=study,
        plan_source="default",
        plan_text="x",
        plan_sha256="0" * 64,
        status="done",
        report_html="<html><body>report</body></html>",
        results={"claims": []},
    )
    token, _ = do_issue_token(user=users["alice"], study=study)
    job = Job.objects.create(kind=Job.Kind.ENROL_CSV, study=study, created_by=users["carol"])
    results = {}
    for name, who in (("north_result", participant), ("south_result", participant_south)):
        # PEA: the API row imports AEA for these participants and must not collide.
        do_import_labs(study, _lab_csv(who.study_code, "pea"), actor=users["alice"])
        results[name] = LabResult.objects.get(sample__participant=who).pk
    return {
        **results,
        "study": study.pk,
        "run": run.pk,
        "job": job.pk,
        "alice_token": token.pk,
        "north_response": north_response.pk,
        "south_code": participant_south.study_code,
        **{fmt: fmt for fmt in ("csv", "parquet", "dictionary", "fhir")},
    }


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name,method,url_name,args,expected,body", PAGES, ids=ids(PAGES))
def test_page_access_matrix(
    login, objects, other_study, persona, name, method, url_name, args, expected, body
):
    client = login(persona)
    url = reverse(url_name, args=[objects[a] for a in args])
    response = client.get(url) if method == "get" else client.post(url, body or {})
    check(response, persona, expected, f"{method.upper()} {url}")


def _lab_csv(code, analyte="aea"):
    return (
        "participant_id,event,analyte,value,unit,lloq,lab_matrix,lab_assay,lab_batch\n"
        f"{code},baseline,{analyte},1,ng/mL,0.05,plasma,LC-MS/MS,B1\n"
    )


def _api_row(name, method, path, expected, *, oscar=404, body=None):
    # No token at all: 401 (there is no login page to send an API client to).
    return row(name, method, path, [], expected, oscar=oscar, anonymous=401, body=body)


API = [
    _api_row("studies", "get", "/api/studies", ALL_MEMBERS, oscar=200),
    _api_row("study", "get", "/api/studies/{study}", ALL_MEMBERS),
    _api_row("participants", "get", "/api/studies/{study}/participants", ENROLLERS),
    _api_row("responses", "get", "/api/studies/{study}/responses", READERS),
    _api_row(
        "response north", "get", "/api/studies/{study}/responses/{north_response}", READERS_NORTH
    ),
    _api_row(
        "lab import", "post", "/api/studies/{study}/labs", as_status(ENROLLERS, 201), body="labs"
    ),
    *[
        _api_row(f"export {fmt}", "get", f"/api/studies/{{study}}/exports/{fmt}", ANALYSTS)
        for fmt in ("csv", "parquet", "dictionary", "fhir")
    ],
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name,method,path,args,expected,body", API, ids=ids(API))
def test_api_access_matrix(api_client, objects, persona, name, method, path, args, expected, body):
    url = path.format(**objects)
    client = api_client(persona)
    if method == "get":
        response = client.get(url)
    else:
        response = client.post(url, _lab_csv(objects["south_code"]), content_type="text/csv")
    check(response, persona, expected, f"{method.upper()} {url}")
    if response.status_code in (401, 403, 404):
        assert response.json()["detail"]


@pytest.mark.parametrize("name,method,path,args,expected,body", API, ids=ids(API))
def test_revoked_token_is_refused_everywhere(
    api_client, objects, api_tokens, name, method, path, args, expected, body
):
    from fibrosurvey.web.api.models import ApiToken
    from fibrosurvey.web.crypto import hash_token

    ApiToken.objects.get(token_hash=hash_token(api_tokens["alice"])).revoke()
    client = api_client("alice")
    url = path.format(**objects)
    response = client.get(url) if method == "get" else client.post(url, b"x", "text/csv")
    assert response.status_code == 401

"""Access matrix for every page and API endpoint of labs, exports, analyses and the API.

Pages: anonymous -> login redirect, oscar (another study) -> 404, wrong role -> 403.
API: no token -> 401, oscar's token (another study) -> 404, wrong role -> 403, a site-limited
member -> 404 for another site's objects; a revoked token -> 401.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.web.conftest import PERSONAS

ALL_MEMBERS = {"alice": 200, "carol": 200, "anna": 200, "vera": 200, "sam": 200}
ENROLLERS = {"alice": 200, "carol": 200, "anna": 403, "vera": 403, "sam": 200}
ANALYSTS = {"alice": 200, "carol": 403, "anna": 200, "vera": 403, "sam": 403}
READERS = {"alice": 200, "carol": 200, "anna": 200, "vera": 403, "sam": 200}
READERS_NORTH = READERS | {"sam": 404}


def _consume(response):
    """Read a streamed export to the end: the test client then closes it (and the Parquet
    temporary file) without closing the test's database connection."""
    if getattr(response, "streaming", False):
        b"".join(response.streaming_content)


def _as(expected, ok):
    return {k: (ok if v == 200 else v) for k, v in expected.items()}


def _row(name, method, url_name, args, expected, *, oscar=404, anonymous=302):
    return (name, method, url_name, args, expected | {"oscar": oscar, "anonymous": anonymous})


PAGES = [
    _row("lab samples", "get", "labs:samples", ["study"], ALL_MEMBERS),
    _row("lab import", "get", "labs:import", ["study"], ENROLLERS),
    _row("lab template", "get", "labs:template", ["study"], ENROLLERS),
    _row("export page", "get", "exports:index", ["study"], ANALYSTS),
    *[
        _row(f"export {fmt}", "get", "exports:download", ["study", fmt], ANALYSTS)
        for fmt in ("csv", "parquet", "dictionary", "fhir")
    ],
    _row("analyses", "get", "analyses:index", ["study"], ALL_MEMBERS),
    _row("run analysis", "post", "analyses:run", ["study"], _as(ANALYSTS, 302)),
    # Only those who could request a run may read it (analysts and owners).
    _row("analysis run", "get", "analyses:detail", ["study", "run"], ANALYSTS),
    _row("analysis report", "get", "analyses:report", ["study", "run"], ANALYSTS),
    _row("api tokens", "get", "api_tokens:tokens", ["study"], ALL_MEMBERS),
    _row(
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
    return {
        "study": study.pk,
        "run": run.pk,
        "alice_token": token.pk,
        "north_response": north_response.pk,
        "south_code": participant_south.study_code,
        **{fmt: fmt for fmt in ("csv", "parquet", "dictionary", "fhir")},
    }


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name,method,url_name,args,expected", PAGES, ids=[r[0] for r in PAGES])
def test_page_access_matrix(
    login, objects, other_study, persona, name, method, url_name, args, expected
):
    client = login(persona)
    url = reverse(url_name, args=[objects[a] for a in args])
    response = getattr(client, method)(url)
    _consume(response)
    assert response.status_code == expected[persona], f"{persona} {method.upper()} {url}"
    if persona == "anonymous":
        assert response.url.startswith(reverse("accounts:login"))


def _lab_csv(code):
    return (
        "participant_id,event,analyte,value,unit,lloq,lab_matrix,lab_assay,lab_batch\n"
        f"{code},baseline,aea,1,ng/mL,0.05,plasma,LC-MS/MS,B1\n"
    )


def _api_row(name, method, path, expected, *, oscar=404, anonymous=401, body=None):
    return (name, method, path, expected | {"oscar": oscar, "anonymous": anonymous}, body)


API = [
    _api_row("studies", "get", "/api/studies", ALL_MEMBERS, oscar=200),
    _api_row("study", "get", "/api/studies/{study}", ALL_MEMBERS),
    _api_row("participants", "get", "/api/studies/{study}/participants", ENROLLERS),
    _api_row("responses", "get", "/api/studies/{study}/responses", READERS),
    _api_row(
        "response north", "get", "/api/studies/{study}/responses/{north_response}", READERS_NORTH
    ),
    _api_row("lab import", "post", "/api/studies/{study}/labs", _as(ENROLLERS, 201), body="labs"),
    *[
        _api_row(f"export {fmt}", "get", f"/api/studies/{{study}}/exports/{fmt}", ANALYSTS)
        for fmt in ("csv", "parquet", "dictionary", "fhir")
    ],
]


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name,method,path,expected,body", API, ids=[r[0] for r in API])
def test_api_access_matrix(api_client, objects, persona, name, method, path, expected, body):
    url = path.format(**objects)
    client = api_client(persona)
    if method == "get":
        response = client.get(url)
    else:
        response = client.post(url, _lab_csv(objects["south_code"]), content_type="text/csv")
    _consume(response)
    assert response.status_code == expected[persona], f"{persona} {method.upper()} {url}"
    if response.status_code in (401, 403, 404):
        assert response.json()["detail"]


@pytest.mark.parametrize("name,method,path,expected,body", API, ids=[r[0] for r in API])
def test_revoked_token_is_refused_everywhere(
    api_client, objects, api_tokens, name, method, path, expected, body
):
    from fibrosurvey.web.api.models import ApiToken, hash_api_token

    ApiToken.objects.get(token_hash=hash_api_token(api_tokens["alice"])).revoke()
    client = api_client("alice")
    url = path.format(**objects)
    response = client.get(url) if method == "get" else client.post(url, b"x", "text/csv")
    assert response.status_code == 401

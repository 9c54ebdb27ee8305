"""REST API behaviour: OpenAPI, contact-free participants, site filtering, lab import, exports,
FHIR submission through the survey's save path (idempotent), size limits and bad input."""

from __future__ import annotations

import io
import json

import polars as pl
import pytest
from django.core.management import call_command

from fibrosurvey.fhir import questionnaire_response
from fibrosurvey.scoring import score_response
from fibrosurvey.web.api.models import ApiToken
from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.labs.models import LabResult
from fibrosurvey.web.survey.models import PageSubmission, Response, SafetyAlert

# Ten answers, as the official form: the 10th (difficulty) is stored and scores nothing.
PHQ9 = {f"phq9_{i}": v for i, v in enumerate([1, 2, 0, 3, 1, 0, 2, 1, 1, 1], start=1)}


def test_openapi_schema_and_docs_are_served(client):
    schema = client.get("/api/openapi.json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    assert "/api/studies/{study_id}/labs" in paths and "/api/survey/{token}/fhir" in paths
    assert client.get("/api/docs").status_code == 200


def test_participants_have_no_contact_data_and_sam_sees_only_south(
    api_client, study, participant, participant_south
):
    body = api_client("alice").get(f"/api/studies/{study.pk}/participants").json()
    assert body["count"] == 2
    text = json.dumps(body)
    assert "maria.lopez" not in text and "María" not in text and "juan@" not in text
    assert set(body["items"][0]) == {
        "participant_id",
        "site",
        "language",
        "enrolled_date",
        "consented",
        "withdrawn",
        "withdrawn_date",
    }
    sam = api_client("sam").get(f"/api/studies/{study.pk}/participants").json()
    assert [p["participant_id"] for p in sam["items"]] == [participant_south.study_code]
    north = api_client("alice").get(f"/api/studies/{study.pk}/participants?site=north").json()
    assert [p["participant_id"] for p in north["items"]] == [participant.study_code]


def test_bad_query_parameters_are_4xx_not_500(api_client, study):
    client = api_client("alice")
    assert client.get(f"/api/studies/{study.pk}/participants?limit=0").status_code == 400
    assert client.get(f"/api/studies/{study.pk}/participants?limit=abc").status_code == 422
    assert client.get("/api/studies/notanumber").status_code in (404, 422)
    assert client.get(f"/api/studies/{study.pk}/exports/xlsx").status_code == 404


def test_lab_import_through_the_api_is_all_or_nothing(api_client, study, participant):
    csv = (
        "participant_id,event,analyte,value,unit,lloq,lab_matrix,lab_assay,lab_batch\n"
        f"{participant.study_code},baseline,aea,1,ng/mL,0.05,plasma,LC-MS/MS,B1\n"
        f"{participant.study_code},baseline,pea,2,furlongs,0.05,plasma,LC-MS/MS,B1\n"
    )
    url = f"/api/studies/{study.pk}/labs"
    refused = api_client("carol").post(url, csv, content_type="text/csv")
    assert refused.status_code == 422
    [problem] = refused.json()["problems"]
    assert (problem["row"], problem["column"], problem["value"]) == (2, "unit", "furlongs")
    assert "ng/mL" in problem["allowed"]
    assert LabResult.objects.count() == 0
    good = csv.splitlines()[0] + "\n" + csv.splitlines()[1] + "\n"
    created = api_client("carol").post(url, good, content_type="text/csv")
    assert created.status_code == 201 and created.json() == {
        "samples_created": 1,
        "results_created": 1,
    }
    assert LabResult.objects.get().value_pmol_ml == pytest.approx(1000 / 347.5)
    assert AuditRecord.objects.filter(action="import", actor__username="carol").count() == 1


def test_request_body_over_5_mb_is_refused_with_413(api_client, study):
    big = b"x" * 5_000_001
    response = api_client("alice").post(f"/api/studies/{study.pk}/labs", big, "text/csv")
    assert response.status_code == 413 and "5 MB" in response.json()["detail"]


def test_export_csv_through_the_api_streams_the_dataset(api_client, cohort):
    study, data = cohort
    response = api_client("anna").get(f"/api/studies/{study.pk}/exports/csv")
    assert response.status_code == 200 and response.streaming
    frame = pl.read_csv(io.BytesIO(b"".join(response.streaming_content)))
    assert frame.height == data.height
    assert AuditRecord.objects.filter(action="export", actor__username="anna").count() == 1


@pytest.fixture
def consented(issued):
    from fibrosurvey.web.survey.services import do_record_consent

    do_record_consent(issued.invitation, language="en")
    return issued


def test_fhir_submission_twice_stores_one_response_scored_by_the_core(
    client, consented, participant
):
    resource = questionnaire_response(PHQ9, "phq9", f"Patient/{participant.study_code}")
    url = f"/api/survey/{consented.token}/fhir"
    first = client.post(url, json.dumps(resource), content_type="application/fhir+json")
    second = client.post(url, json.dumps(resource), content_type="application/fhir+json")
    assert first.status_code == 201 and first.json()["status"] == "complete"
    assert second.status_code == 200 and second.json()["replayed"] is True
    [stored] = Response.objects.filter(participant=participant)
    assert stored.answers == PHQ9
    expected = score_response(PHQ9, "phq9")
    assert stored.scores["phq9_total"] == expected["phq9_total"] == 11
    # The survey's own save path ran: page nonces recorded, the PHQ-9 item 9 alert raised.
    assert PageSubmission.objects.filter(invitation=consented.invitation).count() >= 1
    assert SafetyAlert.objects.filter(participant=participant, value=1).count() == 1
    # Nothing in the reply tells the participant a score.
    assert "total" not in first.content.decode()


def test_fhir_submission_refusals_are_clear_4xx(client, consented, issued, participant):
    url = f"/api/survey/{consented.token}/fhir"
    bad_json = client.post(url, "{not json", content_type="application/json")
    assert bad_json.status_code == 400 and "not JSON" in bad_json.json()["detail"]
    wrong_type = client.post(url, json.dumps({"resourceType": "Patient"}), "application/json")
    assert wrong_type.status_code == 400 and wrong_type.json()["problems"]
    out_of_range = questionnaire_response(PHQ9, "phq9", "Patient/x")
    out_of_range["item"][0]["item"][0]["answer"] = [{"valueInteger": 7}]
    refused = client.post(url, json.dumps(out_of_range), "application/json")
    assert refused.status_code == 400, refused.content
    unknown = client.post("/api/survey/" + "x" * 43 + "/fhir", "{}", "application/json")
    assert unknown.status_code == 404
    assert not Response.objects.filter(participant=participant).exists()


def test_fhir_submission_before_consent_is_409(client, issued):
    resource = questionnaire_response(PHQ9, "phq9", "Patient/x")
    response = client.post(
        f"/api/survey/{issued.token}/fhir", json.dumps(resource), "application/json"
    )
    assert response.status_code == 409 and "consent" in response.json()["detail"]


def test_management_command_creates_and_revokes_tokens(study, users, client, capsys):
    call_command("api_token", "create", "--user", "anna", "--study", str(study.pk))
    token = capsys.readouterr().out.strip().splitlines()[-1]
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/studies/{study.pk}", headers=headers).json()["role"] == "analyst"
    row = ApiToken.objects.get(user=users["anna"])
    assert row.last_used is not None and token not in row.token_hash
    call_command("api_token", "revoke", str(row.pk))
    assert client.get(f"/api/studies/{study.pk}", headers=headers).status_code == 401


def test_token_page_shows_a_new_token_once_and_it_works(login, study, client):
    page = login("carol").post(f"/studies/{study.pk}/api-tokens/", {"name": "lab robot"})
    body = page.content.decode()
    token = body.split('id="new-token">')[1].split("<")[0]
    assert token.startswith("fs_")
    row = ApiToken.objects.get(name="lab robot")
    assert row.hint in body and row.token_hash != token
    again = login("carol").get(f"/studies/{study.pk}/api-tokens/").content.decode()
    assert token not in again  # shown once
    client.logout()
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/studies/{study.pk}", headers=headers).json()["role"] == "coordinator"
    assert AuditRecord.objects.filter(action="create", object_type="api.apitoken").exists()

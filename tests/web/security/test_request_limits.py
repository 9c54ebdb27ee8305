"""Body limits answer as documented (JSON, the API's 5 MB -> 413), and the API docs page
(Swagger UI) works under the Content-Security-Policy."""

from __future__ import annotations

import json

import pytest

MB = 1_000_000


def _fhir_body(size: int) -> bytes:
    """A JSON QuestionnaireResponse padded with a text answer to ``size`` bytes."""
    resource = {"resourceType": "QuestionnaireResponse", "status": "completed", "note": ""}
    padding = size - len(json.dumps(resource).encode())
    resource["note"] = "x" * padding
    body = json.dumps(resource).encode()
    assert len(body) == size
    return body


@pytest.mark.parametrize("size", [int(2.6 * MB), int(4.9 * MB)])
def test_fhir_bodies_under_5_mb_reach_the_endpoint_and_get_a_json_answer(client, issued, size):
    response = client.post(
        f"/api/survey/{issued.token}/fhir", _fhir_body(size), content_type="application/fhir+json"
    )
    # The resource itself is not a valid submission: the endpoint says why, in JSON.
    assert response["Content-Type"].startswith("application/json")
    assert response.status_code in {400, 409, 422}
    assert "detail" in response.json()


@pytest.mark.parametrize("size", [5 * MB + 1, 9 * MB])
def test_fhir_bodies_over_5_mb_are_a_json_413(client, issued, size):
    response = client.post(
        f"/api/survey/{issued.token}/fhir", _fhir_body(size), content_type="application/fhir+json"
    )
    assert response.status_code == 413
    assert response["Content-Type"].startswith("application/json")
    assert "5 MB" in response.json()["detail"]


def test_bodies_over_the_request_limit_are_a_json_413_on_the_api(client, issued):
    response = client.post(
        f"/api/survey/{issued.token}/fhir",
        b"x" * (10 * 1024 * 1024 + 1),
        content_type="application/fhir+json",
    )
    assert response.status_code == 413
    assert "larger than 10 MB" in response.json()["detail"]


def test_a_deeply_nested_json_body_over_the_form_limit_is_still_refused(client, issued):
    depth = 1_500_000
    response = client.post(
        f"/api/survey/{issued.token}/fhir",
        "[" * depth + "]" * depth,
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "nested deeper than 64 levels" in response.json()["detail"]


@pytest.mark.browser
def test_api_docs_render_every_operation_without_csp_violations(browser, live_server):
    from fibrosurvey.web.api.api import api

    page = browser.new_page()
    problems: list[str] = []
    page.on(
        "console",
        lambda message: problems.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: problems.append(str(error)))
    response = page.goto(f"{live_server.url}/api/docs")
    assert response is not None and response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    page.locator(".opblock").first.wait_for(timeout=30_000)
    page.wait_for_load_state("networkidle")
    rendered = page.locator(".opblock-summary-path").all_inner_texts()
    schema = api.get_openapi_schema()
    expected = {path for path, methods in schema["paths"].items() for _ in methods}
    assert {p.replace("\u200b", "") for p in rendered} == expected
    assert problems == []
    page.close()

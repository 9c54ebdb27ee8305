"""Every staff URL of the capture platform, for every persona, with the expected status.

anonymous -> login redirect; a member of another study (oscar) -> 404 everywhere in
``study``; a role without the capability -> 403; a site-limited member (sam, south) -> 404
for a participant of another site.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.web.conftest import PERSONAS

# Expected status per persona, written out in full so a change in the rules shows here.
ALL_MEMBERS = {"alice": 200, "carol": 200, "anna": 200, "vera": 200, "sam": 200}
ENROLLERS = {"alice": 200, "carol": 200, "anna": 403, "vera": 403, "sam": 200}
ENROLLERS_NORTH = {"alice": 200, "carol": 200, "anna": 403, "vera": 403, "sam": 404}
OWNER_ONLY = {"alice": 200, "carol": 403, "anna": 403, "vera": 403, "sam": 403}


def _row(name, method, url_name, args, expected, *, oscar=404, anonymous=302):
    return (name, method, url_name, args, expected | {"oscar": oscar, "anonymous": anonymous})


# args: names resolved from fixtures at run time ("study", "north", "south", "alert").
MATRIX = [
    _row("home", "get", "dashboard:home", [], ALL_MEMBERS, oscar=200),
    _row("create study", "get", "studies:create", [], ALL_MEMBERS, oscar=200),
    _row("study dashboard", "get", "dashboard:study", ["study"], ALL_MEMBERS),
    _row("members", "get", "studies:members", ["study"], OWNER_ONLY),
    _row("audit trail", "get", "studies:audit", ["study"], OWNER_ONLY),
    _row("participant list", "get", "participants:list", ["study"], ENROLLERS),
    _row("enrol one", "get", "participants:enrol", ["study"], ENROLLERS),
    _row("enrol csv", "get", "participants:enrol_csv", ["study"], ENROLLERS),
    _row("participant north", "get", "participants:detail", ["study", "north"], ENROLLERS_NORTH),
    _row("participant south", "get", "participants:detail", ["study", "south"], ENROLLERS),
    _row("contact north", "get", "participants:contact", ["study", "north"], ENROLLERS_NORTH),
    _row("contact south", "get", "participants:contact", ["study", "south"], ENROLLERS),
    _row(
        "invite north",
        "post",
        "participants:invite",
        ["study", "north", "baseline"],
        ENROLLERS_NORTH,
    ),
    _row(
        "revoke north",
        "post",
        "participants:revoke",
        ["study", "north", "baseline"],
        {k: (302 if v == 200 else v) for k, v in ENROLLERS_NORTH.items()},
    ),
    _row(
        "invite everyone",
        "post",
        "participants:invite_all",
        ["study", "baseline"],
        {k: (302 if v == 200 else v) for k, v in ENROLLERS.items()},
    ),
    _row(
        "withdraw north",
        "post",
        "participants:withdraw",
        ["study", "north"],
        # An empty POST is refused: a withdrawal needs its kind, reason and confirmation.
        {k: (400 if v == 200 else v) for k, v in ENROLLERS_NORTH.items()},
    ),
    _row(
        "acknowledge alert",
        "post",
        "dashboard:acknowledge_alert",
        ["study", "alert"],
        {k: (302 if v == 200 else v) for k, v in ENROLLERS_NORTH.items()},
    ),
]


@pytest.fixture
def objects(study, participant, participant_south, issued):
    from fibrosurvey.web.survey.models import Response, SafetyAlert

    event = study.events.get(code="baseline")
    response = Response.objects.create(
        participant=participant,
        event=event,
        instrument_id="phq9",
        instrument_version="1.0.0",
        answers={"phq9_9": 1},
    )
    alert = SafetyAlert.objects.create(
        study=study, participant=participant, event=event, response=response, value=1
    )
    return {
        "study": study.pk,
        "north": participant.pk,
        "south": participant_south.pk,
        "alert": alert.pk,
        "baseline": "baseline",
    }


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize(
    "name,method,url_name,args,expected", MATRIX, ids=[row[0] for row in MATRIX]
)
def test_access_matrix(
    login, objects, other_study, persona, name, method, url_name, args, expected
):
    client = login(persona)
    url = reverse(url_name, args=[objects[a] for a in args])

    response = getattr(client, method)(url)

    assert response.status_code == expected[persona], f"{persona} {method.upper()} {url}"
    if persona == "anonymous":
        assert response.url.startswith(reverse("accounts:login"))


@pytest.mark.parametrize("persona", PERSONAS)
def test_other_studys_owner_sees_only_their_own_study(login, study, other_study, persona):
    client = login(persona)
    if persona == "anonymous":
        return
    home = client.get(reverse("dashboard:home")).content.decode()
    assert ("Another study" in home) == (persona == "oscar")
    assert (f'href="/studies/{study.pk}/"' in home) == (persona != "oscar")


@pytest.mark.parametrize("persona", PERSONAS)
def test_django_admin_is_for_superusers_only(login, persona, users):
    response = login(persona).get("/admin/")
    assert response.status_code == 302

    users["alice"].is_superuser = users["alice"].is_staff = True
    users["alice"].save()
    assert login("alice").get("/admin/").status_code == 200


@pytest.mark.parametrize("persona", PERSONAS)
def test_survey_links_need_a_valid_token_whoever_is_logged_in(login, issued, persona):
    client = login(persona)
    assert client.get(reverse("survey:entry", args=["x" * 43])).status_code == 404
    assert client.get(reverse("survey:page", args=["x" * 43, 1])).status_code == 404
    assert client.get(reverse("survey:entry", args=[issued.token])).status_code == 302


def test_login_and_failed_login_are_audited(client, users):
    from fibrosurvey.web.audit.models import AuditRecord
    from tests.web.conftest import PASSWORD

    client.post(reverse("accounts:login"), {"username": "alice", "password": "wrong"})
    client.post(reverse("accounts:login"), {"username": "alice", "password": PASSWORD})

    failed = AuditRecord.objects.get(action="login_failed")
    assert failed.after == {"username": "alice"} and failed.actor is None
    assert AuditRecord.objects.get(action="login").actor == users["alice"]


def test_admin_cannot_edit_or_delete_research_data(login, users, participant, issued):
    users["alice"].is_superuser = users["alice"].is_staff = True
    users["alice"].save()
    client = login("alice")
    base = "/admin/participants/participant/"
    assert client.get(base).status_code == 200
    assert client.get(f"{base}{participant.pk}/change/").status_code == 200  # view only
    assert client.post(f"{base}{participant.pk}/change/", {"language": "es"}).status_code == 403
    assert client.get(f"{base}{participant.pk}/delete/").status_code == 403
    assert client.get("/admin/survey/response/add/").status_code == 403
    assert client.get("/admin/audit/auditrecord/add/").status_code == 403

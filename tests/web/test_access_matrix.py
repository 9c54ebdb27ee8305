"""Every staff URL of the capture platform, for every persona, with the expected status.

anonymous -> login redirect; a member of another study (oscar) -> 404 everywhere in
``study``; a role without the capability -> 403; a site-limited member (sam, south) -> 404
for a participant of another site.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.web.access import (
    ALL_MEMBERS,
    ENROLLERS,
    ENROLLERS_NORTH,
    OWNER_ONLY,
    as_status,
    check,
    ids,
    row,
)
from tests.web.conftest import PERSONAS

SIGNED_IN = ALL_MEMBERS  # pages of one's own account: every logged-in user, oscar too

# args: names resolved from fixtures at run time ("study", "north", "south", "alert", ...).
MATRIX = [
    row("home", "get", "dashboard:home", [], ALL_MEMBERS, oscar=200),
    row("create study", "get", "studies:create", [], ALL_MEMBERS, oscar=200),
    row("study dashboard", "get", "dashboard:study", ["study"], ALL_MEMBERS),
    row("members", "get", "studies:members", ["study"], OWNER_ONLY),
    row("change vera", "get", "studies:change_member", ["study", "vera"], OWNER_ONLY),
    row(
        "change vera (post)",
        "post",
        "studies:change_member",
        ["study", "vera"],
        as_status(OWNER_ONLY, 302),
        body={"role": "analyst", "site": ""},
    ),
    row("remove vera", "get", "studies:remove_member", ["study", "vera"], OWNER_ONLY),
    row(
        "remove vera (post)",
        "post",
        "studies:remove_member",
        ["study", "vera"],
        as_status(OWNER_ONLY, 302),
    ),
    row("study security", "get", "studies:security", ["study"], OWNER_ONLY),
    row(
        "study security (post)",
        "post",
        "studies:security",
        ["study"],
        as_status(OWNER_ONLY, 302),
        body={},
    ),
    row("audit trail", "get", "dashboard:audit", ["study"], OWNER_ONLY),
    row("participant list", "get", "participants:list", ["study"], ENROLLERS),
    row("enrol one", "get", "participants:enrol", ["study"], ENROLLERS),
    row("enrol csv", "get", "participants:enrol_csv", ["study"], ENROLLERS),
    row("participant north", "get", "participants:detail", ["study", "north"], ENROLLERS_NORTH),
    row("participant south", "get", "participants:detail", ["study", "south"], ENROLLERS),
    row("contact north", "get", "participants:contact", ["study", "north"], ENROLLERS_NORTH),
    row("contact south", "get", "participants:contact", ["study", "south"], ENROLLERS),
    row(
        "invite north",
        "post",
        "participants:invite",
        ["study", "north", "baseline"],
        ENROLLERS_NORTH,
    ),
    row(
        "revoke north",
        "post",
        "participants:revoke",
        ["study", "north", "baseline"],
        as_status(ENROLLERS_NORTH, 302),
    ),
    row(
        "invite everyone (confirm)",
        "get",
        "participants:invite_all",
        ["study", "baseline"],
        ENROLLERS,
    ),
    row("invite everyone", "post", "participants:invite_all", ["study", "baseline"], ENROLLERS),
    row(
        "remind everyone (confirm)",
        "get",
        "participants:remind_all",
        ["study", "baseline"],
        ENROLLERS,
    ),
    row("remind everyone", "post", "participants:remind_all", ["study", "baseline"], ENROLLERS),
    row(
        "remind north",
        "post",
        "participants:remind",
        ["study", "north", "baseline"],
        # The fixture's invitation is completed: the reminder is refused, with the reason.
        as_status(ENROLLERS_NORTH, 409),
    ),
    row(
        "withdraw north",
        "post",
        "participants:withdraw",
        ["study", "north"],
        # An empty POST is refused: a withdrawal needs its kind, reason and confirmation.
        as_status(ENROLLERS_NORTH, 400),
    ),
    row(
        "reopen north",
        "post",
        "survey_staff:reopen",
        ["study", "north", "baseline"],
        as_status(ENROLLERS_NORTH, 302),
    ),
    row("safety cases", "get", "dashboard:alerts", ["study"], ENROLLERS),
    row("safety case north", "get", "dashboard:alert_case", ["study", "alert"], ENROLLERS_NORTH),
    row(
        "safety case north (post)",
        "post",
        "dashboard:alert_case",
        ["study", "alert"],
        as_status(ENROLLERS_NORTH, 302),
        body={"status": "contacted", "note": "Phoned."},
    ),
    row("recruitment flow", "get", "recruitment:flow", ["study"], ALL_MEMBERS),
    # The study builder: settings, consent, events and batteries, the instrument library.
    row("study settings", "get", "builder:settings", ["study"], OWNER_ONLY),
    row("study settings (post)", "post", "builder:settings", ["study"], as_status(OWNER_ONLY, 422)),
    row("consent", "get", "builder:consent", ["study"], OWNER_ONLY),
    row("consent (post)", "post", "builder:consent", ["study"], as_status(OWNER_ONLY, 422)),
    row("events", "get", "builder:events", ["study"], OWNER_ONLY),
    row("events (post)", "post", "builder:events", ["study"], as_status(OWNER_ONLY, 422)),
    row("event", "get", "builder:event", ["study", "baseline_event"], OWNER_ONLY),
    row(
        "event (post)",
        "post",
        "builder:event",
        ["study", "baseline_event"],
        as_status(OWNER_ONLY, 422),
    ),
    row("instruments", "get", "builder:instruments", ["study"], OWNER_ONLY),
    row(
        "instruments (upload)",
        "post",
        "builder:instruments",
        ["study"],
        as_status(OWNER_ONLY, 422),
    ),
    row(
        "instruments (save)",
        "post",
        "builder:save_instruments",
        ["study"],
        as_status(OWNER_ONLY, 422),
    ),
    row(
        "instrument version",
        "get",
        "builder:instrument_version",
        ["study", "mood", "one"],
        OWNER_ONLY,
    ),
    row(
        "enter answers north",
        "get",
        "survey_staff:enter",
        ["study", "north", "baseline", "one"],
        ENROLLERS_NORTH,
    ),
    row(
        "enter answers north (post)",
        "post",
        "survey_staff:enter",
        ["study", "north", "baseline", "one"],
        # An empty POST is refused: an entry needs its reason.
        as_status(ENROLLERS_NORTH, 422),
    ),
    row("own security", "get", "accounts:security", [], SIGNED_IN, oscar=200),
    row("2fa set-up", "get", "accounts:2fa_setup", [], SIGNED_IN, oscar=200),
    # Without a confirmed device, the code page sends everyone to set one up.
    row("2fa code", "get", "accounts:2fa_verify", [], as_status(SIGNED_IN, 302), oscar=302),
    row("password change", "get", "accounts:password_change", [], SIGNED_IN, oscar=200),
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
    issued.invitation.completed_at = response.created_at  # finished: staff may reopen it
    issued.invitation.save(update_fields=["completed_at"])
    from tests.web.builder.conftest import save_yaml

    save_yaml(study, "mood_v1.yaml", study.created_by)
    return {
        "baseline_event": event.pk,
        "mood": "mood",
        "one": 1,
        "study": study.pk,
        "vera": study.memberships.get(user__username="vera").pk,
        "north": participant.pk,
        "south": participant_south.pk,
        "alert": alert.pk,
        "baseline": "baseline",
    }


@pytest.mark.parametrize("persona", PERSONAS)
@pytest.mark.parametrize("name,method,url_name,args,expected,body", MATRIX, ids=ids(MATRIX))
def test_access_matrix(
    login, objects, other_study, persona, name, method, url_name, args, expected, body
):
    client = login(persona)
    url = reverse(url_name, args=[objects[a] for a in args])

    response = client.get(url) if method == "get" else client.post(url, body or {})

    check(response, persona, expected, f"{method.upper()} {url}")


@pytest.mark.parametrize("persona", PERSONAS)
def test_other_studys_owner_sees_only_their_own_study(login, study, other_study, persona):
    response = login(persona).get(reverse("dashboard:home"))
    if persona == "anonymous":
        assert response.status_code == 302
        assert response.url.startswith(reverse("accounts:login"))
        return
    home = response.content.decode()
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


def _study_routes():
    """(URL name, view) of every page route that takes a study id (the API is tested apart)."""
    from django.urls import get_resolver

    found = []

    def walk(patterns, namespace):
        for pattern in patterns:
            if hasattr(pattern, "url_patterns"):
                inner = pattern.namespace or namespace
                if inner == "api":
                    continue
                walk(pattern.url_patterns, inner)
            elif "study_id" in str(pattern.pattern):
                found.append((f"{namespace}:{pattern.name}", pattern.callback))

    walk(get_resolver().url_patterns, "")
    return found


def test_every_study_page_is_guarded_by_study_view_and_in_an_access_matrix():
    from fibrosurvey.web.studies.permissions import CAPABILITIES
    from tests.web.api.test_access_matrix import PAGES

    routes = _study_routes()
    assert len(routes) > 20
    unguarded = [name for name, view in routes if getattr(view, "capability", None) is None]
    assert unguarded == []
    assert {getattr(view, "capability", None) for _, view in routes} <= set(CAPABILITIES)
    in_a_matrix = {r[2] for r in MATRIX} | {r[2] for r in PAGES}
    assert sorted({name for name, _ in routes} - in_a_matrix) == []

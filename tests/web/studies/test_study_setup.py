"""Studies from the template: events, batteries, languages, frozen instrument versions."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fibrosurvey.instruments import get_instrument
from fibrosurvey.web.studies.models import Membership, Study
from fibrosurvey.web.studies.permissions import CAPABILITIES, role_can


def test_template_study_has_the_national_survey_battery(study):
    events = {e.code: e for e in study.events.all()}
    assert list(events) == ["baseline", "followup_3m"]
    assert events["baseline"].day_offset == 0 and events["followup_3m"].day_offset == 90
    assert events["baseline"].instrument_ids() == [
        "fsq",
        "fiqr",
        "phq9",
        "gad7",
        "jss",
        "peg",
        "nrs",
        "migraine",
        "ibs",
        "dx",
        "tx",
        "demo",
    ]
    assert events["followup_3m"].instrument_ids() == ["fiqr", "nrs", "peg", "tx", "pgic"]
    assert study.languages == ["en", "es"]
    assert study.consent_version == "1.0" and set(study.consent_text) == {"en", "es"}


def test_each_instrument_version_is_recorded_and_unfrozen_until_the_first_response(study):
    recorded = {si.instrument_id: si for si in study.instruments.all()}
    assert len(recorded) == 13
    for instrument_id, si in recorded.items():
        assert si.version == get_instrument(instrument_id).version
        assert si.frozen_at is None


def test_creating_a_study_in_the_browser_makes_the_creator_owner(login, users):
    client = login("oscar")
    response = client.post(
        reverse("studies:create"),
        {
            "name": "Pilot",
            "template": "national_fibromyalgia_survey",
            "sites": "a: Clinic A\nb: Clinic B",
        },
    )
    study = Study.objects.get(name="Pilot")
    assert response.url == reverse("dashboard:study", args=[study.pk])
    assert Membership.objects.get(study=study).user == users["oscar"]
    assert [s.code for s in study.sites.all()] == ["a", "b"]


def test_bad_site_lines_are_reported(login):
    response = login("alice").post(
        reverse("studies:create"),
        {"name": "Pilot", "template": "national_fibromyalgia_survey", "sites": "no colon here"},
    )
    assert response.status_code == 200
    assert "Line 1: write code: name" in response.content.decode()


def test_owner_adds_a_site_limited_member(study, login, users):
    from django.contrib.auth import get_user_model

    newcomer = get_user_model().objects.create_user("nina", "nina@example.org", "x")
    login("alice").post(
        reverse("studies:members", args=[study.pk]),
        {"username": "nina", "role": "coordinator", "site": study.sites.get(code="north").pk},
    )
    membership = Membership.objects.get(study=study, user=newcomer)
    assert (membership.role, membership.site.code) == ("coordinator", "north")


@pytest.mark.parametrize(
    "role,capability,allowed",
    [
        ("owner", "view_audit", True),
        ("coordinator", "view_audit", False),
        ("coordinator", "view_contact", True),
        ("analyst", "view_contact", False),
        ("analyst", "export_deidentified", True),
        ("coordinator", "export_deidentified", False),
        ("viewer", "view_dashboard", True),
        ("viewer", "enrol", False),
        ("coordinator", "import_labs", True),
        ("analyst", "run_analysis", True),
    ],
)
def test_role_capabilities(role, capability, allowed):
    assert role_can(role, capability) is allowed


def test_unknown_capability_is_an_error_naming_the_known_ones():
    with pytest.raises(ValueError, match="view_audit"):
        role_can("owner", "launch_rockets")
    assert "view_dashboard" in CAPABILITIES

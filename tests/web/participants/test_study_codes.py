"""One rule for study codes and site codes, on every path: letters, digits, - and _,
starting with a letter or digit (no e-mail addresses, no formula starts)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fibrosurvey.web.participants.enrolment import (
    EnrolmentError,
    do_enrol_csv,
    do_enrol_participant,
)
from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.studies.services import do_add_site

BAD_CODES = ["maria.lopez@example.org", "-1+2", "=cmd", "María", "two words", "x" * 33]


@pytest.mark.parametrize("code", BAD_CODES)
def test_enrol_form_refuses_a_study_code_that_is_not_a_code(study, login, code):
    response = login("carol").post(
        reverse("participants:enrol", args=[study.pk]),
        {"site": study.sites.get(code="north").pk, "language": "en", "study_code": code},
    )
    assert response.status_code == 400  # the form again, with the error
    errors = response.context["form"].errors["study_code"]
    assert any("letters" in e or "at most" in e for e in errors), errors
    assert not Participant.objects.filter(study=study).exists()


@pytest.mark.parametrize("code", BAD_CODES)
def test_csv_enrolment_refuses_the_same_codes(study, users, code):
    content = f"study_code,site\n{code},north\n"
    with pytest.raises(EnrolmentError) as refused:
        do_enrol_csv(study, content, actor=users["carol"])
    assert refused.value.problems[0].column == "study_code"
    assert "letters" in refused.value.problems[0].allowed


def test_the_service_refuses_a_bad_code_from_any_other_caller(study, users):
    with pytest.raises(ValueError, match="study_code"):
        do_enrol_participant(
            study, site=study.sites.get(code="north"), actor=None, study_code="a@b.org"
        )
    assert not Participant.objects.filter(study=study).exists()


def test_good_codes_are_accepted_everywhere(study, users, login):
    response = login("carol").post(
        reverse("participants:enrol", args=[study.pk]),
        {"site": study.sites.get(code="north").pk, "language": "en", "study_code": "P-001_a"},
    )
    assert response.status_code == 302
    do_enrol_csv(study, "study_code,site\nP2,south\n", actor=users["carol"])
    assert set(Participant.objects.values_list("study_code", flat=True)) == {"P-001_a", "P2"}


@pytest.mark.parametrize("code", ["-north", "=HYPERLINK(1)", "@x", "a b"])
def test_site_codes_follow_the_same_rule(study, users, login, code):
    with pytest.raises(ValueError, match="site code"):
        do_add_site(study, code=code, name="Bad", actor=users["alice"])
    response = login("alice").post(
        reverse("studies:create"),
        {
            "name": "Study with bad site",
            "template": "national_fibromyalgia_survey",
            "sites": f"{code}: Bad site",
        },
    )
    assert response.status_code in (200, 400)
    assert "not valid" in response.content.decode()
    assert not study.sites.filter(code=code).exists()


def test_the_admin_site_form_applies_the_code_rule_too():
    from fibrosurvey.web.studies.admin import SiteForm

    assert not SiteForm({"code": "-north", "name": "x"}).is_valid()
    assert SiteForm({"code": "north-2", "name": "x"}).is_valid()

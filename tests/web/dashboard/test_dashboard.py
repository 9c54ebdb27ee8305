"""Dashboard numbers: enrolment and completion by site and event, item missingness,
site-limited views, the lab samples card."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from fibrosurvey.web.dashboard import services
from fibrosurvey.web.labs.services import do_import_labs
from fibrosurvey.web.participants.enrolment import do_enrol_participant
from fibrosurvey.web.participants.invitations import do_issue_invitation
from fibrosurvey.web.studies.models import Membership
from fibrosurvey.web.survey.models import Response

PHQ9_FULL = {f"phq9_{i}": 1 for i in range(1, 10)}


@pytest.fixture
def filled(study, participant, participant_south, users):
    """north: 2 participants, both invited at baseline, one completed; south: 1, not invited."""
    baseline = study.events.get(code="baseline")
    second = do_enrol_participant(study, site=study.sites.get(code="north"), actor=users["carol"])
    done = do_issue_invitation(participant, baseline, send=False).invitation
    done.completed_at = done.opened_at = timezone.now()
    done.save()
    do_issue_invitation(second, baseline, send=False)
    Response.objects.create(
        participant=participant,
        event=baseline,
        instrument_id="phq9",
        instrument_version="1.0.0",
        status="complete",
        answers=PHQ9_FULL,
    )
    Response.objects.create(
        participant=second,
        event=baseline,
        instrument_id="phq9",
        instrument_version="1.0.0",
        status="complete",
        answers=PHQ9_FULL | {"phq9_3": None, "phq9_7": None},
    )
    Response.objects.create(
        participant=participant_south,
        event=baseline,
        instrument_id="gad7",
        instrument_version="1.0.0",
        answers={"gad7_1": 2},
    )
    return study


def _membership(study, users, name):
    return Membership.objects.select_related("study", "site").get(study=study, user=users[name])


def test_progress_counts_by_site_and_event(filled, users):
    progress = services.study_progress(_membership(filled, users, "alice"))

    by_site = {row.code: row for row in progress.sites}
    assert (by_site["north"].enrolled, by_site["south"].enrolled) == (2, 1)
    north_baseline = by_site["north"].events[0]
    assert (north_baseline.event, north_baseline.invited, north_baseline.completed) == (
        "baseline",
        2,
        1,
    )
    assert north_baseline.percent == 50
    assert [e.invited for e in by_site["south"].events] == [0, 0]
    assert progress.totals.enrolled == 3
    assert [(e.event, e.invited, e.completed) for e in progress.totals.events] == [
        ("baseline", 2, 1),
        ("followup_3m", 0, 0),
    ]


def test_site_limited_member_sees_only_their_site(filled, users):
    membership = _membership(filled, users, "sam")
    progress = services.study_progress(membership)

    assert [row.code for row in progress.sites] == ["south"]
    assert progress.totals.enrolled == 1
    rows = {(r.event, r.instrument_id): r for r in services.instrument_completion(membership)}
    assert rows[("baseline", "phq9")].complete == 0
    assert rows[("baseline", "gad7")].in_progress == 1


def test_item_missingness_counts_blank_items_in_complete_responses(filled, users):
    rows = {
        (r.event, r.instrument_id): r
        for r in services.instrument_completion(_membership(filled, users, "alice"))
    }
    phq9 = rows[("baseline", "phq9")]

    assert phq9.complete == 2
    assert dict(phq9.missing) == {"phq9_3": 50.0, "phq9_7": 50.0}
    assert phq9.mean_missing_percent == pytest.approx(100 / 9)


def test_dashboard_page_shows_the_numbers_to_a_viewer_without_actions(filled, login):
    page = login("vera").get(reverse("dashboard:study", args=[filled.pk])).content.decode()
    assert "1 / 2" in page  # north baseline completed / invited
    assert "phq9_3 (50%)" in page
    assert "Acknowledge" not in page


def test_without_lab_samples_the_dashboard_says_so(filled, login):
    page = login("alice").get(reverse("dashboard:study", args=[filled.pk])).content.decode()
    assert "No lab data yet." in page


def test_imported_lab_samples_feed_the_lab_card(
    filled, participant, participant_south, users, login
):
    header = (
        "participant_id,event,analyte,value,unit,lloq,lab_matrix,lab_assay,lab_batch,"
        "lab_minutes_to_centrifuge,includes_1ag\n"
    )
    rows = [
        (participant.study_code, "45"),  # over 30 minutes to centrifuge: flagged
        (participant_south.study_code, "15"),
    ]
    content = header + "".join(
        f"{code},baseline,aea,1,ng/mL,0.05,plasma,LC-MS/MS v2,B7,{minutes},\n"
        for code, minutes in rows
    )
    do_import_labs(filled, content, actor=users["carol"])

    page = login("alice").get(reverse("dashboard:study", args=[filled.pk])).content.decode()
    assert '<p class="big">2</p><p>received</p>' in page
    assert '<p class="big">1</p><p>flagged</p>' in page
    assert "No lab data yet." not in page
    south_only = login("sam").get(reverse("dashboard:study", args=[filled.pk])).content.decode()
    assert '<p class="big">1</p><p>received</p>' in south_only
    assert '<p class="big">0</p><p>flagged</p>' in south_only


def test_a_changed_definition_after_freezing_is_flagged(study, users, login):
    frozen = study.instruments.get(instrument_id="phq9")
    frozen.version, frozen.frozen_at = "0.9.0", timezone.now()
    frozen.save()

    mismatches = services.version_mismatches(_membership(study, users, "alice"))
    assert mismatches == [("phq9", "0.9.0", "1.0.0")]
    page = login("alice").get(reverse("dashboard:study", args=[study.pk])).content.decode()
    assert "phq9 was frozen at version 0.9.0" in page


def test_the_study_page_marks_language_versions_that_are_not_validated_or_not_checked(study, login):
    import re

    page = login("vera").get(reverse("dashboard:study", args=[study.pk])).content.decode()
    section = page[page.index('id="translation-status"') :]
    section = section[: section.index("</table>")]
    rows = {re.search(r"<td>(\w+) <small>", row).group(1): row for row in section.split("<tr>")[2:]}
    assert set(rows) == set(study.instruments.values_list("instrument_id", flat=True))
    # tx: fibrosurvey's own items and translation; PHQ-9: validated Spanish exists, wording
    # here not checked against it (the definitions' flags).
    assert (
        rows["tx"].count('class="translation-flagged"><strong>⚠ Not a validated translation') == 2
    )
    assert "fibrosurvey&#x27;s own translation" in rows["tx"]
    assert rows["phq9"].count("⚠ Wording not checked against the official form") == 2
    # The Spanish JSS is fibrosurvey's own translation; its English is the original form.
    assert rows["jss"].count("Not a validated translation") == 1
    assert "Validated; wording checked" not in section  # nothing is checked yet

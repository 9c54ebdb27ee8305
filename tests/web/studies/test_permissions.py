"""The rules in studies.permissions are the ones the platform applies: safety e-mail
recipients follow a capability, the decorator refuses unknown capabilities, and the roles
module breaks the models <-> permissions import cycle."""

from __future__ import annotations

import inspect

import pytest

from fibrosurvey.web.studies import models as study_models
from fibrosurvey.web.studies import permissions


@pytest.fixture
def alert(study, participant):
    from fibrosurvey.web.survey.models import Response, SafetyAlert

    event = study.events.get(code="baseline")
    response = Response.objects.create(
        participant=participant,
        event=event,
        instrument_id="phq9",
        instrument_version="1.0.0",
        answers={"phq9_9": 1},
    )
    return SafetyAlert.objects.create(
        study=study, participant=participant, event=event, response=response, value=1
    )


def _email_recipients(alert):
    """The recipients of the e-mail the survey queues for ``alert`` (empty: none queued)."""
    from fibrosurvey.web.outbox.models import OutboxEmail
    from fibrosurvey.web.survey.services import _queue_safety_email

    OutboxEmail.objects.all().delete()
    _queue_safety_email(alert)
    queued = OutboxEmail.objects.filter(kind="safety_alert").first()
    return sorted(queued.recipients) if queued else []


def test_safety_emails_go_to_members_with_receive_safety_alerts_who_see_the_site(alert):
    # sam coordinates site south only; the participant is at north.
    assert _email_recipients(alert) == ["alice@example.org", "carol@example.org"]


def test_safety_email_recipients_are_the_capability_not_a_hard_coded_role_list(alert, monkeypatch):
    roles = permissions.CAPABILITIES["receive_safety_alerts"] | {"analyst"}
    monkeypatch.setitem(permissions.CAPABILITIES, "receive_safety_alerts", roles)
    assert "anna@example.org" in _email_recipients(alert)


def test_removed_or_deactivated_members_get_no_safety_email(alert, study, users):
    from fibrosurvey.web.studies.services import do_remove_member

    do_remove_member(study.memberships.get(user=users["carol"]), actor=users["alice"])
    users["alice"].is_active = False
    users["alice"].save()
    study.safety_email = "safety@example.org"
    study.save()

    assert _email_recipients(alert) == ["safety@example.org"]


def test_study_view_refuses_an_unknown_capability_when_the_view_is_defined():
    with pytest.raises(ValueError, match="unknown capability 'view_everything'; known: "):
        permissions.study_view("view_everything")


def test_models_do_not_import_permissions_and_roles_stand_alone():
    assert "permissions" not in inspect.getsource(study_models)
    assert study_models.Role is permissions.Role
    assert not hasattr(study_models.Membership, "can")

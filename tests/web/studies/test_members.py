"""Offboarding on the Members page: an owner changes a member's role or removes them, each
after a confirmation step and audited; the last owner can be neither removed nor demoted."""

from __future__ import annotations

import pytest
from django.urls import reverse

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.studies.models import Membership


def _member(study, username):
    return study.memberships.get(user__username=username)


def test_members_page_links_each_member_to_change_and_remove(login, study):
    page = login("alice").get(reverse("studies:members", args=[study.pk])).content.decode()
    vera = _member(study, "vera")
    assert reverse("studies:change_member", args=[study.pk, vera.pk]) in page
    assert reverse("studies:remove_member", args=[study.pk, vera.pk]) in page


def test_removing_asks_for_confirmation_first(login, study):
    vera = _member(study, "vera")
    url = reverse("studies:remove_member", args=[study.pk, vera.pk])

    confirm = login("alice").get(url)

    assert confirm.status_code == 200
    assert b"Remove vera from this study?" in confirm.content
    assert Membership.objects.filter(pk=vera.pk).exists()


def test_owner_removes_a_member_who_loses_access_and_their_tokens_at_once(
    login, study, users, api_client
):
    vera = _member(study, "vera")
    assert api_client("vera").get(f"/api/studies/{study.pk}").status_code == 200

    response = login("alice").post(reverse("studies:remove_member", args=[study.pk, vera.pk]))

    assert response.status_code == 302
    assert response.url == reverse("studies:members", args=[study.pk])
    assert not Membership.objects.filter(pk=vera.pk).exists()
    assert login("vera").get(reverse("dashboard:study", args=[study.pk])).status_code == 404
    assert api_client("vera").get(f"/api/studies/{study.pk}").status_code == 401
    removed = AuditRecord.objects.get(action="delete", object_type="studies.membership")
    assert removed.actor == users["alice"] and removed.study_id == study.pk
    assert removed.before["user"] == "vera" and removed.before["role"] == "viewer"
    assert AuditRecord.objects.filter(
        action="revoke", object_type="api.apitoken", actor=users["alice"]
    ).exists()


def test_owner_changes_a_role_and_site_limit_and_it_is_audited(login, study, users):
    carol = _member(study, "carol")
    south = study.sites.get(code="south")

    response = login("alice").post(
        reverse("studies:change_member", args=[study.pk, carol.pk]),
        {"role": "viewer", "site": south.pk},
    )

    assert response.status_code == 302
    carol.refresh_from_db()
    assert (carol.role, carol.site_id) == ("viewer", south.pk)
    change = AuditRecord.objects.get(action="update", object_type="studies.membership")
    assert change.actor == users["alice"]
    assert change.before == {"role": "coordinator", "site_id": None}
    assert change.after == {"role": "viewer", "site_id": south.pk}
    # The new role applies at once: a viewer may not see the participant list.
    assert login("carol").get(reverse("participants:list", args=[study.pk])).status_code == 403


def test_the_only_owner_can_be_neither_removed_nor_demoted(login, study, users):
    alice = _member(study, "alice")
    client = login("alice")
    before = AuditRecord.objects.count()

    removal = client.post(reverse("studies:remove_member", args=[study.pk, alice.pk]))
    demotion = client.post(
        reverse("studies:change_member", args=[study.pk, alice.pk]),
        {"role": "analyst", "site": ""},
    )

    assert removal.status_code == 409
    assert b"only owner" in removal.content
    assert demotion.status_code == 409
    assert b"only owner" in demotion.content
    alice.refresh_from_db()
    assert alice.role == "owner"
    assert AuditRecord.objects.count() == before


def test_with_a_second_owner_the_first_may_step_down_and_loses_the_members_page(
    login, study, users
):
    carol = _member(study, "carol")
    alice = _member(study, "alice")
    client = login("alice")
    client.post(
        reverse("studies:change_member", args=[study.pk, carol.pk]), {"role": "owner", "site": ""}
    )

    response = client.post(
        reverse("studies:change_member", args=[study.pk, alice.pk]),
        {"role": "analyst", "site": ""},
    )

    assert response.status_code == 302
    assert response.url == reverse("dashboard:home")
    assert client.get(reverse("studies:members", args=[study.pk])).status_code == 403


@pytest.mark.parametrize(
    "data,problem",
    [
        ({"role": "superuser", "site": ""}, b"superuser is not one of the available choices"),
        ({"role": "viewer", "site": "999999"}, b"not one of the available choices"),
    ],
)
def test_bad_role_or_site_is_a_422_naming_the_field_and_changes_nothing(
    login, study, data, problem
):
    vera = _member(study, "vera")
    client = login("alice")
    before = AuditRecord.objects.count()

    response = client.post(reverse("studies:change_member", args=[study.pk, vera.pk]), data)

    assert response.status_code == 422
    assert problem in response.content
    vera.refresh_from_db()
    assert vera.role == "viewer"
    assert AuditRecord.objects.count() == before


def test_a_site_of_another_study_cannot_be_given(login, study, other_study):
    vera = _member(study, "vera")
    east = other_study.sites.get(code="east")
    response = login("alice").post(
        reverse("studies:change_member", args=[study.pk, vera.pk]),
        {"role": "viewer", "site": east.pk},
    )
    assert response.status_code == 422
    vera.refresh_from_db()
    assert vera.site_id is None


def test_a_membership_of_another_study_is_not_found(login, study, other_study):
    oscar = other_study.memberships.get()
    client = login("alice")
    assert (
        client.get(reverse("studies:remove_member", args=[study.pk, oscar.pk])).status_code == 404
    )
    assert (
        client.post(reverse("studies:remove_member", args=[study.pk, oscar.pk])).status_code == 404
    )
    assert Membership.objects.filter(pk=oscar.pk).exists()


@pytest.mark.django_db(transaction=True)
def test_two_owners_demoting_each_other_at_once_leave_one_owner(users):
    """On PostgreSQL the owner rows are locked: the second demotion waits for the first,
    then sees it is about the last owner and is refused."""
    import threading

    from django.db import connection, connections, transaction

    from fibrosurvey.web.studies.services import (
        MembershipError,
        do_add_member,
        do_change_member,
        do_create_study_from_template,
    )

    if connection.vendor != "postgresql":
        pytest.skip("row locks need PostgreSQL (SQLite serialises writers differently)")
    study = do_create_study_from_template(name="Race", owner=users["alice"], sites=[("a", "A")])
    carol = do_add_member(study, user=users["carol"], role="owner", actor=users["alice"])
    alice = study.memberships.get(user=users["alice"])
    first_holds_lock = threading.Event()
    release_first = threading.Event()
    outcome: dict[str, object] = {}

    def first() -> None:
        try:
            with transaction.atomic():
                do_change_member(alice, role="analyst", site=None, actor=users["alice"])
                first_holds_lock.set()
                release_first.wait(10)
            outcome["first"] = "done"
        finally:
            connections.close_all()

    def second() -> None:
        try:
            first_holds_lock.wait(10)
            do_change_member(carol, role="analyst", site=None, actor=users["carol"])
            outcome["second"] = "done"
        except MembershipError as error:
            outcome["second"] = str(error)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_holds_lock.wait(10)
    threading.Event().wait(0.5)  # the second is now blocked on the owner rows
    release_first.set()
    for thread in threads:
        thread.join(20)

    assert outcome["first"] == "done"
    assert "only owner" in str(outcome["second"])
    assert list(
        study.memberships.filter(role="owner").values_list("user__username", flat=True)
    ) == ["carol"]

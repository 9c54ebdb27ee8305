"""Fraud and duplicate defences: every flagged visitor is kept and told nothing; the flags
carry their reasons."""

from __future__ import annotations

from django.test import Client
from django.urls import reverse

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.participants.models import Participant
from fibrosurvey.web.recruitment.flow import do_assess_completed
from fibrosurvey.web.recruitment.models import OpenLink, QualityFlag, Visit
from tests.web.recruitment.conftest import (
    ELIGIBLE,
    start_and_complete,
    straight_answer,
    varied_answer,
)


def _flags(visit=None):
    visit = visit or Visit.objects.latest("id")
    return sorted(QualityFlag.objects.filter(visit=visit).values_list("reason", flat=True))


def _token(reply):
    return reply.url.strip("/").split("/")[2]


def test_a_bot_filling_the_honeypot_instantly_is_flagged_but_kept_and_not_told(
    client, visit_and_screen
):
    reply = visit_and_screen(client, seconds=0, honeypot="http://spam.example")
    assert reply.url.startswith("/r/go/")  # the same path as a person: nothing to learn
    assert _flags() == ["honeypot", "too_fast"]
    assert Participant.objects.count() == 1
    audit = AuditRecord.objects.get(object_type="recruitment.visit")
    assert audit.after["quality_flags"] == ["honeypot", "too_fast"]


def test_a_person_taking_their_time_is_not_flagged(client, visit_and_screen):
    visit_and_screen(client, seconds=40)
    assert _flags() == []


def test_an_impossible_screener_answer_is_flagged(client, visit_and_screen):
    visit_and_screen(client, ELIGIBLE | {"age": "30", "years_with_pain": "45"})
    assert _flags() == ["impossible_answer"]


def test_a_second_visit_from_the_same_device_is_flagged_duplicate(client, visit_and_screen):
    visit_and_screen(client)
    visit_and_screen(client)
    first, second = Visit.objects.order_by("id")
    assert _flags(first) == [] and _flags(second) == ["duplicate_device"]
    visit_and_screen(Client())  # another device
    assert _flags() == []


def test_the_same_contact_details_again_are_flagged_duplicate(visit_and_screen):
    for client in (Client(), Client()):
        token = _token(visit_and_screen(client))
        client.post(reverse("recruitment:consent", args=[token]), {"agree": "yes"})
        client.post(
            reverse("recruitment:contact", args=[token]),
            {"email": " Ana@Example.org ", "phone": ""},
        )
    first, second = Visit.objects.order_by("id")
    assert first.contact_hash == second.contact_hash != ""
    assert _flags(first) == [] and _flags(second) == ["duplicate_contact"]


def test_screener_submissions_are_limited_per_address_and_per_source(open_link, visit_and_screen):
    OpenLink.objects.filter(pk=open_link.pk).update(rate_limit_per_ip=2, rate_limit_per_source=3)
    same_address = [visit_and_screen(Client()) for _ in range(3)]
    assert [r.status_code for r in same_address] == [302, 302, 429]
    assert same_address[-1]["Retry-After"] == "3600"
    assert Visit.objects.filter(screened_at__isnull=False).count() == 2
    elsewhere = Client(REMOTE_ADDR="198.51.100.7")
    assert visit_and_screen(elsewhere).status_code == 302  # third from the direct source
    assert visit_and_screen(Client(REMOTE_ADDR="198.51.100.8")).status_code == 429
    assert (
        visit_and_screen(Client(REMOTE_ADDR="198.51.100.9"), src="clinic-poster").status_code == 302
    )


def test_completed_surveys_are_checked_for_speed_straight_lines_and_copies(visit_and_screen):
    careful, speedy, copier = Client(), Client(), Client()
    start_and_complete(careful, _token(visit_and_screen(careful)), varied_answer, page_seconds=20)
    assert do_assess_completed(Visit.objects.get().study) == 1
    start_and_complete(speedy, _token(visit_and_screen(speedy)), straight_answer)
    start_and_complete(copier, _token(visit_and_screen(copier)), varied_answer, page_seconds=15)
    first, second, third = Visit.objects.order_by("id")
    assert do_assess_completed(first.study) == 2
    assert _flags(first) == []
    assert _flags(second) == ["straightlining", "too_fast"]
    assert _flags(third) == ["duplicate_answers"]
    assert QualityFlag.objects.get(visit=third).detail == f"like visit {first.pk}"
    assert do_assess_completed(first.study) == 0  # once per visit


def test_the_same_phone_with_another_e_mail_is_still_a_duplicate_contact(visit_and_screen):
    details = [
        {"email": "ana@example.org", "phone": "+34 600 000 111"},
        {"email": "other@example.org", "phone": "0034-600-000-111"[4:]},
    ]
    for detail in details:
        client = Client()
        token = _token(visit_and_screen(client))
        client.post(reverse("recruitment:consent", args=[token]), {"agree": "yes"})
        client.post(reverse("recruitment:contact", args=[token]), detail)
    first, second = Visit.objects.order_by("id")
    assert first.contact_hash != second.contact_hash
    assert _flags(second) == []  # 600000111 is not 34600000111: different numbers
    third = Client()
    token = _token(visit_and_screen(third))
    third.post(reverse("recruitment:consent", args=[token]), {"agree": "yes"})
    third.post(
        reverse("recruitment:contact", args=[token]),
        {"email": "third@example.org", "phone": "+34 (600) 000-111"},
    )
    assert _flags() == ["duplicate_contact"]


def test_a_script_reloading_the_landing_page_cannot_fill_the_visits_table(open_link):
    OpenLink.objects.filter(pk=open_link.pk).update(rate_limit_per_ip=1)
    url = reverse("recruitment:landing", args=[open_link.slug])
    person = Client()
    assert person.get(url).status_code == 200
    statuses = [Client().get(url).status_code for _ in range(11)]
    assert statuses == [200] * 9 + [429] * 2
    assert Visit.objects.count() == 10
    # A visitor reloading their own unscreened visit starts nothing new: not limited.
    assert person.get(url).status_code == 200
    assert Visit.objects.count() == 10


def test_a_tampered_device_cookie_is_replaced_with_a_fresh_one(open_link):
    client = Client()
    client.cookies["fs_device"] = "x" * 500
    client.get(reverse("recruitment:landing", args=[open_link.slug]))
    fresh = client.cookies["fs_device"].value
    assert fresh and len(fresh) <= 64

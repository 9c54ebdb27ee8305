"""Survey links: only the token's hash is stored and looked up; requests
per (IP, token) are rate-limited; dead links all look the same."""

from __future__ import annotations

import io

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from fibrosurvey.web.participants.models import Invitation


@pytest.fixture(autouse=True)
def _fresh_rate_buckets():
    cache.clear()
    yield
    cache.clear()


def test_the_raw_token_is_nowhere_in_the_database(issued):
    dump = io.StringIO()
    call_command("dumpdata", stdout=dump)
    assert issued.token not in dump.getvalue()
    assert Invitation.objects.get(pk=issued.invitation.pk).token_hash in dump.getvalue()


def test_a_link_is_looked_up_by_the_hash_of_its_token_never_the_token_itself(client, issued):
    # The check used to spy on hmac.compare_digest(stored, stored): a comparison of the
    # stored hash with itself, which can never fail. What protects the link is that the
    # database is only ever asked for the hash, so the token is in no query (or query log).
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("survey:entry", args=[issued.token]))

    assert response.status_code == 302
    sql = "\n".join(q["sql"] for q in queries.captured_queries)
    stored = Invitation.objects.get(pk=issued.invitation.pk).token_hash
    assert stored in sql
    assert issued.token not in sql


def test_requests_on_one_link_are_limited_with_a_friendly_429(client, issued, settings):
    settings.LINK_RATE_LIMIT = 5
    url = reverse("survey:entry", args=[issued.token])
    statuses = [client.get(url).status_code for _ in range(5)]
    assert statuses == [302] * 5
    limited = client.get(url)
    assert limited.status_code == 429
    assert limited["Retry-After"] == "60"
    assert b"Please wait a moment" in limited.content
    assert b"Your answers so far are saved" in limited.content
    # Another link from the same address, and the same link from another address, still work.
    assert client.get(reverse("survey:entry", args=["other-token"])).status_code == 404
    assert client.get(url, REMOTE_ADDR="10.0.0.9").status_code == 302


def test_the_limit_is_per_window(client, issued, settings):
    settings.LINK_RATE_LIMIT = 2
    settings.LINK_RATE_WINDOW = 1
    url = reverse("survey:entry", args=[issued.token])
    assert [client.get(url).status_code for _ in range(3)] == [302, 302, 429]
    import time

    time.sleep(1.2)
    assert client.get(url).status_code == 302


def test_unknown_expired_revoked_and_withdrawn_links_are_indistinguishable(
    client, issued, participant, users
):
    from fibrosurvey.web.participants.invitations import do_issue_invitation, do_revoke_invitation
    from fibrosurvey.web.participants.withdrawal import do_withdraw_participant

    def dead(token: str) -> tuple[int, bytes, str]:
        response = client.get(reverse("survey:entry", args=[token]))
        return response.status_code, response.content, response.get("Cache-Control", "")

    unknown = dead("x" * len(issued.token))
    Invitation.objects.filter(pk=issued.invitation.pk).update(expires_at=timezone.now())
    expired = dead(issued.token)
    Invitation.objects.filter(pk=issued.invitation.pk).update(
        expires_at=timezone.now() + timezone.timedelta(days=5)
    )
    do_revoke_invitation(issued.invitation, actor=users["carol"])
    revoked = dead(issued.token)
    fresh = do_issue_invitation(participant, issued.invitation.event, send=False)
    do_withdraw_participant(participant, actor=users["carol"])
    withdrawn = dead(fresh.token)

    assert unknown[0] == 404
    assert unknown == expired == revoked == withdrawn
    assert b"csrfmiddlewaretoken" not in unknown[1]
    assert participant.study_code.encode() not in unknown[1]

"""Survey-link limits beyond one (address, token) pair: guessing tokens from one address, and
the FHIR submission endpoint (/api/survey/<token>/fhir). Across gunicorn workers:
test_gunicorn_limits_and_logs.py."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.urls import reverse


@pytest.fixture(autouse=True)
def _fresh_rate_buckets():
    cache.clear()
    yield
    cache.clear()


def test_guessing_tokens_from_one_address_is_limited_then_every_link_waits(
    client, issued, settings
):
    settings.LINK_MISS_LIMIT = 3
    guesses = [client.get(f"/s/guess-{n}/").status_code for n in range(3)]
    assert guesses == [404, 404, 404]

    blocked = client.get(f"/s/guess-{3}/")
    assert blocked.status_code == 429
    assert blocked["Retry-After"] == str(settings.LINK_RATE_WINDOW)
    # A real link from that address waits too, so no answer tells a good guess from a bad one.
    real_link = reverse("survey:entry", args=[issued.token])
    assert client.get(real_link).status_code == 429
    assert client.get(real_link, REMOTE_ADDR="10.0.0.9").status_code == 302


def test_known_links_do_not_count_as_guesses(client, issued, settings):
    settings.LINK_MISS_LIMIT = 2
    real_link = reverse("survey:entry", args=[issued.token])
    assert [client.get(real_link).status_code for _ in range(5)] == [302] * 5
    assert client.get("/s/guess/").status_code == 404


def test_fhir_submissions_are_limited_per_link_with_a_json_429(client, issued, settings):
    settings.LINK_RATE_LIMIT = 3
    url = f"/api/survey/{issued.token}/fhir"
    statuses = [
        client.post(url, b"{}", content_type="application/fhir+json").status_code for _ in range(4)
    ]
    assert 429 not in statuses[:3]
    assert statuses[3] == 429
    limited = client.post(url, b"{}", content_type="application/fhir+json")
    assert limited.status_code == 429
    assert "retry in" in limited.json()["detail"]
    assert limited["Retry-After"] == str(settings.LINK_RATE_WINDOW)


def test_unknown_tokens_on_the_fhir_endpoint_count_as_guesses(client, db, settings):
    settings.LINK_MISS_LIMIT = 2
    statuses = [
        client.post(
            f"/api/survey/guess-{n}/fhir", b"{}", content_type="application/fhir+json"
        ).status_code
        for n in range(3)
    ]
    assert statuses == [404, 404, 429]
    assert client.get("/s/another-guess/").status_code == 429


def test_links_still_open_while_the_cache_server_is_down(client, issued, settings, caplog):
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            # Nothing listens on port 1: every cache call fails to connect.
            "LOCATION": "redis://127.0.0.1:1/0",
        }
    }
    response = client.get(reverse("survey:entry", args=[issued.token]))
    assert response.status_code == 302
    assert "rate limits skipped: the cache is unavailable" in caplog.text

"""Shared web fixtures: two studies and the personas every access test walks through.

Personas (password for all: PASSWORD):
- alice: owner of ``study``
- carol: coordinator of ``study`` (all sites)
- anna: analyst of ``study``
- vera: viewer of ``study``
- sam: coordinator of ``study`` limited to site "south"
- oscar: owner of ``other_study`` only (must get 404 on everything of ``study``)
- anonymous: not logged in

``study`` is built from the "National fibromyalgia survey" template with sites "north"
and "south". ``participant`` is enrolled at north (e-mail on file), ``participant_south``
at south. ``issued`` is a baseline invitation for ``participant`` (``issued.token`` is the
secret link token).

The labs/exports/analyses/api engineer may append fixtures at the end of this file.
"""

from __future__ import annotations

import os

import pytest

# Playwright's sync API runs an event loop in the test thread; Django then refuses ORM
# calls from that thread unless told it is fine (it is: the loop is Playwright's, not ours).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

PASSWORD = "correct horse battery staple 42"
# Debian's Chromium, never a downloaded browser.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PERSONAS = ("alice", "carol", "anna", "vera", "sam", "oscar", "anonymous")


@pytest.fixture(autouse=True)
def _no_rate_counts_from_earlier_tests():
    """Survey-link limits count per client address in the cache, and every test client is
    127.0.0.1: each test starts from zero (the test settings' cache is process-local)."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture(scope="session", autouse=True)
def _test_flush_may_empty_the_audit_trail():
    """Transactional tests end with a flush, which the audit trail's append-only triggers
    refuse; the test harness (like a database owner) lifts them around its flush only."""
    from django.db.backends.postgresql.base import DatabaseOperations as PostgresOps
    from django.db.backends.sqlite3.base import DatabaseOperations as SqliteOps

    from fibrosurvey.web.audit.triggers import TABLE, install_sql, remove_sql

    originals = {}
    for ops_class, vendor in ((SqliteOps, "sqlite"), (PostgresOps, "postgresql")):
        original = originals[ops_class] = ops_class.sql_flush

        def sql_flush(self, style, tables, *args, _original=original, _vendor=vendor, **kw):
            statements = _original(self, style, tables, *args, **kw)
            if TABLE not in tables:
                return statements
            return remove_sql(_vendor) + statements + install_sql(_vendor)

        ops_class.sql_flush = sql_flush
    yield
    for ops_class, original in originals.items():
        ops_class.sql_flush = original


@pytest.fixture
def users(db):
    from django.contrib.auth import get_user_model

    user_model = get_user_model()
    return {
        name: user_model.objects.create_user(name, f"{name}@example.org", PASSWORD)
        for name in ("alice", "carol", "anna", "vera", "sam", "oscar")
    }


@pytest.fixture
def study(users):
    from fibrosurvey.web.studies.services import do_add_member, do_create_study_from_template

    alice = users["alice"]
    created = do_create_study_from_template(
        name="National fibromyalgia survey",
        owner=alice,
        sites=[("north", "North hospital"), ("south", "South clinic")],
    )
    south = created.sites.get(code="south")
    do_add_member(created, user=users["carol"], role="coordinator", actor=alice)
    do_add_member(created, user=users["anna"], role="analyst", actor=alice)
    do_add_member(created, user=users["vera"], role="viewer", actor=alice)
    do_add_member(created, user=users["sam"], role="coordinator", actor=alice, site=south)
    return created


@pytest.fixture
def other_study(users):
    from fibrosurvey.web.studies.services import do_create_study_from_template

    return do_create_study_from_template(
        name="Another study", owner=users["oscar"], sites=[("east", "East clinic")]
    )


@pytest.fixture
def participant(study, users):
    from fibrosurvey.web.participants.enrolment import do_enrol_participant

    return do_enrol_participant(
        study,
        site=study.sites.get(code="north"),
        actor=users["carol"],
        language="en",
        email="maria.lopez@example.org",
        phone="+34 600 123 456",
        name="María López",
    )


@pytest.fixture
def participant_south(study, users):
    from fibrosurvey.web.participants.enrolment import do_enrol_participant

    return do_enrol_participant(
        study,
        site=study.sites.get(code="south"),
        actor=users["sam"],
        language="es",
        email="juan@example.org",
    )


@pytest.fixture
def issued(participant, study):
    """A baseline invitation for ``participant``: ``.token`` (secret), ``.invitation``."""
    from fibrosurvey.web.participants.invitations import do_issue_invitation

    return do_issue_invitation(participant, study.events.get(code="baseline"), send=False)


@pytest.fixture
def browser(live_server):
    """Chromium through Playwright's sync API, for tests marked ``browser``."""
    from django.db import connections
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
        # ORM calls made while Playwright's loop runs use their own connection (another
        # context); close it here, or PostgreSQL refuses to drop the test database later.
        connections.close_all()


@pytest.fixture
def login(client, users):
    """``login("alice")`` -> a test client logged in as that persona ("anonymous": none)."""

    def _login(persona: str):
        client.logout()
        if persona != "anonymous":
            client.force_login(users[persona])
        return client

    return _login


# --- labs / exports / analyses / api fixtures (second web engineer) ---------------------------


@pytest.fixture
def cohort(study):
    """``study`` filled with a small synthetic cohort (answers, design, lab samples) loaded by
    ``fibrosurvey.web.cohort.load_cohort``; returns (study, the unscored synth data
    with sites mapped to north/south)."""
    import polars as pl

    from fibrosurvey.synth import generate
    from fibrosurvey.web.cohort import load_cohort

    data = generate("seed-claims", 12, 7, score=False).data
    codes = data["participant_id"].unique(maintain_order=True).to_list()
    site_of = {code: ("north" if i % 2 == 0 else "south") for i, code in enumerate(codes)}
    data = data.with_columns(pl.col("participant_id").replace_strict(site_of).alias("site"))
    load_cohort(study, data)
    return study, data


@pytest.fixture
def api_tokens(study, other_study, users):
    """persona -> secret API token (oscar's is for ``other_study``; anonymous has none)."""
    from fibrosurvey.web.api.services import do_issue_token

    tokens = {}
    for persona in ("alice", "carol", "anna", "vera", "sam"):
        tokens[persona] = do_issue_token(user=users[persona], study=study)[1]
    tokens["oscar"] = do_issue_token(user=users["oscar"], study=other_study)[1]
    return tokens


@pytest.fixture
def api_client(client, api_tokens):
    """``api_client("anna").get(url)`` sends anna's bearer token ("anonymous": none)."""

    class _Api:
        def __init__(self, token):
            self.headers = {"Authorization": f"Bearer {token}"} if token else {}

        def get(self, url, **kwargs):
            return client.get(url, headers=self.headers, **kwargs)

        def post(self, url, data=b"", content_type="application/json", **kwargs):
            return client.post(
                url, data=data, content_type=content_type, headers=self.headers, **kwargs
            )

    def _for(persona):
        client.logout()
        return _Api(api_tokens.get(persona))

    return _for

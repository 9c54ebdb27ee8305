"""A small study of the owner's own making: baseline = the team's `mood` instrument and PEG."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

DATA = Path(__file__).parent / "data"


def upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (DATA / name).read_bytes(), content_type="application/yaml")


def save_yaml(study, name: str, user):
    from fibrosurvey.web.builder.library import do_import_instrument, do_save_instruments

    preview = do_import_instrument(study, "yaml", upload(name), user)
    assert preview.ok, (preview.problems, [d.blocked for d in preview.drafts])
    return do_save_instruments(study, preview, user)


@pytest.fixture
def own_study(users):
    """Alice's study with one site; baseline battery: mood (v1), then the built-in PEG."""
    from fibrosurvey.web.builder.active import study_instruments
    from fibrosurvey.web.builder.setup import do_change_event
    from fibrosurvey.web.studies.services import do_add_member, do_create_study

    alice = users["alice"]
    study = do_create_study(
        name="Mood pilot",
        owner=alice,
        events=[{"code": "baseline", "label": {"en": "Baseline"}, "instruments": ["peg"]}],
        languages=["en", "es"],
        consent_text={"en": "Please agree.", "es": "Por favor, acepte."},
        sites=[("main", "Main clinic")],
    )
    do_add_member(study, user=users["carol"], role="coordinator", actor=alice)
    save_yaml(study, "mood_v1.yaml", alice)
    with study_instruments(study.pk):
        do_change_event(
            study.events.get(code="baseline"),
            label={"en": "Baseline"},
            day_offset=0,
            window_days=0,
            reminder_days=[],
            battery=["mood", "peg"],
            actor=alice,
        )
    return study


@pytest.fixture
def enrol(own_study, users):
    """``enrol("en")`` -> (participant, secret link token) for the baseline event."""
    from fibrosurvey.web.participants.enrolment import do_enrol_participant
    from fibrosurvey.web.participants.invitations import do_issue_invitation

    def _enrol(language: str = "en"):
        participant = do_enrol_participant(
            own_study,
            site=own_study.sites.get(code="main"),
            actor=users["carol"],
            language=language,
            email="",
        )
        issued = do_issue_invitation(participant, own_study.events.get(code="baseline"), send=False)
        return participant, issued.token

    return _enrol

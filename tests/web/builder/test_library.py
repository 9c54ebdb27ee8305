"""A study's own instruments: upload -> preview -> save, versions, diffs, frozen versions, and
export columns that stay where they were when an instrument changes between two batches."""

from __future__ import annotations

import re

import polars as pl
from django.urls import reverse

from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.builder.active import study_instruments
from fibrosurvey.web.builder.library import do_import_instrument
from fibrosurvey.web.builder.models import InstrumentVersion
from fibrosurvey.web.exports.dataset import DatasetBuilder
from fibrosurvey.web.survey.models import Response
from fibrosurvey.web.survey.services import survey_pages
from tests.web.builder.conftest import save_yaml, upload


def answer_survey(client, token: str, answers: dict[str, str], participant) -> None:
    """Consent, language, then every page with ``answers`` (by column) until the end."""
    client.post(reverse("survey:consent", args=[token]), {"agree": "yes"})
    client.post(reverse("survey:language", args=[token]), {"language": participant.language})
    invitation = participant.invitations.get()
    with study_instruments(participant.study_id):
        pages = survey_pages(invitation)
    number = 1
    while number <= len(pages):
        page = pages[number - 1]
        body = {c: answers.get(c, "") for c in page.columns} | {"nonce": f"p{number}-{token[:6]}"}
        reply = client.post(reverse("survey:page", args=[token, number]), body)
        assert reply.status_code == 302, reply.content.decode()[:2000]
        if reply.url == reverse("survey:done", args=[token]):
            return
        number = int(re.search(r"/(\d+)/?$", reply.url).group(1))
    raise AssertionError("the survey did not finish")


PEG = {"peg_1": "4", "peg_2": "5", "peg_3": "6"}


def test_yaml_upload_previews_items_logic_and_saves_nothing(login, own_study, users):
    client = login("alice")
    url = reverse("builder:instruments", args=[own_study.pk])
    reply = client.post(url, {"source_kind": "yaml", "upload": upload("mood_v2.yaml")})
    page = reply.content.decode()
    assert reply.status_code == 200
    assert "new version 2.0.0" in page
    assert "mood_stress" in page and "mood_low = 1" in page  # items and their logic
    assert "options removed: 1" in page and "its column stays in exports" in page  # the diff
    assert InstrumentVersion.objects.filter(study=own_study).count() == 1  # only v1


def test_saving_makes_a_new_current_version_audited_and_the_old_one_stays(login, own_study):
    client = login("alice")
    preview = client.post(
        reverse("builder:instruments", args=[own_study.pk]),
        {"source_kind": "yaml", "upload": upload("mood_v2.yaml")},
    )
    definition = re.search(
        r'<textarea name="definition" hidden>(.*?)</textarea>', preview.content.decode(), re.S
    ).group(1)
    import html

    saved = client.post(
        reverse("builder:save_instruments", args=[own_study.pk]),
        {
            "source_kind": "yaml",
            "source_name": "mood_v2.yaml",
            "refusals": "[]",
            "definition": html.unescape(definition),
        },
    )
    assert saved.status_code == 302
    versions = list(InstrumentVersion.objects.filter(study=own_study).order_by("number"))
    assert [(v.number, v.current) for v in versions] == [(1, False), (2, True)]
    assert own_study.instruments.get(instrument_id="mood").version == "2.0.0"
    record = (
        AuditRecord.objects.filter(object_type="builder.instrumentversion").order_by("pk").last()
    )
    assert (
        record.after["version"] == "2.0.0"
        and "added mood_stress: choice" in record.after["changes"]
    )
    diff = client.get(reverse("builder:instrument_version", args=[own_study.pk, "mood", 2]))
    assert "mood_energy" in diff.content.decode() and "removed" in diff.content.decode()


def test_a_built_in_id_a_kind_change_and_an_unchanged_file_are_refused(own_study, users):
    from django.core.files.uploadedfile import SimpleUploadedFile

    alice = users["alice"]
    v1 = upload("mood_v1.yaml").read().decode()
    same = do_import_instrument(own_study, "yaml", upload("mood_v1.yaml"), alice)
    assert not same.ok and "nothing to save" in same.drafts[0].blocked[0]
    kind = v1.replace(
        "kind: integer\n    minimum: 0\n    maximum: 10",
        "kind: number\n    minimum: 0\n    maximum: 10",
    )
    changed = do_import_instrument(
        own_study, "yaml", SimpleUploadedFile("m.yaml", kind.encode()), alice
    )
    assert (
        not changed.ok
        and "kind cannot change from integer to number" in changed.drafts[0].blocked[0]
    )
    builtin = do_import_instrument(
        own_study,
        "yaml",
        SimpleUploadedFile(
            "p.yaml", v1.replace("id: mood", "id: phq9").replace("mood_low", "phq9_low").encode()
        ),
        alice,
    )
    assert not builtin.ok and "is a built-in instrument" in builtin.drafts[0].blocked[0]
    broken = do_import_instrument(
        own_study, "yaml", SimpleUploadedFile("b.yaml", b"id: mood\nitems: [1, 2"), alice
    )
    assert not broken.ok and "not valid YAML" in broken.problems[0]


def test_responses_keep_their_version_and_earlier_export_columns_and_values_stay(
    client, own_study, users, enrol
):
    first = [enrol("en") for _ in range(2)]
    answer_survey(
        client,
        first[0][1],
        {"mood_low": "1", "mood_howlow": "7", "mood_sleep": "1", "mood_energy": "2"} | PEG,
        first[0][0],
    )
    answer_survey(
        client,
        first[1][1],
        {"mood_low": "0", "mood_sleep": "3", "mood_energy": "0"} | PEG,
        first[1][0],
    )
    before = DatasetBuilder(own_study).frame()
    assert before.filter(pl.col("participant_id") == first[0][0].study_code)[
        "mood_sleep"
    ].to_list() == [1]

    save_yaml(own_study, "mood_v2.yaml", users["alice"])
    second = enrol("es")
    answer_survey(
        client,
        second[1],
        {"mood_low": "1", "mood_howlow": "3", "mood_sleep": "2", "mood_stress": "1"} | PEG,
        second[0],
    )
    after = DatasetBuilder(own_study).frame()

    # Every earlier column is still there, in the same order, with every earlier value.
    assert [c for c in after.columns if c in before.columns] == before.columns
    assert "mood_stress" in after.columns and after.columns.index(
        "mood_stress"
    ) > after.columns.index("mood_energy")
    earlier = after.filter(pl.col("participant_id").is_in([p.study_code for p, _ in first]))
    assert earlier.select(before.columns).equals(before)
    # Each row is scored by the rules of the version its response was given.
    assert all("mood@1.0.0" in v for v in earlier["scoring_versions"])
    new = after.filter(pl.col("participant_id") == second[0].study_code).row(0, named=True)
    assert (new["mood_sleep"], new["mood_stress"], new["mood_energy"]) == (2, 1, None)
    assert new["mood_total"] == 3  # 1 + 2, the current version's score rule
    assert "mood@2.0.0" in new["scoring_versions"]
    versions = dict(
        Response.objects.filter(instrument_id="mood").values_list(
            "participant__study_code", "instrument_version"
        )
    )
    assert versions == {
        first[0][0].study_code: "1.0.0",
        first[1][0].study_code: "1.0.0",
        second[0].study_code: "2.0.0",
    }
    # The v1 answer "Badly" (code 1), an option v2 dropped, is still 1, not shifted.
    assert after.filter(pl.col("participant_id") == first[0][0].study_code)[
        "mood_sleep"
    ].to_list() == [1]


def test_the_survey_validates_and_scores_an_own_instrument_like_a_built_in_one(
    client, own_study, enrol
):
    participant, token = enrol("en")
    client.post(reverse("survey:consent", args=[token]), {"agree": "yes"})
    client.post(reverse("survey:language", args=[token]), {"language": "en"})
    first = client.get(reverse("survey:page", args=[token, 1])).content.decode()
    assert "Did you feel low today?" in first
    assert (
        client.post(
            reverse("survey:page", args=[token, 1]), {"mood_low": "0", "nonce": "a"}
        ).status_code
        == 302
    )
    # mood_low = 0 hides "how low": an answer to it is refused, and a code v1 lacks too.
    refused = client.post(
        reverse("survey:page", args=[token, 2]),
        {"mood_howlow": "5", "mood_sleep": "9", "mood_energy": "1", "nonce": "b"},
    )
    assert refused.status_code == 422
    stored = Response.objects.get(participant=participant, instrument_id="mood")
    assert stored.answers == {"mood_low": 0} and stored.status == "in_progress"
    done = client.post(
        reverse("survey:page", args=[token, 2]),
        {"mood_sleep": "3", "mood_energy": "1", "nonce": "c"},
    )
    assert done.status_code == 302
    stored.refresh_from_db()
    assert stored.status == "complete" and stored.scores == {"mood_total": 3}

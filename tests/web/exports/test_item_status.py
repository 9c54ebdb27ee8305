"""Exports tell "not applicable" (hidden by skip logic) from "skipped" (issue 11 §2).

Two participants take the baseline in the web survey (the same walker as the screen-count
test): a man with every gate closed and a woman with every gate open who leaves one THC
question blank. The CSV export keeps the numeric columns (empty unless answered) and adds the
``<item>_status`` columns the data dictionary documents.
"""

from __future__ import annotations

import io
from dataclasses import replace

import polars as pl
from django.urls import reverse

from fibrosurvey.web.participants.enrolment import do_enrol_participant
from fibrosurvey.web.participants.invitations import do_issue_invitation
from tests.web.survey.walk import (
    MAN_WITHOUT_GATED_SYMPTOMS,
    WOMAN_WITH_EVERY_GATE_OPEN,
    walk_with_client,
)

GATED = (
    "demo_menopause",
    "demo_hormonal_contraception",
    "tx_cbd_mg_day",
    "tx_thc_days_week",
    "tx_cannabis_days_since",
    "migraine_1",
    "ibs_1",
    "ibs_6",
)


def _export(client, study, fmt: str) -> bytes:
    response = client.get(reverse("exports:download", args=[study.pk, fmt]))
    assert response.status_code == 200
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def test_the_export_says_why_each_gated_cell_is_empty(client, study, users, participant, login):
    study.country = "ES"  # metric: the weight box takes kg, typed with a decimal comma
    study.save(update_fields=["country"])
    man = do_issue_invitation(participant, study.events.get(code="baseline"), send=False)
    woman_participant = do_enrol_participant(
        study, site=study.sites.get(code="north"), actor=users["carol"], language="en"
    )
    woman = do_issue_invitation(woman_participant, study.events.get(code="baseline"), send=False)
    walk_with_client(client, man.token, MAN_WITHOUT_GATED_SYMPTOMS)
    blank_thc = replace(
        WOMAN_WITH_EVERY_GATE_OPEN,
        fixed={**WOMAN_WITH_EVERY_GATE_OPEN.fixed, "tx_thc_mg_day": None},
    )
    walk_with_client(client, woman.token, blank_thc)

    exported = pl.read_csv(io.BytesIO(_export(login("anna"), study, "csv")))
    rows = {row["participant_id"]: row for row in exported.to_dicts()}
    his, hers = rows[participant.study_code], rows[woman_participant.study_code]

    for column in GATED:
        assert his[column] is None, column
        assert his[f"{column}_status"] == "not_applicable", column
        assert hers[f"{column}_status"] == "answered", column
        assert hers[column] is not None, column
    # Asked and left blank: skipped, never "not applicable".
    assert hers["tx_thc_mg_day"] is None
    assert hers["tx_thc_mg_day_status"] == "skipped"
    # The gates themselves are always asked: their numeric column says it all.
    assert "demo_sex_status" not in exported.columns
    assert his["demo_sex"] == 2 and hers["demo_sex"] == 1
    # Not gated items keep no status column; the numeric value is as typed ("81,5").
    assert his["demo_weight_kg"] == 81.5
    # Every status column sits right after the items of its instrument, before its scores.
    columns = exported.columns
    assert columns.index("demo_menopause_status") < columns.index("demo_bmi")
    assert columns.index("demo_weight_kg") < columns.index("demo_menopause_status")


def test_the_data_dictionary_explains_the_status_columns(client, study, issued, login):
    walk_with_client(client, issued.token, MAN_WITHOUT_GATED_SYMPTOMS)
    dictionary = pl.read_csv(io.BytesIO(_export(login("anna"), study, "dictionary")))
    entries = {row["column"]: row for row in dictionary.to_dicts()}
    menopause = entries["demo_menopause_status"]
    assert menopause["kind"] == "item_status"
    assert menopause["allowed"] == "answered | skipped | not_applicable | prefer_not_to_answer"
    assert "not_applicable: not asked, by skip logic" in menopause["text"]
    assert "demo_sex != 2" in menopause["text"]
    assert "skipped: asked and left blank" in menopause["text"]
    assert "not given at this event" in menopause["text"]
    cbd = entries["tx_cbd_mg_day_status"]["text"]
    assert "any of: tx_cbd_product = 1; tx_cbd_product = 2; tx_cbd_product = 3" in cbd
    assert "fiqr_01_status" not in entries  # ungated, no refusal option: no status column

"""De-identified exports: contents, scores from the core, shifted dates, formula cells,
Parquet, data dictionary, FHIR bundle, audit."""

from __future__ import annotations

import datetime as dt
import io
import json
import re

import polars as pl
import pytest
from django.urls import reverse

from fibrosurvey.fhir import read_bundle
from fibrosurvey.fhir.models import Bundle, validated
from fibrosurvey.scoring import score_frame
from fibrosurvey.tables import coerce_items
from fibrosurvey.web.audit.models import AuditRecord
from fibrosurvey.web.exports.dataset import DatasetBuilder, date_offset_days
from fibrosurvey.web.exports.models import StudyExportKey
from fibrosurvey.web.exports.writers import csv_bytes, neutralise_formulas
from fibrosurvey.web.labs.models import LabSample


def _download(client, study, fmt) -> bytes:
    response = client.get(reverse("exports:download", args=[study.pk, fmt]))
    assert response.status_code == 200, response.status_code
    # Consuming the stream lets the test client close it (and the Parquet temporary file)
    # without firing request_finished, which would close the test's database connection.
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


def _csv(content: bytes) -> pl.DataFrame:
    return pl.read_csv(io.BytesIO(content), infer_schema_length=None)


def test_csv_export_has_no_contact_data_and_scores_equal_the_core(cohort, login, participant):
    study, data = cohort
    content = _download(login("anna"), study, "csv")
    text = content.decode()
    for secret in ("maria.lopez@example.org", "María López", "600 123 456", "@example.org"):
        assert secret not in text
    exported = _csv(content)
    builder = DatasetBuilder(study)
    assert exported.columns == builder.columns
    synth = data.filter(pl.col("participant_id").is_in(exported["participant_id"].to_list()))
    expected = score_frame(coerce_items(synth)).sort("participant_id", "event")
    got = exported.filter(pl.col("participant_id") != participant.study_code).sort(
        "participant_id", "event"
    )
    assert got.height == expected.height == data.height
    for column in ("fiqr_total", "phq9_total", "phq9_band", "fsq_wpi", "fsq_acr2016", "peg_score"):
        assert got[column].to_list() == expected[column].to_list(), column
    # Biomarkers and design variables come through in pmol/mL / as stored.
    for column in ("aea", "twoag_includes_1ag", "design_weight", "lab_minutes_to_centrifuge"):
        assert got[column].to_list() == pytest.approx(expected[column].to_list(), nan_ok=True)


def test_dates_are_shifted_per_participant_and_stable_across_exports(cohort, login):
    from fibrosurvey.web.participants.models import Participant

    study, _ = cohort
    participant = Participant.objects.filter(study=study, responses__isnull=False).first()
    client = login("alice")
    first = _csv(_download(client, study, "csv"))
    second = _csv(_download(client, study, "csv"))
    assert first["enrolled_date"].to_list() == second["enrolled_date"].to_list()
    secret = StudyExportKey.objects.get(study=study).secret
    row = first.filter(pl.col("participant_id") == participant.study_code).row(0, named=True)
    offset = date_offset_days(secret, participant.study_code)
    assert offset != 0 and -182 <= offset <= 182
    true_date = participant.enrolled_at.date()
    assert dt.date.fromisoformat(row["enrolled_date"]) == true_date + dt.timedelta(days=offset)
    # Participants move by different amounts (the shift is per participant, not global).
    codes = first["participant_id"].unique().to_list()
    assert len({date_offset_days(secret, code) for code in codes}) > 1


def test_lab_free_text_leaves_only_as_controlled_codes(cohort, login):
    study, _ = cohort
    sample = LabSample.objects.filter(participant__study=study).first()
    sample.batch = '=HYPERLINK("http://evil.example")'
    sample.tube = "+K2EDTA"
    sample.assay = "maria.lopez@example.org"
    sample.draw_time = "9h30!"
    sample.storage_temp_c = -80.0
    sample.save()
    content = _download(login("anna"), study, "csv")
    for leaked in (b"HYPERLINK", b"evil.example", b"maria.lopez", b"+K2EDTA", b"9h30!"):
        assert leaked not in content
    exported = _csv(content)
    row = exported.filter(
        (pl.col("participant_id") == sample.participant.study_code)
        & (pl.col("event") == sample.event.code)
    ).row(0, named=True)
    assert row["lab_tube"] == "other"
    assert re.fullmatch(r"batch-[0-9a-f]{8}", row["lab_batch"])
    assert re.fullmatch(r"assay-[0-9a-f]{8}", row["lab_assay"])
    assert row["lab_draw_time"] is None
    assert row["lab_storage_temp_c"] == -80.0
    # Equal lab values share one code (batch effects stay analysable).
    batches = exported["lab_batch"].drop_nulls()
    assert batches.n_unique() < batches.len()
    assert set(exported["lab_tube"].drop_nulls()) <= {"K2EDTA", "serum_clot", "other"}


def test_formula_cells_are_neutralised_but_negative_numbers_are_not():
    frame = pl.DataFrame({"a": ["-1.5", "-x", "=1+1", " 3", "\tcmd", "ok"]})
    assert neutralise_formulas(frame)["a"].to_list() == [
        "-1.5",
        "'-x",
        "'=1+1",
        " 3",
        "'\tcmd",
        "ok",
    ]
    assert csv_bytes(frame, include_header=False).decode().splitlines()[1] == "'-x"


def test_data_dictionary_csv_neutralises_formula_cells(cohort, login):
    from fibrosurvey.web.studies.models import Site

    study, _ = cohort
    # A site code saved before codes were validated (straight into the table).
    Site.objects.create(study=study, code="-2+3", name="Legacy site")
    dictionary = _download(login("anna"), study, "dictionary").decode()
    site_line = next(line for line in dictionary.splitlines() if line.startswith("site,"))
    assert ",'-2+3 | north | south," in site_line


def test_parquet_export_matches_the_csv(cohort, login):
    study, _ = cohort
    client = login("anna")
    from_csv = _csv(_download(client, study, "csv"))
    parquet = pl.read_parquet(io.BytesIO(_download(client, study, "parquet")))
    assert parquet.columns == from_csv.columns and parquet.height == from_csv.height
    assert parquet["fiqr_total"].to_list() == pytest.approx(
        from_csv["fiqr_total"].to_list(), nan_ok=True
    )
    assert parquet.schema["enrolled_date"] == pl.Date


def test_parquet_is_written_in_one_row_group_per_chunk(cohort):
    import pyarrow.parquet as pq

    from fibrosurvey.web.exports.writers import write_parquet

    study, data = cohort
    builder = DatasetBuilder(study, chunk_size=3)
    handle, rows = write_parquet(builder)
    with handle:
        meta = pq.ParquetFile(handle).metadata
    participants = data["participant_id"].n_unique()
    assert rows == data.height and meta.num_rows == rows
    assert meta.num_row_groups == -(-participants // 3)


def test_data_dictionary_describes_every_column(cohort, login):
    study, _ = cohort
    dictionary = _csv(_download(login("anna"), study, "dictionary"))
    assert dictionary["column"].to_list() == DatasetBuilder(study).columns
    entry = dictionary.filter(pl.col("column") == "phq9_9").row(0, named=True)
    assert entry["instrument"] == "phq9" and entry["kind"] == "item"
    assert entry["allowed"].startswith("0 = ")
    aea = dictionary.filter(pl.col("column") == "aea").row(0, named=True)
    assert aea["unit"] == "pmol/mL"
    shifted = dictionary.filter(pl.col("column") == "enrolled_date").row(0, named=True)
    assert "shifted" in shifted["deidentification"]
    band = dictionary.filter(pl.col("column") == "phq9_band").row(0, named=True)
    assert "moderately_severe" in band["allowed"]
    # A US study (the cohort's): the nine Census divisions, labelled with their country.
    region = dictionary.filter(pl.col("column") == "demo_region").row(0, named=True)
    assert region["allowed"].startswith("1 = New England (CT, ME, MA, NH, RI, VT) (US); ")
    assert region["allowed"].endswith("; 9 = Pacific (AK, CA, HI, OR, WA) (US)")


def test_the_data_dictionary_lists_the_studys_country_regions_with_iso_codes(study, login):
    study.country = "ES"
    study.save(update_fields=["country"])
    dictionary = _csv(_download(login("anna"), study, "dictionary"))
    region = dictionary.filter(pl.col("column") == "demo_region").row(0, named=True)
    labels = region["allowed"].split("; ")
    assert len(labels) == 19
    assert labels[0] == "101 = Andalucía (ES, ES-AN)"
    assert "113 = Comunidad de Madrid (ES, ES-MD)" in labels
    assert labels[-1] == "119 = Melilla (ES, ES-ML)"


def test_fhir_bundle_export_validates_and_reads_back(cohort, login):
    study, data = cohort
    resource = json.loads(_download(login("anna"), study, "fhir"))
    assert resource["resourceType"] == "Bundle" and resource["type"] == "collection"
    validated(Bundle, resource)  # the whole streamed Bundle is valid FHIR R4 (fhir.resources)
    full_urls = [entry["fullUrl"] for entry in resource["entry"]]
    assert len(set(full_urls)) == len(full_urls)
    readings = read_bundle(resource)
    phq9 = [r for r in readings if r.instrument_id == "phq9"]
    expected = data.filter(
        pl.any_horizontal(pl.col(f"phq9_{i}").is_not_null() for i in range(1, 10))
    )
    assert len(phq9) == expected.height
    assert all(
        str(e["resource"]["subject"]["reference"]).startswith("Patient/") for e in resource["entry"]
    )


def test_every_export_is_audited(cohort, login):
    study, data = cohort
    client = login("anna")
    for fmt in ("csv", "parquet", "dictionary"):
        _download(client, study, fmt)
    records = AuditRecord.objects.filter(action="export", study=study).order_by("id")
    assert [r.after["format"] for r in records] == ["csv", "parquet", "dictionary"]
    assert all(r.actor.username == "anna" and r.after["kind"] == "deidentified" for r in records)
    assert records[0].after["rows"] == data.height


def test_a_site_limited_analyst_exports_their_site_only(cohort, login, users):
    study, data = cohort
    membership = study.memberships.get(user=users["anna"])
    membership.site = study.sites.get(code="south")
    membership.save()
    exported = _csv(_download(login("anna"), study, "csv"))
    assert set(exported["site"].to_list()) == {"south"}
    assert exported.height == data.filter(pl.col("site") == "south").height


def test_a_response_completed_after_the_withdrawal_never_counts(cohort, users):
    import datetime as dt

    from fibrosurvey.web.participants.models import Participant
    from fibrosurvey.web.participants.withdrawal import do_withdraw_participant
    from fibrosurvey.web.survey.models import Response

    study, _ = cohort
    who = Participant.objects.filter(study=study, responses__event__code="followup_3m").first()
    do_withdraw_participant(who, actor=users["carol"])
    who.refresh_from_db()
    # The follow-up arrived after the withdrawal (e.g. a late paper form keyed in).
    Response.objects.filter(participant=who, event__code="followup_3m").update(
        completed_at=who.withdrawn_at + dt.timedelta(days=1)
    )
    builder = DatasetBuilder(study)
    frame = builder.frame()
    mine = frame.filter(pl.col("participant_id") == who.study_code)
    follow_up = mine.filter(pl.col("event") == "followup_3m")
    # No answer of the late follow-up (a lab sample of that visit may still give a row).
    assert follow_up.height == 0 or follow_up["pgic_1"].null_count() == follow_up.height
    assert follow_up.height == 0 or follow_up["fiqr_total"].null_count() == follow_up.height
    assert set(mine["withdrawn"]) == {1}
    baseline = mine.filter(pl.col("event") == "baseline")
    assert baseline["phq9_1"].null_count() == 0

"""The lab CSV importer: fuzzed files are imported whole or refused with 422 naming the
problem, and a refusal leaves the database unchanged."""

from __future__ import annotations

import time

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from fibrosurvey.web.labs.csv_reading import LAB_COLUMNS, MAX_LAB_COLUMNS
from tests.web.security.conftest import FUZZ_CASES
from tests.web.security.test_hostile_body_linear import at_most
from tests.web.security.test_hostile_input import FORMULA, TEXT, VALUE, WEB_SETTINGS, _csv


@pytest.fixture
def carol(login):
    return login("carol")


def _upload(client, study, content: bytes):
    upload = SimpleUploadedFile("labs.csv", content, content_type="text/csv")
    return client.post(reverse("labs:import", args=[study.pk]), {"file": upload})


@WEB_SETTINGS
@given(data=st.data())
def test_fuzzed_lab_csv_is_imported_or_refused_with_422_and_nothing_changes(
    carol, study, participant, fingerprint, data
):
    FUZZ_CASES["lab CSV import"] += 1
    header = data.draw(
        st.one_of(
            st.just(list(LAB_COLUMNS)),
            st.lists(st.one_of(st.sampled_from(LAB_COLUMNS), TEXT), min_size=1, max_size=8),
        )
    )
    cell = st.one_of(
        st.sampled_from(
            [participant.study_code, "baseline", "aea", "twoag", "ng/mL", "pmol/mL", "plasma", ""]
        ),
        st.floats(allow_nan=True).map(str),
        VALUE,
    )
    rows = data.draw(
        st.lists(st.lists(cell, min_size=len(header), max_size=len(header)), max_size=4)
    )
    raw = data.draw(
        st.one_of(
            st.just(_csv([header, *rows]).encode("utf-8")),
            st.binary(max_size=200),
            st.just(_csv([header, *rows]).encode("utf-16")),
        )
    )
    before = fingerprint()
    response = _upload(carol, study, raw)
    if response.status_code != 302:
        assert response.status_code == 422, response.status_code
        assert fingerprint() == before


@pytest.mark.parametrize(
    "content",
    [
        "participant_id,event,analyte,value,unit\n" + FORMULA + ",baseline,aea,1,ng/mL\n",
        "participant_id,event,analyte,value,unit\n{code},baseline,aea,"
        + "9" * 200_000
        + ",ng/mL\n",
        "participant_id,event,analyte,value,unit\n{code},baseline,aea,\x00,ng/mL\n",
        "participant_id,event,analyte,value,unit\n{code},baseline,aea,-1,ng/mL\n",
    ],
)
def test_hostile_lab_files_are_422(carol, study, participant, fingerprint, content):
    before = fingerprint()
    response = _upload(carol, study, content.format(code=participant.study_code).encode())
    assert response.status_code == 422
    assert fingerprint() == before


def test_a_60000_column_header_is_422_naming_the_column_limit_within_a_second(
    carol, study, participant, fingerprint
):
    header = ",".join(["participant_id", "event", "analyte", "value", "unit"])
    header += "".join(f",extra_{i}" for i in range(60_000))
    row = f"{participant.study_code},baseline,aea,1,ng/mL" + ",x" * 60_000
    carol.get(reverse("labs:import", args=[study.pk]))  # warm: URL conf, templates
    before = fingerprint()
    with at_most(10):
        start = time.perf_counter()
        response = _upload(carol, study, f"{header}\n{row}\n".encode())
        seconds = time.perf_counter() - start
    assert response.status_code == 422
    assert f"at most {MAX_LAB_COLUMNS} columns".encode() in response.content
    assert b"60005 columns" in response.content
    assert fingerprint() == before
    assert seconds < 1.0, seconds


def test_the_column_limit_counts_cells_not_quoted_commas():
    from fibrosurvey.web.labs.csv_reading import LabImportError, read_lab_csv

    quoted = ",".join(f'"note, part {i}"' for i in range(MAX_LAB_COLUMNS))
    frame = read_lab_csv(f"{quoted}\n{',' * (MAX_LAB_COLUMNS - 1)}\n")
    assert frame.width == MAX_LAB_COLUMNS
    with pytest.raises(LabImportError, match=f"more than {MAX_LAB_COLUMNS} columns"):
        read_lab_csv(",".join(f"c{i}" for i in range(MAX_LAB_COLUMNS + 1)) + "\n1\n")


def test_repeated_column_names_are_named_once_each_at_the_widest_header():
    from fibrosurvey.web.labs.csv_reading import LabImportError, read_lab_csv

    # Exact repeats too: the CSV reader would rename them ("c0_duplicated_0") without a word.
    names = [f"c{i % 50}" if i % 3 else f" C{i % 50}" for i in range(MAX_LAB_COLUMNS)]
    with pytest.raises(LabImportError) as caught:
        read_lab_csv(",".join(names) + "\n" + ",".join("1" for _ in names) + "\n")
    [problem] = caught.value.problems
    assert problem.column == "header"
    assert problem.value == ", ".join(repr(f"c{i}") for i in sorted(range(50), key=str))


def test_a_header_name_longer_than_the_csv_field_limit_is_422(carol, study, fingerprint):
    before = fingerprint()
    response = _upload(carol, study, ("x" * 200_000 + ",value\n1,2\n").encode())
    assert response.status_code == 422
    assert b"header" in response.content
    assert fingerprint() == before

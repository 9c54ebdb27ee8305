"""The lab CSV importer: fuzzed files are imported whole or refused with 422 naming the
problem, and a refusal leaves the database unchanged."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from fibrosurvey.web.labs.services import LAB_COLUMNS
from tests.web.security.conftest import FUZZ_CASES
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

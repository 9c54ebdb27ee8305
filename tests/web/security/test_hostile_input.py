"""Hostile input never produces a 500 or a partial change: it gets a 4xx naming the problem
and the database is byte-for-byte unchanged.

Hypothesis drives the core response validator, the survey page POST and the participant CSV
importer; fixed cases cover formula injection, NUL bytes, huge fields, deep JSON and
oversized bodies. Fuzz-case counts are printed at the end of the run (conftest).
"""

from __future__ import annotations

import math
import secrets

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fibrosurvey.instruments import get_instrument
from fibrosurvey.instruments.logic import SkipLogic
from fibrosurvey.validation import validate_response
from fibrosurvey.web.participants.enrolment import CSV_COLUMNS
from tests.web.security.conftest import FUZZ_CASES

FORMULA = "=cmd|' /C calc'!A0"
HOSTILE_STRINGS = [
    FORMULA,
    "+1+1",
    "@SUM(A1:A2)",
    "-2+3",
    "\x00",
    "1\x00",
    "\ufeff1",
    "1_0",
    "١",
    "0x1",
    "1e400",
    "nan",
    "inf",
    "-inf",
    "9" * 5000,
    "x" * 200_000,
    "<script>alert(1)</script>",
    "' OR 1=1 --",
    "\u202e1",
    "１",  # fullwidth digit one
]
TEXT = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
VALUE = st.one_of(st.sampled_from(HOSTILE_STRINGS), TEXT, st.integers().map(str))
SETTINGS = settings(
    max_examples=500,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
# Each web case runs a request and fingerprints the database twice.
WEB_SETTINGS = settings(SETTINGS, max_examples=100)


# Whitespace as the core (polars/Rust) trims it: Python's str.strip also removes the ASCII
# separators \x1c-\x1f, which the core rightly treats as characters.
WHITESPACE = "".join(chr(c) for c in range(0x110000) if chr(c).isspace() and not 0x1C <= c <= 0x1F)


def _blank(raw: str) -> bool:
    return raw.strip(WHITESPACE) == ""


def _is_allowed(item, raw: str) -> bool:
    """Independent statement of the rule: a plain decimal in range (a listed code for choices)."""
    text = raw.strip(WHITESPACE)
    if not text or not all(ch in "0123456789.+-eE" for ch in text):
        return False
    try:
        number = float(text)
    except ValueError:
        return False
    if not math.isfinite(number):
        return False
    if item.minimum is not None and number < item.minimum:
        return False
    if item.maximum is not None and number > item.maximum:
        return False
    if item.options:
        return number.is_integer() and int(number) in {o.code for o in item.options}
    return item.kind == "number" or number.is_integer()


# --- the core validator -------------------------------------------------------------------


@SETTINGS
@given(
    instrument_id=st.sampled_from(["phq9", "gad7", "fiqr", "demo", "tx"]),
    data=st.data(),
)
def test_validator_accepts_exactly_the_allowed_answers_and_names_every_bad_one(instrument_id, data):
    FUZZ_CASES["core validate_response"] += 1
    instrument = get_instrument(instrument_id)
    columns = instrument.item_columns()
    keys = data.draw(
        st.lists(st.one_of(st.sampled_from(columns), TEXT), min_size=1, max_size=6, unique=True)
    )
    answers = {key: data.draw(st.one_of(st.none(), VALUE)) for key in keys}

    report = validate_response(answers, instrument_id)

    by_column = {item.column: item for item in instrument.items}
    # Skip logic (tested against FHIRPath in tests/instruments) says which questions were not
    # asked given these answers: an answer to one of them is refused too.
    hidden = SkipLogic([instrument]).disabled_columns(answers)
    expected_bad = {
        key
        for key, value in answers.items()
        if key not in by_column
        or (value is not None and not _blank(value) and not _is_allowed(by_column[key], value))
        or (key in hidden and value is not None and not _blank(value))
    }
    assert {p.column for p in report.problems} == expected_bad
    assert report.ok == (not expected_bad)
    for problem in report.problems:
        assert problem.message and (problem.allowed or problem.column not in by_column)


# --- the survey page POST -----------------------------------------------------------------


@pytest.fixture
def survey_page(client, issued):
    from fibrosurvey.web.survey.services import survey_pages

    client.post(reverse("survey:consent", args=[issued.token]), {"agree": "yes"})
    client.post(reverse("survey:language", args=[issued.token]), {"language": "en"})
    page = survey_pages(issued.invitation)[0]
    return client, reverse("survey:page", args=[issued.token, 1]), page


@WEB_SETTINGS
@given(data=st.data())
def test_fuzzed_survey_page_posts_are_saved_or_refused_with_422_and_nothing_changes(
    survey_page, fingerprint, data
):
    client, url, page = survey_page
    FUZZ_CASES["survey page POST"] += 1
    columns = list(page.columns)
    posted = {column: data.draw(VALUE) for column in data.draw(st.lists(st.sampled_from(columns)))}
    posted |= data.draw(st.dictionaries(TEXT, VALUE, max_size=3))
    posted["nonce"] = secrets.token_urlsafe(8)
    valid = all(
        _is_allowed(item, posted[item.column])
        for item in page.items
        if not _blank(posted.get(item.column) or "")
    )
    before = fingerprint()

    response = client.post(url, posted)

    if response.status_code == 302:
        assert valid
    elif any("\x00" in key or "\x00" in value for key, value in posted.items()):
        # NUL reaches no view: the request-limits middleware refuses it naming the field.
        assert response.status_code == 400, response.status_code
        assert b"NUL character" in response.content
        assert fingerprint() == before
    else:
        assert response.status_code == 422, response.status_code
        assert not valid
        assert fingerprint() == before
        assert b"error" in response.content.lower() or b"problem" in response.content.lower()


def test_survey_post_over_the_form_size_limit_is_400_and_stores_nothing(
    survey_page, fingerprint, settings
):
    client, url, _page = survey_page
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1_000_000
    before = fingerprint()
    response = client.post(url, {"fsq_jaw_l": "1", "padding": "x" * 1_200_000})
    assert response.status_code == 400
    assert fingerprint() == before


def test_any_body_over_the_request_limit_is_413_with_a_message(client, issued, fingerprint):
    before = fingerprint()
    big = SimpleUploadedFile("big.csv", b"x" * (10 * 1024 * 1024 + 1), content_type="text/csv")
    response = client.post(reverse("survey:consent", args=[issued.token]), {"file": big})
    assert response.status_code == 413
    assert b"larger than 10 MB" in response.content
    assert fingerprint() == before


@pytest.mark.parametrize("path", ["/api/v1/responses", "/s/some-token/page/1/"])
def test_json_nested_10000_levels_is_a_clear_400_not_a_recursion_error(client, path):
    body = "[" * 10_000 + "]" * 10_000
    response = client.post(path, body, content_type="application/json")
    assert response.status_code == 400
    assert response.json()["detail"] == "The JSON body is nested deeper than 64 levels."


def test_json_inside_strings_does_not_count_as_nesting():
    from fibrosurvey.web.ops.jsonsafe import JsonTooDeep, json_depth, loads_bounded

    assert json_depth('{"a": "[[[[[[[[[[[[", "b": [1, {"c": "\\"]]]"}]}') == 3
    assert loads_bounded('{"a": ["x"]}') == {"a": ["x"]}
    with pytest.raises(JsonTooDeep, match="deeper than 64"):
        loads_bounded("[" * 65 + "]" * 65)


# --- the participant CSV importer ---------------------------------------------------------


@pytest.fixture
def carol_client(login):
    return login("carol")


def _upload(client, study, content: bytes):
    upload = SimpleUploadedFile("participants.csv", content, content_type="text/csv")
    return client.post(reverse("participants:enrol_csv", args=[study.pk]), {"file": upload})


def _csv(rows: list[list[str]]) -> str:
    def cell(value: str) -> str:
        return '"' + value.replace('"', '""') + '"'

    return "\n".join(",".join(cell(v) for v in row) for row in rows) + "\n"


@WEB_SETTINGS
@given(data=st.data())
def test_fuzzed_enrolment_csv_enrols_all_rows_or_is_refused_with_nothing_stored(
    carol_client, study, fingerprint, data
):
    client = carol_client
    from fibrosurvey.web.participants.models import Participant

    FUZZ_CASES["participant CSV import"] += 1
    header = data.draw(
        st.one_of(
            st.permutations(CSV_COLUMNS).map(list),
            st.lists(st.one_of(st.sampled_from(CSV_COLUMNS), TEXT), min_size=1, max_size=7),
        )
    )
    cell = st.one_of(st.sampled_from(["north", "south", "en", "es", ""]), VALUE)
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
    enrolled_before = Participant.objects.count()
    before = fingerprint()

    response = _upload(client, study, raw)

    if response.status_code == 302:
        assert Participant.objects.count() > enrolled_before
    else:
        assert response.status_code == 422, response.status_code
        assert fingerprint() == before


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (f"study_code,site\n{FORMULA},north\n", "study_code"),
        ("study_code,site\nP\x00-1,north\n", "study_code"),
        ("site,name\nnorth," + "x" * 200_000 + "\n", "file"),
        ("site\nwest\n", "site"),
        ("site,password\nnorth,x\n", "header"),
    ],
)
def test_hostile_enrolment_csv_is_422_naming_the_field(login, study, fingerprint, content, field):
    client = login("carol")
    before = fingerprint()
    response = _upload(client, study, content.encode())
    assert response.status_code == 422
    assert field.encode() in response.content
    assert fingerprint() == before


def test_non_utf8_enrolment_file_is_422_saying_what_to_do(login, study, fingerprint):
    client = login("carol")
    before = fingerprint()
    response = _upload(client, study, "site,name\nnorth,Jos\xe9\n".encode("latin-1"))
    assert response.status_code == 422
    assert b"save it as CSV UTF-8" in response.content
    assert fingerprint() == before

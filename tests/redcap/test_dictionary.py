"""Reading REDCap data dictionaries: BOM, curly quotes, odd bytes, trailing columns, API names."""

from __future__ import annotations

from pathlib import Path

import pytest

from fibrosurvey.redcap import DictionaryError, read_data_dictionary
from fibrosurvey.redcap.dictionary import API_COLUMNS, CSV_COLUMNS

DATA = Path(__file__).parents[1] / "data" / "redcap"
DICTIONARY = DATA / "symptom_study_dictionary.csv"


def test_fixture_has_a_bom_curly_quotes_odd_bytes_and_trailing_empty_columns() -> None:
    raw = DICTIONARY.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    assert "\u2018".encode() in raw and b"\x07" in raw
    assert raw.splitlines()[0].endswith(b",,")


def test_reads_every_row_with_its_line_and_cleans_what_needs_cleaning() -> None:
    dictionary = read_data_dictionary(DICTIONARY)
    assert dictionary.fields[0].name == "record_id"  # the BOM is not part of the name
    assert dictionary.forms() == ["enrolment", "symptoms", "medication", "depression_screen"]
    pain = dictionary.field("pain_today")
    assert pain is not None and pain.line == 8
    assert pain.label == "Pain today (0\u201310)"  # the control byte is gone, the dash kept
    assert pain.section_header == "Today\u2019s symptoms"  # labels keep curly quotes
    other = dictionary.field("sym_other")
    assert other is not None and other.branching_logic == "[sym(a)] = '1'"
    names = dictionary.field("full_name")
    assert names is not None and names.identifier and not dictionary.field("age").identifier  # type: ignore[union-attr]
    assert dictionary.field("age").required  # type: ignore[union-attr]


def test_windows_1252_bytes_are_read() -> None:
    text = ",".join(f'"{c}"' for c in CSV_COLUMNS) + "\r\n"
    text += "record_id,visit,,text,Record ID,,,,,,,,,,,,,\r\n"
    text += "cafe,visit,,text,Caf\xe9 \u201cname\u201d,,,,,,,,,,,,,\r\n"
    data = text.encode("cp1252")
    assert b"\x93" in data  # a Windows curly quote: not valid UTF-8
    dictionary = read_data_dictionary(data)
    assert dictionary.encoding == "cp1252"
    assert dictionary.fields[1].label == "Caf\xe9 \u201cname\u201d"


def test_api_metadata_column_names_are_read() -> None:
    text = ",".join(API_COLUMNS) + "\nrecord_id,visit,,text,Record ID" + "," * 13 + "\n"
    assert read_data_dictionary(text).fields[0].form == "visit"


def test_a_multi_line_label_keeps_the_line_it_starts_on() -> None:
    text = ",".join(f'"{c}"' for c in CSV_COLUMNS) + "\n"
    text += "record_id,v,,text,ID" + "," * 13 + "\n"
    text += 'a,v,,text,"first\nsecond"' + "," * 13 + "\n"
    text += "b,v,,unknown_type,B" + "," * 13 + "\n"
    with pytest.raises(DictionaryError) as raised:
        read_data_dictionary(text)
    [problem] = raised.value.problems
    assert "line 5" in problem.message
    assert problem.column == "Field Type" and problem.value == "unknown_type"
    assert "checkbox" in problem.allowed


def test_not_a_dictionary_names_the_missing_columns() -> None:
    with pytest.raises(DictionaryError) as raised:
        read_data_dictionary("name,age\nx,3\n")
    assert "Variable / Field Name" in str(raised.value)


def test_duplicate_field_names_are_refused_with_both_lines() -> None:
    text = ",".join(CSV_COLUMNS) + "\n" + "record_id,v,,text,ID" + "," * 13 + "\n"
    text += ("age,v,,text,Age" + "," * 13 + "\n") * 2
    with pytest.raises(DictionaryError, match=r"line 4: 'age' is already defined on line 3"):
        read_data_dictionary(text)

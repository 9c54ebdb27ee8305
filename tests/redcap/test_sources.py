"""convert_instrument_file: our YAML, a REDCap dictionary or a FHIR Questionnaire, by name."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from fibrosurvey.fhir import questionnaire
from fibrosurvey.instruments import get_instrument
from fibrosurvey.instruments.writer import definition_yaml
from fibrosurvey.redcap import UnreadableSource, convert_instrument_file

DICTIONARY = Path(__file__).parents[1] / "data" / "redcap" / "symptom_study_dictionary.csv"


def test_our_yaml_is_validated_and_returned() -> None:
    text = definition_yaml(get_instrument("gad7")).encode()
    result = convert_instrument_file("gad7.yaml", text)
    assert result.ok and result.instruments == (get_instrument("gad7"),)


def test_a_broken_yaml_is_unreadable_naming_the_field() -> None:
    text = definition_yaml(get_instrument("gad7")).replace("version: 1.0.0", "version: one")
    with pytest.raises(UnreadableSource, match=r"upload\.yaml: version"):
        convert_instrument_file("upload.yaml", text.encode())


def test_a_redcap_dictionary_and_a_questionnaire() -> None:
    redcap = convert_instrument_file("project_DataDictionary.csv", DICTIONARY.read_bytes())
    assert len(redcap.instruments) == 4 and len(redcap.refusals) == 3
    fhir = convert_instrument_file("phq9.json", json.dumps(questionnaire("phq9")).encode())
    assert fhir.ok and fhir.instruments[0].id == "phq9"


def test_neither_format_is_unreadable() -> None:
    with pytest.raises(UnreadableSource, match="not a REDCap data dictionary"):
        convert_instrument_file("notes.csv", b"a,b\n1,2\n")
    with pytest.raises(UnreadableSource, match="not a FHIR Questionnaire"):
        convert_instrument_file("patient.json", b'{"resourceType": "Patient"}')

"""One entry point for an instrument file a team brings: our YAML, a REDCap data dictionary
or a FHIR Questionnaire, told apart by the file name, converted with what was refused."""

from __future__ import annotations

import json
from pathlib import PurePath
from typing import Any

from fibrosurvey.fhir import read_questionnaire
from fibrosurvey.instruments import DefinitionError
from fibrosurvey.instruments.registry import parse_definition
from fibrosurvey.redcap.convert import ConversionResult, Refusal, dictionary_to_instruments
from fibrosurvey.redcap.dictionary import DictionaryError, read_data_dictionary

__all__ = ["UnreadableSource", "convert_instrument_file"]


class UnreadableSource(ValueError):
    """The file cannot be read as any of the three formats; the message says what is wrong."""


def _fhir(data: bytes, language: str) -> ConversionResult:
    try:
        resource: Any = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise UnreadableSource(f"not JSON: {error}") from None
    if not isinstance(resource, dict) or resource.get("resourceType") != "Questionnaire":
        raise UnreadableSource("not a FHIR Questionnaire (resourceType must be 'Questionnaire')")
    instrument, problems = read_questionnaire(resource, language)
    refusals = tuple(Refusal(None, text.split(":", 1)[0], text) for text in problems)
    instruments = () if instrument is None else (instrument,)
    return ConversionResult(instruments, refusals)


def convert_instrument_file(filename: str, data: bytes, language: str = "en") -> ConversionResult:
    """Instruments in an uploaded file: ``.yaml``/``.yml`` our schema (all or nothing),
    ``.json`` a FHIR Questionnaire, anything else a REDCap data dictionary CSV.

    Raises :class:`UnreadableSource` when the file is none of them; content that cannot be
    converted is listed in the result's ``refusals`` (line, field, reason).
    """
    suffix = PurePath(filename).suffix.lower()
    if suffix in (".yaml", ".yml"):
        try:
            text = data.decode("utf-8-sig")
            return ConversionResult((parse_definition(text, filename),), ())
        except UnicodeDecodeError as error:
            raise UnreadableSource(f"{filename}: not UTF-8 text ({error})") from None
        except DefinitionError as error:
            raise UnreadableSource(str(error)) from None
    if suffix == ".json":
        return _fhir(data, language)
    try:
        dictionary = read_data_dictionary(data)
    except DictionaryError as error:
        raise UnreadableSource(f"{filename}: not a REDCap data dictionary: {error}") from None
    return dictionary_to_instruments(dictionary, language)

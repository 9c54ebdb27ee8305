"""Our instrument -> REDCap data dictionary -> our instrument gives the same definition."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from fibrosurvey.instruments import Instrument, load_instruments
from fibrosurvey.redcap import (
    RecordMapping,
    dictionary_to_instruments,
    import_records,
    read_data_dictionary,
)
from fibrosurvey.redcap.export import dataset_to_records, instrument_to_data_dictionary

DATA = Path(__file__).parents[1] / "data" / "redcap"
DICTIONARY = DATA / "symptom_study_dictionary.csv"
RECORDS = DATA / "symptom_study_records.csv"


def _round_trip(instruments: list[Instrument]) -> dict[str, Instrument]:
    text = instrument_to_data_dictionary(instruments)
    result = dictionary_to_instruments(read_data_dictionary(text.encode("utf-8")))
    assert result.refusals == ()
    return {instrument.id: instrument for instrument in result.instruments}


def test_every_built_in_instrument_comes_back_the_same() -> None:
    instruments = list(load_instruments().values())
    back = _round_trip(instruments)
    for instrument in instruments:
        assert back[instrument.id] == instrument, instrument.id


@pytest.mark.parametrize("instrument_id", ["phq9", "tx", "demo"])
def test_one_instrument_alone_comes_back_the_same(instrument_id: str) -> None:
    instrument = load_instruments()[instrument_id]
    # tx and demo are gated by their own items only, so each stands alone.
    assert _round_trip([instrument])[instrument_id] == instrument


def test_a_converted_redcap_instrument_comes_back_the_same() -> None:
    converted = dictionary_to_instruments(read_data_dictionary(DICTIONARY)).instruments
    back = _round_trip(list(converted))
    for instrument in converted:
        assert back[instrument.id] == instrument, instrument.id


def test_the_dictionary_speaks_redcap() -> None:
    text = instrument_to_data_dictionary([load_instruments()["phq9"]])
    dictionary = read_data_dictionary(text)
    item9 = dictionary.field("phq9_9")
    assert item9 is not None and item9.field_type == "radio"
    assert item9.choices.startswith("0, Not at all | 1, Several days")
    converted = dictionary_to_instruments(read_data_dictionary(DICTIONARY)).instruments
    symptoms = next(i for i in converted if i.id == "symptoms")
    rows = read_data_dictionary(instrument_to_data_dictionary([symptoms]))
    box = rows.field("symptoms_sym")
    assert box is not None and box.field_type == "checkbox"
    assert box.choices == "1, Headache | 2, Nausea | a, Other | -99, None of these"
    days = rows.field("symptoms_fatigue_days")
    assert days is not None and days.validation == "integer"
    other = rows.field("symptoms_sym_other")
    assert other is not None and other.branching_logic == "[symptoms_sym(a)] = '1'"
    calc = rows.field("symptoms_symptom_count")
    assert calc is not None
    assert calc.choices == "[symptoms_sym(1)] + [symptoms_sym(2)] + [symptoms_sym(a)]"


def test_records_exported_and_imported_again_keep_every_value() -> None:
    original = import_records(read_data_dictionary(DICTIONARY), RECORDS, keep_identifiers=True)
    instruments = list(original.conversion.instruments)
    dictionary = read_data_dictionary(instrument_to_data_dictionary(instruments))
    records = dataset_to_records(original.wide, instruments, original.repeating)
    events = RecordMapping(
        events={"baseline_arm_1_arm_1": "baseline_arm_1", "month_3_arm_1_arm_1": "month_3_arm_1"}
    )
    again = import_records(dictionary, records, events, keep_identifiers=True)
    # REDCap recalculates calc fields itself: what it calculated is not written back.
    kept = original.wide.select(pl.exclude("^redcap_calc_.*$"))
    assert again.wide.columns == kept.columns
    assert again.wide.equals(kept)
    medication = original.repeating["medication"]
    assert again.repeating["medication"].equals(medication)

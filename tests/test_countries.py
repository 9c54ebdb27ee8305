"""What follows a study's country: region codes and labels, units, crisis lines, drug examples."""

from __future__ import annotations

from decimal import Decimal

import pytest

from fibrosurvey.countries import COUNTRIES, REGION_COLUMN, get_country, region_label
from fibrosurvey.instruments import get_instrument
from fibrosurvey.instruments.localize import for_country
from fibrosurvey.units import cm_to_feet_inches, feet_inches_to_cm, kg_to_pounds, pounds_to_kg
from fibrosurvey.validation import validate_response

# ISO 3166-2 subdivision codes (the 17 autonomous communities and the 2 autonomous cities of
# Spain; the 32 federal entities of Mexico), in INE / INEGI code order.
SPAIN_ISO = ("AN AR AS IB CN CB CL CM CT VC EX GA MD MC NC PV RI CE ML").split()  # noqa: SIM905
MEXICO_ISO = [
    "AGU",
    "BCN",
    "BCS",
    "CAM",
    "COA",
    "COL",
    "CHP",
    "CHH",
    "CMX",
    "DUR",
    "GUA",
    "GRO",
    "HID",
    "JAL",
    "MEX",
    "MIC",
    "MOR",
    "NAY",
    "NLE",
    "OAX",
    "PUE",
    "QUE",
    "ROO",
    "SLP",
    "SIN",
    "SON",
    "TAB",
    "TAM",
    "TLA",
    "VER",
    "YUC",
    "ZAC",
]


def test_us_keeps_the_nine_census_division_codes_and_labels() -> None:
    us = get_country("US")
    assert us.region_codes == tuple(range(1, 10))
    assert us.regions[0].label["en"] == "New England (CT, ME, MA, NH, RI, VT)"
    assert us.regions[8].label["es"] == "Pacífico (AK, CA, HI, OR, WA)"


def test_spain_has_its_19_communities_and_cities_in_ine_order() -> None:
    spain = get_country("ES")
    assert spain.region_codes == tuple(range(101, 120))
    assert [r.iso for r in spain.regions] == [f"ES-{code}" for code in SPAIN_ISO]
    assert region_label(113) == "Comunidad de Madrid (ES, ES-MD)"
    assert region_label(119) == "Melilla (ES, ES-ML)"


def test_mexico_has_its_32_federal_entities_in_inegi_order() -> None:
    mexico = get_country("MX")
    assert mexico.region_codes == tuple(range(201, 233))
    assert [r.iso for r in mexico.regions] == [f"MX-{code}" for code in MEXICO_ISO]
    assert region_label(209) == "Ciudad de México (MX, MX-CMX)"


def test_region_codes_never_collide_and_the_demo_item_lists_them_all() -> None:
    codes = [code for country in COUNTRIES.values() for code in country.region_codes]
    assert len(codes) == len(set(codes)) == 9 + 19 + 32
    assert max(codes) < 2**15  # coded items are 16-bit integers in flat files
    assert get_instrument("demo").item("region").codes == tuple(codes)


def test_population_shares_are_whole_countries() -> None:
    for country in COUNTRIES.values():
        assert sum(r.population_share for r in country.regions) == pytest.approx(1, abs=0.01)
        assert all(r.psu_count >= 4 for r in country.regions), country.code


@pytest.mark.parametrize("country", ["US", "ES", "MX"])
def test_a_study_offers_and_accepts_only_its_own_countrys_regions(country: str) -> None:
    demo = for_country("demo", country)
    assert demo.item("region").codes == get_country(country).region_codes
    for other in COUNTRIES.values():
        code = other.region_codes[0]
        report = validate_response({REGION_COLUMN: str(code)}, "demo", country=country)
        assert report.ok is (other.code == country), (country, code)
    # Without a country (imports, the CLI) every supported code is valid.
    assert validate_response({REGION_COLUMN: "113"}, "demo").ok


def test_drug_examples_follow_the_country_in_both_languages() -> None:
    us, spain, mexico = (for_country("tx", c).item("opioid").text for c in ("US", "ES", "MX"))
    assert "hydrocodone" in us["en"] and "hidrocodona" in us["es"]  # the file's own wording
    assert "hydrocodone" not in spain["en"] and "tapentadol" in spain["es"]
    assert "hidrocodona" not in mexico["es"]
    assert "Yurelax" in for_country("tx", "ES").item("cyclobenzaprine").text["es"]
    assert "Flexeril" in for_country("tx", "US").item("cyclobenzaprine").text["en"]
    assert "Sativex" in for_country("tx", "ES").item("thc_use").text["en"]


def test_crisis_lines() -> None:
    numbers = {c.code: (c.emergency.number, c.crisis.number) for c in COUNTRIES.values()}
    assert numbers == {"US": ("911", "988"), "ES": ("112", "024"), "MX": ("911", "800 911 2000")}
    assert get_country("US").crisis.text_too


@pytest.mark.parametrize(
    ("feet", "inches", "cm"),
    [("5", "7", 170.18), ("6", "0", 182.88), ("4", "11.5", 151.13), ("0", "70", 177.8)],
)
def test_feet_and_inches_convert_exactly_to_centimetres(feet: str, inches: str, cm: float) -> None:
    assert feet_inches_to_cm(Decimal(feet), Decimal(inches)) == cm


@pytest.mark.parametrize(
    ("pounds", "kg"), [("150", 68.0388555), ("100", 45.359237), ("182.5", 82.780607525)]
)
def test_pounds_convert_exactly_to_kilograms(pounds: str, kg: float) -> None:
    assert pounds_to_kg(Decimal(pounds)) == kg


def test_stored_si_values_show_again_as_typed() -> None:
    assert cm_to_feet_inches(170.18) == (5, 7.0)
    assert cm_to_feet_inches(151.13) == (4, 11.5)
    assert kg_to_pounds(68.0388555) == 150.0

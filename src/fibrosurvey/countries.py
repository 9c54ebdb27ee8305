"""What follows a study's country, not its language: regions, units, crisis lines, drug examples.

A study is run in one country; its participants may read the survey in any of its languages (a
Spanish speaker in a US study sees US regions, in Spanish). This module is data only, so the
instrument loader, the survey, the synthetic cohort and the analysis plans share one list.

Region codes are stable per country and unique across countries, so a pooled file is never
ambiguous:
- United States: the nine Census divisions, codes 1-9 (the Census Bureau's division codes,
  unchanged from earlier versions of ``demo``).
- Spain: 100 + the INE code of the autonomous community or city (101 Andalucía ... 119
  Melilla).
- Mexico: 200 + the INEGI code of the federal entity (201 Aguascalientes ... 232 Zacatecas).
Small numbers on purpose: coded items are 16-bit integers in flat files.
Each region also carries its ISO 3166-2 code (the US divisions have none), which the data
dictionary shows next to the label.
"""

# ruff: noqa: E501
# (A data file: region labels and item wordings are kept one per line, whatever their length.)
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "COUNTRIES",
    "DEFAULT_COUNTRY",
    "REGION_COLUMN",
    "Country",
    "CrisisLine",
    "Region",
    "country_choices",
    "get_country",
    "region_label",
    "region_options",
]

Text = dict[str, str]

# The demo instrument's region item: its options are every country's regions (codes never
# collide); a study shows only its own country's.
REGION_COLUMN = "demo_region"
HEIGHT_COLUMN = "demo_height_cm"
WEIGHT_COLUMN = "demo_weight_kg"


@dataclass(frozen=True)
class Region:
    code: int
    label: Text
    iso: str = ""  # ISO 3166-2, e.g. ES-MD
    # Approximate share of the national population and number of municipalities (counties for
    # the US): the synthetic cohort's stratum sizes and stage-1 population of PSUs.
    population_share: float = 0.0
    psu_count: int = 0


@dataclass(frozen=True)
class CrisisLine:
    number: str  # as written for people, e.g. "800 911 2000"
    name: Text  # without the number (the page links the number once)
    text_too: bool = False  # takes text messages as well as calls

    def name_in(self, language: str) -> str:
        return self.name.get(language) or self.name["en"]


@dataclass(frozen=True)
class Country:
    code: str  # ISO 3166-1 alpha-2
    name: Text
    regions: tuple[Region, ...]
    region_source: str
    # Height and weight are always stored in cm and kg; this is what participants type.
    units: Literal["metric", "us_customary"]
    emergency: CrisisLine
    crisis: CrisisLine
    # Country-specific wording of items (drug examples, units in the question): column -> text.
    item_text: dict[str, Text] = field(default_factory=dict)

    @property
    def region_codes(self) -> tuple[int, ...]:
        return tuple(region.code for region in self.regions)


def _division(code: int, en: str, es: str, share: float, counties: int) -> Region:
    return Region(code, {"en": en, "es": es}, "", share, counties)


def _es(code: int, iso: str, name: str, share: float, municipalities: int) -> Region:
    # Official names are the same in English and Spanish (INE's spelling, natural order).
    return Region(100 + code, {"en": name, "es": name}, iso, share, municipalities)


def _mx(code: int, iso: str, name: str, share: float, municipalities: int) -> Region:
    return Region(200 + code, {"en": name, "es": name}, iso, share, municipalities)


# Shares: 2020 Census, rounded; counties (or equivalents) per division.
US_REGIONS = (
    _division(1, "New England (CT, ME, MA, NH, RI, VT)", "Nueva Inglaterra (CT, ME, MA, NH, RI, VT)", 0.046, 67),
    _division(2, "Middle Atlantic (NJ, NY, PA)", "Atlántico Medio (NJ, NY, PA)", 0.126, 150),
    _division(3, "East North Central (IL, IN, MI, OH, WI)", "Centro Noreste (IL, IN, MI, OH, WI)", 0.142, 437),
    _division(4, "West North Central (IA, KS, MN, MO, NE, ND, SD)", "Centro Noroeste (IA, KS, MN, MO, NE, ND, SD)", 0.065, 618),
    _division(5, "South Atlantic (DE, DC, FL, GA, MD, NC, SC, VA, WV)", "Atlántico Sur (DE, DC, FL, GA, MD, NC, SC, VA, WV)", 0.206, 589),
    _division(6, "East South Central (AL, KY, MS, TN)", "Centro Sureste (AL, KY, MS, TN)", 0.058, 364),
    _division(7, "West South Central (AR, LA, OK, TX)", "Centro Suroeste (AR, LA, OK, TX)", 0.127, 470),
    _division(8, "Mountain (AZ, CO, ID, MT, NV, NM, UT, WY)", "Montaña (AZ, CO, ID, MT, NV, NM, UT, WY)", 0.076, 281),
    _division(9, "Pacific (AK, CA, HI, OR, WA)", "Pacífico (AK, CA, HI, OR, WA)", 0.154, 167),
)  # fmt: skip

# INE codes and names of the 17 autonomous communities and 2 autonomous cities; shares from
# INE's population figures (1 January 2023, rounded); municipalities per community (INE
# register). Ceuta and Melilla are one municipality each: the synthetic cohort treats their
# census sections (about 60 each) as PSUs, so every stratum can draw two.
ES_REGIONS = (
    _es(1, "ES-AN", "Andalucía", 0.178, 785),
    _es(2, "ES-AR", "Aragón", 0.028, 731),
    _es(3, "ES-AS", "Asturias", 0.021, 78),
    _es(4, "ES-IB", "Illes Balears", 0.025, 67),
    _es(5, "ES-CN", "Canarias", 0.046, 88),
    _es(6, "ES-CB", "Cantabria", 0.012, 102),
    _es(7, "ES-CL", "Castilla y León", 0.049, 2248),
    _es(8, "ES-CM", "Castilla-La Mancha", 0.043, 919),
    _es(9, "ES-CT", "Cataluña", 0.164, 947),
    _es(10, "ES-VC", "Comunitat Valenciana", 0.108, 542),
    _es(11, "ES-EX", "Extremadura", 0.022, 388),
    _es(12, "ES-GA", "Galicia", 0.056, 313),
    _es(13, "ES-MD", "Comunidad de Madrid", 0.143, 179),
    _es(14, "ES-MC", "Región de Murcia", 0.032, 45),
    _es(15, "ES-NC", "Comunidad Foral de Navarra", 0.014, 272),
    _es(16, "ES-PV", "País Vasco", 0.046, 251),
    _es(17, "ES-RI", "La Rioja", 0.007, 174),
    _es(18, "ES-CE", "Ceuta", 0.0017, 60),
    _es(19, "ES-ML", "Melilla", 0.0018, 60),
)

# INEGI codes and names of the 32 federal entities; shares from the 2020 Population and Housing
# Census (rounded); municipalities (Mexico City: its 16 alcaldías) per entity.
MX_REGIONS = (
    _mx(1, "MX-AGU", "Aguascalientes", 0.011, 11),
    _mx(2, "MX-BCN", "Baja California", 0.030, 6),
    _mx(3, "MX-BCS", "Baja California Sur", 0.006, 5),
    _mx(4, "MX-CAM", "Campeche", 0.007, 13),
    _mx(5, "MX-COA", "Coahuila", 0.025, 38),
    _mx(6, "MX-COL", "Colima", 0.006, 10),
    _mx(7, "MX-CHP", "Chiapas", 0.044, 124),
    _mx(8, "MX-CHH", "Chihuahua", 0.030, 67),
    _mx(9, "MX-CMX", "Ciudad de México", 0.073, 16),
    _mx(10, "MX-DUR", "Durango", 0.015, 39),
    _mx(11, "MX-GUA", "Guanajuato", 0.049, 46),
    _mx(12, "MX-GRO", "Guerrero", 0.028, 81),
    _mx(13, "MX-HID", "Hidalgo", 0.024, 84),
    _mx(14, "MX-JAL", "Jalisco", 0.066, 125),
    _mx(15, "MX-MEX", "Estado de México", 0.135, 125),
    _mx(16, "MX-MIC", "Michoacán", 0.038, 113),
    _mx(17, "MX-MOR", "Morelos", 0.016, 36),
    _mx(18, "MX-NAY", "Nayarit", 0.010, 20),
    _mx(19, "MX-NLE", "Nuevo León", 0.046, 51),
    _mx(20, "MX-OAX", "Oaxaca", 0.033, 570),
    _mx(21, "MX-PUE", "Puebla", 0.052, 217),
    _mx(22, "MX-QUE", "Querétaro", 0.019, 18),
    _mx(23, "MX-ROO", "Quintana Roo", 0.015, 11),
    _mx(24, "MX-SLP", "San Luis Potosí", 0.022, 58),
    _mx(25, "MX-SIN", "Sinaloa", 0.024, 18),
    _mx(26, "MX-SON", "Sonora", 0.023, 72),
    _mx(27, "MX-TAB", "Tabasco", 0.019, 17),
    _mx(28, "MX-TAM", "Tamaulipas", 0.028, 43),
    _mx(29, "MX-TLA", "Tlaxcala", 0.011, 60),
    _mx(30, "MX-VER", "Veracruz", 0.064, 212),
    _mx(31, "MX-YUC", "Yucatán", 0.018, 106),
    _mx(32, "MX-ZAC", "Zacatecas", 0.013, 58),
)

_US_UNITS_TEXT = {
    HEIGHT_COLUMN: {
        "en": "How tall are you, in feet and inches?",
        "es": "¿Cuánto mide, en pies y pulgadas?",
    },
    WEIGHT_COLUMN: {
        "en": "How much do you weigh, in pounds?",
        "es": "¿Cuánto pesa, en libras?",
    },
}

# Drug examples name what is sold in the country (the US wording is the instrument file's own).
# Spain: no hydrocodone, dronabinol, nabilone or milnacipran on the market; cyclobenzaprine is
# sold as Yurelax, nabiximols as Sativex, and dexketoprofen is a common anti-inflammatory.
_ES_DRUGS = {
    "tx_opioid": {
        "en": "Did you take an opioid painkiller (for example tramadol, codeine, tapentadol, oxycodone, morphine)?",
        "es": "¿Tomó algún analgésico opioide (por ejemplo tramadol, codeína, tapentadol, oxicodona, morfina)?",
    },
    "tx_snri": {
        "en": "Did you take duloxetine (Cymbalta) or venlafaxine?",
        "es": "¿Tomó duloxetina (Cymbalta) o venlafaxina?",
    },
    "tx_cyclobenzaprine": {
        "en": "Did you take cyclobenzaprine (Yurelax)?",
        "es": "¿Tomó ciclobenzaprina (Yurelax)?",
    },
    "tx_nsaid": {
        "en": "Did you regularly take an anti-inflammatory painkiller (for example ibuprofen, naproxen, diclofenac, dexketoprofen)?",
        "es": "¿Tomó con regularidad algún antiinflamatorio (por ejemplo ibuprofeno, naproxeno, diclofenaco, dexketoprofeno)?",
    },
    "tx_thc_use": {
        "en": "Did you use a medicine or product containing THC (for example medical cannabis or nabiximols, Sativex)?",
        "es": "¿Usó algún medicamento o producto con THC (por ejemplo cannabis medicinal o nabiximoles, Sativex)?",
    },
}  # fmt: skip
# Mexico: generic names where the brand differs from the US one; ketorolac is a common NSAID.
_MX_DRUGS = {
    "tx_opioid": {
        "en": "Did you take an opioid painkiller (for example tramadol, codeine, tapentadol, oxycodone, morphine)?",
        "es": "¿Tomó algún analgésico opioide (por ejemplo tramadol, codeína, tapentadol, oxicodona, morfina)?",
    },
    "tx_snri": {
        "en": "Did you take duloxetine (Cymbalta) or venlafaxine?",
        "es": "¿Tomó duloxetina (Cymbalta) o venlafaxina?",
    },
    "tx_cyclobenzaprine": {
        "en": "Did you take cyclobenzaprine?",
        "es": "¿Tomó ciclobenzaprina?",
    },
    "tx_nsaid": {
        "en": "Did you regularly take an anti-inflammatory painkiller (for example ibuprofen, naproxen, diclofenac, ketorolac)?",
        "es": "¿Tomó con regularidad algún antiinflamatorio (por ejemplo ibuprofeno, naproxeno, diclofenaco, ketorolaco)?",
    },
    "tx_thc_use": {
        "en": "Did you use a medicine or product containing THC (for example medical cannabis)?",
        "es": "¿Usó algún medicamento o producto con THC (por ejemplo cannabis medicinal)?",
    },
}  # fmt: skip

COUNTRIES: dict[str, Country] = {
    "US": Country(
        code="US",
        name={"en": "United States", "es": "Estados Unidos"},
        regions=US_REGIONS,
        region_source="US Census Bureau divisions (codes 1-9)",
        units="us_customary",
        # 911: emergency services. 988: the 988 Suicide & Crisis Lifeline, call or text, since
        # 16 July 2022 (FCC designation; SAMHSA, 988lifeline.org).
        emergency=CrisisLine("911", {"en": "emergency services", "es": "emergencias"}),
        crisis=CrisisLine(
            "988",
            {
                "en": "the Suicide & Crisis Lifeline",
                "es": "la Línea de Prevención del Suicidio y Crisis",
            },
            text_too=True,
        ),
        item_text=_US_UNITS_TEXT,
    ),
    "ES": Country(
        code="ES",
        name={"en": "Spain", "es": "España"},
        regions=ES_REGIONS,
        region_source="INE codes of the autonomous communities and cities (100 + code)",
        units="metric",
        # 112: the European emergency number. 024: Línea de atención a la conducta suicida,
        # Ministerio de Sanidad, free, 24 h, since 10 May 2022 (BOE of 20 December 2021).
        emergency=CrisisLine("112", {"en": "emergency services", "es": "emergencias"}),
        crisis=CrisisLine(
            "024",
            {
                "en": "the suicidal behaviour helpline",
                "es": "la línea de atención a la conducta suicida",
            },
        ),
        item_text=_ES_DRUGS,
    ),
    "MX": Country(
        code="MX",
        name={"en": "Mexico", "es": "México"},
        regions=MX_REGIONS,
        region_source="INEGI codes of the federal entities (200 + code)",
        units="metric",
        # 911: the national emergency number (nationwide since January 2017). Línea de la Vida
        # 800 911 2000: Secretaría de Salud, run by CONASAMA, free, 24 h (eluniversal.com.mx and
        # cronica.com.mx, 2025).
        emergency=CrisisLine("911", {"en": "emergency services", "es": "emergencias"}),
        crisis=CrisisLine("800 911 2000", {"en": "Línea de la Vida", "es": "la Línea de la Vida"}),
        item_text=_MX_DRUGS,
    ),
}

# Studies made before countries existed used the US Census divisions: they are US studies.
DEFAULT_COUNTRY = "US"


def get_country(code: str) -> Country:
    try:
        return COUNTRIES[code]
    except KeyError:
        raise KeyError(f"unknown country {code!r}; allowed: {', '.join(COUNTRIES)}") from None


def country_choices(language: str = "en") -> list[tuple[str, str]]:
    """(code, name) pairs for a form's select."""
    return [(c.code, c.name.get(language) or c.name["en"]) for c in COUNTRIES.values()]


def region_options() -> list[dict[str, object]]:
    """Every country's regions as instrument options (the demo region item's option list)."""
    return [
        {"code": region.code, "label": dict(region.label)}
        for country in COUNTRIES.values()
        for region in country.regions
    ]


def region_label(code: int, language: str = "en") -> str:
    """A region code's label with its country and ISO 3166-2 code, for data dictionaries."""
    for country in COUNTRIES.values():
        for region in country.regions:
            if region.code == code:
                label = region.label.get(language) or region.label["en"]
                iso = f", {region.iso}" if region.iso else ""
                return f"{label} ({country.code}{iso})"
    raise KeyError(f"unknown region code {code}")

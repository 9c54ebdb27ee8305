"""Endocannabinoid units and analyte names: conversion to pmol/mL.

Values are stored in pmol/mL (= nM = nmol/L).

====================  =====================  ===============================
accepted spelling     meaning                factor to pmol/mL
====================  =====================  ===============================
``ng/mL``             nanogram per mL        1000 / MW (MW in g/mol)
``ng/L``, ``pg/mL``   nanogram per litre     1 / MW   (1 pg/mL = 1 ng/L)
``pmol/mL``           picomole per mL        1
``nM``, ``nmol/L``    nanomolar              1        (1 nmol/L = 1 pmol/mL)
====================  =====================  ===============================

Units are matched case-insensitively, surrounding spaces ignored.
"""

from __future__ import annotations

from typing import TypeVar, overload

import numpy as np
import polars as pl

from fibrosurvey.dataset import ANALYTE_NAMES, ANALYTES

__all__ = [
    "ANALYTE_ALIASES",
    "UNITS",
    "UnitError",
    "accepted_analyte_spellings",
    "canonical_analyte",
    "canonical_unit",
    "conversion_factor",
    "to_pmol_per_ml",
]

NG_PER_ML_TO_PMOL = 1000.0  # ng/mL / MW(g/mol) * 1000 = pmol/mL
UNITS: dict[str, str] = {
    "ng/ml": "ng/mL",
    "ng/l": "ng/L",
    "pg/ml": "ng/L",
    "pmol/ml": "pmol/mL",
    "nm": "nM",
    "nmol/l": "nM",
}
_MASS_FACTORS: dict[str, float] = {"ng/mL": NG_PER_ML_TO_PMOL, "ng/L": 1.0}
MOLAR_UNITS = {"pmol/mL", "nM"}
ALLOWED_UNITS_TEXT = "ng/mL, ng/L (= pg/mL), pmol/mL, nM (= nmol/L)"

# Analyte spellings a lab may send -> column code.
ANALYTE_ALIASES: dict[str, str] = {
    **{code: code for code in ANALYTES},
    "anandamide": "aea",
    "2-ag": "twoag",
    "2ag": "twoag",
    "2-arachidonoylglycerol": "twoag",
    "palmitoylethanolamide": "pea",
    "oleoylethanolamide": "oea",
    "stearoylethanolamide": "sea",
}

ALLOWED_ANALYTES_TEXT = ", ".join(ANALYTE_NAMES.values())


class UnitError(ValueError):
    """A unit or analyte that cannot be converted; the message lists the allowed ones."""


def canonical_unit(unit: str) -> str:
    """The canonical spelling of ``unit`` (case-insensitive), or :class:`UnitError`."""
    canonical = UNITS.get(unit.strip().lower()) if isinstance(unit, str) else None
    if canonical is None:
        raise UnitError(f"unknown unit {unit!r}; allowed units: {ALLOWED_UNITS_TEXT}")
    return canonical


def canonical_analyte(analyte: str) -> str:
    code = ANALYTE_ALIASES.get(analyte.strip().lower()) if isinstance(analyte, str) else None
    if code is None:
        raise UnitError(f"unknown analyte {analyte!r}; allowed analytes: {ALLOWED_ANALYTES_TEXT}")
    return code


def conversion_factor(unit: str, analyte: str) -> float:
    """Multiply a value in ``unit`` by this to get pmol/mL of ``analyte``."""
    canonical = canonical_unit(unit)
    code = canonical_analyte(analyte)
    if canonical in MOLAR_UNITS:
        return 1.0
    return _MASS_FACTORS[canonical] / ANALYTES[code]


_Values = TypeVar("_Values", np.ndarray, pl.Expr, pl.Series)


@overload
def to_pmol_per_ml(values: float, unit: str, analyte: str) -> float: ...
@overload
def to_pmol_per_ml(values: _Values, unit: str, analyte: str) -> _Values: ...
def to_pmol_per_ml(
    values: float | np.ndarray | pl.Expr | pl.Series, unit: str, analyte: str
) -> float | np.ndarray | pl.Expr | pl.Series:
    """Convert ``values`` of ``analyte`` measured in ``unit`` to pmol/mL (vectorised).

    ng/mL -> pmol/mL is ``x * 1000 / MW``; ng/L (= pg/mL) is ``x / MW``; nM and nmol/L equal
    pmol/mL. Works on a float, a NumPy array, a Polars Series or a Polars expression.
    """
    factor = conversion_factor(unit, analyte)
    if isinstance(values, np.ndarray):
        return np.asarray(values, dtype=np.float64) * factor
    if isinstance(values, pl.Expr | pl.Series):
        return values.cast(pl.Float64) * factor
    return float(values) * factor


def accepted_analyte_spellings() -> dict[str, list[str]]:
    """For each analyte code, every spelling an import accepts (case-insensitive)."""
    spellings: dict[str, list[str]] = {code: [] for code in ANALYTES}
    for spelling, code in ANALYTE_ALIASES.items():
        spellings[code].append(spelling)
    return spellings

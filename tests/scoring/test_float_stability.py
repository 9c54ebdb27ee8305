"""A row's score never depends on the rows around it, to the last bit."""

from __future__ import annotations

import polars as pl

from fibrosurvey.scoring import score_frame


def test_fiqr_function_identical_whatever_the_table_size() -> None:
    # Sums whose ninths and thirds are not exact in binary, scored alone and inside long tables
    # (different kernel paths and chunk layouts).
    items = {f"fiqr_{i:02d}": [7, 7, 5, 1, 10, 3, None, 9, 8][i - 1] for i in range(1, 10)}
    rest = {f"fiqr_{i:02d}": 3 for i in range(10, 22)}
    row = {**items, **rest}
    schema = dict.fromkeys(row, pl.Int64)
    alone = score_frame(pl.DataFrame([row], schema=schema, orient="row"))["fiqr_function"][0]
    for size in (2, 7, 64, 1000, 4099):
        table = pl.DataFrame([row] * size, schema=schema, orient="row")
        values = score_frame(table)["fiqr_function"]
        assert values.n_unique() == 1 and values[0] == alone


def test_bmi_identical_whatever_the_table_size() -> None:
    row = {"demo_weight_kg": 61.3, "demo_height_cm": 165.4}
    schema = dict.fromkeys(row, pl.Float64)
    alone = score_frame(pl.DataFrame([row], schema=schema, orient="row"))["demo_bmi"][0]
    assert alone == 61.3 * 10_000 / (165.4 * 165.4)
    for size in (3, 1000, 4099):
        values = score_frame(pl.DataFrame([row] * size, schema=schema, orient="row"))["demo_bmi"]
        assert values.n_unique() == 1 and values[0] == alone


def test_narrow_integer_columns_do_not_overflow() -> None:
    # Parquet from other tools may store answers as Int8: 9 x 3 must still be 27, not -1.
    frame = pl.DataFrame(
        {f"phq9_{i}": [3] for i in range(1, 10)},
        schema_overrides={f"phq9_{i}": pl.Int8 for i in range(1, 10)},
    )
    assert score_frame(frame)["phq9_total"][0] == 27
    fiqr = pl.DataFrame({f"fiqr_{i:02d}": [10] for i in range(1, 22)}).cast(pl.Int8)
    assert score_frame(fiqr)["fiqr_total"][0] == 100

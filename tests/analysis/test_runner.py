"""The runner's numbers against independent implementations (statsmodels, scipy)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import polars as pl
import pytest
import statsmodels.api as sm
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from fibrosurvey.analysis import Results, load_plan
from fibrosurvey.analysis.mde import minimal_detectable_effect

CONFOUNDERS = [
    "demo_age",
    "demo_bmi",
    "tx_cannabis_recreational",
    "lab_fasting",
    "lab_minutes_to_centrifuge",
    # 0 plasma, 1 serum: with 64 serum samples (>= 30), the serum indicator itself.
    "lab_matrix_code",
]


def _row(results: Results, hypothesis_id: str):  # type: ignore[no-untyped-def]
    return next(h for h in results.hypotheses if h.id == hypothesis_id)


def _with_sex_dummies(frame: pl.DataFrame) -> pl.DataFrame:
    """Indicators for sex 2 and 3 on a model's complete cases (``frame``); a level with < 30
    participants among them joins the reference (the plan's documented rule), so its indicator
    is constant 0 and drops out below."""
    sex = frame.get_column("demo_sex")
    return frame.with_columns(
        (pl.col("demo_sex") == 2).cast(pl.Float64).alias("sex2"),
        ((pl.col("demo_sex") == 3) & pl.lit(int((sex == 3).sum()) >= 30))
        .cast(pl.Float64)
        .alias("sex3"),
    )


def test_partial_spearman_matches_rank_residual_correlation(
    results: Results, derived: pl.DataFrame
) -> None:
    row = _row(results, "C1:log_aea:peg_score")
    base = derived.filter(pl.col("event") == "baseline")
    columns = ["log_aea", "peg_score", *CONFOUNDERS, "demo_sex"]
    data = _with_sex_dummies(base.select(columns).drop_nulls(columns))
    z_cols = [*CONFOUNDERS, "sex2", "sex3"]
    z = data.select(z_cols).to_numpy().astype(float)
    z = z[:, z.std(axis=0) > 0]
    ranks = sps.rankdata(np.column_stack([data["log_aea"], data["peg_score"], z]), axis=0)
    design = sm.add_constant(ranks[:, 2:])
    rx = sm.OLS(ranks[:, 0], design).fit().resid
    ry = sm.OLS(ranks[:, 1], design).fit().resid
    r, _ = sps.pearsonr(rx, ry)
    assert row.n == data.height
    assert row.estimate == pytest.approx(r, abs=1e-10)
    k = design.shape[1] - 1
    t = r * math.sqrt((data.height - 2 - k) / (1 - r * r))
    assert row.p == pytest.approx(2 * sps.t.sf(abs(t), data.height - 2 - k), rel=1e-6)


def test_q_values_are_benjamini_hochberg_within_each_family(results: Results) -> None:
    for family in {h.family for h in results.hypotheses}:
        rows = [h for h in results.hypotheses if h.family == family and math.isfinite(h.p)]
        expected = multipletests([h.p for h in rows], method="fdr_bh")[1]
        assert [h.q for h in rows] == pytest.approx(list(expected), rel=1e-9)


def _assert_verdicts_agree_with_their_intervals(results: Results) -> None:
    """Checks written out from the verdict rules, independently of the verdict code."""
    alpha = results.alpha
    for h in results.hypotheses:
        above, below = h.ci_low > h.null_value, h.ci_high < h.null_value
        on_claimed_side = above if h.expected == "positive" else below
        on_other_side = below if h.expected == "positive" else above
        levels = h.extra.get("panel_levels") or {}
        claimed = levels.get("claimed")
        levels_lower, levels_higher = (
            levels.get("ci_high", math.nan) < 1,
            levels.get("ci_low", math.nan) > 1,
        )
        if h.verdict == "supported":
            assert h.q < alpha and on_claimed_side, (h.id, h.q, h.ci_low, h.ci_high)
            if claimed:
                assert levels_lower if claimed == "lower" else levels_higher, (h.id, levels)
        elif h.verdict == "contradicted":
            assert h.q < alpha, h.id
            if h.kind == "discrimination":
                # a gain, through levels on the side opposite to the claim
                assert on_claimed_side and claimed, (h.id, levels)
                assert levels_higher if claimed == "lower" else levels_lower, (h.id, levels)
            else:
                assert on_other_side, (h.id, h.ci_low, h.ci_high)
        else:
            assert h.verdict == "not supported", h.id
            decided = h.q < alpha and (on_claimed_side or on_other_side)
            assert not decided or h.kind == "discrimination", (h.id, h.q, h.ci_low, h.ci_high)
            if h.q < alpha and not decided:  # the table says why a small q decided nothing
                assert "interval includes no effect" in h.note, (h.id, h.note)
            if h.status == "ok":
                assert math.isfinite(h.mde) and h.mde_note, h.id


def test_every_verdict_agrees_with_the_interval_it_prints(
    results: Results, literature_results: Results
) -> None:
    _assert_verdicts_agree_with_their_intervals(results)
    _assert_verdicts_agree_with_their_intervals(literature_results)


def test_c4_is_not_supported_when_the_biomarkers_are_raised_in_fibromyalgia(
    literature_results: Results,
) -> None:
    # The literature scenario raises OEA, PEA and SEA in FM: no deficiency to identify.
    c4 = next(c for c in literature_results.claims if c.id == "C4")
    assert c4.verdict in ("not supported", "contradicted"), c4.plain
    for h in literature_results.hypotheses_of("C4"):
        assert h.verdict != "supported", (h.id, h.ci_low, h.ci_high, h.extra["panel_levels"])


def test_adjusted_odds_ratio_matches_statsmodels_logit(
    results: Results, derived: pl.DataFrame
) -> None:
    row = _row(results, "C2:ced_suspected:migraine_positive")
    base = derived.filter(pl.col("event") == "baseline")
    needed = ["migraine_positive", "ced_suspected", *CONFOUNDERS, "demo_sex"]
    data = _with_sex_dummies(base.select(needed).drop_nulls(needed))
    x = data.select(["ced_suspected", *CONFOUNDERS, "sex2", "sex3"]).to_pandas()
    x = x.loc[:, x.std() > 0]
    fit = sm.Logit(data["migraine_positive"].to_numpy(), sm.add_constant(x)).fit(disp=False)
    assert row.n == data.height
    assert row.estimate == pytest.approx(math.exp(fit.params["ced_suspected"]), rel=1e-6)
    low, high = np.exp(fit.conf_int().loc["ced_suspected"])
    assert (row.ci_low, row.ci_high) == pytest.approx((low, high), rel=1e-6)
    # crude prevalences reported alongside
    exposed = data.filter(pl.col("ced_suspected") == 1)["migraine_positive"].mean()
    assert row.extra["risk_exposed"] == pytest.approx(exposed)


def test_ancova_effect_matches_statsmodels_ols_on_independently_paired_visits(
    results: Results, derived: pl.DataFrame
) -> None:
    row = _row(results, "C3:lifestyle_vs_standard:fiqr_total")
    base = derived.filter(pl.col("event") == "baseline").select(
        "participant_id",
        pl.col("fiqr_total").alias("pre"),
        "lifestyle_vs_standard",
        "demo_age",
        "demo_bmi",
        "demo_sex",
    )
    post = derived.filter(pl.col("event") == "followup_3m").select(
        "participant_id", pl.col("fiqr_total").alias("post")
    )
    wide = _with_sex_dummies(base.join(post, on="participant_id").drop_nulls())
    x = wide.select(
        "lifestyle_vs_standard", "pre", "demo_age", "demo_bmi", "sex2", "sex3",
    ).to_pandas()  # fmt: skip
    x = x.loc[:, x.std() > 0]
    fit = sm.OLS(wide["post"].to_numpy(), sm.add_constant(x)).fit(cov_type="HC3", use_t=True)
    assert row.n == wide.height
    assert row.estimate == pytest.approx(fit.params["lifestyle_vs_standard"], rel=1e-8)
    assert (row.ci_low, row.ci_high) == pytest.approx(
        tuple(fit.conf_int().loc["lifestyle_vs_standard"]), rel=1e-8
    )
    assert row.sensitivity["ipw"]["status"] == "ok"


def test_correlation_mde_is_the_fisher_z_detectable_effect(results: Results) -> None:
    plan = load_plan()
    row = _row(results, "C1:log_sea:jss_total")
    family_size = sum(h.family == "C1" for h in results.hypotheses)
    mde, unit = minimal_detectable_effect(row, plan, family_size)
    k = row.extra["k_covariates"]
    alpha = 0.05 / family_size
    z = (sps.norm.ppf(1 - alpha / 2) + sps.norm.ppf(0.8)) / math.sqrt(row.n - 3 - k)
    assert mde == pytest.approx(math.tanh(z), rel=1e-6)
    assert "rho" in unit


def test_results_json_has_the_fields_a_reader_needs(results: Results, tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    results.write_json(path)
    loaded = json.loads(path.read_text())
    required = {"id", "claim", "family", "method", "n", "estimate", "ci_low", "ci_high", "p", "q",
                "verdict", "mde"}  # fmt: skip
    assert len(loaded["hypotheses"]) == 58
    for record in loaded["hypotheses"]:
        assert required <= set(record)
    assert {c["id"] for c in loaded["claims"]} == {"C0", "C1", "C2", "C3", "C4"}
    assert len(loaded["provenance"]["data_sha256"]) == 64
    assert loaded["plan_text"].startswith("# Pre-registered analysis plan")


def test_slow_processing_sensitivity_drops_slow_samples(
    results: Results, derived: pl.DataFrame
) -> None:
    row = _row(results, "C1:log_aea:nrs_pain")
    fast = row.sensitivity["fast_processing"]
    needed = ["log_aea", "nrs_pain", *CONFOUNDERS, "demo_sex"]
    complete = derived.filter(pl.col("event") == "baseline").drop_nulls(needed)
    slow = complete.filter(pl.col("lab_minutes_to_centrifuge") > 30).height
    assert slow > 0
    assert complete.height == row.n
    assert fast["n"] == row.n - slow


def test_discrimination_p_is_the_likelihood_ratio_test_of_the_panel(
    results: Results, derived: pl.DataFrame
) -> None:
    row = _row(results, "C4:log_aea+log_twoag+log_pea+log_oea+log_sea:high_severity")
    base = derived.filter(pl.col("event") == "baseline")
    panel = ["log_aea", "log_twoag", "log_pea", "log_oea", "log_sea"]
    covariates = ["demo_age", "demo_bmi", "tx_cannabis_recreational", "sex2", "sex3"]
    needed = [
        "high_severity",
        *panel,
        "demo_age",
        "demo_bmi",
        "tx_cannabis_recreational",
        "demo_sex",
    ]
    data = _with_sex_dummies(base.select(needed).drop_nulls(needed)).to_pandas()
    x0 = data[covariates].loc[:, data[covariates].std() > 0]
    y = data["high_severity"].to_numpy()
    small = sm.Logit(y, sm.add_constant(x0)).fit(disp=False)
    large = sm.Logit(y, sm.add_constant(pd.concat([x0, data[panel]], axis=1))).fit(disp=False)
    p = sps.chi2.sf(2 * (large.llf - small.llf), len(panel))
    assert row.n == len(data)
    assert row.p == pytest.approx(p, rel=1e-6)
    assert row.extra["auc_full"] - row.extra["auc_base"] == pytest.approx(row.estimate, abs=1e-12)


def test_report_interval_for_c3_is_the_one_stats_ancova_gives(
    results: Results, cohort: pl.DataFrame
) -> None:
    # No statistic is computed in analysis/: the HC3 interval the report prints is
    # stats.ancova(cov_type="HC3") on the arrays the runner analyses.
    from fibrosurvey.analysis.methods import _change_arrays, _wide
    from fibrosurvey.analysis.runner import apply_derivations, to_numeric
    from fibrosurvey.stats import ancova

    plan = load_plan()
    analysis = next(c for c in plan.claims if c.id == "C3").analyses[0]
    row = _row(results, "C3:lifestyle_vs_standard:fiqr_total")
    frame = apply_derivations(to_numeric(cohort), plan)
    post, pre, group, z = _change_arrays(
        _wide(frame, analysis, plan),  # type: ignore[arg-type]
        analysis,  # type: ignore[arg-type]
        plan,
        "lifestyle_vs_standard",
    )
    direct = ancova(post, pre, group, z, cov_type="HC3")
    assert (row.estimate, row.ci_low, row.ci_high, row.p) == (
        direct.estimate,
        direct.ci_low,
        direct.ci_high,
        direct.p,
    )

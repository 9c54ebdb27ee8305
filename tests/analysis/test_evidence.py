"""Evidence that the default plan recovers the truth the synthetic survey planted.

Monte Carlo tests (``slow``); each generates only what it needs:

* null scenario: per claim family, the share of replicates with ANY false discovery stays
  within the nominal 5% (allowing for Monte Carlo error);
* seed-claims (n = 5,000): C1-C3 are supported; literature (n = 20,000): AEA not linked to
  symptoms, OEA and PEA higher in fibromyalgia (a study-specific plan replicating the
  meta-analysis), and the deficiency hypothesis C0 is contradicted;
* coverage: the 95% CIs of the partial Spearman and of the ANCOVA effect cover the planted
  population values (``synth/truth_values.json``) in 95% +/- 3% of 500 replicates.
"""

from __future__ import annotations

import math
import os

import numpy as np
import polars as pl
import pytest
from scipy import stats as sps
from threadpoolctl import threadpool_limits

from fibrosurvey.analysis import Plan, Results, load_plan, parse_plan, run_plan
from fibrosurvey.analysis.derive import rule_expr
from fibrosurvey.analysis.methods import change_task, correlation_task
from fibrosurvey.analysis.plan import ConditionDerive, GroupsDerive, default_plan_text
from fibrosurvey.synth import generate, simulate
from fibrosurvey.synth.truth import complete_scores, stored_truth

pytestmark = pytest.mark.slow


def _verdicts(results: Results) -> dict[str, str]:
    return {c.id: c.verdict for c in results.claims}


def _fast_plan() -> Plan:
    # IPW is a sensitivity analysis and does not enter any verdict; skip it in Monte Carlo runs.
    return parse_plan(default_plan_text().replace("ipw: true", "ipw: false"))


def test_null_scenario_false_discovery_per_family_is_within_nominal_level() -> None:
    plan = _fast_plan()
    replicates = int(os.environ.get("FIBROSURVEY_NULL_REPLICATES", "200"))
    discoveries: dict[str, int] = {}
    family_sizes = {c.id: 0 for c in plan.claims}
    inestimable = 0
    with threadpool_limits(limits=1):
        for seed in range(replicates):
            data = generate("null", 2000, 10_000 + seed).data
            results = run_plan(data, plan, sensitivity=False, describe=False)
            # No pre-registered hypothesis ever leaves its BH family: every one has a q-value,
            # an inestimable one as p = 1.
            assert all(math.isfinite(h.q) for h in results.hypotheses), seed
            inestimable += sum(not math.isfinite(h.p) for h in results.hypotheses)
            for claim in plan.claims:
                size = len(results.hypotheses_of(claim.id))
                assert family_sizes[claim.id] in (0, size)
                family_sizes[claim.id] = size
            for family in {h.family for h in results.hypotheses}:
                found = any(
                    h.verdict != "not supported" for h in results.hypotheses if h.family == family
                )
                discoveries[family] = discoveries.get(family, 0) + int(found)
    assert set(discoveries) == {"C0", "C1", "C2", "C3", "C4"}
    # Allow for Monte Carlo error: at a true rate of 5%, more than the binomial 99th percentile
    # of discoveries (18 of 200, 9%) happens in 1% of runs.
    limit = int(sps.binom.ppf(0.99, replicates, 0.05))
    print(f"null: {replicates} replicates, discoveries {discoveries}, inestimable {inestimable}")
    assert all(count <= limit for count in discoveries.values()), (discoveries, limit, inestimable)
    # ...and the families are not all silent, which would mean the tests cannot fire at all.
    assert sum(discoveries.values()) > 0, discoveries


def test_seed_claims_are_supported_at_five_thousand() -> None:
    data = generate("seed-claims", 5000, 20261123).data
    with threadpool_limits(limits=1):
        results = run_plan(data, _fast_plan(), sensitivity=False, describe=False)
    verdicts = _verdicts(results)
    assert verdicts["C1"] == "supported"
    assert verdicts["C2"] == "supported"
    assert verdicts["C3"] == "supported"
    assert verdicts["C4"] == "supported"  # lower levels identify FM and severity
    # every C1 test that is decided agrees with the claim's direction
    assert not [h.id for h in results.hypotheses if h.claim == "C1" and h.verdict == "contradicted"]


# A study-specific plan from the same building blocks: the meta-analysis compared raw levels
# between people with and without fibromyalgia, so this replication is unadjusted.
META_ANALYSIS_PLAN = """
plan_version: 1
title: "Replication of the 2022 meta-analysis: plasma levels in FM vs others"
registered: "2026-11-23"
derive:
  - {name: log_aea, kind: log, column: aea}
  - {name: log_twoag, kind: log, column: twoag}
  - {name: log_pea, kind: log, column: pea}
  - {name: log_oea, kind: log, column: oea}
  - {name: log_sea, kind: log, column: sea}
claims:
  - id: M1
    statement: Plasma levels differ between people who meet FM criteria and others.
    analyses:
      - kind: correlation
        exposures: [log_aea, log_twoag, log_pea, log_oea, log_sea]
        outcomes: [fsq_acr2016]
        expected: positive
"""


def test_literature_scenario_finds_no_aea_link_and_raised_oea_pea_in_fm() -> None:
    # The planted differences are small (standardised 0.14-0.2 for PEA/OEA, as published) and
    # only about a third of participants give blood, so this check needs a larger survey.
    data = generate("literature", 20_000, 20261123).data
    with threadpool_limits(limits=1):
        results = run_plan(data, _fast_plan(), sensitivity=False, describe=False)
        levels = run_plan(data, parse_plan(META_ANALYSIS_PLAN), sensitivity=False, describe=False)
    aea_c1 = [h for h in results.hypotheses if h.claim == "C1" and h.exposure == "log_aea"]
    assert len(aea_c1) == 7
    # planted: no AEA-symptom link; every estimate is near zero (MDE here is about 0.06)
    assert all(abs(h.estimate) < 0.05 for h in aea_c1)
    assert all(h.verdict == "not supported" for h in aea_c1), [
        (h.outcome, h.estimate, h.q) for h in aea_c1
    ]
    assert results.claims[1].verdict != "supported"  # C1 as a whole is not borne out
    by_id = {h.id: h for h in levels.hypotheses}
    for analyte in ("oea", "pea"):
        row = by_id[f"M1:log_{analyte}:fsq_acr2016"]
        assert row.estimate > 0 and row.verdict == "supported", (analyte, row.estimate, row.q)
    assert by_id["M1:log_aea:fsq_acr2016"].verdict == "not supported"
    # The default plan's deficiency hypothesis (C0: LOWER levels in FM) is contradicted.
    assert results.claims[0].verdict in ("contradicted", "mixed")
    # ...and so is C4: the panel picks out FM, but by raised levels, not a deficiency.
    assert results.claims[4].verdict in ("not supported", "contradicted")


def _coverage_plan() -> Plan:
    """The default plan's C1 and C3 definitions, with sex as a number as in the truth."""
    plan = load_plan()
    keep = {
        "log_aea",
        "ls_omega3",
        "ls_exercise",
        "ls_mindbody",
        "ls_sleep_hygiene",
        "ls_cannabinoid",
        "lifestyle_any",
        "standard_analgesic",
        "lifestyle_vs_standard",
    }
    derive = [d for d in plan.derive if d.name in keep]
    return plan.model_copy(update={"derive": derive, "categorical": []})


def _cohort_frame(n: int, seed: int, plan: Plan) -> pl.DataFrame:
    """A complete cohort from the generator's own functions (no non-response, everyone with a
    lab draw and a follow-up), in the analysis-dataset layout, with the plan's derivations."""
    sim = simulate("seed-claims", n, seed)
    scores = complete_scores(sim.baseline)
    follow = complete_scores(sim.followup)
    ids = pl.Series("participant_id", np.arange(n))
    base = pl.DataFrame(
        {
            **{k: v for k, v in sim.baseline.items() if v.ndim == 1},
            **scores,
            **{k: v for k, v in sim.labs.items() if v.ndim == 1 and v.dtype.kind in "fiub"},
        }
    ).with_columns(ids, pl.lit("baseline").alias("event"))
    # The plan's matrix code (0 plasma, 1 serum) is the generator's matrix code.
    base = base.with_columns(pl.col("lab_matrix").alias("lab_matrix_code"))
    later = pl.DataFrame({"fiqr_total": follow["fiqr_total"]}).with_columns(
        ids, pl.lit("followup_3m").alias("event")
    )
    frame = pl.concat([base, later], how="diagonal_relaxed")
    for d in plan.derive:
        if d.name == "log_aea":
            frame = frame.with_columns(pl.col("aea").log().alias("log_aea"))
        elif isinstance(d, ConditionDerive):
            frame = frame.with_columns(rule_expr(d.rule).cast(pl.Int8).alias(d.name))
        elif isinstance(d, GroupsDerive):
            frame = frame.with_columns(
                pl.when(rule_expr(d.exposed)).then(1).when(rule_expr(d.comparator)).then(0)
                .otherwise(None).cast(pl.Int8).alias(d.name)
            )  # fmt: skip
    return frame


def test_confidence_intervals_cover_the_planted_values() -> None:
    truth = stored_truth()["seed-claims"]
    rho_true = truth["c1"]["partial_spearman"]["aea"]["peg_score"]
    ancova_true = truth["c3"]["ancova_lifestyle_vs_analgesics_only"]
    plan = _coverage_plan()
    c1 = plan.claims[1].analyses[0]
    c3 = plan.claims[3].analyses[0].model_copy(update={"exposures": ["lifestyle_vs_standard"]})
    correlation = correlation_task(c1, plan, "log_aea", "peg_score")  # type: ignore[arg-type]
    ancova = change_task(c3, plan, "lifestyle_vs_standard")  # type: ignore[arg-type]
    replicates, covered_rho, covered_ancova = 500, 0, 0
    with threadpool_limits(limits=1):
        for seed in range(replicates):
            frame = _cohort_frame(1000, 50_000 + seed, plan)
            r = correlation(frame)
            a = ancova(frame)
            covered_rho += int(r.ci_low <= rho_true <= r.ci_high)
            covered_ancova += int(a.ci_low <= ancova_true <= a.ci_high)
    assert 0.92 <= covered_rho / replicates <= 0.98, covered_rho
    assert 0.92 <= covered_ancova / replicates <= 0.98, covered_ancova

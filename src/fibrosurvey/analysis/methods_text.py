"""The statistical methods of a plan, in words (printed in the report)."""

from __future__ import annotations

from fibrosurvey.analysis.design import design_in_words
from fibrosurvey.analysis.plan import (
    CategoryDerive,
    ChangeAnalysis,
    ConditionDerive,
    CorrelationAnalysis,
    Discrimination,
    GroupComparison,
    GroupsDerive,
    Plan,
    QuantileDerive,
)

__all__ = ["methods_in_words"]

_EFFECT_WORDS = {
    "adjusted_or": "adjusted odds ratio",
    "odds_ratio": "crude odds ratio",
    "risk_difference": "risk difference",
}


def methods_in_words(plan: Plan, imputations: int) -> list[str]:
    level = f"{100 * plan.confidence:g}%"
    paragraphs = [
        f"The analysis plan “{plan.title}” was registered on {plan.registered} and is printed "
        "below exactly as fixed, with its SHA-256. Every test is two-sided. Within each claim "
        "family, p-values are adjusted by the Benjamini-Hochberg procedure (false discovery "
        f"rate {plan.alpha:g}); a q-value below {plan.alpha:g} counts as a finding. "
        f"Confidence intervals are {level}.",
        "Verdicts: a test SUPPORTS the claim when q < alpha and its confidence interval lies "
        "wholly on the side the claim predicts, CONTRADICTS it when q < alpha and the interval "
        "lies wholly on the other side, and otherwise does NOT SUPPORT it (also when q < alpha "
        "but the interval includes the null, which can happen when the p-value and the "
        "interval come from different methods); then the minimal detectable effect "
        f"(power {100 * plan.power:g}%, "
        "two-sided alpha divided by the family size, a conservative Bonferroni bound) says how "
        "large a true effect would have been needed to be found. A claim is supported when at "
        "least one of its tests supports it and none contradicts it, contradicted in the mirror "
        "case, mixed when both occur, and not supported otherwise.",
        "Primary analyses use complete cases (participants with every variable the test needs). "
        "A “not sure” answer (the self-reported diagnosis questions) is neither yes nor no: it "
        "counts as missing here (left out of complete cases, imputed in the imputation "
        "sensitivity analysis), while the exports keep it as its own code. "
        f"Categorical covariates ({', '.join(plan.categorical) or 'none'}) enter as indicators; "
        "a category with fewer than 30 participants among a model's own complete cases joins "
        "the reference category. A hypothesis that cannot be estimated (for example, when the "
        "exposure separates the outcome) is reported as inestimable and stays in its "
        "Benjamini-Hochberg family with p = 1, so the other q-values are not made smaller.",
    ]
    if imputations:
        paragraphs.append(
            f"Sensitivity analysis: missing values were multiply imputed ({imputations} "
            "imputations, chained equations with Bayesian linear regression drawn from the "
            "posterior, as mice's norm method) and estimates pooled by Rubin's rules with "
            "Barnard-Rubin degrees of "
            "freedom; correlations were pooled on the Fisher z scale and odds ratios on the log "
            "scale. Discrimination analyses are complete-case only."
        )
    paragraphs.append(
        "Sensitivity analysis for the laboratory: every biomarker analysis is repeated without "
        f"samples that took more than {plan.quality.max_minutes_to_centrifuge:g} minutes from "
        "draw to centrifugation, because ethanolamide levels rise in blood left unprocessed."
    )
    exclusion = plan.quality_exclusion
    if not exclusion.exclude_flagged:
        which = "are kept in the analysis (the plan's quality_exclusion keeps everyone)"
    elif exclusion.reasons is None:
        which = "are left out of the analysis"
    else:
        which = "are left out when flagged for " + ", ".join(exclusion.reasons)
    paragraphs.append(
        "Response quality (open recruitment): participants flagged for response quality "
        f"(bots, duplicates, implausible or careless answers) {which}; flagged answers stay in "
        "the database and the exports. The participant-flow diagram counts them."
    )
    matrix_codes = [
        d.name for d in plan.derive if isinstance(d, CategoryDerive) and d.column == "lab_matrix"
    ]
    adjusted = sorted(
        {name for name in matrix_codes for cs in plan.covariate_sets.values() if name in cs}
    )
    if adjusted:
        restricted = [name for name in adjusted if name in plan.restrict_rare_levels]
        paragraphs.append(
            "Sample matrix: serum and plasma endocannabinoid levels differ systematically, so "
            f"every biomarker analysis adjusts for the matrix ({', '.join(adjusted)}, plasma the "
            "reference)"
            + (
                "; a matrix with fewer than 30 samples is left out of a model rather than "
                "pooled with plasma"
                if restricted
                else ""
            )
            + ". Sensitivity analysis: each biomarker analysis is repeated on plasma samples "
            "only. Table 1 shows the biomarkers by matrix. Analytical batch is not a model "
            "covariate (batches are nested in sites and matrices); see the plan."
        )
    else:
        paragraphs.append(
            "Sample matrix: the plan does not adjust for it; serum and plasma values are pooled. "
            "Sensitivity analysis: each biomarker analysis is repeated on plasma samples only."
        )
    for derivation in plan.derive:
        if isinstance(derivation, QuantileDerive):
            side = "below" if derivation.kind == "below_quantile" else "above"
            paragraphs.append(
                f"{derivation.label or derivation.name}: {derivation.column} {side} its "
                f"{100 * derivation.quantile:.1f}th percentile at the {derivation.reference_event} "
                "visit (sample quantile, linear interpolation as R's default)."
            )
    for claim in plan.claims:
        for analysis in claim.analyses:
            covariates = ", ".join(plan.covariates_of(analysis)) or "none"
            if isinstance(analysis, CorrelationAnalysis):
                what = (
                    "Partial Spearman correlation (ranks of both variables residualised on the "
                    "ranks of the covariates; as R ppcor::pcor.test)"
                    if analysis.kind == "partial_correlation"
                    else "Spearman correlation (as R cor.test)"
                )
                paragraphs.append(
                    f"{claim.id}: {what} of each exposure with each outcome at the "
                    f"{analysis.event} visit; covariates: {covariates}. Fisher-z confidence "
                    "intervals."
                )
            elif isinstance(analysis, GroupComparison):
                paragraphs.append(
                    f"{claim.id}: prevalence of each condition in {analysis.group} = 1 vs 0: "
                    "risk difference (Newcombe interval), odds ratio (Woolf interval) and an "
                    f"adjusted logistic regression (covariates: {covariates}; as R glm). The "
                    f"verdict uses the {_EFFECT_WORDS[analysis.effect]}. When a covariate "
                    "level has the same outcome for everyone in it (separation by that "
                    "covariate only), those participants and that indicator are left out of "
                    "the model, which gives the exposure odds ratio that R glm converges to; "
                    "the table names them. Separation involving the exposure is detected and "
                    "reported as inestimable rather than fitted."
                )
            elif isinstance(analysis, ChangeAnalysis):
                groups = [
                    d
                    for d in plan.derive
                    if isinstance(d, GroupsDerive) and d.name in analysis.exposures
                ]
                defs = "; ".join(
                    f"{d.name}: exposed = {d.exposed.describe()}, comparator = "
                    f"{d.comparator.describe()}"
                    for d in groups
                )
                # The conditions the groups are built from (e.g. which cannabinoid products
                # count), so a reader sees who is in each group without reading the plan.
                read = {c for d in groups for r in (d.exposed, d.comparator) for c in r.columns()}
                conditions = [
                    d for d in plan.derive if isinstance(d, ConditionDerive) and d.name in read
                ]
                if conditions:
                    defs += ". Where " + "; ".join(
                        f"{d.name} ({d.label or d.name}) = {d.rule.describe()}" for d in conditions
                    )
                paragraphs.append(
                    f"{claim.id}: ANCOVA of {analysis.outcome} at {analysis.followup_event} on "
                    f"the group, the {analysis.baseline_event} score and {covariates} (OLS, as "
                    "R lm); the group coefficient is the adjusted difference in change, with a "
                    "heteroskedasticity-consistent (HC3) interval (as R lmtest::coeftest with "
                    "sandwich::vcovHC type HC3). "
                    "Sensitivity: inverse-probability weighting (stabilised, truncated weights "
                    "from a logistic propensity model on the baseline score and covariates; "
                    "robust standard errors). Exposure groups, from the treatments reported at "
                    f"{analysis.exposure_event}: {defs}. This is an observational comparison: "
                    "people chose their treatments, so it cannot show that an intervention "
                    "caused a change."
                )
            elif isinstance(analysis, Discrimination):
                paragraphs.append(
                    f"{claim.id}: {analysis.folds}-fold stratified cross-validated logistic "
                    f"models of each target on the panel ({', '.join(analysis.panel)}) plus "
                    f"{covariates}, against the covariates alone; AUCs of the out-of-fold "
                    "predictions with DeLong intervals for each AUC and for the gain (as R "
                    "pROC). The p-value is the likelihood-ratio test of the panel's coefficients "
                    "in the logistic model (as R anova(glm0, glm1, test = 'LRT')), because a "
                    "test of the AUC difference between nested models is invalid (Pepe et al. "
                    "2013): with no true association the cross-validated gain is negative. "
                    "Models are fitted to convergence (Newton-Cholesky, gradient below 1e-10)."
                    + _panel_levels_in_words(analysis)
                )
    conditions = [d for d in plan.derive if isinstance(d, ConditionDerive)]
    if conditions:
        paragraphs.append(
            "Derived variables: "
            + "; ".join(f"{d.name} = {d.rule.describe()}" for d in conditions)
            + ". Missing inputs make a derived value missing unless the rest decides it."
        )
    design = design_in_words(plan.design)
    if design:
        paragraphs.append(
            f"Descriptive prevalences and means account for the survey design, with {design}, "
            "by Taylor linearisation, as R survey."
        )
    elif plan.descriptive:
        paragraphs.append(
            "The plan names no survey design: descriptive prevalences and means are unweighted "
            "and their intervals treat the participants as a simple random sample."
        )
    return paragraphs


def _panel_levels_in_words(analysis: Discrimination) -> str:
    if analysis.panel_levels is None:
        return ""
    other = "higher" if analysis.panel_levels == "lower" else "lower"
    return (
        f" The claim is about {analysis.panel_levels} levels, so a gain supports it only when "
        "the panel separates that way: the odds ratio of the target per SD of the panel's mean "
        "standardised level (adjusted for the same covariates) must have its interval "
        f"wholly {'below' if analysis.panel_levels == 'lower' else 'above'} 1. A gain through "
        f"{other} levels contradicts the claim."
    )

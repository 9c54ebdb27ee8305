"""Statistics for fibrosurvey, one module per family, each checked against a reference.

Every estimator returns a frozen dataclass derived from :class:`Estimate` (``estimate, ci_low,
ci_high, p, n, method, status, note`` plus ``summary()`` and ``conf_int()``); inputs are numpy
arrays (float64, NaN = missing) or polars objects, and every computation is vectorised.

* :mod:`~fibrosurvey.stats.correlation` - Spearman / partial Spearman (C1)
* :mod:`~fibrosurvey.stats.comparison` - risk difference, odds ratio, adjusted logistic (C2)
* :mod:`~fibrosurvey.stats.change` - ANCOVA and IPW (C3)
* :mod:`~fibrosurvey.stats.discrimination` - cross-validated AUC and AUC gain (C4)
* :mod:`~fibrosurvey.stats.multiplicity` - Benjamini-Hochberg
* :mod:`~fibrosurvey.stats.imputation` - multiple imputation and Rubin's rules
* :mod:`~fibrosurvey.stats.survey_design` - Taylor-linearised design-based estimates (R survey),
  multi-stage (:mod:`~fibrosurvey.stats.design_stages`), calibration weights
  (:mod:`~fibrosurvey.stats.calibration`)
* :mod:`~fibrosurvey.stats.power` - minimal detectable effects
"""

from fibrosurvey.stats._result import Estimate
from fibrosurvey.stats.change import AncovaResult, IPWResult, ancova, ipw_effect, mean_t_interval
from fibrosurvey.stats.comparison import (
    LikelihoodRatioResult,
    LogisticResult,
    OddsRatioResult,
    RiskDifferenceResult,
    adjusted_logistic,
    counts_2x2,
    logistic_lr_test,
    odds_ratio,
    risk_difference,
    wilson_interval,
)
from fibrosurvey.stats.correlation import CorrelationResult, partial_spearman, spearman
from fibrosurvey.stats.discrimination import (
    AucResult,
    DiscriminationResult,
    auc_delong,
    cv_auc,
    delong_covariance,
    panel_level_association,
)
from fibrosurvey.stats.imputation import PooledResult, multiply_impute, rubin_pool
from fibrosurvey.stats.multiplicity import FDRResult, benjamini_hochberg
from fibrosurvey.stats.power import (
    MDEResult,
    mde_auc_gain,
    mde_correlation,
    mde_mean_difference,
    mde_proportions,
)
from fibrosurvey.stats.survey_design import (
    SurveyDesign,
    SurveyEstimate,
    SurveyGLMResult,
    SurveyQuantiles,
)

__all__ = [
    "AncovaResult",
    "AucResult",
    "CorrelationResult",
    "DiscriminationResult",
    "Estimate",
    "FDRResult",
    "IPWResult",
    "LikelihoodRatioResult",
    "LogisticResult",
    "MDEResult",
    "OddsRatioResult",
    "PooledResult",
    "RiskDifferenceResult",
    "SurveyDesign",
    "SurveyEstimate",
    "SurveyGLMResult",
    "SurveyQuantiles",
    "adjusted_logistic",
    "ancova",
    "auc_delong",
    "benjamini_hochberg",
    "counts_2x2",
    "cv_auc",
    "delong_covariance",
    "ipw_effect",
    "logistic_lr_test",
    "mde_auc_gain",
    "mde_correlation",
    "mde_mean_difference",
    "mde_proportions",
    "mean_t_interval",
    "multiply_impute",
    "odds_ratio",
    "panel_level_association",
    "partial_spearman",
    "risk_difference",
    "rubin_pool",
    "spearman",
    "wilson_interval",
]

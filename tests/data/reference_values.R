# Reference values for tests/stats/test_survey_design.py, written to reference_values.json, which
# the tests read through the `r_values` fixture (tests/stats/conftest.py); no number is copied by
# hand. R 4.2.2, survey 4.1-1 and jsonlite from Debian (r-cran-survey r-cran-jsonlite).
# Run from tests/data:  Rscript reference_values.R
suppressMessages({library(survey); library(jsonlite)})
strat <- read.csv("api_strat.csv")
clus1 <- read.csv("api_clus1.csv")
strat$sch_wide <- as.numeric(strat$sch.wide == "Yes")
clus1$sch_wide <- as.numeric(clus1$sch.wide == "Yes")
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = strat, fpc = ~fpc)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = clus1, fpc = ~fpc)
out <- list(
  source = "tests/data/reference_values.R",
  r_version = R.version.string,
  packages = list(survey = as.character(packageVersion("survey")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  designs = list(
    dstrat = "svydesign(id = ~1, strata = ~stype, weights = ~pw, data = strat, fpc = ~fpc)",
    dclus1 = "svydesign(id = ~dnum, weights = ~pw, data = clus1, fpc = ~fpc)"
  )
)
est <- function(x) list(estimate = as.numeric(coef(x)), se = as.numeric(SE(x)))
coefs <- function(fit) {
  s <- summary(fit)$coefficients
  list(names = rownames(s), estimate = unname(s[, 1]), se = unname(s[, 2]),
       t = unname(s[, 3]), p = unname(s[, 4]), df_residual = fit$df.residual)
}
designs <- list(dstrat = dstrat, dclus1 = dclus1)

# Means, totals and proportions (sch_wide = as.numeric(sch.wide == "Yes")); na.rm keeps the
# missing rows in the design (domain estimate).
out$dstrat <- list(
  svymean_api00 = est(svymean(~api00, dstrat)),
  svytotal_api00 = est(svytotal(~api00, dstrat)),
  svymean_sch_wide = est(svymean(~sch_wide, dstrat)),
  svymean_acs_k3_na_rm = est(svymean(~acs.k3, dstrat, na.rm = TRUE))
)
out$dclus1 <- list(
  svymean_api00 = est(svymean(~api00, dclus1)),
  svytotal_api00 = est(svytotal(~api00, dclus1)),
  svymean_sch_wide = est(svymean(~sch_wide, dclus1)),
  svytotal_enroll = est(svytotal(~enroll, dclus1))
)
for (name in names(designs)) {
  d <- designs[[name]]
  # svyby(~api00, ~stype, d, svymean): one {estimate, se} per level.
  by <- svyby(~api00, ~stype, d, svymean)
  out[[name]]$svyby_api00_stype <- setNames(
    lapply(seq_len(nrow(by)), function(i) list(estimate = unname(coef(by)[i]),
                                               se = unname(SE(by)[i]))),
    as.character(by$stype))
  # Logit-scale CI for a proportion: svyciprop(method = "logit") (t on the design df).
  cp <- svyciprop(~sch_wide, d, method = "logit")
  out[[name]]$svyciprop_logit_sch_wide <- list(estimate = as.numeric(coef(cp)),
                                               ci = unname(as.numeric(attr(cp, "ci"))))
  # Gaussian svyglm: summary(...)$coefficients and df.residual.
  out[[name]]$svyglm_api00_ell_meals_mobility <- coefs(
    svyglm(api00 ~ ell + meals + mobility, design = d))
}
# Quasibinomial svyglm with R's default IRLS tolerance (epsilon 1e-8), kept for the record:
# cov.unscaled uses the last IRLS weights, which leaves ~1e-5 relative differences in the SEs...
out$dstrat$svyglm_quasibinomial_sch_wide_default_epsilon <- coefs(
  svyglm(sch_wide ~ ell + mobility, design = dstrat, family = quasibinomial()))
# ...so the tests compare against the fit refitted with a tight tolerance.
out$dstrat$svyglm_quasibinomial_sch_wide <- coefs(
  svyglm(sch_wide ~ ell + mobility, design = dstrat, family = quasibinomial(),
         control = glm.control(epsilon = 1e-14, maxit = 100)))

# Lonely PSU: row 1 alone in its own stratum "X" (no fpc).
strat$stratum <- strat$stype
strat$stratum[1] <- "X"
out$lonely_psu <- list()
for (opt in c("adjust", "certainty", "remove", "average")) {
  options(survey.lonely.psu = opt)
  dl <- svydesign(id = ~1, strata = ~stratum, weights = ~pw, data = strat)
  out$lonely_psu[[opt]] <- list(svymean_api00 = est(svymean(~api00, dl)),
                                svytotal_api00 = est(svytotal(~api00, dl)))
}
options(survey.lonely.psu = "fail")

# Spearman and partial Spearman (by hand on ranks; ppcor is not packaged for Debian): residualise
# the ranks on the covariate ranks by lm, correlate the residuals; p from t with n - 2 - k df
# (as ppcor). The tests read these from reference_models.json; kept here for the record.
rx <- rank(strat$api00); ry <- rank(strat$growth)
rc1 <- rank(strat$meals); rc2 <- rank(strat$mobility)
r <- cor(resid(lm(rx ~ rc1 + rc2)), resid(lm(ry ~ rc1 + rc2)))
n <- nrow(strat); k <- 2
tstat <- r * sqrt((n - 2 - k) / (1 - r^2))
out$partial_spearman_api00_growth_meals_mobility <- list(r = r, t = tstat,
                                                          p = 2 * pt(-abs(tstat), n - 2 - k))
ct <- suppressWarnings(cor.test(strat$api00, strat$growth, method = "spearman"))
out$spearman_api00_growth <- list(rho = unname(ct$estimate), p = ct$p.value)

write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
      "reference_values.json")

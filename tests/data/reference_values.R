# Reference values for tests/stats (R 4.2.2, survey 4.1-1 from Debian r-cran-survey).
# Run from tests/data:  Rscript reference_values.R
suppressMessages(library(survey))
options(digits = 12)
strat <- read.csv("api_strat.csv")
clus1 <- read.csv("api_clus1.csv")
strat$sch_wide <- as.numeric(strat$sch.wide == "Yes")
clus1$sch_wide <- as.numeric(clus1$sch.wide == "Yes")
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = strat, fpc = ~fpc)
dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = clus1, fpc = ~fpc)
show <- function(label, x) cat(sprintf("%s: estimate=%.10f se=%.10f\n", label, coef(x), SE(x)))
show("dstrat svymean api00", svymean(~api00, dstrat))
show("dstrat svytotal api00", svytotal(~api00, dstrat))
show("dstrat svymean sch_wide", svymean(~sch_wide, dstrat))
show("dstrat svymean acs.k3 na.rm", svymean(~acs.k3, dstrat, na.rm = TRUE))
show("dclus1 svymean api00", svymean(~api00, dclus1))
show("dclus1 svytotal api00", svytotal(~api00, dclus1))
show("dclus1 svymean sch_wide", svymean(~sch_wide, dclus1))
show("dclus1 svytotal enroll", svytotal(~enroll, dclus1))
for (d in list(dstrat = dstrat, dclus1 = dclus1)) {
  by <- svyby(~api00, ~stype, d, svymean)
  cat("svyby api00 ~stype:", sprintf("%s=%.10f (se %.10f)", by$stype, coef(by), SE(by)), "\n")
}
g <- svyglm(api00 ~ ell + meals + mobility, design = dstrat)
print(summary(g)$coefficients, digits = 12); cat("df.residual", g$df.residual, "\n")
b <- svyglm(sch_wide ~ ell + mobility, design = dstrat, family = quasibinomial())
print(summary(b)$coefficients, digits = 12); cat("df.residual", b$df.residual, "\n")
gc <- svyglm(api00 ~ ell + meals + mobility, design = dclus1)
print(summary(gc)$coefficients, digits = 12); cat("df.residual", gc$df.residual, "\n")
# Partial Spearman by hand (ppcor is not packaged for Debian): rank, residualise ranks on the
# covariate ranks by lm, correlate the residuals; p from t with n - 2 - k df (as ppcor).
rx <- rank(strat$api00); ry <- rank(strat$growth)
rc1 <- rank(strat$meals); rc2 <- rank(strat$mobility)
ex <- resid(lm(rx ~ rc1 + rc2)); ey <- resid(lm(ry ~ rc1 + rc2))
r <- cor(ex, ey); n <- nrow(strat); k <- 2
tstat <- r * sqrt((n - 2 - k) / (1 - r^2))
cat(sprintf("partial spearman api00~growth | meals,mobility: r=%.12f t=%.10f p=%.12g\n",
            r, tstat, 2 * pt(-abs(tstat), n - 2 - k)))
ct <- suppressWarnings(cor.test(strat$api00, strat$growth, method = "spearman"))
cat(sprintf("spearman api00~growth: rho=%.12f p=%.12g\n", ct$estimate, ct$p.value))
# Lonely PSU: row 1 alone in its own stratum "X" (no fpc).
strat$stratum <- strat$stype
strat$stratum[1] <- "X"
for (opt in c("adjust", "certainty", "remove", "average")) {
  options(survey.lonely.psu = opt)
  dl <- svydesign(id = ~1, strata = ~stratum, weights = ~pw, data = strat)
  m <- svymean(~api00, dl); t <- svytotal(~api00, dl)
  cat(sprintf("lonely=%s svymean api00=%.10f se=%.10f svytotal=%.6f se=%.6f\n",
              opt, coef(m), SE(m), coef(t), SE(t)))
}
options(survey.lonely.psu = "fail")
# svyglm quasibinomial refitted with a tight IRLS tolerance (R's default epsilon 1e-8 leaves
# ~1e-5 relative differences in the SEs, because cov.unscaled uses the last IRLS weights).
bt <- svyglm(sch_wide ~ ell + mobility, design = dstrat, family = quasibinomial(),
             control = glm.control(epsilon = 1e-14, maxit = 100))
print(summary(bt)$coefficients, digits = 12)
# Logit-scale CI for a proportion: svyciprop(method = "logit") (t on the design df).
for (d in list(dstrat = dstrat, dclus1 = dclus1)) {
  cp <- svyciprop(~sch_wide, d, method = "logit")
  ci <- attr(cp, "ci")
  cat(sprintf("svyciprop logit sch_wide: estimate=%.10f ci=(%.10f, %.10f)\n", coef(cp), ci[1], ci[2]))
}

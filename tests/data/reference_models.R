# Reference values for the non-survey families, written to reference_models.json, which the tests
# read (no number is copied by hand). R 4.2.2; Debian r-cran-proc 1.18.0, r-cran-mice 3.15.0,
# r-cran-pwr 1.3-0, r-cran-sandwich 3.0-2, r-cran-jsonlite. Run from tests/data:
#   Rscript reference_models.R
suppressMessages({library(pROC); library(mice); library(pwr); library(sandwich); library(jsonlite)})
strat <- read.csv("api_strat.csv")
strat$sch_wide <- as.numeric(strat$sch.wide == "Yes")
strat$elementary <- as.numeric(strat$stype == "E")
out <- list(
  source = "tests/data/reference_models.R",
  r_version = R.version.string,
  packages = lapply(c(pROC = "pROC", mice = "mice", pwr = "pwr", sandwich = "sandwich"),
                    function(p) as.character(packageVersion(p)))
)

# Spearman: Pearson correlation of the ranks, Fisher-z CI and t p-value (cor.test on ranks),
# and R's own spearman estimate and p.
ct <- cor.test(rank(strat$api00), rank(strat$growth))
cs <- suppressWarnings(cor.test(strat$api00, strat$growth, method = "spearman"))
out$spearman <- list(r = unname(ct$estimate), ci = ct$conf.int[1:2], p = ct$p.value,
                     rho_cor_test = unname(cs$estimate), p_cor_test = cs$p.value)

# Partial Spearman by hand (ppcor is not packaged for Debian): rank, residualise the ranks on
# the covariate ranks by lm, correlate the residuals; p from t with n - 2 - k df (as ppcor).
rx <- rank(strat$api00); ry <- rank(strat$growth)
rc1 <- rank(strat$meals); rc2 <- rank(strat$mobility)
r <- cor(resid(lm(rx ~ rc1 + rc2)), resid(lm(ry ~ rc1 + rc2)))
n <- nrow(strat); k <- 2
tstat <- r * sqrt((n - 2 - k) / (1 - r^2))
out$partial_spearman <- list(r = r, t = tstat, p = 2 * pt(-abs(tstat), n - 2 - k))

# Adjusted logistic: exposure = elementary school, covariates ell + meals; Wald CI.
fit <- glm(sch_wide ~ elementary + ell + meals, family = binomial, data = strat)
b <- coef(summary(fit))["elementary", ]
out$logistic <- list(b = b[[1]], se = b[[2]], p = b[[4]], or = exp(b[[1]]),
                     ci = unname(exp(confint.default(fit)["elementary", ])))

# A covariate level that separates only itself: 12 schools without a school-wide target met
# form a level "rare"; glm converges (with a huge coefficient for rare) to the exposure estimate
# of the fit without them. Tight IRLS tolerance so the limit is reached to ~1e-9.
strat$rare <- 0
strat$rare[which(strat$sch_wide == 0)[1:12]] <- 1
sep <- suppressWarnings(glm(sch_wide ~ elementary + ell + meals + rare, family = binomial,
                            data = strat, control = glm.control(epsilon = 1e-14, maxit = 100)))
bs <- coef(summary(sep))["elementary", ]
out$logistic_separated_level <- list(rows_rare = which(strat$rare == 1) - 1, b = bs[[1]],
                                     se = bs[[2]], p = bs[[4]], b_rare = coef(sep)[["rare"]])

# LR test of a block of columns (api00, mobility) added to glm(sch_wide ~ ell + meals).
g0 <- glm(sch_wide ~ ell + meals, family = binomial, data = strat)
g1 <- glm(sch_wide ~ ell + meals + api00 + mobility, family = binomial, data = strat,
          control = glm.control(epsilon = 1e-14, maxit = 100))
a <- anova(g0, g1, test = "LRT")
out$lr_test <- list(statistic = a$Deviance[2], df = a$Df[2], p = a[["Pr(>Chi)"]][2])

# Panel level association: OR per SD of the mean standardised level of (api00, growth).
strat$composite <- as.numeric(scale(rowMeans(scale(cbind(strat$api00, strat$growth)))))
pl <- glm(sch_wide ~ composite + ell, family = binomial, data = strat,
          control = glm.control(epsilon = 1e-14, maxit = 100))
pc <- coef(summary(pl))["composite", ]
out$panel_level <- list(b = pc[[1]], se = pc[[2]], p = pc[[4]])

# ANCOVA: api00 (follow-up) on elementary + api99 (baseline) + meals; classical and HC3
# (lmtest::coeftest(fit, vcov = vcovHC(fit, type = "HC3")): t on the residual df).
lfit <- lm(api00 ~ elementary + api99 + meals, data = strat)
l <- coef(summary(lfit))["elementary", ]
se3 <- sqrt(vcovHC(lfit, type = "HC3")["elementary", "elementary"])
t3 <- l[[1]] / se3
q <- qt(0.975, lfit$df.residual)
out$ancova <- list(b = l[[1]], se = l[[2]], p = l[[4]],
                   ci = unname(confint(lfit)["elementary", ]), df = lfit$df.residual,
                   se_hc3 = se3, p_hc3 = 2 * pt(-abs(t3), lfit$df.residual),
                   ci_hc3 = c(l[[1]] - q * se3, l[[1]] + q * se3))

# DeLong (pROC): outcome sch_wide, scores api00 and growth; controls < cases.
r1 <- roc(strat$sch_wide, strat$api00, direction = "<", quiet = TRUE)
r2 <- roc(strat$sch_wide, strat$growth, direction = "<", quiet = TRUE)
ci1 <- ci.auc(r1, method = "delong")
tst <- roc.test(r1, r2, method = "delong", paired = TRUE)
out$delong <- list(auc_api00 = as.numeric(auc(r1)), var_api00 = var(r1),
                   ci_api00 = c(ci1[1], ci1[3]), auc_growth = as.numeric(auc(r2)),
                   var_growth = var(r2), cov = cov(r1, r2),
                   z_paired = unname(tst$statistic), p_paired = tst$p.value)

# Rubin's rules with Barnard-Rubin df (mice::pool.scalar), the hand-worked example.
ps <- pool.scalar(Q = c(1.0, 1.2, 0.9, 1.1, 1.3), U = c(0.04, 0.05, 0.045, 0.05, 0.04),
                  n = 100, k = 3)
out$pool_scalar <- list(qbar = ps$qbar, t = ps$t, df = ps$df, r = ps$r, fmi = ps$fmi)

# BH with a missing p-value (NA written as null).
out$p_adjust_bh <- p.adjust(c(0.01, NA, 0.04, 0.03, 0.2), "BH")

# Power / MDE (pwr 1.3-0 counts only the upper rejection tail; it has no strict= here).
out$pwr <- list(t2n_d = pwr.t2n.test(n1 = 120, n2 = 80, power = 0.8)$d,
                p2n_h = pwr.2p2n.test(n1 = 120, n2 = 80, power = 0.8)$h,
                r = pwr.r.test(n = 100, power = 0.8)$r)

# IPW, replicated end to end: propensity by logistic regression, stabilised weights truncated
# at their 1st/99th percentiles (quantile type 7 = numpy's default), WLS + sandwich HC0/HC1.
t <- strat$elementary
ps <- fitted(glm(elementary ~ meals + ell, family = binomial, data = strat))
w <- ifelse(t == 1, mean(t) / ps, (1 - mean(t)) / (1 - ps))
qw <- quantile(w, c(0.01, 0.99))
w <- pmin(pmax(w, qw[1]), qw[2])
wfit <- lm(api00 ~ elementary, weights = w, data = strat)
out$ipw <- list(b = coef(wfit)[[2]], se_hc0 = sqrt(vcovHC(wfit, type = "HC0")[2, 2]),
                se_hc1 = sqrt(vcovHC(wfit, type = "HC1")[2, 2]))

write(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE, na = "null"),
      "reference_models.json")

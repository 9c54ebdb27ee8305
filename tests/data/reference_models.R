# Reference values for the non-survey families (R 4.2.2; Debian r-cran-proc 1.18.0,
# r-cran-mice 3.15.0, r-cran-pwr 1.3-0). Run from tests/data:  Rscript reference_models.R
suppressMessages({library(pROC); library(mice); library(pwr)})
options(digits = 12)
strat <- read.csv("api_strat.csv")
strat$sch_wide <- as.numeric(strat$sch.wide == "Yes")
strat$elementary <- as.numeric(strat$stype == "E")

# Spearman CI: Pearson correlation of the ranks, Fisher-z CI and t p-value (cor.test on ranks).
ct <- cor.test(rank(strat$api00), rank(strat$growth))
cat(sprintf("spearman via ranks: r=%.12f ci=(%.12f, %.12f) p=%.12g\n",
            ct$estimate, ct$conf.int[1], ct$conf.int[2], ct$p.value))

# Adjusted logistic: exposure = elementary school, covariates ell + meals; Wald CI.
fit <- glm(sch_wide ~ elementary + ell + meals, family = binomial, data = strat)
b <- coef(summary(fit))["elementary", ]
ci <- exp(confint.default(fit)["elementary", ])
cat(sprintf("logistic elementary: b=%.12f se=%.12f p=%.12g OR=%.12f ci=(%.12f, %.12f)\n",
            b[1], b[2], b[4], exp(b[1]), ci[1], ci[2]))

# ANCOVA: api00 (follow-up) on elementary + api99 (baseline) + meals.
lfit <- lm(api00 ~ elementary + api99 + meals, data = strat)
l <- coef(summary(lfit))["elementary", ]
lci <- confint(lfit)["elementary", ]
cat(sprintf("ancova elementary: b=%.12f se=%.12f p=%.12g ci=(%.12f, %.12f) df=%d\n",
            l[1], l[2], l[4], lci[1], lci[2], lfit$df.residual))

# DeLong (pROC): outcome sch_wide, scores api00 and growth; controls < cases.
r1 <- roc(strat$sch_wide, strat$api00, direction = "<", quiet = TRUE)
r2 <- roc(strat$sch_wide, strat$growth, direction = "<", quiet = TRUE)
cat(sprintf("pROC api00: auc=%.12f var=%.12g ci=(%.12f, %.12f)\n", auc(r1), var(r1),
            ci.auc(r1, method = "delong")[1], ci.auc(r1, method = "delong")[3]))
cat(sprintf("pROC growth: auc=%.12f var=%.12g\n", auc(r2), var(r2)))
cat(sprintf("pROC cov(api00, growth)=%.12g\n", cov(r1, r2)))
tst <- roc.test(r1, r2, method = "delong", paired = TRUE)
cat(sprintf("pROC roc.test delong paired: z=%.12f p=%.12g\n", tst$statistic, tst$p.value))

# Rubin's rules with Barnard-Rubin df (mice::pool.scalar), the hand-worked example.
ps <- pool.scalar(Q = c(1.0, 1.2, 0.9, 1.1, 1.3), U = c(0.04, 0.05, 0.045, 0.05, 0.04),
                  n = 100, k = 3)
cat(sprintf("pool.scalar: qbar=%.12f t=%.12f df=%.12f r=%.12f fmi=%.12f\n",
            ps$qbar, ps$t, ps$df, ps$r, ps$fmi))

# BH with a missing p-value.
cat("p.adjust BH:", sprintf("%.12f", p.adjust(c(0.01, NA, 0.04, 0.03, 0.2), "BH")), "\n")

# Power / MDE (pwr 1.3-0 counts only the upper rejection tail; it has no strict= here).
cat(sprintf("pwr.t2n.test d=%.12f\n", pwr.t2n.test(n1 = 120, n2 = 80, power = 0.8)$d))
cat(sprintf("pwr.2p2n.test h=%.12f\n", pwr.2p2n.test(n1 = 120, n2 = 80, power = 0.8)$h))
cat(sprintf("pwr.r.test r=%.12f\n", pwr.r.test(n = 100, power = 0.8)$r))

# IPW, replicated end to end: propensity by logistic regression, stabilised weights truncated
# at their 1st/99th percentiles (quantile type 7 = numpy's default), WLS + sandwich HC0/HC1.
suppressMessages(library(sandwich))
t <- strat$elementary
ps <- fitted(glm(elementary ~ meals + ell, family = binomial, data = strat))
w <- ifelse(t == 1, mean(t) / ps, (1 - mean(t)) / (1 - ps))
q <- quantile(w, c(0.01, 0.99))
w <- pmin(pmax(w, q[1]), q[2])
wfit <- lm(api00 ~ elementary, weights = w, data = strat)
cat(sprintf("ipw elementary: b=%.12f se_HC0=%.12f se_HC1=%.12f\n", coef(wfit)[2],
            sqrt(vcovHC(wfit, type = "HC0")[2, 2]), sqrt(vcovHC(wfit, type = "HC1")[2, 2])))

# The default analysis plan (src/fibrosurvey/analysis/plans/ced-claims.yaml), complete-case
# version, written directly in R: the work `run_plan(data, imputations=0)` does, for the speed
# comparison of benchmarks/bench_vs_r.py. Not a reference for the tests (those are in
# tests/data/*.R); the estimates follow the same methods, so the numbers agree closely.
#
#   Rscript benchmarks/plan_equivalent.R DATA.csv [OUT.json]
#
# Steps, as the plan: derivations; C0/C1 partial Spearman correlations (ranks, residuals of
# the ranked covariates, t test); C2 adjusted logistic regressions (Wald intervals) with the
# crude odds ratio and Newcombe risk difference; C3 ANCOVA with HC3 intervals and the IPW
# sensitivity analysis; C4 5-fold cross-validated AUCs (DeLong by pROC), likelihood-ratio test
# and the panel-level association; the biomarker analyses again without slowly processed
# samples; the design-based models (svyglm) beside C0-C3 and the design-based prevalences and
# means (svyciprop logit, svyby, svymean). R 4.2.2 with Debian r-cran-survey, r-cran-proc,
# r-cran-sandwich, r-cran-data.table, r-cran-jsonlite.
suppressMessages({
  library(data.table); library(survey); library(pROC); library(sandwich); library(jsonlite)
})
args <- commandArgs(trailingOnly = TRUE)
started <- Sys.time()
raw <- fread(args[1], showProgress = FALSE)
out_path <- if (length(args) >= 2) args[2] else NULL
options(survey.lonely.psu = "adjust")

# --- derivations -------------------------------------------------------------------------
d <- as.data.frame(raw)
for (a in c("aea", "twoag", "pea", "oea", "sea")) d[[paste0("log_", a)]] <- log(d[[a]])
aea_base <- d$aea[d$event == "baseline" & !is.na(d$aea)]
d$ced_suspected <- as.numeric(d$aea < quantile(aea_base, 0.3333333333, type = 7))
d$depression_screen <- as.numeric(d$phq9_total >= 10)
d$anxiety_screen <- as.numeric(d$gad7_total >= 10)
# R's | and & follow Kleene logic with NA, as the plan's rules.
d$ls_omega3 <- as.numeric(d$tx_omega3_supplement == 1 | d$tx_fish_servings_week >= 2)
d$ls_exercise <- as.numeric(d$tx_aerobic_min_week >= 150 | d$tx_resistance_sessions_week >= 2)
d$ls_mindbody <- as.numeric(d$tx_mindbody_sessions_week >= 1)
d$ls_sleep_hygiene <- as.numeric(d$tx_sleep_hygiene == 1)
d$ls_cannabinoid <- as.numeric((d$tx_cbd_product == 2 & d$tx_cbd_days_week >= 1) |
                               (d$tx_thc_mg_day > 0 & d$tx_thc_mg_day <= 5))
d$lifestyle_any <- as.numeric(d$ls_omega3 == 1 | d$ls_exercise == 1 | d$ls_mindbody == 1 |
                              d$ls_sleep_hygiene == 1 | d$ls_cannabinoid == 1)
d$standard_analgesic <- as.numeric(d$tx_opioid == 1 | d$tx_gabapentinoid == 1)
comparator <- d$standard_analgesic == 1 & d$lifestyle_any == 0
groups <- function(exposed) {
  out <- rep(NA_real_, nrow(d))
  out[!is.na(comparator) & comparator] <- 0
  out[!is.na(exposed) & exposed == 1] <- 1
  out
}
d$lifestyle_vs_standard <- groups(d$lifestyle_any)
d$omega3_vs_standard <- groups(d$ls_omega3)
d$exercise_vs_standard <- groups(d$ls_exercise)
d$mindbody_vs_standard <- groups(d$ls_mindbody)
d$sleep_hygiene_vs_standard <- groups(d$ls_sleep_hygiene)
d$cannabinoid_vs_standard <- groups(d$ls_cannabinoid)
d$high_severity <- as.numeric(d$fiqr_total >= 59)

confounders <- c("demo_age", "demo_sex", "demo_bmi", "tx_cannabis_recreational", "lab_fasting",
                 "lab_minutes_to_centrifuge")
clinical <- c("demo_age", "demo_sex", "demo_bmi", "tx_cannabis_recreational")
treatment <- c("demo_age", "demo_sex", "demo_bmi")
panel <- c("log_aea", "log_twoag", "log_pea", "log_oea", "log_sea")
base <- d[d$event == "baseline", ]

# Covariates as a matrix; demo_sex as indicators of the levels seen >= 30 times in the rows.
covariates <- function(data, names, rows) {
  cols <- list()
  for (name in names) {
    if (name == "demo_sex") {
      levels <- sort(unique(data$demo_sex[rows]))
      for (level in levels[-1]) {
        ind <- as.numeric(data$demo_sex[rows] == level)
        if (sum(ind) >= 30) cols[[paste0("sex_", level)]] <- ind
      }
    } else cols[[name]] <- data[[name]][rows]
  }
  m <- do.call(cbind, cols)
  m[, apply(m, 2, function(v) any(v != v[1])), drop = FALSE]
}
complete <- function(data, names) complete.cases(data[, names])
wald <- function(est, se, df = Inf) {
  q <- if (is.finite(df)) qt(0.975, df) else qnorm(0.975)
  c(est, est - q * se, est + q * se)
}

partial_spearman <- function(data, x, y, covs) {
  rows <- complete(data, c(x, y, covs))
  z <- covariates(data, covs, rows)
  r <- apply(cbind(data[[x]][rows], data[[y]][rows], z), 2, rank)
  q <- qr(cbind(1, r[, -(1:2)]))
  res <- qr.resid(q, r[, 1:2])
  n <- sum(rows); k <- q$rank - 1
  rho <- cor(res[, 1], res[, 2])
  df <- n - 2 - k
  t <- rho * sqrt(df / (1 - rho^2))
  zf <- atanh(rho); se <- 1 / sqrt(n - 3 - k)
  list(n = n, estimate = rho, ci = tanh(zf + c(-1, 1) * qnorm(0.975) * se),
       p = 2 * pt(-abs(t), df))
}

adjusted_or <- function(data, g, y, covs) {
  rows <- complete(data, c(g, y, covs))
  z <- covariates(data, covs, rows)
  fit <- glm.fit(cbind(1, data[[g]][rows], z), data[[y]][rows], family = binomial())
  v <- chol2inv(qr.R(fit$qr))
  est <- fit$coefficients[2]; se <- sqrt(v[2, 2])
  yy <- data[[y]][rows]; gg <- data[[g]][rows]
  a <- sum(yy[gg == 1]); n1 <- sum(gg == 1); b <- sum(yy[gg == 0]); n0 <- sum(gg == 0)
  wilson <- function(x, n) prop.test(x, n, correct = FALSE)$conf.int
  w1 <- wilson(a, n1); w0 <- wilson(b, n0); rd <- a / n1 - b / n0
  newcombe <- c(rd - sqrt((a / n1 - w1[1])^2 + (w0[2] - b / n0)^2),
                rd + sqrt((w1[2] - a / n1)^2 + (b / n0 - w0[1])^2))
  crude <- log((a / (n1 - a)) / (b / (n0 - b)))
  crude_se <- sqrt(1 / a + 1 / (n1 - a) + 1 / b + 1 / (n0 - b))
  list(n = sum(rows), estimate = exp(est), ci = exp(est + c(-1, 1) * qnorm(0.975) * se),
       p = 2 * pnorm(-abs(est / se)), risk_difference = c(rd, newcombe),
       crude_or = exp(wald(crude, crude_se)))
}

wide <- merge(base[, c("participant_id", "fiqr_total", treatment, "design_weight",
                        "design_stratum", "design_psu", "design_fpc",
                        grep("_vs_standard$", names(base), value = TRUE))],
              setNames(d[d$event == "followup_3m", c("participant_id", "fiqr_total")],
                       c("participant_id", "fiqr_follow")), by = "participant_id")
ancova <- function(g) {
  rows <- complete(wide, c("fiqr_follow", "fiqr_total", g, treatment))
  z <- covariates(wide, treatment, rows)
  x <- cbind(1, wide[[g]][rows], wide$fiqr_total[rows], z)
  fit <- lm.fit(x, wide$fiqr_follow[rows])
  e <- fit$residuals; h <- rowSums((x %*% chol2inv(qr.R(fit$qr))) * x)
  bread <- chol2inv(qr.R(fit$qr))
  hc3 <- bread %*% crossprod(x * (e / (1 - h))) %*% bread
  df <- nrow(x) - ncol(x)
  est <- fit$coefficients[2]; se <- sqrt(hc3[2, 2])
  # IPW sensitivity: propensity on baseline score and covariates, weighted change.
  ps <- glm.fit(cbind(1, wide$fiqr_total[rows], z), wide[[g]][rows], family = binomial())
  t <- wide[[g]][rows]; p <- ps$fitted.values
  w <- ifelse(t == 1, 1 / p, 1 / (1 - p))
  change <- wide$fiqr_follow[rows] - wide$fiqr_total[rows]
  ipw <- lm(change ~ t, weights = w)
  ipw_se <- sqrt(vcovHC(ipw, type = "HC0")[2, 2])
  list(n = sum(rows), estimate = est, ci = wald(est, se, df)[2:3],
       p = 2 * pt(-abs(est / se), df), ipw = wald(coef(ipw)[2], ipw_se))
}

discrimination <- function(target) {
  rows <- complete(base, c(target, panel, clinical))
  z <- covariates(base, clinical, rows)
  p <- as.matrix(base[rows, panel]); y <- base[[target]][rows]
  full <- cbind(scale(p), scale(z)); covs <- scale(z)
  set.seed(20261123)
  fold <- integer(length(y))
  for (cls in 0:1) {  # stratified folds
    idx <- which(y == cls); fold[idx] <- sample(rep_len(1:5, length(idx)))
  }
  oof <- function(x) {
    pred <- numeric(length(y))
    for (k in 1:5) {
      train <- fold != k
      fit <- glm.fit(cbind(1, x[train, ]), y[train], family = binomial())
      pred[!train] <- cbind(1, x[!train, ]) %*% fit$coefficients
    }
    pred
  }
  roc_full <- roc(y, oof(full), quiet = TRUE, direction = "<")
  roc_base <- roc(y, oof(covs), quiet = TRUE, direction = "<")
  test <- roc.test(roc_full, roc_base, method = "delong", paired = TRUE)
  g1 <- glm.fit(cbind(1, p, z), y, family = binomial())
  g0 <- glm.fit(cbind(1, z), y, family = binomial())
  lr <- g0$deviance - g1$deviance
  level <- rowMeans(scale(p))
  g2 <- glm.fit(cbind(1, level / sd(level), z), y, family = binomial())
  list(n = length(y), auc_full = as.numeric(auc(roc_full)), auc_base = as.numeric(auc(roc_base)),
       gain_ci = as.numeric(test$conf.int), p = pchisq(lr, ncol(p), lower.tail = FALSE),
       panel_or = exp(g2$coefficients[2]))
}

outcomes_c1 <- c("fsq_wpi", "nrs_pain", "peg_score", "fsq_fatigue", "nrs_fatigue", "jss_total",
                 "nrs_sleep_quality")
outcomes_c2 <- c("dx_anxiety", "anxiety_screen", "dx_depression", "depression_screen",
                 "migraine_positive", "ibs_positive", "dx_tmd", "dx_interstitial_cystitis",
                 "dx_cfs", "dx_restless_legs")
exposures_c3 <- c("lifestyle_vs_standard", "omega3_vs_standard", "exercise_vs_standard",
                  "mindbody_vs_standard", "sleep_hygiene_vs_standard", "cannabinoid_vs_standard")

correlations <- function(data) {
  out <- list()
  for (x in panel) {
    out[[paste("C0", x)]] <- partial_spearman(data, x, "fsq_acr2016", confounders)
    for (y in outcomes_c1) out[[paste("C1", x, y)]] <- partial_spearman(data, x, y, confounders)
  }
  out
}
comparisons <- function(data) {
  out <- list()
  for (y in outcomes_c2) out[[paste("C2", y)]] <- adjusted_or(data, "ced_suspected", y, confounders)
  out
}

results <- list()
results$correlations <- correlations(base)
results$comparisons <- comparisons(base)
results$change <- lapply(setNames(exposures_c3, exposures_c3), ancova)
results$discrimination <- lapply(setNames(nm = c("fsq_acr2016", "high_severity")), discrimination)
fast <- base[is.na(base$lab_minutes_to_centrifuge) | base$lab_minutes_to_centrifuge <= 30, ]
results$fast_processing <- c(correlations(fast), comparisons(fast))

# --- design-based models and estimates ---------------------------------------------------
svy <- function(data, y, x, others, covs, family) {
  rows <- complete(data, c(y, x, others, covs))
  terms <- c(x, others, colnames(covariates(data, covs, rows)))
  data <- data[, unique(c(y, x, others, covs, "design_weight", "design_stratum", "design_psu",
                          "design_fpc"))]
  for (level in unique(data$demo_sex)) data[[paste0("sex_", level)]] <- as.numeric(data$demo_sex == level)
  design <- svydesign(id = ~design_psu, strata = ~design_stratum, weights = ~design_weight,
                      fpc = ~design_fpc, data = data)
  fit <- svyglm(reformulate(terms, y), design = subset(design, rows),
                family = if (family == "binomial") quasibinomial() else gaussian())
  summary(fit)$coefficients[2, 1:2]
}
results$design_models <- list()
for (x in panel) {
  results$design_models[[paste("C0", x)]] <- svy(base, "fsq_acr2016", x, NULL, confounders,
                                                 "binomial")
  for (y in outcomes_c1) {
    results$design_models[[paste("C1", x, y)]] <- svy(base, y, x, NULL, confounders, "gaussian")
  }
}
for (y in outcomes_c2) {
  results$design_models[[paste("C2", y)]] <- svy(base, y, "ced_suspected", NULL, confounders,
                                                 "binomial")
}
for (g in exposures_c3) {
  results$design_models[[paste("C3", g)]] <- svy(wide, "fiqr_follow", g, "fiqr_total", treatment,
                                                 "gaussian")
}
design <- svydesign(id = ~design_psu, strata = ~design_stratum, weights = ~design_weight,
                    fpc = ~design_fpc, data = base)
prevalence <- c("fsq_acr2016", "dx_anxiety", "dx_depression", "migraine_positive", "ibs_positive",
                "depression_screen", "anxiety_screen")
results$prevalence <- lapply(setNames(nm = prevalence), function(v) {
  ci <- svyciprop(reformulate(v), design, method = "logit", na.rm = TRUE)
  c(coef(ci), attr(ci, "ci"))
})
results$prevalence_by_ced <- lapply(
  setNames(nm = c("dx_anxiety", "dx_depression", "migraine_positive", "ibs_positive")),
  function(v) coef(svyby(reformulate(v), ~ced_suspected, design, svymean, na.rm = TRUE))
)
results$means <- lapply(
  setNames(nm = c("fiqr_total", "fsq_wpi", "fsq_sss", "phq9_total", "gad7_total", "jss_total",
                  "peg_score")),
  function(v) coef(svymean(reformulate(v), design, na.rm = TRUE))
)
results$seconds <- as.numeric(difftime(Sys.time(), started, units = "secs"))
if (!is.null(out_path)) writeLines(toJSON(results, digits = NA, auto_unbox = TRUE), out_path)
cat(sprintf("R plan equivalent: %.1f s in R\n", results$seconds))

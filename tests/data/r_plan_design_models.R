# Reference values for tests/analysis/test_design_models.py, written to
# r_plan_design_models.json: R survey's svyglm on the stratified cluster design of
# plan_design_models.csv (a synthetic cohort; see README.md), the models the plan's
# design-based analyses fit. The tests read the JSON; no number is copied by hand.
# R 4.2.2, survey 4.1-1, jsonlite from Debian (r-cran-survey r-cran-jsonlite).
# Run from tests/data:  Rscript r_plan_design_models.R
suppressMessages({library(survey); library(jsonlite)})
long <- read.csv("plan_design_models.csv")
base <- long[long$event == "baseline", ]
follow <- long[long$event == "followup_3m", c("participant_id", "fiqr_total")]
names(follow)[2] <- "fiqr_follow"
wide <- merge(base, follow, by = "participant_id")  # one row per participant with both visits

# The plan's rule for categorical covariates (fibrosurvey.analysis.frames.model_covariates):
# one indicator per level after the first, counted on the model's complete cases; a level
# seen fewer than 30 times there joins the reference level.
sex_indicators <- function(data, used) {
  levels <- sort(unique(data$demo_sex[!is.na(data$demo_sex)]))
  names <- character(0)
  for (level in levels[-1]) {
    name <- paste0("sex_", level)
    data[[name]] <- as.numeric(data$demo_sex == level)
    if (sum(data[[name]][used] == 1) >= 30) names <- c(names, name)
  }
  list(data = data, names = names)
}

fit <- function(data, outcome, exposure, others, family) {
  needed <- c(outcome, exposure, others, "demo_age", "demo_sex", "demo_bmi")
  used <- complete.cases(data[, needed])
  made <- sex_indicators(data, used)
  terms <- c(exposure, others, "demo_age", made$names, "demo_bmi")
  design <- svydesign(id = ~design_psu, strata = ~design_stratum, weights = ~design_weight,
                      fpc = ~design_fpc, data = made$data)
  formula <- reformulate(terms, response = outcome)
  model <- if (family == "gaussian") {
    svyglm(formula, design = design)
  } else {
    svyglm(formula, design = design, family = quasibinomial(),
           control = glm.control(epsilon = 1e-14, maxit = 100))
  }
  s <- summary(model)$coefficients
  list(call = paste(paste(deparse(formula), collapse = ""), family), names = rownames(s),
       estimate = unname(s[, 1]), se = unname(s[, 2]), p = unname(s[, 4]),
       df_residual = model$df.residual, n = sum(used))
}

out <- list(
  source = "tests/data/r_plan_design_models.R",
  r_version = R.version.string,
  packages = list(survey = as.character(packageVersion("survey")),
                  jsonlite = as.character(packageVersion("jsonlite"))),
  design = paste("svydesign(id = ~design_psu, strata = ~design_stratum,",
                 "weights = ~design_weight, fpc = ~design_fpc)"),
  linear = fit(base, "fsq_wpi", "log_aea", character(0), "gaussian"),
  logistic = fit(base, "dx_anxiety", "ced_suspected", character(0), "binomial"),
  change = fit(wide, "fiqr_follow", "exercise_vs_standard", "fiqr_total", "gaussian")
)
writeLines(toJSON(out, digits = NA, auto_unbox = TRUE, pretty = TRUE),
           "r_plan_design_models.json")

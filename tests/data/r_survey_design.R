# Reference values for multi-stage designs, proportion intervals, quantiles, ratios and
# calibration (tests/stats/test_survey_multistage.py, test_survey_estimators.py,
# test_calibration.py). Run from this folder: `Rscript r_survey_design.R`.
# Writes api_clus2.csv, api_3stage.csv (a stratified three-stage sample drawn from apipop),
# margins_*.yaml (population margins from apipop; JSON is valid YAML) and r_survey_design.json.
# Every number is computed from the CSV files as written, so CSV rounding is not a difference.
suppressMessages(library(survey))
library(jsonlite)
data(api)

write.csv(apiclus2, "api_clus2.csv", row.names = FALSE, na = "")

# A stratified three-stage sample from apipop: strata stype; counties, then districts, then
# schools, each by simple random sampling without replacement; fpc = population counts.
set.seed(20261203)
pop <- apipop[order(apipop$stype, apipop$cnum, apipop$dnum, apipop$snum), ]
rows <- integer(0)
for (h in sort(unique(pop$stype))) {
  ph <- pop[pop$stype == h, ]
  counties <- sort(unique(ph$cnum))
  for (cty in sort(sample(counties, 6))) {
    pc <- ph[ph$cnum == cty, ]
    districts <- sort(unique(pc$dnum))
    picked <- if (length(districts) > 2) sort(sample(districts, 2)) else districts
    for (dst in picked) {
      pd <- pc[pc$dnum == dst, ]
      take <- if (nrow(pd) > 3) sort(sample(nrow(pd), 3)) else seq_len(nrow(pd))
      sampled <- pd[take, ]
      sampled$fpc1 <- length(counties)
      sampled$fpc2 <- length(districts)
      sampled$fpc3 <- nrow(pd)
      sampled$n1 <- 6
      sampled$n2 <- length(picked)
      sampled$n3 <- length(take)
      rows <- c(rows, as.integer(rownames(sampled)))
      if (!exists("three")) three <- sampled else three <- rbind(three, sampled)
    }
  }
}
three$pw <- with(three, fpc1 / n1 * fpc2 / n2 * fpc3 / n3)
three <- three[, c("stype", "cnum", "dnum", "snum", "fpc1", "fpc2", "fpc3", "pw", "api00",
                   "api99", "enroll", "api.stu", "sch.wide", "meals", "ell", "mobility")]
write.csv(three, "api_3stage.csv", row.names = FALSE, na = "")

clus1 <- read.csv("api_clus1.csv")
clus2 <- read.csv("api_clus2.csv")
strat <- read.csv("api_strat.csv")
three <- read.csv("api_3stage.csv")
for (nm in c("clus1", "clus2", "strat", "three")) {
  d <- get(nm)
  d$sch_wide <- as.numeric(d$sch.wide == "Yes")
  assign(nm, d)
}

# Population margins from apipop.
pop.types <- data.frame(stype = c("E", "H", "M"), Freq = c(4421, 755, 1018))
pop.schwide <- data.frame(sch.wide = c("No", "Yes"), Freq = as.vector(table(apipop$sch.wide)))
cross <- as.data.frame(table(stype = apipop$stype, sch.wide = apipop$sch.wide))
pop.compimp <- data.frame(comp.imp = c("No", "Yes"), Freq = as.vector(table(apipop$comp.imp)))
api99.total <- sum(apipop$api99)
margin <- function(by, tab) {
  if (length(by) == 1) {
    list(by = by, population = as.list(setNames(tab$Freq, as.character(tab[[by]]))))
  } else {
    cells <- lapply(seq_len(nrow(tab)), function(i) {
      cell <- lapply(by, function(v) as.character(tab[[v]][i]))
      names(cell) <- by
      c(cell, list(count = tab$Freq[i]))
    })
    list(by = by, population = cells)
  }
}
save_margins <- function(file, margins, totals = NULL) {
  doc <- list(margins = margins)
  if (!is.null(totals)) doc$totals <- totals
  writeLines(toJSON(doc, auto_unbox = TRUE, pretty = TRUE, digits = NA), file)
}
save_margins("margins_stype.yaml", list(margin("stype", pop.types)))
save_margins("margins_stype_schwide.yaml",
             list(margin("stype", pop.types), margin("sch.wide", pop.schwide)))
save_margins("margins_stype_x_schwide.yaml", list(margin(c("stype", "sch.wide"), cross)))
save_margins("margins_crossed_and_compimp.yaml",
             list(margin(c("stype", "sch.wide"), cross), margin("comp.imp", pop.compimp)))
save_margins("margins_stype_api99.yaml", list(margin("stype", pop.types)),
             totals = list(api99 = api99.total))

out <- list()
est <- function(x) list(estimate = unname(coef(x))[1], se = unname(SE(x))[1])
ciprop <- function(formula, design, method) {
  r <- svyciprop(formula, design, method = method)
  list(estimate = unname(r)[1], ci = unname(attr(r, "ci")))
}
quant <- function(formula, design, probs, ...) {
  q <- svyquantile(formula, design, probs, ...)[[1]]
  list(probs = probs, quantile = unname(q[, 1]), ci_low = unname(q[, 2]),
       ci_high = unname(q[, 3]), se = unname(q[, 4]))
}
ratio <- function(num, den, design) {
  r <- svyratio(num, den, design, na.rm = TRUE)
  list(estimate = unname(coef(r))[1], se = unname(SE(r))[1],
       ci = unname(as.vector(confint(r))))
}
glmfit <- function(formula, design) {
  s <- summary(svyglm(formula, design = design))$coefficients
  list(names = rownames(s), estimate = unname(s[, 1]), se = unname(s[, 2]))
}
by_mean <- function(formula, by, design) {
  b <- svyby(formula, by, design, svymean)
  list(levels = as.character(b[[1]]), estimate = unname(coef(b)), se = unname(SE(b)))
}
# An estimator R cannot compute on a design (e.g. na.rm on a GREG-calibrated two-stage
# design) is recorded as null and skipped by the tests.
safely <- function(expr) tryCatch(expr, error = function(e) NULL)
battery <- function(design, label) {
  r <- list(
    df = degf(design),
    mean_api00 = safely(est(svymean(~api00, design))),
    total_enroll = safely(est(svytotal(~enroll, design, na.rm = TRUE))),
    mean_sch_wide = safely(est(svymean(~sch_wide, design))),
    ciprop_logit = safely(ciprop(~sch_wide, design, "logit")),
    ciprop_xlogit = safely(ciprop(~sch_wide, design, "xlogit")),
    ciprop_mean = safely(ciprop(~sch_wide, design, "mean")),
    ciprop_beta = safely(ciprop(~sch_wide, design, "beta")),
    ciprop_asin = safely(ciprop(~sch_wide, design, "asin")),
    quantile_api00 = safely(quant(~api00, design, c(0.1, 0.25, 0.5, 0.75, 0.9))),
    quantile_enroll = safely(quant(~enroll, design, c(0.5, 0.9), na.rm = TRUE)),
    ratio_stu_enroll = safely(ratio(~api.stu, ~enroll, design)),
    glm_api00 = safely(glmfit(api00 ~ ell + meals + mobility, design)),
    by_stype = safely(by_mean(~api00, ~stype, design))
  )
  out[[label]] <<- r
}

dclus2 <- svydesign(id = ~dnum + snum, fpc = ~fpc1 + fpc2, data = clus2)
battery(dclus2, "dclus2")
out$dclus2$weights_from_fpc <- unname(weights(dclus2))
# Domains: proportions with svyciprop intervals and medians, by school type.
b <- svyby(~sch_wide, ~stype, dclus2, svyciprop, vartype = "ci", method = "logit")
out$dclus2$by_stype_ciprop_logit <- list(levels = as.character(b$stype),
                                         estimate = unname(coef(b)),
                                         ci_low = b$ci_l, ci_high = b$ci_u)
b <- svyby(~sch_wide, ~stype, dclus2, svyciprop, vartype = "ci", method = "beta")
out$dclus2$by_stype_ciprop_beta <- list(levels = as.character(b$stype),
                                        ci_low = b$ci_l, ci_high = b$ci_u)
b <- svyby(~api00, ~stype, dclus2, svyquantile, quantiles = 0.5, ci = TRUE)
out$dclus2$by_stype_median <- list(levels = as.character(b$stype), estimate = unname(coef(b)),
                                   se = unname(SE(b)))
clus2$f1 <- 40 / clus2$fpc1
clus2$n2 <- ave(clus2$snum, clus2$dnum, FUN = length)
clus2$f2 <- clus2$n2 / clus2$fpc2
dclus2f <- svydesign(id = ~dnum + snum, fpc = ~f1 + f2, weights = ~pw, data = clus2)
out$dclus2_fraction <- list(mean_api00 = est(svymean(~api00, dclus2f)))
# Strata at the second stage (year-round schools within each district).
clus2$one <- 1
options(survey.lonely.psu = "adjust")
dclus2s <- svydesign(id = ~dnum + snum, strata = ~one + yr.rnd, fpc = ~fpc1 + fpc2,
                     weights = ~pw, data = clus2)
out$dclus2_stage2_strata_adjust <- list(mean_api00 = est(svymean(~api00, dclus2s)),
                                        total_enroll = est(svytotal(~enroll, dclus2s, na.rm = TRUE)))
options(survey.lonely.psu = "fail")

d3 <- svydesign(id = ~cnum + dnum + snum, strata = ~stype, fpc = ~fpc1 + fpc2 + fpc3,
                weights = ~pw, data = three, nest = TRUE)
battery(d3, "three_stage")
# Lonely second-stage units: in the first E county with two sampled districts, drop the
# second district (its weights are left as they were: this only exercises the variance).
e <- three[three$stype == "E", ]
two <- tapply(e$dnum, e$cnum, function(d) length(unique(d)))
first <- as.numeric(names(two)[two == 2][1])
dropped <- max(e$dnum[e$cnum == first])
keep <- !(three$stype == "E" & three$cnum == first & three$dnum == dropped)
lonely <- three[keep, ]
out$three_stage_lonely <- list(county = first, dropped_district = dropped)
for (opt in c("adjust", "average", "certainty", "remove")) {
  options(survey.lonely.psu = opt)
  d <- svydesign(id = ~cnum + dnum + snum, strata = ~stype, fpc = ~fpc1 + fpc2 + fpc3,
                 weights = ~pw, data = lonely, nest = TRUE)
  out$three_stage_lonely[[opt]] <- list(mean_api00 = est(svymean(~api00, d)),
                                        total_enroll = est(svytotal(~enroll, d)))
}
options(survey.lonely.psu = "fail")

dclus1 <- svydesign(id = ~dnum, weights = ~pw, data = clus1, fpc = ~fpc)
battery(dclus1, "dclus1")
dstrat <- svydesign(id = ~1, strata = ~stype, weights = ~pw, data = strat, fpc = ~fpc)
battery(dstrat, "dstrat")
out$dstrat$quantile_acs_k3 <- quant(~acs.k3, dstrat, c(0.25, 0.5), na.rm = TRUE)
out$dstrat$quantile_acs_k3$df <- degf(subset(dstrat, !is.na(acs.k3)))

calibrated <- function(design, label) {
  battery(design, label)
  out[[label]]$weights <<- unname(weights(design))
  out[[label]]$by_schwide <<- by_mean(~api00, ~sch.wide, design)
}
calibrated(postStratify(dclus1, ~stype, pop.types), "dclus1_poststratify_stype")
calibrated(postStratify(dclus1, ~stype + sch.wide, cross), "dclus1_poststratify_cross")
calibrated(rake(dclus1, list(~stype, ~sch.wide), list(pop.types, pop.schwide)),
           "dclus1_rake_stype_schwide")
calibrated(rake(dclus1, list(~stype + sch.wide, ~comp.imp), list(cross, pop.compimp)),
           "dclus1_rake_crossed_compimp")
calibrated(calibrate(dclus1, ~stype + api99, c(6194, 755, 1018, api99.total)),
           "dclus1_linear_stype_api99")
calibrated(postStratify(dclus2, ~stype, pop.types), "dclus2_poststratify_stype")
calibrated(rake(dclus2, list(~stype, ~sch.wide), list(pop.types, pop.schwide)),
           "dclus2_rake_stype_schwide")
calibrated(calibrate(dclus2, ~stype + api99, c(6194, 755, 1018, api99.total)),
           "dclus2_linear_stype_api99")
calibrated(rake(dstrat, list(~stype, ~sch.wide), list(pop.types, pop.schwide)),
           "dstrat_rake_stype_schwide")

out$versions <- list(R = R.version.string, survey = as.character(packageVersion("survey")))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "r_survey_design.json")

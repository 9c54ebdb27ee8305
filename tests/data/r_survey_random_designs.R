# Randomly generated four-stage designs (strata at stages 1 and 3, fpc as counts, with
# replacement (Inf) at the last stage, lonely units at several stages) and R survey 4.1.1's
# estimates on them, for tests/stats/test_survey_random_designs.py. Run from this folder:
# `Rscript r_survey_random_designs.R`; writes api-independent random_design_<k>.csv and
# r_survey_random_designs.json.
suppressMessages(library(survey))
library(jsonlite)
set.seed(20261204)

draw <- function() {
  rows <- list()
  for (s1 in 1:3) {
    N1 <- sample(6:12, 1)
    n1 <- sample(2:4, 1)
    for (p1 in sort(sample(N1, n1))) {
      N2 <- sample(1:5, 1)
      n2 <- sample(1:N2, 1)
      for (p2 in sort(sample(N2, n2))) {
        for (s3 in 1:sample(1:2, 1)) {
          N3 <- sample(1:6, 1)
          n3 <- sample(1:min(N3, 3), 1)
          for (p3 in sort(sample(N3, n3))) {
            n4 <- sample(1:3, 1)
            for (p4 in seq_len(n4)) {
              rows[[length(rows) + 1]] <- data.frame(
                s1 = s1, p1 = p1, p2 = p2, s3 = s3, p3 = p3, p4 = p4,
                fpc1 = N1, fpc2 = N2, fpc3 = N3, fpc4 = Inf,
                w = N1 / n1 * N2 / n2 * N3 / n3 * n4 * runif(1, 0.8, 1.2)
              )
            }
          }
        }
      }
    }
  }
  d <- do.call(rbind, rows)
  d$y <- round(rnorm(nrow(d), 50 + 5 * d$s1, 10), 3)
  d$z <- round(runif(nrow(d), 1, 3), 3)
  d$x <- as.numeric(runif(nrow(d)) < plogis((d$y - 55) / 10))
  d$y[sample(nrow(d), 3)] <- NA
  d
}

out <- list()
for (k in 1:4) {
  file <- sprintf("random_design_%d.csv", k)
  write.csv(draw(), file, row.names = FALSE, na = "")
  d <- read.csv(file)
  d$fpc4 <- Inf
  case <- list(file = file)
  for (opt in c("adjust", "average", "certainty")) {
    options(survey.lonely.psu = opt)
    des <- svydesign(id = ~p1 + p2 + p3 + p4, strata = ~s1 + one + s3 + one,
                     fpc = ~fpc1 + fpc2 + fpc3 + fpc4, weights = ~w,
                     data = transform(d, one = 1), nest = TRUE)
    m <- svymean(~y, des, na.rm = TRUE)
    t <- svytotal(~y, des, na.rm = TRUE)
    r <- svyratio(~y, ~z, des, na.rm = TRUE)
    cp <- svyciprop(~x, des, method = "logit")
    q <- svyquantile(~y, des, c(0.25, 0.5), na.rm = TRUE)[[1]]
    case[[opt]] <- list(
      df = degf(des),
      mean = c(coef(m), SE(m)), total = c(coef(t), SE(t)),
      ratio = c(coef(r), SE(r)), ciprop_logit = as.vector(attr(cp, "ci")),
      quantile = unname(q[, 1]), quantile_se = unname(q[, 4])
    )
  }
  out[[k]] <- case
}
options(survey.lonely.psu = "fail")
out <- list(cases = out, versions = list(R = R.version.string,
                                         survey = as.character(packageVersion("survey"))))
writeLines(toJSON(out, auto_unbox = TRUE, digits = NA, pretty = TRUE), "r_survey_random_designs.json")

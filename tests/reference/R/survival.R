# Kaplan–Meier (log-log CIs), risk table, median with CI, log-rank, Cox (Efron), cox.zph,
# Aalen–Johansen / cmprsk cumulative incidence, the IPS benchmark share with its Wilson CI.
# Rscript survival.R DATA_DIR OUT_DIR
get_script_dir <- function() {
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  dirname(normalizePath(f))
}
source(file.path(get_script_dir(), "common.R"))
suppressPackageStartupMessages({library(survival); library(cmprsk)})

hand <- read_data("survival_hand")
flat <- read_data("survival_flat")
demo <- read_data("survival_demo")
risk_times <- list(hand = c(0, 30, 60, 90, 120, 182), demo = c(0, 91, 182, 273, 365, 547, 730),
                   flat = c(0, 5, 7, 10))

subsets <- function(data) {  # "all" then each group, sorted
  out <- list(all = data)
  for (g in sort(unique(data$group))) out[[g]] <- data[data$group == g, ]
  out
}

km <- list(); risk <- list(); med <- list()
for (ds in c("hand", "demo", "flat")) {
  data <- get(ds)
  sets <- if (ds == "flat") split(data, data$group) else subsets(data)
  for (g in names(sets)) {
    fit <- survfit(Surv(time, status) ~ 1, data = sets[[g]], conf.type = "log-log")
    km[[length(km) + 1]] <- data.frame(
      dataset = ds, group = g, time = fit$time, n_risk = fit$n.risk, n_event = fit$n.event,
      surv = fit$surv, std_err = fit$std.err, lower = fit$lower, upper = fit$upper,
      cumulative_incidence = 1 - fit$surv, ci_low = 1 - fit$upper, ci_high = 1 - fit$lower)
    s <- summary(fit, times = risk_times[[ds]], extend = TRUE)
    risk[[length(risk) + 1]] <- data.frame(
      dataset = ds, group = g, time = s$time, n_risk = s$n.risk, n_event = s$n.event,
      cumulative_incidence = 1 - s$surv, ci_low = 1 - s$upper, ci_high = 1 - s$lower)
    q <- quantile(fit, probs = 0.5)
    med[[length(med) + 1]] <- data.frame(dataset = ds, group = g, median = unname(q$quantile),
                                          lower = unname(q$lower), upper = unname(q$upper))
  }
}
write_out(do.call(rbind, km), "survival_km")
write_out(do.call(rbind, risk), "survival_risk")
write_out(do.call(rbind, med), "survival_median")

# log-rank
lr <- list()
for (ds in c("hand", "demo")) {
  data <- get(ds)
  d <- survdiff(Surv(time, status) ~ group, data = data)
  df <- length(d$n) - 1
  lr[[ds]] <- data.frame(dataset = ds, chisq = d$chisq, df = df,
                         p = pchisq(d$chisq, df, lower.tail = FALSE))
}
write_out(do.call(rbind, lr), "survival_logrank")

# Cox (Efron) and the Grambsch–Therneau test (survival >= 3: exact score test)
cox <- list(); zph <- list()
formulas <- list(hand = Surv(time, status) ~ x1 + x2,
                 demo = Surv(time, status) ~ age + baseline_work_ability)
for (ds in names(formulas)) {
  fit <- coxph(formulas[[ds]], data = get(ds), ties = "efron")
  s <- summary(fit)
  cf <- s$coefficients; ci <- s$conf.int
  cox[[ds]] <- data.frame(dataset = ds, term = rownames(cf), coef = cf[, "coef"], se = cf[, "se(coef)"],
                          hr = cf[, "exp(coef)"], hr_ci_low = ci[, "lower .95"],
                          hr_ci_high = ci[, "upper .95"], p = cf[, "Pr(>|z|)"], n = fit$n,
                          n_events = fit$nevent)
  z <- cox.zph(fit, transform = "km", terms = FALSE)$table
  zph[[ds]] <- data.frame(dataset = ds, term = rownames(z), chisq = z[, "chisq"], df = z[, "df"],
                          p = z[, "p"])
}
write_out(do.call(rbind, cox), "survival_cox")
write_out(do.call(rbind, zph), "survival_zph")

# Competing risks: Aalen–Johansen by survfit (multi-state status) with its standard error and
# log(-log) CI, and cmprsk::cuminc with its variance (Gray 1988; a different estimator of the
# variance, kept for information with the log(-log) CI it would give), read at every distinct time.
z <- qnorm(0.975)
loglog <- function(cif, se, sign) ifelse(cif > 0, cif^exp(sign * z * se / (cif * log(cif))), 0)
cr <- list()
for (spec in list(c("hand", "outcome"), c("demo", "outcome_ws"))) {
  data <- get(spec[1]); outcome <- data[[spec[2]]]
  causes <- c("employed", sort(setdiff(unique(outcome), c("employed", "censored"))))
  state <- factor(outcome, levels = c("censored", causes))
  aj <- survfit(Surv(data$time, state) ~ 1, conf.type = "log-log")
  times <- sort(unique(data$time))
  s <- summary(aj, times = times)
  ci <- cuminc(data$time, outcome, cencode = "censored")
  tp <- timepoints(ci, times)
  for (k in seq_along(causes)) {
    cause <- causes[k]
    col <- match(cause, aj$states)
    est <- tp$est[paste("1", cause), ]; var <- tp$var[paste("1", cause), ]
    cr[[length(cr) + 1]] <- data.frame(
      dataset = spec[1], outcome = cause, time = s$time, n_risk = s$n.risk[, 1],
      cif = s$pstate[, col], se_aj = s$std.err[, col], ci_low = s$lower[, col], ci_high = s$upper[, col],
      cif_cmprsk = unname(est), var_cmprsk = unname(var),
      ci_low_cmprsk = pmin(loglog(est, sqrt(var), 1), loglog(est, sqrt(var), -1)),
      ci_high_cmprsk = pmax(loglog(est, sqrt(var), 1), loglog(est, sqrt(var), -1)))
  }
}
write_out(do.call(rbind, cr), "survival_cif")

# IPS benchmark: share employed within 365 days among clients who started at least 365 days before
# the cut-off (demo: DemoSpec cut-off 2022-12-31), Wilson score CI = prop.test(correct = FALSE);
# plus hand-made counts including 0 and n.
cutoff <- as.Date("2022-12-31")
cohort <- as.Date(demo$start_date) <= cutoff - 365
counts <- data.frame(dataset = c("demo", "hand", "hand", "hand", "hand"),
                     employed = c(sum(demo$status[cohort] == 1 & demo$time[cohort] <= 365), 0, 12, 7, 1),
                     n = c(sum(cohort), 12, 12, 23, 40))
bm <- list()
for (i in seq_len(nrow(counts))) {
  ci <- prop.test(counts$employed[i], counts$n[i], correct = FALSE)$conf.int
  bm[[i]] <- data.frame(counts[i, ], share = counts$employed[i] / counts$n[i], ci_low = ci[1], ci_high = ci[2])
}
write_out(do.call(rbind, bm), "survival_benchmark")

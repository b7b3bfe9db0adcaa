# Job tenure and hours (tyokyky_eval.employment.tenure, job_table) from the employment_jobs data:
# duration = job_end - job_start + 1 days when the job ended by the cut-off, else censored at
# cutoff - job_start + 1; share still employed d days after the start among the jobs followed d
# days (prop.test Wilson CI); Kaplan-Meier retention (survfit, conf.type = "log-log") at d with the
# jobs ended in (previous d, d]; hours a week: median and quartiles (quantile type 7).
source(file.path(dirname(sub("--file=", "", grep("--file=", commandArgs(), value = TRUE))), "common.R"))
library(survival)

jobs <- read_data("employment_jobs")
jobs$job_start <- as.Date(jobs$job_start)
jobs$job_end <- as.Date(jobs$job_end)
jobs$cutoff <- as.Date(jobs$cutoff)
days <- c(90, 180)
tenure <- list()
hours <- list()
for (name in unique(jobs$dataset)) {
  d <- jobs[jobs$dataset == name, ]
  ended <- !is.na(d$job_end) & d$job_end <= d$cutoff
  time <- as.numeric(ifelse(ended, d$job_end - d$job_start + 1, d$cutoff - d$job_start + 1))
  fit <- survfit(Surv(time, ended) ~ 1, conf.type = "log-log")
  s <- summary(fit, times = days, extend = TRUE)
  for (k in seq_along(days)) {
    day <- days[k]
    followed <- d$job_start + day <= d$cutoff
    still <- followed & (is.na(d$job_end) | d$job_end >= d$job_start + day)
    n <- sum(followed); x <- sum(still)
    ci <- if (n > 0) prop.test(x, n, correct = FALSE)$conf.int else c(NA, NA)
    tenure[[length(tenure) + 1]] <- data.frame(
      dataset = name, days = day, n_followed = n, n_still_employed = x, share = if (n > 0) x / n else NA,
      ci_low = ci[1], ci_high = ci[2], n_ended_interval = s$n.event[k], retention = s$surv[k],
      retention_ci_low = s$lower[k], retention_ci_high = s$upper[k])
  }
  q <- quantile(d$hours_per_week, c(0.5, 0.25, 0.75), type = 7, na.rm = TRUE, names = FALSE)
  hours[[length(hours) + 1]] <- data.frame(dataset = name, hours_median = q[1], hours_q1 = q[2], hours_q3 = q[3])
}
write_out(do.call(rbind, tenure), "employment_tenure")
write_out(do.call(rbind, hours), "employment_hours")

# Random-intercept linear mixed model, REML: lme4::lmer(score ~ timepoint + (1 | client_id)),
# optimiser tolerances tightened so that the reference is the optimum to ~1e-10.
# Rscript lmm.R DATA_DIR OUT_DIR
get_script_dir <- function() {
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  dirname(normalizePath(f))
}
source(file.path(get_script_dir(), "common.R"))
suppressPackageStartupMessages(library(lme4))

long <- read_data("lmm_long")
control <- lmerControl(optimizer = "bobyqa",
                       optCtrl = list(rhobeg = 0.2, rhoend = 1e-12, maxfun = 1e5),
                       check.conv.singular = "ignore")
rows <- list()
keys <- unique(long[, c("dataset", "measure")])
for (i in seq_len(nrow(keys))) {
  k <- keys[i, ]
  d <- long[long$dataset == k$dataset & long$measure == k$measure, ]
  d$timepoint <- factor(d$timepoint, levels = intersect(c("baseline", "followup", "end"), d$timepoint))
  fit <- lmer(score ~ timepoint + (1 | client_id), data = d, REML = TRUE, control = control)
  beta <- fixef(fit)
  se <- sqrt(diag(as.matrix(vcov(fit))))
  vc <- as.data.frame(VarCorr(fit))
  term <- sub("^timepoint", "", names(beta))
  rows[[i]] <- data.frame(dataset = k$dataset, measure = k$measure, term = term,
                          estimate = unname(beta), se = unname(se),
                          ci_low = unname(beta - qnorm(0.975) * se), ci_high = unname(beta + qnorm(0.975) * se),
                          p_wald = unname(2 * pnorm(-abs(beta / se))),
                          sigma2_group = vc$vcov[vc$grp == "client_id"],
                          sigma2_residual = vc$vcov[vc$grp == "Residual"],
                          reml_criterion = unname(REMLcrit(fit)),
                          n_obs = nrow(d), n_clients = length(unique(d$client_id)))
}
write_out(do.call(rbind, rows), "lmm_random_intercept")

# Random-effects meta-analysis (tyokyky_eval.meta_analysis) with metafor:
# escalc(measure = "RR") of the BCG trials, escalc(measure = "PLO") (default to = "only0", add = 1/2),
# escalc(measure = "MC") with the SD of the changes (sd2i = 0, ri = 0: vi = sd^2/n); then for every
# data set rma(yi, vi, method = "REML" and "DL", test = "knha") and test = "z", predict() of the knha
# fit (prediction interval: t with k - 1 df), weights(), and for log odds predict(transf = transf.ilogit).
# REML converges to a change in tau^2 of at most 1e-12 (metafor's default threshold is 1e-5).
# Rscript meta_analysis.R DATA_DIR OUT_DIR
source(file.path(dirname(sub("--file=", "", grep("--file=", commandArgs(), value = TRUE))), "common.R"))
suppressPackageStartupMessages(library(metafor))

control <- list(threshold = 1e-12, maxiter = 1000)
sets <- list()

counts <- read_data("meta_counts")
for (name in unique(counts$dataset)) {
  d <- counts[counts$dataset == name, ]
  es <- escalc(measure = "RR", ai = tpos, bi = tneg, ci = cpos, di = cneg, data = d)
  sets[[name]] <- data.frame(dataset = name, study = as.character(d$study), yi = c(es$yi), vi = c(es$vi),
                             measure = "RR")
}
props <- read_data("meta_proportions")
for (name in unique(props$dataset)) {
  d <- props[props$dataset == name, ]
  es <- escalc(measure = "PLO", xi = events, ni = n, data = d)
  sets[[name]] <- data.frame(dataset = name, study = d$study, yi = c(es$yi), vi = c(es$vi), measure = "PLO")
}
change <- read_data("meta_mean_change")
for (name in unique(change$dataset)) {
  d <- change[change$dataset == name, ]
  es <- escalc(measure = "MC", m1i = mean_change, m2i = rep(0, nrow(d)), sd1i = sd_change,
               sd2i = rep(0, nrow(d)), ri = rep(0, nrow(d)), ni = n, data = d)
  sets[[name]] <- data.frame(dataset = name, study = d$study, yi = c(es$yi), vi = c(es$vi), measure = "MC")
}
generic <- read_data("meta_generic")
for (name in unique(generic$dataset)) {
  d <- generic[generic$dataset == name, ]
  sets[[name]] <- data.frame(dataset = name, study = d$study, yi = d$estimate, vi = d$variance,
                             measure = "GEN")
}

pooled <- list()
weights_out <- list()
proportions_out <- list()
for (name in names(sets)) {
  s <- sets[[name]]
  for (method in c("REML", "DL")) {
    kh <- rma(yi, vi, data = s, method = method, test = "knha", control = control)
    z <- rma(yi, vi, data = s, method = method, test = "z", control = control)
    p <- predict(kh)
    key <- paste(name, method)
    pooled[[key]] <- data.frame(
      dataset = name, method = method, k = kh$k, estimate = c(kh$beta), se = kh$se, tval = kh$zval,
      df = kh$ddf, pval = kh$pval, ci_lb = kh$ci.lb, ci_ub = kh$ci.ub, s2w = kh$s2w,
      se_z = z$se, zval = z$zval, pval_z = z$pval, ci_lb_z = z$ci.lb, ci_ub_z = z$ci.ub,
      tau2 = kh$tau2, se_tau2 = kh$se.tau2, I2 = kh$I2, H2 = kh$H2, QE = kh$QE, QEp = kh$QEp,
      pi_lb = p$pi.lb, pi_ub = p$pi.ub)
    weights_out[[key]] <- data.frame(dataset = name, method = method, study = s$study,
                                     weight_pct = unname(weights(kh)))
    if (s$measure[1] == "PLO") {
      pt <- predict(kh, transf = transf.ilogit)
      pz <- predict(z, transf = transf.ilogit)
      proportions_out[[key]] <- data.frame(dataset = name, method = method, proportion = pt$pred,
                                           ci_lb = pt$ci.lb, ci_ub = pt$ci.ub, ci_lb_z = pz$ci.lb,
                                           ci_ub_z = pz$ci.ub, pi_lb = pt$pi.lb, pi_ub = pt$pi.ub)
    }
  }
}
effects <- do.call(rbind, sets)
write_out(effects[effects$measure != "GEN", ], "meta_effects")
write_out(do.call(rbind, pooled), "meta_pooled")
write_out(do.call(rbind, weights_out), "meta_weights")
write_out(do.call(rbind, proportions_out), "meta_proportion_scale")

# Paired t-test, Wilcoxon signed-rank (scipy's method choice, see signrank.R), Holm, d_z with its
# noncentral-t CI, Hedges' g_z. Rscript prepost.R DATA_DIR OUT_DIR
get_script_dir <- function() {
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  dirname(normalizePath(f))
}
source(file.path(get_script_dir(), "common.R"))
source(file.path(get_script_dir(), "signrank.R"))

pairs <- read_data("prepost_pairs")

dz_ci <- function(dz, n, level = 0.95) {
  # bounds lambda/sqrt(n) with P(T >= t | lambda_low) = alpha/2 and P(T <= t | lambda_high) = alpha/2
  df <- n - 1; t <- dz * sqrt(n); a <- (1 - level) / 2
  w <- 10 * (1 + abs(t))
  low <- uniroot(function(l) pt(t, df, ncp = l, lower.tail = FALSE) - a, c(t - w, t), tol = 1e-13)$root
  high <- uniroot(function(l) pt(t, df, ncp = l) - a, c(t, t + w), tol = 1e-13)$root
  c(low, high) / sqrt(n)
}
hedges_j <- function(df) exp(lgamma(df / 2) - lgamma((df - 1) / 2)) / sqrt(df / 2)

rows <- list()
keys <- unique(pairs[, c("dataset", "measure", "comparison")])
for (i in seq_len(nrow(keys))) {
  k <- keys[i, ]
  p <- pairs[pairs$dataset == k$dataset & pairs$measure == k$measure & pairs$comparison == k$comparison, ]
  x <- p$post - p$pre
  n <- length(x)
  tt <- t.test(p$post, p$pre, paired = TRUE)
  sr <- signrank(x)
  dz <- mean(x) / sd(x)
  ci <- dz_ci(dz, n)
  rows[[i]] <- data.frame(
    dataset = k$dataset, measure = k$measure, comparison = k$comparison, n_pairs = n,
    mean_pre = mean(p$pre), mean_post = mean(p$post), mean_change = mean(x),
    change_ci_low = tt$conf.int[1], change_ci_high = tt$conf.int[2],
    t_stat = unname(tt$statistic), t_p = tt$p.value,
    wilcoxon_stat = sr$statistic, wilcoxon_p = sr$p, wilcoxon_method = sr$method,
    wilcoxon_v = sr$v, n_zero_change = sum(round(x, 1) == 0),
    dz = dz, dz_ci_low = ci[1], dz_ci_high = ci[2], gz = dz * hedges_j(n - 1), sd_change = sd(x),
    median_change = median(x), change_q1 = unname(quantile(x, 0.25)),
    change_q3 = unname(quantile(x, 0.75)))
}
out <- do.call(rbind, rows)
out$p_holm <- NA_real_
for (g in split(seq_len(nrow(out)), paste(out$dataset, out$comparison))) {
  out$p_holm[g] <- p.adjust(out$t_p[g], method = "holm")
}
write_out(out, "prepost_paired")

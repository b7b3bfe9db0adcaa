# The Wilcoxon signed-rank test with the rule scipy.stats.wilcoxon(zero_method="wilcox",
# correction=False, method="auto") follows (scipy 1.13+), in R:
#   more than 50 differences (zeros included)      -> normal approximation, tie-corrected variance,
#                                                     no continuity correction (exact=FALSE, correct=FALSE)
#   no ties and no zeros                           -> exact null distribution (exact=TRUE)
#   ties or zeros, at most 13 differences          -> exhaustive sign-flip permutation over the
#                                                     mid-ranks (by hand below; R has no option for it)
#   ties or zeros, 14-50 differences               -> normal approximation as above
# Zeros are dropped before ranking (Wilcoxon's method; R's wilcox.test does the same). Differences
# are rounded to the instrument's precision first (`digits`), so equal changes are real ties.
signrank <- function(d, digits = 1) {
  d <- round(d, digits)
  n_all <- length(d)
  nz <- d[d != 0]
  m <- length(nz)
  ties <- any(duplicated(abs(nz)))
  zeros <- any(d == 0)
  r <- rank(abs(nz))
  v <- sum(r[nz > 0])
  statistic <- min(v, m * (m + 1) / 2 - v)
  if (m == 0) return(list(statistic = NA_real_, p = NA_real_, method = "none", v = NA_real_))
  if (n_all > 50) {
    method <- "normal"
  } else if (!ties && !zeros) {
    method <- "exact"
  } else if (n_all <= 13) {
    method <- "permutation"
  } else {
    method <- "normal"
  }
  if (method == "exact") {
    p <- suppressWarnings(wilcox.test(nz, exact = TRUE)$p.value)
  } else if (method == "normal") {
    p <- suppressWarnings(wilcox.test(nz, exact = FALSE, correct = FALSE)$p.value)
  } else {
    signs <- as.matrix(expand.grid(rep(list(c(0, 1)), m)))  # 1 = positive
    perm <- as.vector(signs %*% r)
    eps <- 1e-10 * max(1, abs(v))
    p <- min(1, 2 * min(mean(perm <= v + eps), mean(perm >= v - eps)))
  }
  list(statistic = statistic, p = p, method = method, v = v)
}

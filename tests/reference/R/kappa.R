# Quadratic weighted kappa: psych::cohen.kappa (weights 1 - (i - j)^2/(k - 1)^2 over levels 1..5)
# and the same by hand. Rscript kappa.R DATA_DIR OUT_DIR
get_script_dir <- function() {
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  dirname(normalizePath(f))
}
source(file.path(get_script_dir(), "common.R"))
suppressPackageStartupMessages(library(psych))

pairs <- read_data("kappa_pairs")
levels <- 1:5
by_hand <- function(a, b) {
  o <- table(factor(a, levels), factor(b, levels)) / length(a)
  e <- outer(rowSums(o), colSums(o))
  w <- outer(levels, levels, function(i, j) (i - j)^2)
  1 - sum(w * o) / sum(w * e)
}
rows <- list()
for (s in unique(pairs$set)) {
  p <- pairs[pairs$set == s, ]
  ck <- suppressWarnings(cohen.kappa(cbind(p$score_a, p$score_b), levels = levels))
  rows[[s]] <- data.frame(set = s, n_items = nrow(p), kappa_quadratic = ck$weighted.kappa,
                          kappa_by_hand = by_hand(p$score_a, p$score_b),
                          exact_agreement_pct = 100 * mean(p$score_a == p$score_b),
                          within_one_pct = 100 * mean(abs(p$score_a - p$score_b) <= 1))
}
write_out(do.call(rbind, rows), "kappa")

# Feedback rounds compared, with the options that match the package's scipy calls:
#   linked respondents, first vs last round: signed-rank test (scipy.stats.wilcoxon defaults; see
#     signrank.R), matched-pairs rank-biserial (T+ - T-)/(T+ + T-);
#   unlinked: Mann-Whitney U of the last round against the first (scipy.stats.mannwhitneyu
#     method="auto": exact when the smaller sample has at most 8 values and there are no ties,
#     otherwise the normal approximation with tie correction and continuity correction, i.e.
#     wilcox.test(exact = FALSE, correct = TRUE)), rank-biserial 2U/(n1 n2) - 1;
#   three or more rounds: friedman.test (Kendall's W = chi2 / (n (k - 1))) or kruskal.test
#     (epsilon^2 = H / (n - 1)). Rscript feedback.R DATA_DIR OUT_DIR
get_script_dir <- function() {
  f <- sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE))
  dirname(normalizePath(f))
}
source(file.path(get_script_dir(), "common.R"))
source(file.path(get_script_dir(), "signrank.R"))

fb <- read_data("feedback_rounds")
rows <- list()
for (item in sort(unique(fb$item_id))) {
  v <- fb[fb$item_id == item, ]
  rounds <- sort(unique(v$round))
  first <- rounds[1]; last <- rounds[length(rounds)]
  paired <- all(!is.na(v$respondent_id))
  label <- paste0(first, "\u2013", last)
  if (paired) {
    wide <- reshape(v[, c("respondent_id", "round", "response")], idvar = "respondent_id",
                    timevar = "round", direction = "wide")
    wide <- wide[complete.cases(wide), ]
    a <- wide[[paste0("response.", first)]]; b <- wide[[paste0("response.", last)]]
    d <- b - a
    sr <- signrank(d, digits = 10)
    nz <- d[d != 0]; r <- rank(abs(nz))
    rows[[length(rows) + 1]] <- data.frame(
      item_id = item, rounds = label, test = "wilcoxon", n_first = length(a), n_last = length(b),
      mean_first = mean(a), mean_last = mean(b), statistic = sr$statistic, p = sr$p,
      effect_size = (sum(r[nz > 0]) - sum(r[nz < 0])) / sum(r), method = sr$method)
    if (length(rounds) >= 3) {
      m <- as.matrix(wide[, paste0("response.", rounds)])
      ft <- friedman.test(m)
      rows[[length(rows) + 1]] <- data.frame(
        item_id = item, rounds = "all", test = "friedman", n_first = nrow(m), n_last = nrow(m),
        mean_first = mean(m[, 1]), mean_last = mean(m[, ncol(m)]), statistic = unname(ft$statistic),
        p = ft$p.value, effect_size = unname(ft$statistic) / (nrow(m) * (ncol(m) - 1)),
        method = "friedman")
    }
  } else {
    x <- v$response[v$round == last]; y <- v$response[v$round == first]
    ties <- any(duplicated(c(x, y)))
    exact <- min(length(x), length(y)) <= 8 && !ties
    wt <- suppressWarnings(wilcox.test(x, y, exact = exact, correct = TRUE))
    u <- unname(wt$statistic)
    rows[[length(rows) + 1]] <- data.frame(
      item_id = item, rounds = label, test = "mann_whitney", n_first = length(y), n_last = length(x),
      mean_first = mean(y), mean_last = mean(x), statistic = u, p = wt$p.value,
      effect_size = 2 * u / (length(x) * length(y)) - 1, method = if (exact) "exact" else "normal_cc")
    if (length(rounds) >= 3) {
      kt <- kruskal.test(v$response, factor(v$round))
      rows[[length(rows) + 1]] <- data.frame(
        item_id = item, rounds = "all", test = "kruskal", n_first = length(y), n_last = length(x),
        mean_first = mean(y), mean_last = mean(x), statistic = unname(kt$statistic), p = kt$p.value,
        effect_size = unname(kt$statistic) / (nrow(v) - 1), method = "kruskal")
    }
  }
}
write_out(do.call(rbind, rows), "feedback_rounds")

# Helpers shared by the reference scripts: read the data folder and write full-precision CSV.
# Usage of every script: Rscript <script>.R <data dir> <output dir>
args <- commandArgs(trailingOnly = TRUE)
if (length(args) != 2) stop("usage: Rscript script.R DATA_DIR OUT_DIR")
data_dir <- args[1]
out_dir <- args[2]
dir.create(out_dir, showWarnings = FALSE, recursive = TRUE)

read_data <- function(name) {
  read.csv(file.path(data_dir, paste0(name, ".csv")), stringsAsFactors = FALSE, na.strings = "")
}

# Numbers as 17 significant digits (exact round trip of a double), NA as an empty field.
write_out <- function(df, name) {
  df <- as.data.frame(df, stringsAsFactors = FALSE)
  for (j in seq_along(df)) {
    if (is.numeric(df[[j]])) {
      x <- df[[j]]
      df[[j]] <- ifelse(is.na(x), NA, sprintf("%.17g", x))
    }
  }
  write.csv(df, file.path(out_dir, paste0(name, ".csv")), row.names = FALSE, na = "", quote = FALSE)
}

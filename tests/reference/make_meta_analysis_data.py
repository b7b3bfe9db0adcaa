"""Write the inputs of ``R/meta_analysis.R`` (run from the repository root):
``data/meta_counts.csv`` (2×2 tables), ``data/meta_proportions.csv`` (events of n),
``data/meta_mean_change.csv`` (n, mean and SD of the change) and ``data/meta_generic.csv`` (an
estimate and its variance). All values are written out here, so the tests need no R.
"""
from __future__ import annotations

from pathlib import Path

import pandas as pd

DATA = Path(__file__).resolve().parent / "data"

# metafor's dat.bcg (Colditz et al. 1994): BCG vaccine trials, TB cases (pos) and non-cases (neg)
# in the vaccinated (t) and control (c) arms; the published example of rma() (log risk ratios).
BCG = [(1, "Aronson", 1948, 4, 119, 11, 128), (2, "Ferguson & Simes", 1949, 6, 300, 29, 274),
       (3, "Rosenthal et al", 1960, 3, 228, 11, 209), (4, "Hart & Sutherland", 1977, 62, 13536, 248, 12619),
       (5, "Frimodt-Moller et al", 1973, 33, 5036, 47, 5761), (6, "Stein & Aronson", 1953, 180, 1361, 372, 1079),
       (7, "Vandiviere et al", 1973, 8, 2537, 10, 619), (8, "TPT Madras", 1980, 505, 87886, 499, 87892),
       (9, "Coetzee & Berjak", 1968, 29, 7470, 45, 7232), (10, "Rosenthal et al", 1961, 17, 1699, 65, 1600),
       (11, "Comstock et al", 1974, 186, 50448, 141, 27197), (12, "Comstock & Webster", 1969, 5, 2493, 3, 2338),
       (13, "Comstock et al", 1976, 27, 16886, 29, 17825)]

# Projects' share employed at follow-up: one project with no events and one where everybody is
# employed (metafor adds 1/2 to both cells of those two only); and a set without zero cells.
PROPORTIONS = {
    "plo_zero_cells": [("A", 12, 40), ("B", 0, 15), ("C", 25, 60), ("D", 9, 22), ("E", 30, 45), ("F", 18, 18)],
    "plo_plain": [("A", 14, 52), ("B", 9, 31), ("C", 22, 48), ("D", 5, 27), ("E", 17, 40)],
}

# Mean change of a work-ability score (0–10) per project: n, mean change, SD of the changes.
MEAN_CHANGE = {"mean_change": [("A", 34, 1.2, 2.1), ("B", 18, 1.9, 2.6), ("C", 52, 0.6, 1.8),
                               ("D", 9, 2.8, 3.0), ("E", 27, 0.9, 2.2)]}

# Degenerate sets given directly as estimate and variance.
GENERIC = {
    "two_studies": [("A", 0.30, 0.04), ("B", 0.85, 0.09)],
    # Q far below its df: the HE start is negative, REML stays at τ² = 0 (KH factor < 1)
    "homogeneous": [("A", 0.20, 0.02), ("B", 0.22, 0.03), ("C", 0.18, 0.025), ("D", 0.21, 0.04), ("E", 0.19, 0.05)],
    # the HE start is positive but the restricted likelihood falls from τ² = 0: Fisher scoring halves
    # its way down to the boundary
    "boundary_from_above": [("A", 0.28, 0.05), ("B", -0.26, 0.01), ("C", -0.37, 0.05), ("D", -0.30, 0.02),
                            ("E", -0.26, 0.02)],
    # one study with a huge variance (weight ≈ 0) and a far-off estimate
    "huge_variance": [("A", 0.10, 0.02), ("B", 0.40, 0.05), ("C", 0.35, 0.03), ("D", -0.05, 0.04), ("E", 0.60, 0.06),
                      ("F", 2.50, 1e4)],
}


def counts() -> pd.DataFrame:
    frame = pd.DataFrame(BCG, columns=["study", "author", "year", "tpos", "tneg", "cpos", "cneg"])
    return frame.assign(dataset="bcg")[["dataset", "study", "author", "year", "tpos", "tneg", "cpos", "cneg"]]


def proportions() -> pd.DataFrame:
    rows = [(name, *row) for name, values in PROPORTIONS.items() for row in values]
    return pd.DataFrame(rows, columns=["dataset", "study", "events", "n"])


def mean_changes() -> pd.DataFrame:
    rows = [(name, *row) for name, values in MEAN_CHANGE.items() for row in values]
    return pd.DataFrame(rows, columns=["dataset", "study", "n", "mean_change", "sd_change"])


def generic() -> pd.DataFrame:
    rows = [(name, *row) for name, values in GENERIC.items() for row in values]
    return pd.DataFrame(rows, columns=["dataset", "study", "estimate", "variance"])


FILES = {"meta_counts": counts, "meta_proportions": proportions, "meta_mean_change": mean_changes,
         "meta_generic": generic}

if __name__ == "__main__":
    for name, make in FILES.items():
        make().to_csv(DATA / f"{name}.csv", index=False)
        print(f"{name}.csv")

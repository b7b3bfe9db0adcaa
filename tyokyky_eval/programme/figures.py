"""Figures of the programme synthesis, drawn from its published tables only: forest plots (each
service's estimate with its CI, the pooled estimate as a diamond with its prediction interval,
reference lines) and a funnel plot. A withheld value is a labelled row without a point."""
from __future__ import annotations

import numpy as np
import pandas as pd

from tyokyky_eval.i18n import fmt_percent, t
from tyokyky_eval.programme.compare import known

ROW_INCHES = 0.32


def forest(studies: pd.DataFrame, pooled: pd.Series | None, language: str, xlabel: str, lines=(),
           percent: bool = False, xlim=None):
    """A forest plot: one row per study (``label``, ``estimate``, ``ci_low``, ``ci_high``,
    ``weight_pct``; a symbol in ``estimate`` is shown as withheld), the ``pooled`` row (``estimate``,
    ``ci_low``, ``ci_high``, ``pi_low``, ``pi_high``) as a diamond with its prediction interval,
    and vertical reference ``lines`` (``(x, label, style)``, labelled in a legend below; lines of
    one label share its entry). ``percent``: the axis shows shares as percentages."""
    import matplotlib.pyplot as plt

    n = len(studies) + (2 if pooled is not None else 0)
    fig, ax = plt.subplots(figsize=(8, 1.3 + ROW_INCHES * max(n, 2)))
    y = np.arange(len(studies))[::-1] + (2 if pooled is not None else 0)
    weights = pd.to_numeric(studies["weight_pct"], errors="coerce") if "weight_pct" in studies else None
    for i, (yy, row) in enumerate(zip(y, studies.itertuples(index=False))):
        if known(row.estimate):
            ax.plot([row.ci_low, row.ci_high], [yy, yy], color="black", linewidth=1)
            size = 4 + (np.sqrt(weights.iloc[i]) * 1.6 if weights is not None and known(weights.iloc[i]) else 2)
            ax.plot([row.estimate], [yy], marker="s", color="C0", markersize=size, linestyle="none")
        else:
            ax.text(0.5, yy, t("synthesis.figure.withheld", language, symbol=row.estimate),
                    transform=ax.get_yaxis_transform(), ha="center", va="center", fontsize=8, color="grey")
    labels = list(studies["label"])
    ticks = list(y)
    if pooled is not None:
        e, low, high = pooled["estimate"], pooled["ci_low"], pooled["ci_high"]
        ax.fill([low, e, high, e], [0.5, 0.8, 0.5, 0.2], color="C3", zorder=3)
        if known(pooled["pi_low"]):
            ax.plot([pooled["pi_low"], pooled["pi_high"]], [0.5, 0.5], color="C3", linewidth=1, zorder=2)
        labels.append(t("synthesis.figure.pooled", language))
        ticks.append(0.5)
    for x, label, style in lines:  # one legend entry per label (a group of lines shares one)
        ax.axvline(x, color="grey", linestyle=style, linewidth=0.9, label=label or None)
    if any(label for _, label, _ in lines):
        below = 0.6 / max(fig.get_figheight() - 0.9, 0.5)  # about 0.6 inches under the axes, below the x label
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -below), ncol=1, frameon=False, fontsize=8)
    ax.set_yticks(ticks, labels, fontsize=8)
    ax.set_ylim(-0.3 if pooled is not None else min(y) - 0.7, max(y) + 0.7)
    if xlim is not None:
        ax.set_xlim(*xlim)
    if percent:
        ax.xaxis.set_major_formatter(plt.FuncFormatter(lambda v, _: fmt_percent(v, language)))
    ax.set_xlabel(xlabel)
    ax.grid(axis="x", alpha=0.3)
    fig.tight_layout()
    return fig


def funnel(studies: pd.DataFrame, centre: float, language: str, xlabel: str):
    """A funnel plot: each study's ``effect`` against its standard error ``se`` (axis inverted),
    with the pooled ``centre`` and its pseudo 95 % limits centre ± 1.96·SE (Sterne et al. 2011,
    BMJ 343:d4002: with fewer than ten studies it cannot show small-study effects)."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4))
    se = pd.to_numeric(studies["se"], errors="coerce")
    effect = pd.to_numeric(studies["effect"], errors="coerce")
    top = float(np.nanmax(se)) * 1.1 if se.notna().any() else 1.0
    grid = np.linspace(0, top, 50)
    ax.plot(centre - 1.96 * grid, grid, color="grey", linestyle="--", linewidth=0.9)
    ax.plot(centre + 1.96 * grid, grid, color="grey", linestyle="--", linewidth=0.9,
            label=t("synthesis.figure.pseudo_ci", language))
    ax.axvline(centre, color="C3", linewidth=1, label=t("synthesis.figure.pooled", language))
    ax.plot(effect, se, "o", color="C0", label=t("synthesis.figure.services", language))
    ax.set_ylim(top, 0)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(t("synthesis.figure.standard_error", language))
    ax.legend(frameon=False, fontsize=8, loc="lower left")
    fig.tight_layout()
    return fig

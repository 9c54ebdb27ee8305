"""Figures for the report, drawn with matplotlib (Agg) and returned as inline SVG text."""

from __future__ import annotations

import io
import itertools
import math
import re
from collections.abc import Sequence
from typing import Any

import matplotlib

matplotlib.use("Agg")


import matplotlib.pyplot as plt
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Rectangle

from fibrosurvey.analysis.numbers import MISSING, format_number, interval_decimals
from fibrosurvey.analysis.results import HypothesisResult

__all__ = [
    "VERDICT_COLOURS",
    "change_plot",
    "distributions_plot",
    "forest_plot",
    "missingness_plot",
    "prevalence_plot",
    "roc_plot",
]

VERDICT_COLOURS = {
    "supported": "#1b7837",
    "contradicted": "#b2182b",
    "not supported": "#6b6b6b",
}
FM_COLOUR, OTHER_COLOUR = "#5e3c99", "#e08214"

plt.rcParams.update(
    {
        "svg.fonttype": "none",  # keep text as text: smaller files, selectable labels
        "svg.hashsalt": "fibrosurvey",  # deterministic ids
        "font.family": "sans-serif",
        "font.size": 9,
        "axes.spines.top": False,
        "axes.spines.right": False,
    }
)


def _svg(figure: Figure) -> str:
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(figure)
    text = buffer.getvalue()
    text = text[text.index("<svg") :]
    # Scale with the page: drop fixed width/height, keep the viewBox.
    return re.sub(r'<svg([^>]*?) width="[^"]+" height="[^"]+"', r"<svg\1", text, count=1)


def _short(label: str) -> str:
    return label.split(" (")[0]


def forest_plot(rows: Sequence[HypothesisResult], title: str) -> str:
    """Correlations with CIs: one panel per exposure, outcomes on the y axis."""
    exposures = list(dict.fromkeys(r.exposure for r in rows))
    outcomes = list(dict.fromkeys(r.outcome for r in rows))
    labels = {r.outcome: r.outcome_label for r in rows}
    width = min(2.3 * len(exposures) + 2.8, 13)
    height = 0.42 * len(outcomes) + 1.6
    figure, axes = plt.subplots(
        1, len(exposures), sharey=True, figsize=(width, height), squeeze=False
    )
    finite = [v for r in rows for v in (r.ci_low, r.ci_high) if math.isfinite(v)]
    span = max([abs(v) for v in finite] + [0.1]) * 1.1
    for ax, exposure in zip(axes[0], exposures, strict=True):
        own = {r.outcome: r for r in rows if r.exposure == exposure}
        for y, outcome in enumerate(outcomes):
            row = own.get(outcome)
            if row is None or not math.isfinite(row.estimate):
                continue
            colour = VERDICT_COLOURS.get(row.verdict, "#333333")
            ax.plot([row.ci_low, row.ci_high], [y, y], color=colour, lw=1.6)
            ax.plot(row.estimate, y, "o", color=colour, ms=5)
        ax.axvline(0, color="#999999", lw=0.8, ls="--")
        ax.set_xlim(-span, span)
        ax.set_title(
            _abbrev(next(r.exposure_label for r in rows if r.exposure == exposure)), fontsize=9
        )
        ax.set_xlabel("rho (95% CI)")
        ax.grid(axis="x", color="#eeeeee")
    axes[0][0].set_yticks(range(len(outcomes)))
    positive = {r.outcome for r in rows if r.expected == "positive"}
    axes[0][0].set_yticklabels(
        [
            _wrap(_short(labels[o]) + (" (higher = better)" if o in positive else ""), 28)
            for o in outcomes
        ]
    )
    axes[0][0].invert_yaxis()
    figure.suptitle(title, fontsize=10, x=0.02, ha="left")
    _verdict_legend(figure)
    return _svg(figure)


def _abbrev(label: str) -> str:
    """'log anandamide (AEA)' -> 'AEA (log)': short panel titles."""
    inner = label[label.find("(") + 1 : label.rfind(")")] if "(" in label else label
    return f"{inner} (log)" if label.startswith("log ") else inner


def _wrap(text: str, width: int) -> str:
    words, lines, line = text.split(), [], ""
    for word in words:
        if len(line) + len(word) + 1 > width and line:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    lines.append(line)
    return "\n".join(lines)


def _verdict_legend(figure: Figure) -> None:
    handles = [
        Line2D([], [], color=c, marker="o", lw=1.6, label=v) for v, c in VERDICT_COLOURS.items()
    ]
    figure.legend(
        handles=handles,
        loc="upper right",
        ncol=3,
        frameon=False,
        bbox_to_anchor=(1.0, 1.0 + 0.35 / figure.get_figheight()),
        fontsize=8,
    )


def prevalence_plot(rows: Sequence[HypothesisResult], title: str) -> str:
    """Prevalence (with CI) in the flagged group vs the others, per condition."""
    usable = [r for r in rows if "risk_exposed" in r.extra]
    figure, ax = plt.subplots(figsize=(8.5, 0.5 * len(usable) + 1.4))
    for y, row in enumerate(usable):
        e = row.extra
        for offset, key, colour in ((-0.17, "exposed", FM_COLOUR), (0.17, "other", OTHER_COLOUR)):
            value = 100 * e[f"risk_{key}"]
            low, high = (100 * v for v in e[f"risk_{key}_ci"])
            ax.barh(y + offset, value, height=0.32, color=colour, alpha=0.85)
            ax.plot([low, high], [y + offset] * 2, color="#222222", lw=1)
        verdict = row.verdict
        ax.text(
            101,
            y,
            f"{_effect_label(row)} · {verdict}",
            va="center",
            fontsize=8,
            color=VERDICT_COLOURS.get(verdict, "#333333"),
        )
    ax.set_yticks(range(len(usable)))
    ax.set_yticklabels([_wrap(r.outcome_label, 34) for r in usable])
    ax.invert_yaxis()
    ax.set_xlim(0, 125)
    ax.set_xticks([0, 20, 40, 60, 80, 100])
    ax.set_xlabel("Prevalence, % (95% CI)")
    group = _short(usable[0].exposure_label) if usable else "group"
    ax.legend(
        handles=[
            Rectangle((0, 0), 1, 1, color=FM_COLOUR, alpha=0.85, label=group),
            Rectangle((0, 0), 1, 1, color=OTHER_COLOUR, alpha=0.85, label="others"),
        ],
        loc="lower center",
        bbox_to_anchor=(0.45, 1.0),
        ncol=2,
        frameon=False,
    )
    ax.set_title(title, fontsize=10, loc="left", pad=22)
    return _svg(figure)


_SHORT_EFFECTS = {
    "adjusted odds ratio": "adj. OR",
    "odds ratio": "OR",
    "risk difference": "RD",
}


def _effect_label(row: HypothesisResult) -> str:
    """ "adj. OR 1.23", or "adj. OR – (separation)" as the table says when there is none."""
    name = _SHORT_EFFECTS.get(row.effect, row.effect)
    if row.status != "ok" or not math.isfinite(row.estimate):
        return f"{name} {MISSING} ({row.status.replace('_', ' ')})"
    decimals = interval_decimals(row.estimate, row.ci_low, row.ci_high, ratio=row.null_value == 1)
    return f"{name} {format_number(row.estimate, decimals)}"


def change_plot(rows: Sequence[HypothesisResult], title: str) -> str:
    """Left: mean change by group (raw). Right: adjusted difference (ANCOVA, IPW)."""
    figure, (left, right) = plt.subplots(
        1,
        2,
        figsize=(10, 0.55 * len(rows) + 1.6),
        sharey=True,
        gridspec_kw={"width_ratios": [1.1, 1]},
    )
    for y, row in enumerate(rows):
        groups = row.extra.get("groups", {})
        for offset, key, colour in (
            (-0.15, "exposed", FM_COLOUR),
            (0.15, "comparator", OTHER_COLOUR),
        ):
            g = groups.get(key)
            if not g or not math.isfinite(g.get("change_mean", math.nan)):
                continue
            low, high = g["change_ci"]
            left.plot([low, high], [y + offset] * 2, color=colour, lw=1.5)
            left.plot(g["change_mean"], y + offset, "o", color=colour, ms=5)
        colour = VERDICT_COLOURS.get(row.verdict, "#333333")
        if math.isfinite(row.estimate):
            right.plot([row.ci_low, row.ci_high], [y - 0.1] * 2, color=colour, lw=1.6)
            right.plot(row.estimate, y - 0.1, "o", color=colour, ms=5)
        ipw = row.sensitivity.get("ipw", {})
        if ipw and ipw.get("estimate") is not None and math.isfinite(ipw["estimate"]):
            right.plot([ipw["ci_low"], ipw["ci_high"]], [y + 0.15] * 2, color="#999999", lw=1.2)
            right.plot(ipw["estimate"], y + 0.15, "s", color="#999999", ms=4)
    left.axvline(0, color="#999999", lw=0.8, ls="--")
    right.axvline(0, color="#999999", lw=0.8, ls="--")
    left.set_yticks(range(len(rows)))
    left.set_yticklabels([_wrap(_short(r.exposure_label), 30) for r in rows])
    left.invert_yaxis()
    outcome = _short(rows[0].outcome_label) if rows else "score"
    left.set_xlabel(f"Mean change in {outcome} (95% CI)\nnegative = improvement")
    right.set_xlabel(
        "Adjusted difference vs comparator, points\n(ANCOVA ●, IPW ■; negative = more improvement)"
    )
    comparator = rows[0].extra.get("labels", {}).get("comparator", "comparator") if rows else ""
    left.legend(
        handles=[
            Line2D([], [], color=FM_COLOUR, marker="o", label="intervention group"),
            Line2D([], [], color=OTHER_COLOUR, marker="o", label=comparator),
        ],
        loc="lower center",
        bbox_to_anchor=(0.5, 1.0),
        ncol=2,
        frameon=False,
    )
    figure.suptitle(title, fontsize=10, x=0.02, ha="left", y=1.06)
    _verdict_legend(figure)
    return _svg(figure)


def roc_plot(rows: Sequence[HypothesisResult], title: str) -> str:
    """Cross-validated ROC curves: panel + covariates vs covariates alone, per target."""
    usable = [r for r in rows if r.extra.get("roc_full")]
    figure, axes = plt.subplots(
        1, max(len(usable), 1), figsize=(4.2 * max(len(usable), 1), 4.2), squeeze=False
    )
    for ax, row in zip(axes[0], usable, strict=False):
        e = row.extra
        full, base = e["roc_full"], e["roc_base"]
        ax.plot(
            [p[0] for p in base],
            [p[1] for p in base],
            color=OTHER_COLOUR,
            lw=1.6,
            label=f"covariates alone (AUC {e['auc_base']:.3f})",
        )
        ax.plot(
            [p[0] for p in full],
            [p[1] for p in full],
            color=FM_COLOUR,
            lw=1.8,
            label=f"+ biomarkers (AUC {e['auc_full']:.3f})",
        )
        ax.plot([0, 1], [0, 1], color="#bbbbbb", lw=0.8, ls="--")
        ax.set_xlabel("1 − specificity")
        ax.set_ylabel("sensitivity")
        ax.set_title(_wrap(_short(row.outcome_label), 40), fontsize=9)
        ax.legend(loc="lower right", fontsize=8, frameon=False)
        ax.set_aspect("equal")
    figure.suptitle(title, fontsize=10, x=0.02, ha="left")
    return _svg(figure)


def distributions_plot(distributions: dict[str, Any]) -> str:
    """Histograms of the main scores at baseline, by ACR 2016 status."""
    items = list(distributions.items())
    if not items:
        return ""
    columns = 4
    rows = math.ceil(len(items) / columns)
    figure, axes = plt.subplots(rows, columns, figsize=(11, 2.3 * rows), squeeze=False)
    for ax in axes.flat[len(items) :]:
        ax.set_visible(False)
    for ax, (_, entry) in zip(axes.flat, items, strict=False):
        edges = entry["edges"]
        centres = [(a + b) / 2 for a, b in itertools.pairwise(edges)]
        widths = [b - a for a, b in itertools.pairwise(edges)]
        if "fm" in entry:
            ax.bar(
                centres,
                entry["fm"],
                width=widths,
                color=FM_COLOUR,
                alpha=0.6,
                label="meets ACR 2016",
            )
            ax.bar(
                centres,
                entry["other"],
                width=widths,
                color=OTHER_COLOUR,
                alpha=0.6,
                label="does not",
            )
        else:
            ax.bar(centres, entry["all"], width=widths, color=FM_COLOUR, alpha=0.7)
        ax.set_title(entry["label"], fontsize=9)
        ax.set_yticks([])
    if axes.flat[0].get_legend_handles_labels()[1]:  # only the split histograms have labels
        axes.flat[0].legend(fontsize=7, frameon=False)
    figure.tight_layout()
    return _svg(figure)


def missingness_plot(missingness: list[dict[str, Any]]) -> str:
    """Share of item answers missing per instrument and visit."""
    if not missingness:
        return ""
    events = list(dict.fromkeys(m["event"] for m in missingness))
    instruments = list(dict.fromkeys(m["instrument"] for m in missingness))
    figure, ax = plt.subplots(figsize=(8.5, 0.32 * len(instruments) + 1.2))
    height = 0.8 / len(events)
    palette = ["#4575b4", "#d73027", "#91bfdb", "#fc8d59"]
    for k, event in enumerate(events):
        values = {
            m["instrument"]: m["item_missing_pct"] for m in missingness if m["event"] == event
        }
        ys = [i + (k - (len(events) - 1) / 2) * height for i in range(len(instruments))]
        ax.barh(
            ys,
            [values.get(i, 0.0) for i in instruments],
            height=height,
            color=palette[k % len(palette)],
            label=event,
        )
    ax.set_yticks(range(len(instruments)))
    ax.set_yticklabels(instruments)
    ax.invert_yaxis()
    ax.set_xlabel("Item answers missing, % (among rows of that visit)")
    ax.legend(frameon=False, fontsize=8)
    return _svg(figure)

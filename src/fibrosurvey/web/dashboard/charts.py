"""Dashboard pictures as inline SVG drawn on the server: no script, nothing from another
origin, no inline style (the CSP allows neither), only SVG presentation attributes.

Every chart carries a ``<title>`` and ``<desc>`` (its accessible name and summary) and the
numbers it draws as a table, which the page shows under the picture.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from datetime import date, timedelta

from django.utils.html import escape, format_html
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _

__all__ = ["Chart", "bar_chart", "cumulative_chart"]

# Distinguishable for common colour-vision deficiencies (Okabe-Ito), with a dash pattern
# each, so lines differ without colour too.
COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000"]
DASHES = ["", "6 3", "2 2", "8 3 2 3", "4 4", "1 3", "10 2"]
WIDTH, HEIGHT = 640, 260
LEFT, RIGHT, TOP, BOTTOM = 48, 170, 16, 36
MAX_SERIES = 7  # lines per chart; the legend holds this many


@dataclass
class Chart:
    key: str  # unique on the page: ids of title and desc
    title: str
    desc: str
    svg: SafeString
    headers: list[str] = field(default_factory=list)
    rows: list[list[str | int]] = field(default_factory=list)


def _svg(key: str, title: str, desc: str, body: str, height: int = HEIGHT) -> SafeString:
    head = format_html(
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}" role="img" '
        'aria-labelledby="{}-title {}-desc" class="chart-svg" font-size="12" '
        'font-family="system-ui, sans-serif">'
        '<title id="{}-title">{}</title><desc id="{}-desc">{}</desc>',
        WIDTH,
        height,
        key,
        key,
        key,
        title,
        key,
        desc,
    )
    # Safe: ``body`` is built below from numbers and escape()d labels only.
    return mark_safe(head + body + "</svg>")


def cumulative_chart(
    key: str, title: str, desc: str, per_day: dict[str, dict[date, int]], *, label: str
) -> Chart:
    """Running totals over days, one line per series; the table gives the counts per day.
    Past ``MAX_SERIES`` series the smallest are summed into one "others" line (a legend of
    twenty sites would not fit; the per-site table below the pictures has them all)."""
    if len(per_day) > MAX_SERIES:
        ranked = sorted(per_day, key=lambda name: -sum(per_day[name].values()))
        kept, rest = ranked[: MAX_SERIES - 1], ranked[MAX_SERIES - 1 :]
        others: dict[date, int] = {}
        for name in rest:
            for day, n in per_day[name].items():
                others[day] = others.get(day, 0) + n
        label_others = _("%(n)d others") % {"n": len(rest)}
        per_day = {name: per_day[name] for name in kept} | {label_others: others}
    days_seen = sorted({day for counts in per_day.values() for day in counts})
    headers = [label, *per_day]
    if not days_seen:
        body = format_html(
            '<text x="{}" y="{}" text-anchor="middle">{}</text>', WIDTH / 2, HEIGHT / 2, desc
        )
        return Chart(key, title, desc, _svg(key, title, desc, body), headers, [])
    first, last = days_seen[0], days_seen[-1]
    span = max((last - first).days, 1)
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    totals = {
        name: list(itertools.accumulate(counts.get(d, 0) for d in days))
        for name, counts in per_day.items()
    }
    top = max((t[-1] for t in totals.values()), default=0) or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM

    def x(day: date) -> float:
        return LEFT + plot_w * (day - first).days / span

    def y(value: int) -> float:
        return TOP + plot_h * (1 - value / top)

    parts = [
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#8a8f96"/>',
            LEFT,
            TOP + plot_h,
            LEFT + plot_w,
            TOP + plot_h,
        ),
        format_html(
            '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#8a8f96"/>',
            LEFT,
            TOP,
            LEFT,
            TOP + plot_h,
        ),
    ]
    for value in sorted({0, top // 2, top}):
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end">{}</text>', LEFT - 6, y(value) + 4, value
            )
        )
    for day in sorted({first, last}):
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="middle">{}</text>',
                x(day),
                HEIGHT - 12,
                day.isoformat(),
            )
        )
    for index, (name, running) in enumerate(totals.items()):
        colour, dash = COLOURS[index % len(COLOURS)], DASHES[index % len(DASHES)]
        if len(days) == 1:
            parts.append(
                format_html(
                    '<circle cx="{}" cy="{}" r="4" fill="{}"/>', x(first), y(running[0]), colour
                )
            )
        else:
            # A step line: the total holds until the next day's enrolments.
            points: list[str] = []
            for day, value in zip(days, running, strict=True):
                if points:
                    points.append(f"{x(day):.1f},{points[-1].split(',')[1]}")
                points.append(f"{x(day):.1f},{y(value):.1f}")
            parts.append(
                format_html(
                    '<polyline fill="none" stroke="{}" stroke-width="2" stroke-dasharray="{}" '
                    'points="{}"/>',
                    colour,
                    dash,
                    " ".join(points),
                )
            )
        legend_y = TOP + 8 + 18 * index
        parts.append(
            format_html(
                '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="{}" stroke-width="2" '
                'stroke-dasharray="{}"/><text x="{}" y="{}">{} ({})</text>',
                WIDTH - RIGHT + 12,
                legend_y,
                WIDTH - RIGHT + 36,
                legend_y,
                colour,
                dash,
                WIDTH - RIGHT + 42,
                legend_y + 4,
                name,
                running[-1],
            )
        )
    rows: list[list[str | int]] = [
        [day.isoformat(), *(per_day[name].get(day, 0) for name in per_day)]
        for day in days
        if any(per_day[name].get(day, 0) for name in per_day)
    ]
    rows.append([str(_("total")), *(totals[name][-1] for name in per_day)])
    return Chart(key, title, desc, _svg(key, title, desc, "".join(parts)), headers, rows)


def bar_chart(
    key: str,
    title: str,
    desc: str,
    bars: list[tuple[str, int, int | None]],
    *,
    headers: list[str],
) -> Chart:
    """Horizontal bars: (label, value, limit or None). With a limit the bar is drawn against
    it (quota fill); without, against the largest value (a funnel)."""
    row_h = 26
    height = TOP + row_h * max(len(bars), 1) + 8
    label_w, count_w = 250, 90
    plot_w = WIDTH - label_w - count_w
    top = max((limit or value for _label, value, limit in bars), default=0) or 1
    parts = []
    for index, (label, value, limit) in enumerate(bars):
        y0 = TOP + row_h * index
        scale = limit or top
        filled = plot_w * min(value, scale) / scale if scale else 0
        parts.append(
            format_html(
                '<text x="{}" y="{}" text-anchor="end">{}</text>', label_w - 8, y0 + 15, label
            )
        )
        if limit:
            parts.append(
                format_html(
                    '<rect x="{}" y="{}" width="{}" height="18" fill="#f4f6f8" stroke="#8a8f96"/>',
                    label_w,
                    y0 + 2,
                    plot_w,
                )
            )
        parts.append(
            format_html(
                '<rect x="{}" y="{}" width="{}" height="18" fill="{}"/>',
                label_w,
                y0 + 2,
                f"{filled:.1f}",
                COLOURS[0] if not limit or value < limit else COLOURS[1],
            )
        )
        shown = f"{value} / {limit}" if limit else str(value)
        parts.append(
            format_html(
                '<text x="{}" y="{}">{}</text>', label_w + plot_w + 8, y0 + 15, escape(shown)
            )
        )
    rows: list[list[str | int]] = [
        [label, value, *([limit] if limit is not None else [])] for label, value, limit in bars
    ]
    return Chart(key, title, desc, _svg(key, title, desc, "".join(parts), height), headers, rows)

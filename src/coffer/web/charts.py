"""Charts drawn on the server as SVG geometry: no JavaScript, nothing from a CDN, CSP-safe.

Each function returns plain numbers for a template (templates/web/charts/*.html) to place; the
same figures are also rendered as a table for screen readers and for people who want numbers.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from decimal import Decimal

from coffer.insights.selectors import MonthBalance, MonthFlow

WIDTH, HEIGHT = 640, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 28, 28, 22, 28


@dataclasses.dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    kind: str  # css hook: "in" or "out"
    label: str
    value: Decimal


@dataclasses.dataclass(frozen=True)
class Tick:
    x: float
    label: str


def _scale(values: Sequence[Decimal]) -> Decimal:
    top = max((abs(v) for v in values), default=Decimal("0"))
    return top if top > 0 else Decimal("1")


def _month_label(month) -> str:
    return month.strftime("%b") if month.month != 1 else month.strftime("%b %y")


def cashflow_bars(flows: Sequence[MonthFlow]) -> dict:
    """Two bars per month: income (up) and expenses, both from the same baseline."""
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    top = _scale([f.income for f in flows] + [f.expenses for f in flows])
    slot = plot_w / max(len(flows), 1)
    bar_w = slot * 0.36
    bars, ticks = [], []
    for i, flow in enumerate(flows):
        left = PAD_LEFT + i * slot + slot * 0.12
        for offset, kind, value in ((0, "in", flow.income), (bar_w, "out", flow.expenses)):
            height = float(value / top) * plot_h
            bars.append(Bar(x=round(left + offset, 1), y=round(PAD_TOP + plot_h - height, 1), width=round(bar_w, 1),
                            height=round(height, 1), kind=kind, label=flow.month.strftime("%B %Y"), value=value))
        ticks.append(Tick(x=round(PAD_LEFT + i * slot + slot / 2, 1), label=_month_label(flow.month)))
    return {"width": WIDTH, "height": HEIGHT, "bars": bars, "ticks": ticks, "baseline": PAD_TOP + plot_h,
            "label_y": HEIGHT - 8, "rows": flows, "top": top, "top_y": PAD_TOP - 8}


def balance_line(history: Sequence[MonthBalance]) -> dict:
    """A line through the end-of-month balances, with zero marked when the balance crosses it."""
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    values = [point.balance for point in history]
    low = min(min(values, default=Decimal("0")), Decimal("0"))
    high = max(max(values, default=Decimal("0")), Decimal("0"))
    span = (high - low) or Decimal("1")
    step = plot_w / max(len(history) - 1, 1)

    def y(value: Decimal) -> float:
        return round(PAD_TOP + plot_h - float((value - low) / span) * plot_h, 1)

    points = [(round(PAD_LEFT + i * step, 1), y(point.balance)) for i, point in enumerate(history)]
    ticks = [Tick(x=x, label=_month_label(point.month)) for (x, _), point in zip(points, history)]
    return {"width": WIDTH, "height": HEIGHT, "points": " ".join(f"{x},{y_}" for x, y_ in points),
            "dots": [{"x": x, "y": y_, "point": point} for (x, y_), point in zip(points, history)],
            "zero_y": y(Decimal("0")), "ticks": ticks, "label_y": HEIGHT - 8, "rows": history,
            "high": high, "low": low, "high_y": PAD_TOP - 8, "low_y": PAD_TOP + plot_h - 4}


# --- horizontal bars: spending by category ------------------------------------------

CATEGORY_BARS_MAX = 12  # the largest categories get a bar; the rest are added up as "Other"
BAR_ROW, BAR_THICKNESS, BAR_LABEL_W, BAR_VALUE_W = 30, 18, 190, 120
_LABEL_CHARS = 26


@dataclasses.dataclass(frozen=True)
class HBar:
    y: float
    width: float
    label: str  # shortened to fit; `name` is the whole name (the tooltip and the table)
    name: str
    value: Decimal
    color: str  # "#rrggbb" from the category, or "" for the stylesheet's colour
    text_y: float
    value_x: float


def _short(name: str) -> str:
    return name if len(name) <= _LABEL_CHARS else name[: _LABEL_CHARS - 1].rstrip() + "…"


def category_bars(lines: Sequence) -> dict:
    """One horizontal bar per category (objects with name, amount, color), largest on top; lines beyond
    CATEGORY_BARS_MAX are one "Other" bar. Amounts at or below zero (refunds outweighing spending) get
    no bar but keep their row and figure."""
    shown = list(lines[:CATEGORY_BARS_MAX])
    rest = list(lines[CATEGORY_BARS_MAX:])
    entries = [(line.name, line.amount, line.color) for line in shown]
    if rest:
        entries.append((f"Other ({len(rest)})", sum((line.amount for line in rest), Decimal("0")), ""))
    top = _scale([max(amount, Decimal("0")) for _, amount, _ in entries])
    plot_left = BAR_LABEL_W
    plot_w = WIDTH - BAR_LABEL_W - BAR_VALUE_W
    bars = []
    for i, (name, amount, color) in enumerate(entries):
        y = PAD_TOP / 2 + i * BAR_ROW
        width = float(max(amount, Decimal("0")) / top) * plot_w
        bars.append(HBar(y=round(y + (BAR_ROW - BAR_THICKNESS) / 2, 1), width=round(max(width, 0), 1),
                         label=_short(name), name=name, value=amount, color=color,
                         text_y=round(y + BAR_ROW / 2 + 4, 1), value_x=round(plot_left + max(width, 0) + 6, 1)))
    height = int(PAD_TOP + len(entries) * BAR_ROW)
    return {"width": WIDTH, "height": height, "bars": bars, "plot_left": plot_left, "label_x": plot_left - 8,
            "axis_top": PAD_TOP / 2, "axis_bottom": height - PAD_TOP / 2, "rows": list(lines),
            "total": sum((line.amount for line in lines), Decimal("0"))}

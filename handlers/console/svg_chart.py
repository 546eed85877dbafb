"""The Painel's chart, drawn on the server: stacked bars of codes issued per channel per day.

Only geometry here; painel.html writes the <svg> (autoescaped, no script, no CDN).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date

from token_core.vocabulary import CHAT_CHANNELS, Channel

WIDTH, HEIGHT = 900, 300
LEFT, RIGHT, TOP, BOTTOM = 48, 12, 12, 40
COLOURS = {
    Channel.SMS.value: "#0b6e99",
    Channel.EMAIL.value: "#7b5ea7",
    Channel.TELEGRAM.value: "#2aa3d8",
    Channel.WHATSAPP.value: "#25a244",
    Channel.APP.value: "#e08a00",
    Channel.SAB.value: "#b3261e",
}
NAMES = {
    Channel.SMS.value: "SMS",
    Channel.EMAIL.value: "E-mail",
    Channel.APP.value: "App",
    Channel.SAB.value: "SAB (telefone)",
    **{c.value: name for c, name in CHAT_CHANNELS.items()},
}


@dataclass(frozen=True, slots=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass(frozen=True, slots=True)
class Tick:
    y: float
    label: str


@dataclass(frozen=True, slots=True)
class DayLabel:
    x: float
    label: str
    total: int


@dataclass
class Chart:
    width: int = WIDTH
    height: int = HEIGHT
    left: int = LEFT
    baseline: float = HEIGHT - BOTTOM
    bars: list[Bar] = field(default_factory=list)
    ticks: list[Tick] = field(default_factory=list)
    days: list[DayLabel] = field(default_factory=list)
    legend: list[tuple[str, str]] = field(default_factory=list)  # (colour, name)
    empty: bool = True


def channel_name(channel: str) -> str:
    return NAMES.get(channel, channel)


def _scale_top(highest: int) -> int:
    """A round top for the y axis (1, 2, 5 × 10ⁿ) at or above the highest bar."""
    if highest <= 4:
        return max(highest, 1)
    magnitude = int(10 ** math.floor(math.log10(highest)))
    for step in (1, 2, 5, 10):
        if highest <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def codes_per_day(
    days: list[date], issued: dict[date, dict[str, int]], channels: list[str]
) -> Chart:
    chart = Chart()
    plot_w = WIDTH - LEFT - RIGHT
    plot_h = chart.baseline - TOP
    totals = [sum(issued.get(d, {}).get(c, 0) for c in channels) for d in days]
    top = _scale_top(max(totals, default=0))
    chart.empty = not any(totals)
    steps = top if top <= 5 else 5  # tops are 1, 2, 5 × 10ⁿ: whole steps
    chart.ticks = [
        Tick(chart.baseline - plot_h * i / steps, f"{top * i // steps}") for i in range(steps + 1)
    ]
    slot = plot_w / max(len(days), 1)
    bar_w = slot * 0.64
    for i, (day, total) in enumerate(zip(days, totals, strict=True)):
        x = LEFT + i * slot + (slot - bar_w) / 2
        chart.days.append(DayLabel(x + bar_w / 2, f"{day:%d/%m}", total))
        y = chart.baseline
        for channel in channels:
            n = issued.get(day, {}).get(channel, 0)
            if not n:
                continue
            h = plot_h * n / top
            y -= h
            title = f"{day:%d/%m}: {n} por {channel_name(channel)}"
            chart.bars.append(
                Bar(round(x, 1), round(y, 1), round(bar_w, 1), round(h, 1), _colour(channel), title)
            )
    chart.legend = [(_colour(c), channel_name(c)) for c in channels]
    return chart


def _colour(channel: str) -> str:
    return COLOURS.get(channel, "#66707f")

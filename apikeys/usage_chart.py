"""A key's usage as an inline SVG bar chart, for the key's page.

Server-rendered, no JavaScript and no external service; colours are SVG presentation
attributes (not ``style=``), so the page's CSP (no inline styles) is respected and a
stylesheet may still override them through the classes. Each bar carries a ``<title>``
(hover tooltip, read by screen readers).

The SVG scales with its card (``viewBox`` + ``width="100%"``). Text inside an SVG scales with
it, so the page gets two renderings, a wide and a narrow one, and the stylesheet shows the
one that fits (``usage_chart_context``): the labels stay readable from 390 px up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

REQUESTS_FILL = "#4a78c2"
ERRORS_FILL = "#d14b3f"
AXIS_FILL = "#545d68"
GRID_STROKE = "#e5e7eb"
FONT = 12


class BucketLike(Protocol):
    # Read-only, so that frozen dataclasses (usage.Bucket, DayBucket) match.
    @property
    def hour(self) -> datetime: ...

    @property
    def requests(self) -> int: ...

    @property
    def errors(self) -> int: ...


@dataclass(frozen=True)
class DayBucket:
    """Requests and errors of one UTC day (``hour``: its start, like an hourly bucket's)."""

    hour: datetime
    requests: int
    errors: int


@dataclass(frozen=True)
class ChartRange:
    key: str
    label: str
    days: int
    daily: bool  # one bar per UTC day (else one per hour)


RANGES = {
    "24h": ChartRange("24h", "24 hours", 1, daily=False),
    "7d": ChartRange("7d", "7 days", 7, daily=True),
    "30d": ChartRange("30d", "30 days", 30, daily=True),
}
DEFAULT_RANGE = "7d"


def _nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^k at or above ``value`` (a readable axis maximum)."""
    if value <= 1:
        return 1
    magnitude = 1
    while True:
        for step in (1, 2, 5):
            if step * magnitude >= value:
                return step * magnitude
        magnitude *= 10


def axis_ticks(peak: int) -> list[int]:
    """Whole-number ticks for an axis from 0 to ``peak`` (a nice ceiling): 0, the top, and
    the middle when it is a whole number (0/5/10, 0/1/2, never 0/0.5/1)."""
    ticks = [0, peak]
    if peak >= 2 and peak % 2 == 0:
        ticks.insert(1, peak // 2)
    return ticks


def _bucket_text(at: datetime, daily: bool) -> str:
    return f"{at:%Y-%m-%d} UTC" if daily else f"{at:%Y-%m-%d %H:00} UTC"


def _label(at: datetime, span: int, daily: bool) -> str:
    if daily:
        return at.strftime("%d %b")
    return at.strftime("%H:00") if span <= 24 else at.strftime("%d %b %H:00")


def render_usage_chart(
    buckets: Sequence[BucketLike],
    *,
    width: int = 720,
    height: int = 200,
    title: str = "API key usage",
    daily: bool = False,
    css_class: str = "",
) -> SafeString:
    """``<svg>`` markup for ``buckets`` (oldest first), safe to insert into a template.
    ``width``/``height`` are the drawing's units (its ``viewBox``): it fills its container."""
    left, right, top, bottom = 40, 8, 24, 24
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(buckets))
    total_requests = sum(b.requests for b in buckets)
    total_errors = sum(b.errors for b in buckets)
    peak = _nice_ceiling(max((max(b.requests, b.errors) for b in buckets), default=0))
    slot = plot_w / n
    bar = max(slot - (2 if slot > 6 else 1 if slot > 3 else 0), 0.5)
    summary = f"{title}: {total_requests} requests, {total_errors} errors"
    if buckets:
        summary += f" from {_bucket_text(buckets[0].hour, daily)} to {_bucket_text(buckets[-1].hour, daily)}"
    classes = f"usage-chart__svg {css_class}".strip()
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="{escape(classes)}" width="100%" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(summary)}">',
        f"<title>{escape(summary)}</title>",
        # Legend.
        f'<rect x="{left}" y="5" width="10" height="10" fill="{REQUESTS_FILL}" class="usage-chart__requests"/>',
        f'<text x="{left + 14}" y="14" font-size="{FONT}" fill="{AXIS_FILL}">requests</text>',
        f'<rect x="{left + 84}" y="5" width="10" height="10" fill="{ERRORS_FILL}" class="usage-chart__errors"/>',
        f'<text x="{left + 98}" y="14" font-size="{FONT}" fill="{AXIS_FILL}">errors</text>',
    ]
    # Horizontal grid with whole-number axis values.
    for value in axis_ticks(peak):
        y = top + plot_h * (1 - value / peak)
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID_STROKE}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="{FONT}" text-anchor="end" fill="{AXIS_FILL}" '
            f'class="usage-chart__tick">{value}</text>'
        )
    for i, b in enumerate(buckets):
        x = left + i * slot
        req_h = plot_h * b.requests / peak
        err_h = plot_h * b.errors / peak
        tip = f"{_bucket_text(b.hour, daily)}: {b.requests} requests, {b.errors} errors"
        parts.append(f"<g><title>{escape(tip)}</title>")
        # An invisible full-height target so the tooltip works on empty buckets too.
        parts.append(f'<rect x="{x:.2f}" y="{top}" width="{slot:.2f}" height="{plot_h}" fill="transparent"/>')
        if b.requests:
            parts.append(
                f'<rect x="{x:.2f}" y="{top + plot_h - req_h:.2f}" width="{bar:.2f}" height="{req_h:.2f}" '
                f'fill="{REQUESTS_FILL}" class="usage-chart__requests"/>'
            )
        if b.errors:
            parts.append(
                f'<rect x="{x:.2f}" y="{top + plot_h - err_h:.2f}" width="{bar:.2f}" height="{err_h:.2f}" '
                f'fill="{ERRORS_FILL}" class="usage-chart__errors"/>'
            )
        parts.append("</g>")
    if buckets:
        span = len(buckets)
        marks = sorted({0, span // 2, span - 1})
        for i in marks:
            anchor = "start" if i == 0 else ("end" if i == span - 1 else "middle")
            x = left + i * slot + (0 if anchor == "start" else slot if anchor == "end" else slot / 2)
            parts.append(
                f'<text x="{x:.1f}" y="{height - 6}" font-size="{FONT}" text-anchor="{anchor}" fill="{AXIS_FILL}">'
                f"{escape(_label(buckets[i].hour, span, daily))}</text>"
            )
    if total_requests == 0:
        parts.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" font-size="{FONT + 1}" text-anchor="middle" '
            f'fill="{AXIS_FILL}">No requests in this period</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703 - every interpolated text is escaped above


def _by_day(buckets: Sequence[BucketLike]) -> list[DayBucket]:
    days: dict[datetime, list[int]] = {}
    for b in buckets:
        day = datetime(b.hour.year, b.hour.month, b.hour.day, tzinfo=UTC)
        counts = days.setdefault(day, [0, 0])
        counts[0] += b.requests
        counts[1] += b.errors
    return [DayBucket(day, r, e) for day, (r, e) in sorted(days.items())]


def range_buckets(*, key_pk: int, chart_range: ChartRange, now: datetime | None = None) -> list[BucketLike]:
    """The range's buckets, oldest first: the last 24 hours hour by hour, or the last
    ``days`` UTC days (today included) day by day."""
    from apikeys.usage import usage_buckets

    if not chart_range.daily:
        return list(usage_buckets(key_pk=key_pk, hours=24))
    now = now or datetime.now(tz=UTC)
    hours = (chart_range.days - 1) * 24 + now.astimezone(UTC).hour + 1
    return list(_by_day(usage_buckets(key_pk=key_pk, hours=hours)))


def key_usage_chart(*, key_pk: int, hours: int = 24 * 7, **options: Any) -> SafeString:
    """The hourly chart of one key over the last ``hours``."""
    from apikeys.usage import usage_buckets

    return render_usage_chart(usage_buckets(key_pk=key_pk, hours=hours), **options)


def usage_chart_context(*, key_pk: int, range_key: str | None, title: str) -> dict[str, Any]:
    """What the key page's usage card shows for ``?range=``: the totals, the range links
    and the chart in a wide and a narrow rendering (the stylesheet shows one)."""
    chart_range = RANGES.get(range_key or "", RANGES[DEFAULT_RANGE])
    buckets = range_buckets(key_pk=key_pk, chart_range=chart_range)
    requests = sum(b.requests for b in buckets)
    errors = sum(b.errors for b in buckets)
    return {
        "range": chart_range,
        "ranges": [{"key": r.key, "label": r.label, "current": r is chart_range} for r in RANGES.values()],
        "requests": requests,
        "errors": errors,
        "error_rate": f"{100 * errors / requests:.1f}" if requests and errors else None,
        "wide": render_usage_chart(
            buckets, width=760, height=210, title=title, daily=chart_range.daily, css_class="usage-chart__svg--wide"
        ),
        "narrow": render_usage_chart(
            buckets, width=360, height=230, title=title, daily=chart_range.daily, css_class="usage-chart__svg--narrow"
        ),
    }

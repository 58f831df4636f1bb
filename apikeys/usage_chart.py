"""An inline SVG bar chart of a key's hourly usage, for the key's page.

Server-rendered, no JavaScript and no external service; colours are SVG presentation
attributes (not ``style=``), so the page's CSP (no inline styles) is respected and a
stylesheet may still override them through the classes. Each bar carries a ``<title>``
(hover tooltip, read by screen readers).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

REQUESTS_FILL = "#4a78c2"
ERRORS_FILL = "#d14b3f"
AXIS_FILL = "#6b7280"
GRID_STROKE = "#e5e7eb"


class BucketLike(Protocol):
    hour: datetime
    requests: int
    errors: int


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


def _label(at: datetime, span_hours: int) -> str:
    return at.strftime("%H:00") if span_hours <= 24 else at.strftime("%d %b %H:00")


def render_usage_chart(
    buckets: Sequence[BucketLike], *, width: int = 720, height: int = 180, title: str = "API key usage"
) -> SafeString:
    """``<svg>`` markup for ``buckets`` (oldest first), safe to insert into a template."""
    left, right, top, bottom = 48, 8, 22, 22
    plot_w, plot_h = width - left - right, height - top - bottom
    n = max(1, len(buckets))
    total_requests = sum(b.requests for b in buckets)
    total_errors = sum(b.errors for b in buckets)
    peak = _nice_ceiling(max((b.requests for b in buckets), default=0))
    slot = plot_w / n
    bar = max(slot - (1 if slot > 3 else 0), 0.5)
    summary = f"{title}: {total_requests} requests, {total_errors} errors"
    if buckets:
        summary += f" from {buckets[0].hour:%Y-%m-%d %H:00} to {buckets[-1].hour:%Y-%m-%d %H:00} UTC"
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="usage-chart" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" role="img" aria-label="{escape(summary)}">',
        f"<title>{escape(summary)}</title>",
        # Legend.
        f'<rect x="{left}" y="4" width="10" height="10" fill="{REQUESTS_FILL}" class="usage-chart__requests"/>',
        f'<text x="{left + 14}" y="13" font-size="11" fill="{AXIS_FILL}">requests</text>',
        f'<rect x="{left + 80}" y="4" width="10" height="10" fill="{ERRORS_FILL}" class="usage-chart__errors"/>',
        f'<text x="{left + 94}" y="13" font-size="11" fill="{AXIS_FILL}">errors</text>',
    ]
    # Horizontal grid with the axis values.
    for fraction in (0.0, 0.5, 1.0):
        y = top + plot_h * (1 - fraction)
        value = peak * fraction
        text = f"{value:g}" if value != int(value) else f"{int(value)}"
        parts.append(
            f'<line x1="{left}" y1="{y:.1f}" x2="{width - right}" y2="{y:.1f}" stroke="{GRID_STROKE}" stroke-width="1"/>'
        )
        parts.append(
            f'<text x="{left - 6}" y="{y + 4:.1f}" font-size="11" text-anchor="end" fill="{AXIS_FILL}">{text}</text>'
        )
    for i, b in enumerate(buckets):
        x = left + i * slot
        req_h = plot_h * b.requests / peak
        err_h = plot_h * min(b.errors, b.requests or b.errors) / peak
        tip = f"{b.hour:%Y-%m-%d %H:00} UTC: {b.requests} requests, {b.errors} errors"
        parts.append(f"<g><title>{escape(tip)}</title>")
        # An invisible full-height target so the tooltip works on empty hours too.
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
                f'<text x="{x:.1f}" y="{height - 6}" font-size="11" text-anchor="{anchor}" fill="{AXIS_FILL}">'
                f"{escape(_label(buckets[i].hour, span))}</text>"
            )
    if total_requests == 0:
        parts.append(
            f'<text x="{left + plot_w / 2:.1f}" y="{top + plot_h / 2:.1f}" font-size="12" text-anchor="middle" '
            f'fill="{AXIS_FILL}">No requests in this period</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))  # noqa: S308  # nosec B308 B703 - every interpolated text is escaped above


def key_usage_chart(*, key_pk: int, hours: int = 24 * 7, **options: object) -> SafeString:
    """The chart for one key over the last ``hours`` (for the key page's view)."""
    from apikeys.usage import usage_buckets

    return render_usage_chart(usage_buckets(key_pk=key_pk, hours=hours), **options)  # type: ignore[arg-type]

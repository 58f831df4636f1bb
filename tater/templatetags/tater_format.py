"""One way to show a moment in time, everywhere in the UI and in mail (``when_text``): ``{{ value|when }}`` renders
``<time datetime="…">Jan 15, 2026, 09:30 UTC</time>`` (the timezone always named), and
``{{ value|ago }}`` a relative time ("3 hours ago", "in 6 days") whose tooltip and
``datetime`` attribute carry the same absolute form."""

from __future__ import annotations

import re
from datetime import date, datetime

from django import template
from django.contrib.humanize.templatetags.humanize import naturaltime
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe

from tater.names import one_line

register = template.Library()

FORMAT = "M j, Y, H:i T"
SECONDS_FORMAT = "M j, Y, H:i:s T"
DATE_FORMAT = "M j, Y"


def when_text(value: datetime | date | None, precision: str = "") -> str:
    """The absolute form as plain text (for messages, titles and ``<option>`` labels);
    ``precision="seconds"`` adds the seconds (the Activity Log)."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return date_format(value, SECONDS_FORMAT if precision == "seconds" else FORMAT)
    return date_format(value, DATE_FORMAT)


@register.filter(is_safe=True)
def when(value: datetime | date | None, precision: str = "") -> str:
    if not value:  # None, or "" from a template
        return ""
    return format_html('<time datetime="{}">{}</time>', value.isoformat(), when_text(value, precision))


@register.filter(is_safe=True)
def ago(value: datetime | None) -> str:
    if not value:  # None, or "" from a template
        return ""
    text = when_text(value)
    return format_html('<time datetime="{}" title="{}">{}</time>', value.isoformat(), text, naturaltime(value))


register.filter("when_text", when_text)
register.filter("one_line", one_line)  # names in mail bodies (tater.names.one_line)


@register.filter(is_safe=True)
def breakable(value: str) -> str:
    """An identifier such as ``api_key.rotated`` that may wrap only after ``.`` or ``_``
    (never mid-word): a ``<wbr>`` after each."""
    parts = re.split(r"(?<=[._])", str(value))
    return format_html_join(mark_safe("<wbr>"), "{}", ((part,) for part in parts))  # noqa: S308  # nosec B308 - a constant tag; parts are escaped


_BROWSERS = (
    ("Edge", r"Edg(?:e|A|iOS)?/(\d+)"),
    ("Opera", r"OPR/(\d+)"),
    ("Chrome (headless)", r"HeadlessChrome/(\d+)"),
    ("Chrome", r"(?:Chrome|CriOS)/(\d+)"),
    ("Firefox", r"(?:Firefox|FxiOS)/(\d+)"),
    ("Safari", r"Version/(\d+(?:\.\d+)?).*Safari/"),
)
_SYSTEMS = (
    ("iOS", r"iPhone|iPad|iPod"),
    ("Android", r"Android"),
    ("ChromeOS", r"CrOS"),
    ("Windows", r"Windows"),
    ("macOS", r"Mac OS X|Macintosh"),
    ("Linux", r"Linux|X11"),
)


@register.filter
def browser(user_agent: str | None) -> str:
    """A user agent as a person reads it: "Firefox 121 on Windows", "curl 8.4.0"; the raw
    string (shortened) when it is not recognised."""
    ua = str(user_agent or "").strip()
    if not ua:
        return "Unknown browser"
    tool = re.match(r"(curl|Wget|python-requests|python-httpx|PostmanRuntime|tater-client)/([\w.]+)", ua)
    if tool:
        return f"{tool[1]} {tool[2]}"
    name = next(((label, m[1]) for label, pattern in _BROWSERS if (m := re.search(pattern, ua))), None)
    system = next((label for label, pattern in _SYSTEMS if re.search(pattern, ua)), None)
    if name is None:
        return ua if len(ua) <= 60 else ua[:59] + "…"
    return f"{name[0]} {name[1]}" + (f" on {system}" if system else "")

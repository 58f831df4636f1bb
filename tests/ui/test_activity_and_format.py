"""The Activity Log's filters (date inputs, every error at once and never together with
"No entries match"), action codes that wrap only at "." or "_", and the one date format."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from typing import Any

import pytest
from django.template import Context, Template
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_dates_are_date_inputs_and_filter_whole_days(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["admin"])
    page = client.get(reverse("activity_log")).content.decode()
    assert re.search(r'<input type="date" name="since"', page) and re.search(r'<input type="date" name="until"', page)
    today = date.today().isoformat()
    same_day = client.get(reverse("activity_log"), {"since": today, "until": today}).content.decode()
    assert "api_<wbr>key.<wbr>created" in same_day


def test_bad_filters_show_every_error_and_no_empty_state(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["admin"])
    response = client.get(reverse("activity_log"), {"since": "last tuesday", "actor": "bob", "until": "2026-13-01"})
    assert response.status_code == 200
    body = response.content.decode()
    summary = re.search(r'<div class="form-errors".*?</div>', body, re.S).group(0)
    assert "#id_since" in summary and "#id_until" in summary and "#id_actor" in summary
    assert "Enter an email address or a user id (usr-…)." in body
    assert "No entries match" not in body and "<table" not in body
    inverted = client.get(reverse("activity_log"), {"since": "2026-02-02", "until": "2026-02-01"}).content.decode()
    assert "“To” is before “From”" in inverted and "No entries match" not in inverted


def test_action_codes_break_only_between_words(world: dict[str, Any], client_for: Any) -> None:
    body = client_for(world["owner"]).get(reverse("activity_log")).content.decode()
    codes = re.findall(r'<code class="action-code">(.*?)</code>', body)
    assert codes and all(re.fullmatch(r"[a-z]+(_<wbr>[a-z]+)*(\.<wbr>[a-z]+(_<wbr>[a-z]+)*)+", c) for c in codes), codes


def test_one_date_format_with_timezone() -> None:
    moment = datetime(2026, 1, 15, 9, 30, 12, tzinfo=UTC)
    rendered = Template("{% load tater_format %}{{ t|when }} | {{ t|when:'seconds' }} | {{ t|when_text }}").render(
        Context({"t": moment})
    )
    assert rendered == (
        '<time datetime="2026-01-15T09:30:12+00:00">Jan 15, 2026, 09:30 UTC</time> | '
        '<time datetime="2026-01-15T09:30:12+00:00">Jan 15, 2026, 09:30:12 UTC</time> | Jan 15, 2026, 09:30 UTC'
    )
    ago = Template("{% load tater_format %}{{ t|ago }}").render(Context({"t": moment}))
    assert 'title="Jan 15, 2026, 09:30 UTC"' in ago


def test_pages_use_the_one_format(world: dict[str, Any], client_for: Any) -> None:
    client = client_for(world["owner"])
    detail = client.get(reverse("apikey_detail", args=[world["owner_key"].public_id])).content.decode()
    created = re.search(r"<dt>Created</dt><dd>(.*?)</dd>", detail).group(1)
    assert re.fullmatch(r'<time datetime="[^"]+">[A-Z][a-z]{2} \d{1,2}, \d{4}, \d\d:\d\d UTC</time>', created)
    members = client.get(reverse("members")).content.decode()
    assert re.search(r'data-label="Since"><time datetime="[^"]+">[A-Z][a-z]{2} \d{1,2}, \d{4}, \d\d:\d\d UTC', members)


def test_recovery_codes_can_be_copied_and_downloaded(rf: Any) -> None:
    from django.contrib.auth.models import AnonymousUser
    from django.template.loader import render_to_string

    request = rf.get("/accounts/2fa/recovery-codes/")
    request.user = AnonymousUser()
    codes = ["abcd-efgh-ijkl", "mnop-qrst-uvwx"]
    page = render_to_string("accounts/recovery_codes.html", {"codes": codes, "fresh_enrolment": True}, request)
    assert 'data-copy="#recovery-codes-text"' in page
    assert re.search(r'<pre id="recovery-codes-text"[^>]*>abcd-efgh-ijkl\nmnop-qrst-uvwx\n</pre>', page)
    assert 'download="tater-recovery-codes.txt"' in page
    assert 'href="data:text/plain;charset=utf-8,abcd-efgh-ijkl%0Amnop-qrst-uvwx%0A"' in page


@pytest.mark.parametrize(
    ("agent", "shown"),
    [
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
            "Chrome 120 on Windows",
        ),
        (
            "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 "
            "Safari/537.36 Edg/120.0.2210.91",
            "Edge 120 on Windows",
        ),
        (
            "Mozilla/5.0 (iPhone; CPU iPhone OS 17_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
            "Version/17.1 Mobile/15E148 Safari/604.1",
            "Safari 17.1 on iOS",
        ),
        ("Mozilla/5.0 (X11; Linux x86_64; rv:121.0) Gecko/20100101 Firefox/121.0", "Firefox 121 on Linux"),
        ("curl/8.4.0", "curl 8.4.0"),
        ("", "Unknown browser"),
    ],
)
def test_user_agents_read_as_browsers(agent: str, shown: str) -> None:
    from tater.templatetags.tater_format import browser

    assert browser(agent) == shown

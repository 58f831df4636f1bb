"""Found by an input review of the seed surfaces (2026-12-06), expectations from SPEC §3
("bad body: 400, names the failing field") and Tater's own JSON rule (a member named twice
is refused, I-JSON, tater.api.parsers):

Taffy's ``POST /auth/token`` takes form posts too, and a form naming a field twice
(``username=a@…&username=b@…``, ``password=…&password=…``) was read as its last value,
silently: the exchange ran for an account other than the one a proxy, a log or a reviewer
reading the first value saw. The same body as JSON is refused. The form is now refused
too, in Taffy's shape, naming the field, and no key is issued.
"""

from __future__ import annotations

import pytest

from apikeys.models import ApiKey
from tests.factories import PASSWORD, make_tenant
from tests.surfaces.test_taffy import URL, taffy_error

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("twice", ["username", "password"])
def test_a_form_naming_a_field_twice_is_refused_and_issues_no_key(api, twice):
    _, owner, _ = make_tenant()
    _, other, _ = make_tenant()
    values = {"username": (owner.email, other.email), "password": (PASSWORD, "wrong")}[twice]
    fields = [(twice, values[0]), (twice, values[1])]
    fields += [("username", other.email)] if twice == "password" else [("password", PASSWORD)]
    body = "&".join(f"{name}={value}" for name, value in fields)
    r = api.post(URL, body, content_type="application/x-www-form-urlencoded")
    assert any(twice in error for error in taffy_error(r, 400))
    assert not ApiKey.objects.exists()


def test_a_multipart_form_naming_a_field_twice_is_refused(api):
    _, owner, _ = make_tenant()
    boundary = "b0undary"
    parts = [("username", owner.email), ("username", "x@example.com"), ("password", PASSWORD)]
    raw = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n' for name, value in parts
    )
    r = api.generic("POST", URL, f"{raw}--{boundary}--\r\n", content_type=f"multipart/form-data; boundary={boundary}")
    assert any("username" in error for error in taffy_error(r, 400))
    assert not ApiKey.objects.exists()


def test_a_form_naming_each_field_once_still_works(api):
    _, owner, _ = make_tenant()
    r = api.post(URL, f"username={owner.email}&password={PASSWORD}", content_type="application/x-www-form-urlencoded")
    assert r.status_code == 200, r.content

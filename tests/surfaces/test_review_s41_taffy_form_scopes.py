"""Found by a seed-integrator review (2026-12-07, review D s41). Expectations from SPEC §2
("Limited (a chosen list)"; "a create without scopes gets the caller's own effective
permissions"), §2a ("keys only narrow") and docs/migrating-from-taffy.md, which offers
Taffy's ``POST /auth/token`` as JSON *or a form post* (``curl -F``, Postman's form-data)
with the optional field ``scopes``:

a form could not carry ``scopes`` in any spelling. One ``scopes=keys:read`` was refused
("Expected a list of items but got type str"), two (``-F scopes=a -F scopes=b``, how HTML
forms, curl and Postman send a list) as "named twice". A Taffy script posting a form could
only get a key with every permission of its owner: least privilege was out of its reach.
A form's ``scopes`` is now the list of its values (once or repeated); every other field is
still refused when named twice, and scopes are still capped by the owner's role.
"""

from __future__ import annotations

import pytest

from apikeys.models import ApiKey
from tests.factories import PASSWORD, make_tenant
from tests.surfaces.conftest import json_of
from tests.surfaces.test_taffy import URL, taffy_error

pytestmark = pytest.mark.django_db
FORM = "application/x-www-form-urlencoded"


def multipart(fields: list[tuple[str, str]]) -> tuple[str, str]:
    boundary = "b0undary"
    raw = "".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n' for name, value in fields
    )
    return f"{raw}--{boundary}--\r\n", f"multipart/form-data; boundary={boundary}"


def test_a_form_with_one_scope_gets_a_key_with_that_scope(api):
    _, owner, _ = make_tenant()
    r = api.post(URL, f"username={owner.email}&password={PASSWORD}&scopes=keys:read", content_type=FORM)
    data = json_of(r, 200)["data"]
    assert data["scopes"] == ["keys:read"]
    assert ApiKey.objects.get(public_id=data["id"]).scopes == ["keys:read"]


def test_a_form_repeating_scopes_gets_each_of_them(api):
    _, owner, _ = make_tenant()
    body = f"username={owner.email}&password={PASSWORD}&scopes=keys:read&scopes=scans:read"
    data = json_of(api.post(URL, body, content_type=FORM), 200)["data"]
    assert sorted(data["scopes"]) == ["keys:read", "scans:read"]


def test_curl_f_repeating_scopes_gets_each_of_them(api):
    _, owner, _ = make_tenant()
    body, content_type = multipart(
        [("username", owner.email), ("password", PASSWORD), ("scopes", "scans:read"), ("scopes", "audit:read")]
    )
    data = json_of(api.generic("POST", URL, body, content_type=content_type), 200)["data"]
    assert sorted(data["scopes"]) == ["audit:read", "scans:read"]


def test_an_unknown_scope_in_a_form_is_refused_by_name(api):
    _, owner, _ = make_tenant()
    r = api.post(URL, f"username={owner.email}&password={PASSWORD}&scopes=keys:read,scans:read", content_type=FORM)
    assert any(error.startswith("scopes") for error in taffy_error(r, 400))
    assert not ApiKey.objects.exists()


def test_other_fields_named_twice_are_still_refused(api):
    _, owner, _ = make_tenant()
    body = f"username={owner.email}&password={PASSWORD}&scopes=keys:read&name=a&name=b"
    assert any("name" in error for error in taffy_error(api.post(URL, body, content_type=FORM), 400))
    assert not ApiKey.objects.exists()


def test_the_json_exchange_is_unchanged(api):
    _, owner, _ = make_tenant()
    r = api.post(URL, {"username": owner.email, "password": PASSWORD, "scopes": ["scans:read"]}, format="json")
    assert json_of(r, 200)["data"]["scopes"] == ["scans:read"]
    r = api.post(URL, {"username": owner.email, "password": PASSWORD, "scopes": "scans:read"}, format="json")
    assert any(error.startswith("scopes") for error in taffy_error(r, 400))

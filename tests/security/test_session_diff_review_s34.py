"""Review of session 34's changes (git diff eb0172b..HEAD), expectations from the SPEC."""

from __future__ import annotations

import json

import pytest
from allauth.account.models import EmailAddress

from tests.accounts.test_sso_domain_escape import add_personal_address, member  # noqa: F401 - a fixture
from tests.security.test_protocol_review_s34 import call_wsgi

pytestmark = pytest.mark.django_db


# --- 1. A codec that is no text encoding at all (hex, base64, rot13...) --------------------------
# SPEC §3: "never a 500 for bad input". Python's codecs.lookup knows these names too; Django
# takes them for the request's encoding and decoding the query raises LookupError.


@pytest.mark.parametrize("charset", ["hex", "base64", "rot13", "zlib", "uu", "quopri"])
def test_a_bytes_codec_as_charset_never_escapes_the_application(world, charset):
    status, headers, body = call_wsgi(
        "/api/v1/keys/", "status=%61ctive", f"text/plain; charset={charset}", HTTP_X_API_KEY=world["owner_raw"]
    )
    assert status in (200, 415) and headers["Content-Type"].startswith("application/json"), (status, body[:300])


@pytest.mark.parametrize("charset", ["hex", "base64", "rot13"])
def test_a_bytes_codec_as_charset_on_a_json_body_is_never_a_500(api, world, charset):
    r = api.generic(
        "POST",
        "/api/v1/keys/",
        json.dumps({"name": "x"}),
        content_type=f"application/json; charset={charset}",
        HTTP_X_API_KEY=world["owner_raw"],
    )
    assert r.status_code < 500 and r["Content-Type"].startswith("application/json"), (r.status_code, r.content[:300])


# --- 2. HTTPS_REQUIRED is an API error code like the others ---------------------------------------
# SPEC §3: the error catalog; README: the API reference's catalog is generated from ERROR_CATALOG.
# The new 403 HTTPS_REQUIRED was answered by every JSON path in production, listed nowhere.


def test_the_https_refusal_is_in_the_error_catalog():
    from tater.api.catalog import ERROR_CATALOG

    assert ("HTTPS_REQUIRED", 403) in {(entry.code, entry.status) for entry in ERROR_CATALOG}


# --- 3. An unverified address of an SSO-required domain governs nothing ---------------------------
# README: "SSO required" applies to members "holding any verified address in its verified domains
# (such an address cannot be removed ...)". An address added but never confirmed (a typo) does not
# bring the requirement (sso_required counts verified addresses) and must stay removable.


def test_an_unverified_address_of_an_sso_domain_stays_removable(member):  # noqa: F811
    browser = add_personal_address(member)  # signed in, recently reauthenticated
    browser.post("/accounts/email/", {"action_add": "", "email": "kim.typo@corp.example"})
    assert not EmailAddress.objects.get(user=member, email="kim.typo@corp.example").verified
    browser.post("/accounts/email/", {"action_remove": "", "email": "kim.typo@corp.example"})
    assert not EmailAddress.objects.filter(user=member, email="kim.typo@corp.example").exists()


# --- 4. The admin's email address pages are a channel too ----------------------------------------
# SPEC §7 / docs/accounts.md: an account's addresses added, verified, made primary or removed are
# audited (user.email_changed). allauth's EmailAddress admin (registered as it comes) wrote them
# with no entry: an operator could give an account a verified address (which then owns a new
# tenant, gets a role in the admin, resets the password with it) and nothing recorded it.


def test_an_address_added_in_the_admin_is_audited():
    from audit.models import AuditEvent
    from tests.factories import UserFactory
    from tests.operators.test_admin_sessions_groups import superuser_in_admin

    person = UserFactory(email="sam@acme.test")
    admin = superuser_in_admin()
    r = admin.post(
        "/admin/account/emailaddress/add/",
        {"user": person.pk, "email": "ceo@globex.test", "verified": "on"},
    )
    assert r.status_code == 302, r.content[:500]
    entry = AuditEvent.objects.get(action="user.email_changed", target_id=person.public_id)
    assert entry.channel == "admin" and "ceo@globex.test" in json.dumps(entry.changes)


def test_an_address_removed_in_the_admin_is_audited():
    from audit.models import AuditEvent
    from tests.factories import UserFactory
    from tests.operators.test_admin_sessions_groups import superuser_in_admin

    person = UserFactory(email="sam@acme.test")
    extra = EmailAddress.objects.create(user=person, email="sam@old.test", verified=True)
    admin = superuser_in_admin()
    r = admin.post(f"/admin/account/emailaddress/{extra.pk}/delete/", {"post": "yes"})
    assert r.status_code == 302
    entry = AuditEvent.objects.get(action="user.email_changed", target_id=person.public_id)
    assert entry.channel == "admin" and "sam@old.test" in json.dumps(entry.changes)


# --- 5. A second charset parameter --------------------------------------------------------------
# Django reads a Content-Type's parameters into a dict: of two charsets the last one counts. The
# WSGI wrapper took off only the first, so a harmless first charset let the second through.


@pytest.mark.parametrize(
    "content_type",
    [
        "text/plain; charset=utf-8; charset=punycode",
        "text/plain; charset=utf-8; charset=hex",
        "text/plain; charset=punycode; charset=undefined",
    ],
)
def test_a_second_charset_never_escapes_the_application(world, content_type):
    status, headers, body = call_wsgi(
        "/api/v1/keys/", "status=%7B%FF=", content_type, HTTP_X_API_KEY=world["owner_raw"]
    )
    assert status in (200, 400, 415) and headers["Content-Type"].startswith("application/json"), (status, body[:300])


def test_a_second_charset_on_a_page_never_escapes_the_application(db):
    status, _, body = call_wsgi("/accounts/login/", "next=%7B%FF=", "text/plain; charset=utf-8; charset=idna")
    assert status == 200, body[:300]


@pytest.mark.parametrize(
    "content_type", ["text/plain; charset*=utf-8''punycode", "text/plain; charset=utf-8; charset*=UTF-8''%68ex"]
)
def test_an_extended_charset_parameter_never_escapes_the_application(world, content_type):
    # RFC 2231's charset*= names the charset too (Django reads it).
    status, headers, body = call_wsgi(
        "/api/v1/keys/", "status=%7B%FF=", content_type, HTTP_X_API_KEY=world["owner_raw"]
    )
    assert status == 415 and headers["Content-Type"].startswith("application/json"), (status, body[:300])

"""SPEC §10 (admin: keys with no secrets and a revoke action). Every field of a key's admin
page is read-only and saving writes nothing (test_review_s37_key_change_page), yet the page
offered Save buttons and answered "was changed successfully": an operator who believed they
had changed a key was told so (review A s41 noticed it)."""

from __future__ import annotations

import pytest

from tests.factories import make_key, make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin

pytestmark = pytest.mark.django_db


def test_the_read_only_key_page_offers_no_save_and_says_nothing_was_saved() -> None:
    admin = superuser_in_admin()
    tenant, owner, (org,) = make_tenant(name="Acme")
    key, _ = make_key(user=owner, tenant=tenant, org=org, name="SIEM enrichment")
    page = f"/admin/apikeys/apikey/{key.pk}/change/"
    html = admin.get(page).content.decode()
    assert "SIEM enrichment" in html
    assert 'name="_save"' not in html and 'name="_continue"' not in html and 'name="_addanother"' not in html
    r = admin.post(page, {"_save": "Save"}, follow=True)
    text = r.content.decode()
    assert "changed successfully" not in text
    assert "Nothing was saved" in text

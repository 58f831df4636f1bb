"""Review s47 (SPEC §8: SSO through SAML; §9 tenant settings): an owner replacing the IdP signing
certificate on the SSO settings page was told "Changed by someone else since this page was
opened" although nobody had changed it. The certificate saved through the service (the admin, a
command, an older save) is kept as given: PEM ends with a newline and its lines with LF, while
what the page posts back of the value it showed has its ends stripped and, from a browser, CRLF
line breaks (browsers send every line break of a form as CRLF). The two never matched, so the
page took the stored certificate for one changed meanwhile. A certificate really changed by
someone else since the page was opened is still refused."""

from __future__ import annotations

import html
import re
from typing import Any

import pytest
from django.test import Client

from accounts import sso
from accounts.models import TenantSSOConfig
from orgs import services as org_services
from tests.accounts.saml_idp import make_keypair
from tests.factories import make_tenant
from tests.operators.test_admin_sessions_groups import superuser_in_admin
from tests.ui.test_review_s38_stale_tenant_settings import _Form

pytestmark = pytest.mark.django_db

SAML = {
    "protocol": "saml",
    "idp_entity_id": "https://idp.acme.test/saml",
    "idp_sso_url": "https://idp.acme.test/saml/sso",
}
REFUSAL = "changed by someone else since this page was opened"


def as_a_browser_posts(body: str, action: str = "") -> dict[str, str]:
    """The page's settings form as a browser submits it: textareas included, and every line
    break of every value sent as CRLF (the HTML form serialisation)."""
    data = _Form(body, action).data
    for name, value in re.findall(r'<textarea[^>]*name="([^"]+)"[^>]*>(.*?)</textarea>', body, re.DOTALL):
        data[name] = html.unescape(value).lstrip("\n")
    return {name: re.sub(r"\r\n|\r|\n", "\r\n", value) for name, value in data.items()}


def saved_through_the_service(certificate: str) -> tuple[Any, Any, Client, str]:
    tenant, owner, _ = make_tenant(name="Acme")
    sso.sso_config_save(tenant=tenant, actor=None, values={**SAML, "idp_x509_cert": certificate})
    tab = Client()
    tab.force_login(owner)
    return tenant, owner, tab, f"/accounts/sso/?tenant={tenant.public_id}"


@pytest.mark.parametrize(
    "stored",
    [
        pytest.param(lambda pem: pem, id="PEM as downloaded"),
        pytest.param(lambda pem: pem.replace("\n", "\r\n"), id="PEM with CRLF"),
        pytest.param(lambda pem: pem.strip(), id="PEM without its last newline"),
    ],
)
def test_the_owner_replaces_a_certificate_saved_through_the_service(stored: Any) -> None:
    tenant, _owner, tab, url = saved_through_the_service(stored(make_keypair().cert_pem))
    rolled = make_keypair("idp2.acme.test").cert_pem

    answer = tab.post(url, {**as_a_browser_posts(tab.get(url).content.decode()), "idp_x509_cert": rolled})

    assert REFUSAL not in html.unescape(answer.content.decode()).lower()
    assert answer.status_code == 302
    saved = TenantSSOConfig.objects.get(tenant=tenant)
    assert sso_subject(saved.idp_x509_cert) == "CN=idp2.acme.test"


def test_another_setting_saves_beside_it_and_the_certificate_stays() -> None:
    first = make_keypair().cert_pem
    tenant, _owner, tab, url = saved_through_the_service(first)

    answer = tab.post(url, {**as_a_browser_posts(tab.get(url).content.decode()), "default_role": "viewer"})

    assert answer.status_code == 302
    saved = TenantSSOConfig.objects.get(tenant=tenant)
    assert saved.default_role == "viewer" and sso_subject(saved.idp_x509_cert) == "CN=idp.acme.test"


def test_a_certificate_really_changed_meanwhile_is_still_refused() -> None:
    tenant, owner, tab, url = saved_through_the_service(make_keypair().cert_pem)
    co_owner = make_tenant(name="Other")[1]
    org_services.tenant_member_set(tenant=tenant, user=co_owner, role="owner")
    data = as_a_browser_posts(tab.get(url).content.decode())
    sso.sso_config_save(tenant=tenant, actor=co_owner, values={"idp_x509_cert": make_keypair("co.acme.test").cert_pem})

    answer = tab.post(url, {**data, "idp_x509_cert": make_keypair("mine.acme.test").cert_pem})

    assert answer.status_code == 400
    assert REFUSAL in html.unescape(answer.content.decode()).lower()
    assert sso_subject(TenantSSOConfig.objects.get(tenant=tenant).idp_x509_cert) == "CN=co.acme.test"
    # Having seen it, the owner saves again: now it is their decision.
    again = tab.post(url, {**as_a_browser_posts(answer.content.decode()), "idp_x509_cert": make_keypair("m2").cert_pem})
    assert again.status_code == 302
    assert sso_subject(TenantSSOConfig.objects.get(tenant=tenant).idp_x509_cert) == "CN=m2"


def test_the_admin_replaces_a_certificate_saved_through_the_service() -> None:
    tenant, _owner, _tab, _url = saved_through_the_service(make_keypair().cert_pem)
    config = TenantSSOConfig.objects.get(tenant=tenant)
    operator = superuser_in_admin()
    url = f"/admin/accounts/tenantssoconfig/{config.pk}/change/"
    data = as_a_browser_posts(operator.get(url).content.decode())

    answer = operator.post(url, {**data, "idp_x509_cert": make_keypair("idp3.acme.test").cert_pem})

    assert REFUSAL not in html.unescape(answer.content.decode()).lower()
    assert answer.status_code == 302
    assert sso_subject(TenantSSOConfig.objects.get(tenant=tenant).idp_x509_cert) == "CN=idp3.acme.test"


def sso_subject(pem: str) -> str:
    from cryptography import x509

    return x509.load_pem_x509_certificate(pem.strip().encode()).subject.rfc4514_string()

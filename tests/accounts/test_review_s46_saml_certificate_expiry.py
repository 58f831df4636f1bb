"""Review s46 (SPEC §8: SSO through SAML; §9: tenant settings): an IdP's signing certificate
expires (Entra ID's after about three years) and from that day every SAML sign-in of the tenant
fails at the signature check. The settings page never showed which certificate was saved nor
until when it is valid, so the owner learnt of it from locked-out members. The page now shows the
saved certificate's subject and expiry date, with a visible warning when it expires within 30
days or has expired."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from django.test import Client

from accounts import sso
from tests.accounts import saml_idp
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


def certificate(*, valid_for: dt.timedelta, common_name: str = "Microsoft Azure Federated SSO Certificate") -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = saml_idp.subject(common_name)
    return saml_idp.self_signed(key, name, issued_ago=dt.timedelta(days=1000), valid_for=valid_for)


def settings_page(cert: str) -> str:
    tenant, owner, _ = make_tenant(name="Acme")
    sso.sso_config_save(
        tenant=tenant,
        actor=owner,
        values={
            "protocol": "saml",
            "idp_entity_id": "https://idp.acme.test/saml",
            "idp_sso_url": "https://idp.acme.test/saml/sso",
            "idp_x509_cert": cert,
        },
    )
    browser = Client()
    browser.force_login(owner)
    answer = browser.get(f"/accounts/sso/?tenant={tenant.public_id}")
    assert answer.status_code == 200
    return answer.content.decode()


def alerts(body: str) -> list[str]:
    return [re.sub(r"<[^>]+>", "", text) for text in re.findall(r'role="alert"[^>]*>(.*?)</p>', body, re.DOTALL)]


def day(delta: dt.timedelta) -> str:
    return (dt.datetime.now(dt.UTC) + delta).strftime("%Y-%m-%d")


def test_a_certificate_valid_for_years_shows_its_subject_and_expiry_without_warning() -> None:
    body = settings_page(certificate(valid_for=dt.timedelta(days=1000)))

    assert "Microsoft Azure Federated SSO Certificate" in body
    assert day(dt.timedelta(days=1000)) in body
    assert not [text for text in alerts(body) if "certificate" in text.lower()]


def test_a_certificate_expiring_within_30_days_is_warned_of() -> None:
    body = settings_page(certificate(valid_for=dt.timedelta(days=12)))

    warning = " ".join(text for text in alerts(body) if "certificate" in text.lower())
    assert "expires" in warning and day(dt.timedelta(days=12)) in warning, alerts(body)


def test_an_expired_certificate_is_warned_of() -> None:
    body = settings_page(certificate(valid_for=dt.timedelta(days=-3)))

    warning = " ".join(text for text in alerts(body) if "certificate" in text.lower())
    assert "expired" in warning and day(dt.timedelta(days=-3)) in warning, alerts(body)


def test_a_stored_value_that_is_no_certificate_is_warned_of() -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    config = sso.sso_config_save(
        tenant=tenant,
        actor=owner,
        values={
            "protocol": "saml",
            "idp_entity_id": "https://idp.acme.test/saml",
            "idp_sso_url": "https://idp.acme.test/saml/sso",
            "idp_x509_cert": certificate(valid_for=dt.timedelta(days=400)),
        },
    )
    type(config).objects.filter(pk=config.pk).update(idp_x509_cert="stored before the check")
    browser = Client()
    browser.force_login(owner)

    body = browser.get(f"/accounts/sso/?tenant={tenant.public_id}").content.decode()

    assert any("cannot be read" in text for text in alerts(body)), alerts(body)


def test_the_admin_change_page_shows_the_expiry_and_warns() -> None:
    from tests.operators.test_admin_sessions_groups import superuser_in_admin

    tenant, owner, _ = make_tenant(name="Acme")
    config = sso.sso_config_save(
        tenant=tenant,
        actor=owner,
        values={
            "protocol": "saml",
            "idp_entity_id": "https://idp.acme.test/saml",
            "idp_sso_url": "https://idp.acme.test/saml/sso",
            "idp_x509_cert": certificate(valid_for=dt.timedelta(days=5)),
        },
    )

    body = superuser_in_admin().get(f"/admin/accounts/tenantssoconfig/{config.pk}/change/").content.decode()

    assert "Microsoft Azure Federated SSO Certificate" in body
    assert day(dt.timedelta(days=5)) in body and "expires" in body

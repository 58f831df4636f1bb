"""Review s47 (SPEC §7: each entry records "what changed"; §8 SAML; §2 spirit: no secret in an
audit entry): a change of the IdP signing certificate was recorded as the full PEM text before
and after, in an entry every admin of the tenant reads (Activity Log, CSV export, API): a block of
base64 nobody compares by eye, and for a private key stored before the check (replaced, or the
configuration deleted) the private key itself, in an append-only log that cannot be redacted.
Decision: the entry records what an owner compares with their IdP, as GitHub does: the
certificate's SHA-256 fingerprint (of its DER), subject and expiry; never the text, and a private
key only as "a private key, not recorded"."""

from __future__ import annotations

import json
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from accounts import sso
from accounts.models import TenantSSOConfig
from audit.models import AuditEvent
from tests.accounts.saml_idp import make_keypair
from tests.accounts.test_review_s47_certificate_change_not_refused import SAML
from tests.accounts.test_review_s47_private_key_replaced import stored_private_key
from tests.factories import make_tenant

pytestmark = pytest.mark.django_db


def entries(tenant: Any) -> list[dict[str, Any]]:
    return [e.changes for e in AuditEvent.objects.filter(tenant=tenant, action="tenant.updated").order_by("pk")]


def fingerprint(pem: str) -> str:
    return x509.load_pem_x509_certificate(pem.encode()).fingerprint(hashes.SHA256()).hex(":").upper()


def base64_lines(pem: str) -> list[str]:
    return [line for line in pem.splitlines() if "-----" not in line]


def test_a_certificate_change_records_fingerprint_subject_and_expiry_not_the_text() -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    first, second = make_keypair("idp.acme.test").cert_pem, make_keypair("idp2.acme.test").cert_pem
    sso.sso_config_save(tenant=tenant, actor=owner, values={**SAML, "idp_x509_cert": first})
    sso.sso_config_save(tenant=tenant, actor=owner, values={"idp_x509_cert": second})

    created, changed = entries(tenant)[-2:]
    recorded = json.dumps([created, changed])
    assert not any(line in recorded for line in base64_lines(first) + base64_lines(second))
    change = changed["sso"]["idp_x509_cert"]
    assert change["from"]["sha256"] == fingerprint(first) and change["to"]["sha256"] == fingerprint(second)
    assert change["to"]["subject"] == "CN=idp2.acme.test"
    expires = x509.load_pem_x509_certificate(second.encode()).not_valid_after_utc
    assert change["to"]["expires"].startswith(expires.strftime("%Y-%m-%d"))


def test_the_same_certificate_saved_again_records_nothing() -> None:
    tenant, owner, _ = make_tenant(name="Acme")
    pem = make_keypair().cert_pem
    sso.sso_config_save(tenant=tenant, actor=owner, values={**SAML, "idp_x509_cert": pem})
    before = len(entries(tenant))
    sso.sso_config_save(tenant=tenant, actor=owner, values={"idp_x509_cert": pem.replace("\n", "\r\n") + "\n"})
    assert len(entries(tenant)) == before


def test_a_stored_private_key_never_reaches_an_audit_entry() -> None:
    tenant, owner, key = stored_private_key()
    sso.sso_config_save(tenant=tenant, actor=owner, values={"idp_x509_cert": make_keypair("new.test").cert_pem})
    TenantSSOConfig.objects.filter(tenant=tenant).update(idp_x509_cert=key)
    sso.sso_config_delete(config=TenantSSOConfig.objects.get(tenant=tenant), actor=owner)

    recorded = json.dumps(entries(tenant))
    assert "PRIVATE KEY" not in recorded
    assert not any(line in recorded for line in base64_lines(key))
    assert "private key" in recorded.lower()

"""What a tenant's SSO configuration takes as its IdP signing certificate, on every channel
(the owner's settings page, the Django admin, a direct call of ``accounts.sso.sso_config_save``).

One certificate, as PEM or its base64 body alone (as in IdP metadata): what python3-saml reads.
Any other text would be saved and then fail every SAML sign-in at the signature check, far from
where it was typed; a private key is never stored (nor sent back into a page).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes

FIELD = "idp_x509_cert"
EXPIRY_WARNING_DAYS = 30  # the settings page warns this long before the saved one expires
PEM_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----([A-Za-z0-9+/=\s]+)-----END CERTIFICATE-----")
BASE64_BODY = re.compile(r"[A-Za-z0-9+/=\s]+")
NOT_A_CERTIFICATE = (
    "This is not a certificate. Paste the IdP's signing certificate: the text from "
    "-----BEGIN CERTIFICATE----- to -----END CERTIFICATE----- (Entra ID: Certificate (Base64); "
    "Okta: the signing certificate download), or its base64 body alone, as in the IdP's metadata."
)
PRIVATE_KEY = (
    "This is a private key: it stays with your identity provider. Paste its signing certificate "
    "(-----BEGIN CERTIFICATE----- …) instead."
)


def normalise(value: str) -> str:
    """The certificate text as stored and compared: its ends stripped and its line breaks LF. A
    PEM file ends with a newline and a browser posts every line break as CRLF, so the same
    certificate would otherwise read as a different one (a false "changed meanwhile")."""
    return "\n".join((value or "").strip().splitlines())


def is_private_key(value: str) -> bool:
    return "PRIVATE KEY" in value


def load(value: str) -> x509.Certificate | None:
    """The certificate ``value`` holds, or None when it holds anything else."""
    value = value.strip()
    pem = PEM_CERTIFICATE.fullmatch(value)
    body = pem.group(1) if pem else value if BASE64_BODY.fullmatch(value) else None
    if body is None:
        return None
    try:
        return x509.load_der_x509_certificate(base64.b64decode("".join(body.split()), validate=True))
    except (binascii.Error, ValueError):
        return None


def problem(value: str, *, saml: bool, stored: str = "") -> str | None:
    """Why ``value`` cannot be saved as the signing certificate (None: it can). Empty is the
    missing-field check's; a value left as stored is not checked again (other settings still
    save beside one stored before this check); a private key is refused on either protocol."""
    value = normalise(value)
    if not value or value == normalise(stored):
        return None
    if is_private_key(value):
        return PRIVATE_KEY
    if saml and load(value) is None:
        return NOT_A_CERTIFICATE
    return None


def audit_summary(value: str) -> dict[str, str] | str:
    """What an audit entry records of a signing certificate (review s47): what an owner compares
    with their IdP, never the text: its SHA-256 fingerprint (of the DER, as GitHub shows it),
    subject and expiry. A private key only as such; other text by the digest of its text."""
    value = normalise(value)
    if not value:
        return ""
    if is_private_key(value):
        return "(a private key, not recorded)"
    cert = load(value)
    if cert is None:
        return {"not_a_certificate_sha256": hashlib.sha256(value.encode()).hexdigest()}
    return {
        "sha256": cert.fingerprint(hashes.SHA256()).hex(":").upper(),
        "subject": cert.subject.rfc4514_string(),
        "expires": cert.not_valid_after_utc.isoformat(),
    }


@dataclass(frozen=True)
class Saved:
    """What the settings page says of the saved signing certificate. Its dates are not checked
    at sign-in (python3-saml verifies the signature with its key), but IdPs replace the key when
    it expires (Entra ID's after about three years): from then every SAML sign-in fails."""

    subject: str
    expires: dt.datetime
    days_left: int  # negative once expired

    @property
    def expired(self) -> bool:
        return self.days_left < 0

    @property
    def expires_soon(self) -> bool:
        return 0 <= self.days_left <= EXPIRY_WARNING_DAYS


def describe(value: str, *, now: dt.datetime | None = None) -> Saved | None:
    """The saved certificate's subject and expiry (None: it holds no certificate)."""
    cert = load(value or "")
    if cert is None:
        return None
    expires = cert.not_valid_after_utc
    left = expires - (now or dt.datetime.now(dt.UTC))
    return Saved(subject=cert.subject.rfc4514_string() or "(no subject)", expires=expires, days_left=left.days)

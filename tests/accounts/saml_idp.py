"""A SAML 2.0 identity provider played by the tests: a per-run RSA key and self-signed
X.509 certificate, reading the SP's AuthnRequest from the HTTP-Redirect binding and
building Responses (signed assertion, xmlsec through python3-saml) for the HTTP-POST binding."""

from __future__ import annotations

import base64
import datetime as dt
import uuid
import zlib
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlparse
from xml.sax.saxutils import escape, quoteattr

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from lxml import etree
from onelogin.saml2.utils import OneLogin_Saml2_Utils

NS_SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
NS_SAMLP = "urn:oasis:names:tc:SAML:2.0:protocol"


@dataclass
class KeyPair:
    key_pem: str
    cert_pem: str


def self_signed(
    key: rsa.RSAPrivateKey,
    name: x509.Name,
    *,
    issued_ago: dt.timedelta = dt.timedelta(days=1),
    valid_for: dt.timedelta = dt.timedelta(days=30),
) -> str:
    """A PEM certificate of ``key`` for ``name``, issued ``issued_ago`` and valid until
    ``valid_for`` from now (negative: expired that long ago)."""
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - issued_ago)
        .not_valid_after(now + valid_for)
        .sign(key, hashes.SHA256())
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def subject(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def make_keypair(common_name: str = "idp.acme.test") -> KeyPair:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return KeyPair(
        key_pem=key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        ).decode(),
        cert_pem=self_signed(key, subject(common_name)),
    )


@dataclass
class AuthnRequest:
    id: str
    acs_url: str
    sp_entity_id: str


def _instant(at: dt.datetime) -> str:
    return at.strftime("%Y-%m-%dT%H:%M:%SZ")


class SAMLIdP:
    entity_id = "https://idp.acme.test/saml/metadata"
    sso_url = "https://idp.acme.test/saml/sso"

    def __init__(self) -> None:
        self.keys = make_keypair()

    @staticmethod
    def read_request(location: str) -> AuthnRequest:
        """The AuthnRequest an SP redirected the browser with (HTTP-Redirect: deflate + base64)."""
        query = parse_qs(urlparse(location).query)
        xml = zlib.decompress(base64.b64decode(query["SAMLRequest"][0]), -15)
        root = etree.fromstring(xml)
        issuer = root.find(f"{{{NS_SAML}}}Issuer")
        return AuthnRequest(
            id=root.get("ID"),
            acs_url=root.get("AssertionConsumerServiceURL"),
            sp_entity_id=issuer.text if issuer is not None else "",
        )

    def response(
        self,
        request: AuthnRequest | None,
        *,
        name_id: str,
        attributes: dict[str, str],
        acs_url: str | None = None,
        audience: str | None = None,
        issued_at: dt.datetime | None = None,
        lifetime: dt.timedelta = dt.timedelta(minutes=5),
        sign: bool = True,
        keys: KeyPair | None = None,
        assertion_id: str | None = None,
    ) -> str:
        """A Response with one Assertion, its assertion signed (by ``keys``, default the
        IdP's own). ``request=None`` makes an unsolicited (IdP-initiated) response."""
        acs = acs_url or (request.acs_url if request else "")
        now = issued_at or dt.datetime.now(dt.UTC)
        until = now + lifetime
        in_response_to = f" InResponseTo={quoteattr(request.id)}" if request else ""
        attrs = "".join(
            f'<saml:Attribute Name={quoteattr(k)} NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:unspecified">'
            f'<saml:AttributeValue xmlns:xs="http://www.w3.org/2001/XMLSchema" '
            f'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xsi:type="xs:string">{escape(v)}</saml:AttributeValue>'
            f"</saml:Attribute>"
            for k, v in attributes.items()
        )
        assertion = (
            f'<saml:Assertion xmlns:saml="{NS_SAML}" ID={quoteattr(assertion_id or "_a" + uuid.uuid4().hex)} '
            f'Version="2.0" IssueInstant="{_instant(now)}">'
            f"<saml:Issuer>{escape(self.entity_id)}</saml:Issuer>"
            f"<saml:Subject>"
            f'<saml:NameID Format="urn:oasis:names:tc:SAML:2.0:nameid-format:persistent">{escape(name_id)}</saml:NameID>'
            f'<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer">'
            f'<saml:SubjectConfirmationData NotOnOrAfter="{_instant(until)}" Recipient={quoteattr(acs)}{in_response_to}/>'
            f"</saml:SubjectConfirmation></saml:Subject>"
            f'<saml:Conditions NotBefore="{_instant(now - dt.timedelta(seconds=30))}" NotOnOrAfter="{_instant(until)}">'
            f"<saml:AudienceRestriction><saml:Audience>{escape(audience or (request.sp_entity_id if request else ''))}"
            f"</saml:Audience></saml:AudienceRestriction></saml:Conditions>"
            f'<saml:AuthnStatement AuthnInstant="{_instant(now)}" SessionIndex="_s{uuid.uuid4().hex}">'
            f"<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport"
            f"</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"
            f"<saml:AttributeStatement>{attrs}</saml:AttributeStatement>"
            f"</saml:Assertion>"
        )
        if sign:
            signer = keys or self.keys
            signed = OneLogin_Saml2_Utils.add_sign(assertion, signer.key_pem, signer.cert_pem)
            assertion = signed.decode() if isinstance(signed, bytes) else signed
            assertion = assertion.split("?>", 1)[1] if assertion.startswith("<?xml") else assertion
        return (
            f'<samlp:Response xmlns:samlp="{NS_SAMLP}" xmlns:saml="{NS_SAML}" ID="_r{uuid.uuid4().hex}" Version="2.0" '
            f'IssueInstant="{_instant(now)}" Destination={quoteattr(acs)}{in_response_to}>'
            f"<saml:Issuer>{escape(self.entity_id)}</saml:Issuer>"
            f'<samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>'
            f"{assertion}</samlp:Response>"
        )

    @staticmethod
    def post_data(xml: str, relay_state: str = "") -> dict[str, Any]:
        return {"SAMLResponse": base64.b64encode(xml.encode()).decode(), "RelayState": relay_state}

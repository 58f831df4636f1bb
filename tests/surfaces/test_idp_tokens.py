"""TATER's identity-provider tokens (SPEC §3): ``Authorization: Bearer <JWT>`` from a
tenant's configured OIDC provider authenticates its linked user like a session (no CSRF,
the tenant's 2FA policy), and every token that fails verification is 401 "Invalid token".

The tokens are real: signed by the suite's loopback OpenID Connect provider
(tests/accounts/oidc_provider.py), whose discovery document and JWKS the server fetches."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import secrets
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlparse

import jwt
import pytest
import requests
from allauth.socialaccount.models import SocialAccount
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from django.test import Client, override_settings
from jwt.algorithms import ECAlgorithm

from accounts import sso
from accounts.models import TenantSSOConfig
from apikeys.models import ApiKey
from audit.models import AuditEvent
from orgs.models import OrgMembership, Tenant
from tests.accounts.conftest import enrol, verified_domain
from tests.accounts.oidc_provider import OIDCProvider
from tests.factories import UserFactory, add_member, make_tenant, oidc_sso
from tests.surfaces.conftest import json_of

pytestmark = pytest.mark.django_db
ME = "/api/v1/me/"


class Provider(OIDCProvider):
    """The suite's provider, counting JWKS fetches, able to rotate its RSA key and to publish
    an ES256 key beside it."""

    def __init__(self) -> None:
        super().__init__()
        self.jwks_fetches = 0
        self.ec_key = ec.generate_private_key(ec.SECP256R1())
        self.ec_kid = "ec-" + secrets.token_hex(4)

    def jwks(self) -> dict[str, Any]:
        self.jwks_fetches += 1
        doc = super().jwks()
        jwk = json.loads(ECAlgorithm.to_jwk(self.ec_key.public_key()))
        jwk.update({"kid": self.ec_kid, "use": "sig", "alg": "ES256"})
        doc["keys"].append(jwk)
        return doc

    def rotate(self) -> None:
        self.key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.kid = secrets.token_hex(4)

    def claims_for(self, sub: str, **extra: Any) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": self.issuer, "aud": self.client_id, "sub": sub, "iat": now, "exp": now + 300, **extra}

    def sign(self, claims: dict[str, Any], *, alg: str = "RS256", key: Any = None, kid: str | None = None) -> str:
        if alg == "ES256":
            return jwt.encode(claims, key or self.ec_key, algorithm="ES256", headers={"kid": kid or self.ec_kid})
        return jwt.encode(claims, key or self.key, algorithm=alg, headers={"kid": kid or self.kid})

    def id_token(self, sub: str, **claims: Any) -> str:
        """An ID token issued the real way: authorization code, then the token endpoint."""
        self.claims = {"sub": sub, **claims}
        redirect = "http://testserver/callback"
        at = requests.get(
            f"{self.issuer}/authorize",
            params={
                "client_id": self.client_id,
                "response_type": "code",
                "redirect_uri": redirect,
                "state": "s",
            },
            allow_redirects=False,
            timeout=10,
        )
        code = parse_qs(urlparse(at.headers["Location"]).query)["code"][0]
        answer = requests.post(
            f"{self.issuer}/token",
            data={
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": redirect,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
            },
            timeout=10,
        )
        return answer.json()["id_token"]


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unsigned(header: dict[str, Any], claims: dict[str, Any], signature: bytes = b"") -> str:
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}"
    return f"{signing_input}.{b64(signature)}"


@pytest.fixture
def idp() -> Iterator[Provider]:
    with Provider() as provider:
        yield provider


@pytest.fixture
def acme(idp: Provider, settings: Any) -> dict[str, Any]:
    settings.TATER_IDP_JWKS_REFRESH_COOLDOWN = 30
    tenant, owner, (org,) = make_tenant(name="Acme")
    config = oidc_sso(tenant, owner, idp)
    verified_domain(tenant, "acme.test")
    jane = add_member(org, "member", UserFactory(email="jane@acme.test"))
    SocialAccount.objects.create(user=jane, provider=config.provider_id, uid="00u-jane")
    return {"tenant": tenant, "owner": owner, "org": org, "config": config, "jane": jane}


def call(token: str, url: str = ME, client: Client | None = None, **extra: Any) -> Any:
    return (client or Client()).get(url, HTTP_AUTHORIZATION=f"Bearer {token}", **extra)


def invalid_token(response: Any) -> None:
    body = json_of(response, 401)
    assert (body["error"], body["message"]) == ("UNAUTHORIZED", "Invalid token"), body
    assert response["WWW-Authenticate"] == 'Bearer error="invalid_token"'


# --- Accepted ---------------------------------------------------------------------------------


def test_id_token_from_the_tenants_idp_authenticates_the_linked_user(idp, acme):
    token = idp.id_token("00u-jane", email="jane@acme.test")
    me = json_of(call(token), 200)
    assert me["user"]["id"] == acme["jane"].public_id
    assert [o["id"] for o in me["organizations"]] == [acme["org"].public_id]
    # What the caller presented, not a session it never had.
    assert me["authentication"] == "idp_token"


def test_writes_need_no_csrf_token_and_are_audited_as_the_user(idp, acme):
    token = idp.sign(idp.claims_for("00u-jane"))
    r = Client(enforce_csrf_checks=True).post(
        "/api/v1/keys/",
        {"name": "from my IdP"},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {token}",
    )
    body = json_of(r, 201)
    assert ApiKey.objects.get(public_id=body["id"]).owner == acme["jane"]
    assert AuditEvent.objects.filter(action="api_key.created", actor_user_id=acme["jane"].pk, channel="api").exists()


def test_es256_tokens_are_accepted(idp, acme):
    assert json_of(call(idp.sign(idp.claims_for("00u-jane"), alg="ES256")), 200)["user"]["id"] == acme["jane"].public_id


def test_audience_may_be_a_list_and_the_issuer_may_carry_a_slash(idp, acme):
    TenantSSOConfig.objects.filter(pk=acme["config"].pk).update(issuer=idp.issuer + "/")
    token = idp.sign(idp.claims_for("00u-jane", aud=["another-api", idp.client_id]))
    assert json_of(call(token), 200)["user"]["id"] == acme["jane"].public_id


def test_a_rotated_signing_key_is_picked_up_and_a_withdrawn_one_refused(idp, acme, settings):
    settings.TATER_IDP_JWKS_REFRESH_COOLDOWN = 0
    old = idp.sign(idp.claims_for("00u-jane"))
    assert call(old).status_code == 200
    idp.rotate()
    assert json_of(call(idp.sign(idp.claims_for("00u-jane"))), 200)["user"]["id"] == acme["jane"].public_id
    invalid_token(call(old))  # its key is no longer published


def test_unknown_key_ids_cannot_make_the_server_hammer_the_idp(idp, acme):
    assert call(idp.sign(idp.claims_for("00u-jane"))).status_code == 200
    fetched = idp.jwks_fetches
    for _ in range(5):
        invalid_token(call(idp.sign(idp.claims_for("00u-jane"), kid=secrets.token_hex(4))))
    assert idp.jwks_fetches == fetched  # within the cooldown: no refetch per token


def test_a_token_beside_a_key_is_never_ignored(idp, acme, world):
    # Two credentials in one request: a bad token is "Invalid token"; a good one is still a
    # second credential, refused rather than silently ignored (a client must know which counts).
    token = idp.sign(idp.claims_for("00u-jane"))
    refused = call(token, HTTP_X_API_KEY=world["owner_raw"])
    assert refused.status_code == 401
    assert refused.json()["message"] == "Invalid authorization header format"
    forged = idp.sign({**idp.claims_for("00u-jane"), "aud": "someone-else"})
    refused = call(forged, HTTP_X_API_KEY=world["owner_raw"])
    assert refused.status_code == 401 and refused.json()["message"] == "Invalid token"


# --- Refused: 401 "Invalid token" --------------------------------------------------------------


def _forged_rsa(idp: Provider, claims: dict[str, Any]) -> str:
    attacker = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return idp.sign(claims, key=attacker)  # the IdP's kid, another key


def _hs256_with_public_key(idp: Provider, claims: dict[str, Any]) -> str:
    public_pem = idp.key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": idp.kid}
    signing_input = unsigned(header, claims).rsplit(".", 1)[0]
    return f"{signing_input}.{b64(hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest())}"


def _es256_header_rsa_key(idp: Provider, claims: dict[str, Any]) -> str:
    return unsigned({"alg": "ES256", "kid": idp.kid}, claims, b"x" * 64)


ATTACKS = {
    "expired": lambda idp: idp.sign(idp.claims_for("00u-jane", exp=int(time.time()) - 3600)),
    "not yet valid": lambda idp: idp.sign(idp.claims_for("00u-jane", nbf=int(time.time()) + 3600)),
    "no expiry": lambda idp: idp.sign({k: v for k, v in idp.claims_for("00u-jane").items() if k != "exp"}),
    "no subject": lambda idp: idp.sign({k: v for k, v in idp.claims_for("00u-jane").items() if k != "sub"}),
    "wrong audience": lambda idp: idp.sign(idp.claims_for("00u-jane", aud="someone-else")),
    "forged signature": lambda idp: _forged_rsa(idp, idp.claims_for("00u-jane")),
    "alg none": lambda idp: unsigned({"alg": "none", "typ": "JWT"}, idp.claims_for("00u-jane")),
    "alg none with the kid": lambda idp: unsigned({"alg": "none", "kid": idp.kid}, idp.claims_for("00u-jane")),
    "HS256 keyed with the public key": lambda idp: _hs256_with_public_key(idp, idp.claims_for("00u-jane")),
    "RS512 (not allow-listed)": lambda idp: idp.sign(idp.claims_for("00u-jane"), alg="RS512"),
    "ES256 header on the RSA key": lambda idp: _es256_header_rsa_key(idp, idp.claims_for("00u-jane")),
    "unknown kid": lambda idp: idp.sign(idp.claims_for("00u-jane"), kid="not-published"),
    "tampered claims": lambda idp: (
        lambda t: t.split(".")[0] + "." + b64(json.dumps(idp.claims_for("00u-boss")).encode()) + "." + t.split(".")[2]
    )(idp.sign(idp.claims_for("00u-jane"))),
    "sub linked to no user": lambda idp: idp.sign(idp.claims_for("00u-nobody")),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_tokens_that_fail_verification_are_invalid_token(idp, acme, attack, caplog):
    token = ATTACKS[attack](idp)
    invalid_token(call(token))
    assert token not in caplog.text


def test_a_foreign_issuer_is_refused(acme):
    with Provider() as foreign:
        invalid_token(call(foreign.id_token("00u-jane", email="jane@acme.test")))
        # Claiming the configured issuer, signed with its own keys: the signature fails.
        claims = foreign.claims_for("00u-jane", iss=TenantSSOConfig.objects.get().issuer)
        invalid_token(call(foreign.sign(claims)))


def test_a_discovery_document_naming_another_issuer_is_refused_and_not_refetched_per_token(idp, acme):
    fetched = []
    genuine = idp.discovery

    def impostor() -> dict[str, Any]:
        fetched.append(1)
        return {**genuine(), "issuer": "https://login.example.com"}

    idp.discovery = impostor
    token = idp.sign(idp.claims_for("00u-jane"))
    invalid_token(call(token))
    invalid_token(call(token))
    assert len(fetched) == 1


def test_a_deprovisioned_user_is_refused(idp, acme):
    token = idp.id_token("00u-jane")
    assert call(token).status_code == 200
    acme["jane"].is_active = False
    acme["jane"].save()
    invalid_token(call(token))


def test_a_user_no_longer_in_the_tenant_is_refused(idp, acme):
    token = idp.sign(idp.claims_for("00u-jane"))
    OrgMembership.objects.filter(user=acme["jane"]).delete()
    invalid_token(call(token))


def test_an_email_outside_the_tenants_verified_domains_is_refused(idp, acme):
    outsider = add_member(acme["org"], "member", UserFactory(email="bob@elsewhere.test"))
    SocialAccount.objects.create(user=outsider, provider=acme["config"].provider_id, uid="00u-bob")
    invalid_token(call(idp.sign(idp.claims_for("00u-bob"))))


def test_an_inactive_sso_configuration_authenticates_nobody(idp, acme):
    TenantSSOConfig.objects.filter(pk=acme["config"].pk).update(is_active=False)
    invalid_token(call(idp.sign(idp.claims_for("00u-jane"))))


def test_another_tenants_idp_cannot_speak_for_its_users(idp, acme):
    # Globex configures the same IdP application; Jane's identity is linked under Acme's.
    globex, owner, _ = make_tenant(name="Globex")
    sso.sso_config_save(
        tenant=globex,
        actor=owner,
        values={
            "protocol": "oidc",
            "issuer": idp.issuer,
            "client_id": "globex-client",
            "client_secret": "x",
        },
    )
    invalid_token(call(idp.sign(idp.claims_for("00u-jane", aud="globex-client"))))


def test_repeated_bad_tokens_lead_to_the_lockout(idp, acme):
    bad = idp.sign(idp.claims_for("00u-jane", aud="someone-else"))
    with override_settings(TATER_LOCKOUT_CLIENT_FAILURES=3):
        statuses = [call(bad).status_code for _ in range(3)]
    assert statuses == [401, 401, 429]


# --- Not ours: the key authentication answers ---------------------------------------------------


@pytest.mark.parametrize(
    "value", ["Bearer tater_3fd88c926edd3a6f66a925de7df4cfe4", "Bearer a.b.c", "Bearer not-a-jwt", "Basic dXNlcjpwYXNz"]
)
def test_non_jwt_authorization_keeps_invalid_authorization_header_format(db, value):
    body = json_of(Client().get(ME, HTTP_AUTHORIZATION=value), 401)
    assert body["message"] == "Invalid authorization header format"


# --- The tenant's policies ----------------------------------------------------------------------


def test_tenant_requiring_2fa_refuses_a_user_without_a_second_factor(idp, acme, clock):
    Tenant.objects.filter(pk=acme["tenant"].pk).update(require_2fa=True)
    token = idp.sign(idp.claims_for("00u-jane"))
    body = json_of(call(token), 403)
    assert body["error"] == "MFA_REQUIRED"
    enrol(acme["jane"], clock.now)
    assert json_of(call(token), 200)["user"]["id"] == acme["jane"].public_id


def test_sso_required_is_met_by_an_idp_token(idp, acme):
    sso.sso_config_save(tenant=acme["tenant"], actor=acme["owner"], values={"require_sso": True})
    assert call(idp.sign(idp.claims_for("00u-jane"))).status_code == 200


def test_a_session_cookie_beside_a_token_does_not_lift_the_policy(idp, acme, clock):
    # Another user's session in the same browser; the token's user is the caller.
    browser = Client()
    browser.force_login(acme["owner"])
    Tenant.objects.filter(pk=acme["tenant"].pk).update(require_2fa=True)
    enrol(acme["owner"], clock.now)
    body = json_of(call(idp.sign(idp.claims_for("00u-jane")), client=browser), 403)
    assert body["error"] == "MFA_REQUIRED"

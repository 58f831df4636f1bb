"""A tenant with a verified domain and a SCIM token, and a client that speaks SCIM."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from accounts.models import TenantDomain
from scim.services import tokens as token_services
from tests.factories import UserFactory, make_tenant

SCIM = "/scim/v2"
SCIM_JSON = "application/scim+json"
DOMAIN = "acme.test"


class ScimClient:
    """Django's test client with a SCIM token, speaking application/scim+json."""

    def __init__(self, token: str) -> None:
        self.client = Client()
        self.token = token

    def _headers(self, extra: dict[str, str]) -> dict[str, str]:
        headers = {"HTTP_AUTHORIZATION": f"Bearer {self.token}"} if self.token else {}
        return {**headers, **extra}

    def get(self, path: str, **extra: Any) -> Any:
        return self.client.get(SCIM + path, **self._headers(extra))

    def send(self, method: str, path: str, body: Any = None, **extra: Any) -> Any:
        data = json.dumps(body) if body is not None else ""
        call = getattr(self.client, method.lower())
        return call(SCIM + path, data=data, content_type=SCIM_JSON, **self._headers(extra))

    def post(self, path: str, body: Any, **extra: Any) -> Any:
        return self.send("POST", path, body, **extra)

    def put(self, path: str, body: Any, **extra: Any) -> Any:
        return self.send("PUT", path, body, **extra)

    def patch(self, path: str, body: Any, **extra: Any) -> Any:
        return self.send("PATCH", path, body, **extra)

    def delete(self, path: str, **extra: Any) -> Any:
        return self.client.delete(SCIM + path, **self._headers(extra))


@dataclass
class Directory:
    tenant: Any
    owner: Any
    orgs: list[Any]
    token: Any
    secret: str
    scim: ScimClient


def verify_domain(tenant: Any, domain: str) -> None:
    TenantDomain.objects.create(tenant=tenant, domain=domain, verified_at=timezone.now())


def make_directory(name: str, domain: str, orgs: int = 2) -> Directory:
    owner = UserFactory(email=f"owner@{domain}")
    tenant, owner, organizations = make_tenant(name=name, owner=owner, orgs=orgs)
    verify_domain(tenant, domain)
    issued = token_services.scim_token_create(tenant=tenant, name=f"{name} IdP", actor=owner)
    return Directory(tenant, owner, organizations, issued.token, issued.secret, ScimClient(issued.secret))


@pytest.fixture
def acme(db: Any) -> Directory:
    return make_directory("Acme", DOMAIN)


@pytest.fixture
def globex(db: Any) -> Directory:
    return make_directory("Globex", "globex.test", orgs=1)


def new_user(email: str, **attrs: Any) -> dict[str, Any]:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": email,
        "name": {"givenName": "Ada", "familyName": "Lovelace"},
        "emails": [{"value": email, "type": "work", "primary": True}],
        "active": True,
        **attrs,
    }


def patch_op(*operations: dict[str, Any]) -> dict[str, Any]:
    return {"schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"], "Operations": list(operations)}


def provision(d: Directory, email: str, **attrs: Any) -> dict[str, Any]:
    """Create a user through SCIM and return the resource the IdP was given."""
    r = d.scim.post("/Users", new_user(email, **attrs))
    assert r.status_code == 201, r.content
    return r.json()

"""Review s47: the Python client and the ``tater`` command had no calls for the tenant's SCIM
tokens (SPEC §13: "Authenticated by a tenant SCIM token (its own type and prefix scim_,
hashed, shown once, owner-managed)"), though the API serves ``GET``/``POST scim-tokens/`` and
``POST scim-tokens/{id}/revoke/`` (README "REST API"): an owner revoking the token of an
identity provider they left, from a shell or a script, went to curl.

What the owner sees: the tokens listed page by page (never a secret), a revoked token refused
at ``/scim/v2/`` at once, and the API's refusals as the client's exception types and exit
codes. (No create: the server issues SCIM tokens to an owner's signed-in session only.)
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable

import httpx
import pytest
from tater_client import NotFound, PermissionDenied, ValidationError
from tater_client.cli import main

from scim.services import tokens as token_services
from tests.factories import make_key

CSRF = "c" * 32


def scim_status(url: str, secret: str) -> int:
    """What the identity provider gets at ``/scim/v2/Users`` with this token."""
    return httpx.get(f"{url}/scim/v2/Users", headers={"Authorization": f"Bearer {secret}"}).status_code


@pytest.fixture
def unbound(acme) -> str:
    """The owner's tenant-wide key: the one key that lists and revokes SCIM tokens."""
    return make_key(user=acme.owner, tenant=acme.tenant, org=None, name="tenant key")[1]


@pytest.fixture
def secrets(acme) -> dict[str, str]:
    """Three tokens of the tenant, by id: their secrets."""
    issued = [token_services.scim_token_create(tenant=acme.tenant, name=f"IdP {i}", actor=acme.owner) for i in range(3)]
    return {i.token.public_id: i.secret for i in issued}


@pytest.fixture
def cli(acme, monkeypatch, capsys, unbound) -> Callable[..., tuple[int, str, str]]:
    def run(*argv: str, key: str | None = None) -> tuple[int, str, str]:
        monkeypatch.setenv("TATER_API_KEY", key or unbound)
        code = main(["--url", acme.url, *argv])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_the_owner_lists_the_tokens_page_by_page_never_a_secret(acme, connect, unbound, secrets):
    tater = connect(unbound)
    first = tater.scim_tokens.list(limit=2)
    assert (first.total, first.limit, first.offset, len(first.tokens)) == (3, 2, 0, 2)
    second = tater.scim_tokens.list(limit=2, offset=2)
    assert len(second.tokens) == 1
    listed = first.tokens + second.tokens
    assert sorted(t.id for t in listed) == sorted(secrets)
    assert [t.id for t in tater.scim_tokens.iter(page_size=1)] == [t.id for t in listed]
    for token in listed:
        assert token.status == "active" and token.revoked_at is None and token.created_at is not None
        assert token.prefix == secrets[token.id][:9] and token.name.startswith("IdP ")
        assert token.created_by == acme.owner.email and token.tenant_id == acme.tenant.public_id
        assert not any(secret in json.dumps(token.raw) + repr(token) for secret in secrets.values())


def test_a_revoked_token_is_refused_at_scim_at_once(acme, connect, unbound, secrets):
    gone, kept = list(secrets)[:2]
    assert scim_status(acme.url, secrets[gone]) == 200
    revoked = connect(unbound).scim_tokens.revoke(gone)
    assert revoked.id == gone and revoked.status == "revoked" and revoked.revoked_at is not None
    assert scim_status(acme.url, secrets[gone]) == 401
    assert scim_status(acme.url, secrets[kept]) == 200
    statuses = {t.id: t.status for t in connect(unbound).scim_tokens.iter()}
    assert statuses[gone] == "revoked" and statuses[kept] == "active"


def test_refusals_are_the_clients_exception_types(acme, connect, unbound, secrets):
    tater = connect(unbound)
    assert tater.scim_tokens.list().total == 3
    with pytest.raises(PermissionDenied):
        connect().scim_tokens.list()  # the owner's key bound to one org: not the tenant's tokens
    with pytest.raises(PermissionDenied):
        connect().scim_tokens.revoke(next(iter(secrets)))
    with pytest.raises(NotFound):
        tater.scim_tokens.revoke("scimtoken-00000000-0000-4000-8000-000000000000")
    with pytest.raises(ValidationError) as exc:
        tater.scim_tokens.list(limit=0)
    assert "limit" in exc.value.fields
    secret = next(iter(secrets.values()))
    with pytest.raises(ValueError) as refused:
        tater.scim_tokens.revoke(secret)  # a secret pasted where the id goes is never sent
    assert secret not in str(refused.value)
    assert scim_status(acme.url, secret) == 200


def test_cli_list_and_revoke(acme, cli, secrets):
    code, out, err = cli("scim-tokens", "list", "--limit", "2")
    assert code == 0, err
    assert len(re.findall(r"^scimtoken-", out, re.MULTILINE)) == 2 and "scim_" in out  # the prefixes
    assert "2 of 3 SCIM tokens shown: --offset 2 for more (or --all)" in err
    assert not any(secret in out + err for secret in secrets.values())
    code, out, _ = cli("scim-tokens", "list", "--all", "--json")
    assert code == 0 and sorted(t["id"] for t in json.loads(out)["tokens"]) == sorted(secrets)
    code, out, _ = cli("scim-tokens", "list", "--json", "--offset", "1")
    body = json.loads(out)
    assert (body["total"], body["offset"], len(body["tokens"])) == (3, 1, 2)
    code, out, err = cli("scim-tokens", "list", "--organization", acme.org.public_id, "--json")
    assert code == 0 and json.loads(out)["total"] == 3, err  # the org hint of an unbound key's other calls

    gone = next(iter(secrets))
    code, out, err = cli("scim-tokens", "revoke", gone)
    assert code == 0, err
    assert gone in out and "revoked" in out
    assert scim_status(acme.url, secrets[gone]) == 401
    code, out, _ = cli("scim-tokens", "revoke", gone, "--json")  # again: still revoked, no error
    assert code == 0 and json.loads(out)["status"] == "revoked"


def test_cli_refusals(acme, cli, secrets):
    code, _, err = cli("scim-tokens", "list", key=acme.owner_raw)
    assert code == 1 and "PERMISSION_DENIED" in err
    code, _, err = cli("scim-tokens", "revoke", "scimtoken-00000000-0000-4000-8000-000000000000", "--json")
    assert code == 1 and json.loads(err)["error"] == "NOT_FOUND"
    code, _, err = cli("scim-tokens", "revoke", next(iter(secrets.values())))
    assert code == 2 and not any(secret in err for secret in secrets.values())

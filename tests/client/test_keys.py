"""``tater.keys`` against the live server: every method, filters, paging, secrets shown once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from tater_client import UNSET, ApiKey, AuthenticationError, IssuedKey, KeyPage, PermissionDenied


def test_create_returns_the_secret_once_and_it_works(tater, connect, acme):
    issued = tater.keys.create("SIEM enrichment", scopes=["*:read"])
    assert isinstance(issued, IssuedKey)
    assert issued.key.startswith("tater_") and len(issued.key) == len("tater_") + 32
    assert issued.headers == {"X-API-Key": issued.key}
    assert "only time" in issued.notice
    assert (issued.name, issued.type, issued.status, issued.binding) == (
        "SIEM enrichment",
        "standard",
        "active",
        "organization",
    )
    assert issued.organization_id == acme.org.public_id and issued.scopes == ["*:read"]
    assert issued.key[:10] == issued.prefix
    # The secret stays out of reprs (logs, tracebacks).
    assert issued.key not in repr(issued)
    info = connect(issued.key).validate()
    assert info.id == issued.id and info.valid


def test_create_with_every_option(tater):
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    issued = tater.keys.create(
        "collector",
        type="agent",
        scopes=["scans:write"],
        expires_at=expires,
        allowed_ips=["10.0.0.0/8", "192.0.2.7"],
        rate_limit="5/min",
    )
    assert issued.key.startswith("ak_")
    assert (issued.type, issued.scopes, issued.rate_limit) == ("agent", ["scans:write"], "5/min")
    assert issued.expires_at == expires
    assert issued.allowed_ips == ["10.0.0.0/8", "192.0.2.7/32"]


def test_naive_datetimes_are_refused_before_sending(tater):
    with pytest.raises(ValueError, match="time zone"):
        tater.keys.create("x", expires_at=datetime(2030, 1, 1))  # noqa: DTZ001


def test_get(tater, acme):
    key = tater.keys.get(acme.owner_key.public_id)
    assert isinstance(key, ApiKey)
    assert (key.id, key.name, key.owner, key.tenant_id) == (
        acme.owner_key.public_id,
        "owner key",
        acme.owner.email,
        acme.tenant.public_id,
    )
    assert key.created_at is not None and key.created_at.tzinfo is not None
    assert key.last_used_at is not None  # this very request used it


def test_list_filters_and_paging(tater, acme):
    created = [tater.keys.create(f"key {i}", scopes=["scans:read"]) for i in range(4)]
    agent = tater.keys.create("agent", type="agent", scopes=["scans:write"])
    tater.keys.revoke(created[0].id)
    tater.keys.deactivate(created[1].id)

    page = tater.keys.list(limit=2)
    assert isinstance(page, KeyPage)
    assert (len(page.keys), page.total, page.limit, page.offset) == (2, 6, 2, 0)
    second = tater.keys.list(limit=2, offset=2)
    assert {k.id for k in page.keys}.isdisjoint(k.id for k in second.keys)

    assert [k.id for k in tater.keys.list(status="revoked").keys] == [created[0].id]
    assert [k.id for k in tater.keys.list(status="inactive").keys] == [created[1].id]
    assert [k.id for k in tater.keys.list(type="agent").keys] == [agent.id]
    assert len(tater.keys.list(status="active").keys) == 4
    everything = list(tater.keys.iter(page_size=2))
    assert len(everything) == 6 and len({k.id for k in everything}) == 6
    assert {k.id for k in tater.keys.iter(status="active", type="standard")} == {
        acme.owner_key.public_id,
        created[2].id,
        created[3].id,
    }


def test_update_changes_only_what_is_given(tater):
    issued = tater.keys.create("before", scopes=["scans:write", "keys:read"], rate_limit="100/min")
    updated = tater.keys.update(issued.id, name="after", scopes=["scans:read"])
    assert (updated.name, updated.scopes, updated.rate_limit) == ("after", ["scans:read"], "100/min")
    expires = datetime.now(UTC).replace(microsecond=0) + timedelta(days=7)
    updated = tater.keys.update(issued.id, expires_at=expires, allowed_ips=["198.51.100.0/24"], rate_limit="10/min")
    assert (updated.name, updated.expires_at, updated.allowed_ips, updated.rate_limit) == (
        "after",
        expires,
        ["198.51.100.0/24"],
        "10/min",
    )
    assert tater.keys.update(issued.id, name=UNSET).name == "after"


def test_rotate_keeps_the_old_secret_for_the_grace_period(tater, connect):
    issued = tater.keys.create("rotating", scopes=["*:read"])
    rotated = tater.keys.rotate(issued.id, grace_period_seconds=3600)
    assert rotated.id == issued.id and rotated.key != issued.key
    assert rotated.previous_key_valid_until is not None
    assert rotated.previous_key_valid_until > datetime.now(UTC) + timedelta(minutes=59)
    assert connect(rotated.key).validate().id == issued.id
    assert connect(issued.key).validate().id == issued.id


def test_rotate_without_grace_ends_the_old_secret(tater, connect):
    issued = tater.keys.create("rotating", scopes=["*:read"])
    rotated = tater.keys.rotate(issued.id, grace_period_seconds=0)
    with pytest.raises(AuthenticationError) as caught:
        connect(issued.key).validate()
    assert (caught.value.code, caught.value.status) == ("KEY_REVOKED", 401)
    assert connect(rotated.key).validate().valid


def test_revoke(tater, connect):
    issued = tater.keys.create("doomed", scopes=["*:read"])
    revoked = tater.keys.revoke(issued.id)
    assert revoked.status == "revoked" and revoked.revoked_at is not None
    with pytest.raises(AuthenticationError) as caught:
        connect(issued.key).validate()
    assert caught.value.code == "KEY_REVOKED"
    assert caught.value.message == "API key has been revoked"


def test_deactivate_and_activate(tater, connect):
    issued = tater.keys.create("paused", scopes=["*:read"])
    assert tater.keys.deactivate(issued.id).status == "inactive"
    with pytest.raises(AuthenticationError) as caught:
        connect(issued.key).validate()
    assert caught.value.code == "KEY_INACTIVE"
    # Reactivation needs the owner's signed-in session (docs/authorization.md): through a
    # key the client gets the policy's refusal, in the catalog shape.
    with pytest.raises(PermissionDenied) as refused:
        tater.keys.activate(issued.id)
    assert refused.value.code == "PERMISSION_DENIED" and "signed-in session" in refused.value.message
    assert tater.keys.get(issued.id).status == "inactive"

"""Review s44 (SPEC §14 metadata, §2a admins, §7 audit), as an attacker and an integrator.

Metadata is what validate hands the key's integration, which reads it as JSON: ``1`` and
``true`` are different values there (``meta.tier === 1``); ``1`` and ``1.0`` are one number. Found by review: the
change check compared Python values, where ``True == 1 == 1.0``, so an admin could turn the
owner's ``{"tier": 1}`` into ``{"tier": true}`` (docs/authorization.md: an admin's change of
a key's metadata is 403) and the change was recorded nowhere (no ``api_key.updated``)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from apikeys import services as key_services
from audit.models import AuditEvent

pytestmark = pytest.mark.django_db

KEYS = "/api/v1/keys/"
VALIDATE = "/api/v1/auth/validate"


def _owned_key(api: Any, world: dict[str, Any], metadata: dict[str, Any]) -> tuple[str, str]:
    r = api.post(
        f"{KEYS}?organizationId={world['org1'].public_id}",
        {"name": "rmm", "metadata": metadata},
        format="json",
        HTTP_X_API_KEY=world["owner_raw"],
    )
    assert r.status_code == 201, r.content
    return r.json()["id"], r.json()["key"]


@pytest.mark.parametrize(
    ("mine", "theirs"),
    [({"tier": 1}, {"tier": True}), ({"off": 0}, {"off": False}), ({"on": True}, {"on": "true"})],
    ids=["1-true", "0-false", "true-text"],
)
def test_an_admin_cannot_retype_the_owners_metadata(
    api: Any, world: dict[str, Any], mine: dict[str, Any], theirs: dict[str, Any]
) -> None:
    key_id, raw = _owned_key(api, world, mine)
    api.force_login(world["admin"])
    r = api.patch(f"{KEYS}{key_id}/?organizationId={world['org1'].public_id}", {"metadata": theirs}, format="json")
    assert r.status_code == 403, r.content
    api.logout()
    seen = json.loads(api.get(VALIDATE, HTTP_X_API_KEY=raw).content)["metadata"]
    assert json.dumps(seen) == json.dumps(mine)  # as JSON: True is no 1


def test_the_owners_retyping_is_a_change_and_audited(api: Any, world: dict[str, Any]) -> None:
    key_id, raw = _owned_key(api, world, {"tier": 1})
    r = api.patch(f"{KEYS}{key_id}/", {"metadata": {"tier": True}}, format="json", HTTP_X_API_KEY=world["owner_raw"])
    assert r.status_code == 200, r.content
    assert '"tier":true' in api.get(VALIDATE, HTTP_X_API_KEY=raw).content.decode().replace(" ", "")
    events = AuditEvent.objects.filter(action="api_key.updated", target_id=key_id)
    assert [e.changes.get("metadata") for e in events] == [{"keys": ["tier"]}]


def test_the_same_metadata_sent_back_is_no_change(api: Any, world: dict[str, Any]) -> None:
    """The other way round stays as documented: the current values sent back (in any member
    order) are no change, so an admin may narrow a key with the whole body it read."""
    key_id, _ = _owned_key(api, world, {"a": 1, "b": [True, 2.5, None]})
    api.force_login(world["admin"])
    url = f"{KEYS}{key_id}/?organizationId={world['org1'].public_id}"
    body = {"metadata": {"b": [True, 2.5, None], "a": 1.0}, "rate_limit": "5/min"}
    r = api.patch(url, body, format="json")
    assert r.status_code == 200, r.content
    assert not AuditEvent.objects.filter(action="api_key.updated", target_id=key_id, changes__has_key="metadata")


def test_the_service_refuses_an_admins_retyping_on_every_channel(world: dict[str, Any]) -> None:
    issued = key_services.apikey_create(
        creator=world["owner"], tenant=world["tenant"], organization=world["org1"], name="k", metadata={"n": 1}
    )
    with pytest.raises(Exception) as refused:
        key_services.apikey_update(api_key=issued.api_key, actor=world["admin"], metadata={"n": True})
    assert getattr(refused.value, "status_code", None) == 403

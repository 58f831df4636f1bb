"""On PostgreSQL + Redis: a deprovisioned person's API key is refused on the very next
request, in this process and in another server process that had it memoized; and
reprovisioning brings it back everywhere."""

from __future__ import annotations

import http.client
import json
from typing import Any

import pytest
from django.contrib.auth import get_user_model

from tater import limiter
from tater.limiter import RedisBackend
from tests.factories import make_key
from tests.perf.test_two_processes import two_servers  # noqa: F401 - the fixture
from tests.scim.conftest import make_directory, new_user, patch_op
from tests.scim.test_lifecycle import group_with, key_status, provision

pytestmark = pytest.mark.realservices
User = get_user_model()


def _http(port: int, method: str, path: str, headers: dict[str, str], body: Any = None) -> tuple[int, Any]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=15)
    try:
        payload = json.dumps(body).encode() if body is not None else None
        conn.request(method, path, body=payload, headers={"Content-Type": "application/scim+json", **headers})
        response = conn.getresponse()
        raw = response.read()
        return response.status, json.loads(raw) if raw else None
    finally:
        conn.close()


def _validate(port: int, raw: str) -> int:
    return _http(port, "GET", "/api/v1/auth/validate", {"X-API-Key": raw})[0]


@pytest.mark.django_db
def test_the_very_next_request_is_refused_on_redis(db: Any) -> None:
    assert isinstance(limiter.get_limiter().backend, RedisBackend)
    acme = make_directory("Acme", "acme.test")
    ada = provision(acme, "ada@acme.test")
    group_with(acme, "Eng", ada["id"], org=acme.orgs[0])
    _, raw = make_key(user=User.objects.get(email="ada@acme.test"), tenant=acme.tenant, org=acme.orgs[0])
    for _ in range(3):
        assert key_status(raw)[0] == 200
    acme.scim.patch(f"/Users/{ada['id']}", patch_op({"op": "Replace", "path": "active", "value": "False"}))
    assert key_status(raw)[0] == 401
    acme.scim.patch(f"/Users/{ada['id']}", patch_op({"op": "replace", "value": {"active": True}}))
    assert key_status(raw)[0] == 200


@pytest.mark.slow
def test_another_process_refuses_the_key_at_once(two_servers: tuple[int, int]) -> None:  # noqa: F811
    a, b = two_servers
    acme = make_directory("Acme", "acme.test")
    bearer = {"Authorization": f"Bearer {acme.secret}"}
    status, ada = _http(b, "POST", "/scim/v2/Users", bearer, new_user("ada@acme.test"))
    assert status == 201
    group_with(acme, "Eng", ada["id"], org=acme.orgs[0])
    _, raw = make_key(user=User.objects.get(email="ada@acme.test"), tenant=acme.tenant, org=acme.orgs[0])
    assert [_validate(a, raw) for _ in range(3)] == [200] * 3  # A memoizes the key

    # Deprovisioned through B: A refuses the very next request.
    deactivate = patch_op({"op": "Replace", "path": "active", "value": False})
    assert _http(b, "PATCH", f"/scim/v2/Users/{ada['id']}", bearer, deactivate)[0] == 200
    assert [_validate(a, raw) for _ in range(3)] == [401] * 3
    # Reprovisioned through A: B admits it again.
    reactivate = patch_op({"op": "replace", "value": {"active": True}})
    assert _http(a, "PATCH", f"/scim/v2/Users/{ada['id']}", bearer, reactivate)[0] == 200
    assert _validate(b, raw) == 200
    # Deleted through A: B refuses it.
    assert _http(a, "DELETE", f"/scim/v2/Users/{ada['id']}", bearer)[0] == 204
    assert _validate(b, raw) == 401


@pytest.mark.django_db(transaction=True)
def test_concurrent_member_additions_are_all_kept(live_server: Any) -> None:
    """Entra ID sends one PATCH per member addition, several at once: each is applied
    under the group's row lock, none is lost."""
    from concurrent.futures import ThreadPoolExecutor

    import requests

    acme = make_directory("Acme", "acme.test")
    ids = [provision(acme, f"p{i}@acme.test")["id"] for i in range(8)]
    group = acme.scim.post("/Groups", {"displayName": "Burst"}).json()
    url = f"{live_server.url}/scim/v2/Groups/{group['id']}"
    headers = {"Authorization": f"Bearer {acme.secret}", "Content-Type": "application/scim+json"}

    def add(member_id: str) -> int:
        body = patch_op({"op": "Add", "path": "members", "value": [{"value": member_id}]})
        return requests.patch(url, data=json.dumps(body), headers=headers, timeout=30).status_code

    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(add, ids)) == [200] * len(ids)
    members = acme.scim.get(f"/Groups/{group['id']}").json()["members"]
    assert sorted(m["value"] for m in members) == sorted(ids)

"""SPEC §2: "A key never appears in logs, admin, audit entries or error bodies." The user
agent a client sends is written into every audit entry of its request and shown to everyone
who reads the org's log (members included): a client that puts its key (or a bearer token)
in its User-Agent must not have it land there. The rest of the user agent stays readable."""

from __future__ import annotations

import pytest

from audit.models import AuditEvent

URL = "/api/v1/audit-log/"
pytestmark = pytest.mark.django_db


def _create_key(api, raw, user_agent):
    made = api.post(
        "/api/v1/keys/", {"name": "from a chatty client"}, format="json", HTTP_X_API_KEY=raw, HTTP_USER_AGENT=user_agent
    )
    assert made.status_code == 201
    return made.json()


def test_a_key_in_the_user_agent_is_not_written_into_the_entry(api, world, client):
    raw = world["owner_raw"]
    made = _create_key(api, raw, f"sync-tool/2.1 (key={raw}) python-requests/2.32")
    entry = AuditEvent.objects.get(action="api_key.created", target_id=made["id"])
    assert raw not in entry.user_agent
    assert raw[6:] not in entry.user_agent  # nor its 32 hex digits
    assert entry.user_agent.startswith("sync-tool/2.1")
    assert "python-requests/2.32" in entry.user_agent

    # Neither the API, the CSV export nor the Activity Log page shows it.
    listed = api.get(URL, {"action": "api_key.created"}, HTTP_X_API_KEY=raw)
    assert listed.status_code == 200
    assert raw not in listed.content.decode()
    export = api.get(URL, {"format": "csv"}, HTTP_X_API_KEY=raw)
    assert raw not in b"".join(export.streaming_content).decode()
    client.force_login(world["member"])
    assert raw not in client.get("/activity/").content.decode()


@pytest.mark.parametrize(
    "secret",
    [
        "Bearer eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.c2lnbmF0dXJlLXZhbHVl",
        "scim_" + "0123456789abcdef" * 2,  # built here: the repository scans clean (tests/leaks)
    ],
)
def test_tokens_in_the_user_agent_are_not_written_either(api, world, secret):
    made = _create_key(api, world["owner_raw"], f"agent/1.0 {secret}")
    entry = AuditEvent.objects.get(action="api_key.created", target_id=made["id"])
    assert secret.split()[-1] not in entry.user_agent
    assert entry.user_agent.startswith("agent/1.0")


def test_an_ordinary_browser_user_agent_is_kept_as_sent(api, world):
    browser = (
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
        "Chrome/131.0.0.0 Safari/537.36 Edg/131.0.2903.86"
    )
    made = _create_key(api, world["owner_raw"], browser)
    assert AuditEvent.objects.get(action="api_key.created", target_id=made["id"]).user_agent == browser
